// Package campaign owns broadcasts to contacts. What exists today is the
// audience side: ImportContacts reads a CSV file of contacts (phone numbers
// normalised to E.164, names, languages, tags, marketing consent and any
// other column as an attribute) into the store, in batches of one
// transaction each; segments, saved filters over those contacts, live in the
// store (store.Segments) and are counted, sampled and paged through there.
// Sending approved templates to a segment comes next, on the same contracts.
//
// Concurrency: ImportContacts holds no state between calls; imports may run
// at the same time as each other and as the webhooks that upsert contacts,
// since every write is an upsert keyed on the contact's wa_id.
package campaign
