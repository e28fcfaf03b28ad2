// Package sealed keeps what messages say encrypted at rest. Wrap decorates
// a store.Store so that the body and the payload of every message are
// sealed (privacy.Keyring.Seal, AES-256-GCM) before they reach the
// database and opened when they are read back; callers see plain messages
// and never know. Rotate seals every stored message again under the
// keyring's active key, after a key change or to seal a database that was
// plain.
//
// What is sealed: Message.Body, and Message.Payload, which is stored as a
// JSON string holding the sealed value so that it stays valid JSON in a
// jsonb or json_valid column. An empty body, and an empty, {} or null
// payload, are kept as they are: there is nothing to hide, and SQL that
// tells cleared messages from others (store.Privacy's Expire) keeps
// working. Everything else of a message (type, status, times, ids) stays
// plain, as do turns, tickets, audit entries and jobs.
//
// Reads take sealed and plain values alike, so sealing can be turned on for
// a database of plain messages: they read as they are, and Rotate seals
// them. A value that looks sealed but does not open (altered, or sealed
// with a key the keyring lacks) fails the read with an error naming the
// message and the key id, never the content.
//
// Concurrency: the store Wrap returns is safe for concurrent use as far as
// the store it wraps is; the keyring is immutable. Rotate runs its batches
// one after another, each in a transaction of its own, and may run while
// the application writes.
package sealed
