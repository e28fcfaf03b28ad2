// Package inbox is the human side of a conversation: the queue of tickets
// the assistant hands off, and what agents do with them (claim, reply,
// note, transfer, resolve, return to the bot), each recorded in the
// ticket's history and published live on a Bus.
//
// A ticket is opened by the turn pipeline in the same transaction as the
// handoff that caused it (store.Inbox.OpenTicket), so the bot never goes
// silent without a ticket in the queue. Agents see the tickets of their
// teams and of the default team ""; admins see all. Replies go through the
// outbox within WhatsApp's 24-hour window.
//
// Events reach agents connected to any instance: LocalBus fans out in one
// process (SQLite), PGBus over PostgreSQL's LISTEN/NOTIFY. Both are safe
// for concurrent use; a slow subscriber loses events rather than slowing
// publishers, and a console reloads its lists on a KindResync event.
package inbox
