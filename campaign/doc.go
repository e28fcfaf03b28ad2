// Package campaign owns broadcasts to contacts: the audience (contacts
// imported from CSV files, segments of them in the store) and campaigns,
// which send one approved template to a segment's members, once each.
//
// ImportContacts reads a CSV file of contacts (phone numbers normalised to
// E.164, names, languages, tags, marketing consent and any other column as
// an attribute) into the store, in batches of one transaction each; a
// consent "no" is recorded as a refusal, a "yes" as a grant only for a
// contact without any marketing record, so a file never resubscribes
// someone who opted out.
//
// A Service makes campaigns (Create checks the template against the
// approved ones of the configuration, the parameters against its
// placeholders, the segment), and moves them through their states:
//
//	draft ──Schedule──▶ scheduled ──(due)──┐
//	  │                    │ Start          ▼
//	  └──────Start─────────┴──────────▶ running ◀──Resume── paused
//	                                     │  └──Pause──────────▲
//	                                     ▼ (all queued or skipped)
//	                                    done
//	Cancel: draft, scheduled, running or paused ──▶ cancelled
//
// Each move is a compare-and-set on the campaign's status in one
// transaction with its audit entry and, when it starts or resumes the
// campaign, its job; a move the state machine refuses is an error wrapping
// store.ErrIllegalMove that names both statuses.
//
// Sending is two job kinds. KindStart starts a scheduled campaign when it is
// due; RunScheduler (every instance, every 30 s in yanit serve) starts any
// due campaign whose job was lost; of instances racing, one wins the move.
// KindRun (one at a time per campaign: its key) first materialises the
// recipients, paging the segment's members (as its filter was when the
// campaign started) into recipient rows, pending or skipped by the consent
// rule: marketing templates need a granted marketing consent (or, with
// RequireNotOptedOut, no opt-out), utility and authentication templates no
// opt-out (or nothing, with RequireAny). It then queues the messages: a
// batch of pending recipients per transaction, the messages written
// through channel.QueueBulk into the contacts' open conversations (with a
// send batch job per channel.SendBatchSize messages) and the recipients
// marked queued with their ids in the same transaction, in a few
// statements whatever the batch's size. The outbox's Sender delivers them
// (Sender.HandleBatch, a wave of channel.SendWave sends at a time), paced
// by the number's limiter, retried by Meta's error codes; status webhooks
// update them, many statuses to a statement.
//
// Once per recipient: a recipient row is unique per campaign and contact,
// and becomes queued only in the transaction that writes its message, so a
// crash anywhere resumes from the last commit with nobody queued twice.
// The one window for a second send is the Sender's (WhatsApp accepted, the
// wamid not yet recorded); the status webhooks' outbox tag reconciles it
// (a send batch job cut off waits channel.InterruptedWait for them before
// it sends again), and a copy that still goes out is counted
// (store.CampaignStats.Duplicates).
//
// Pacing: the sender queues more only while the outbox holds fewer send
// batch jobs than Options.Backlog messages fill (two seconds of the
// number's rate by default, at least one job), so
// the replies of the assistant and the agents never wait behind a whole
// campaign; and with a daily unique-user limit, recipients past it wait
// for a later run instead of being skipped. As Meta counts, a contact whose
// customer-service window is open (they wrote within 24 hours) does not
// count against the limit and is queued past it (the window is the
// contact's last message on any of the portfolio's numbers).
//
// A reply to a campaign's message within 24 hours reaches the assistant
// with the campaign's name (assistant.Input.Campaign, from
// store.CampaignOfReply), recorded in the turn's trace and a handoff's pack.
//
// Concurrency: ImportContacts holds no state between calls; imports may run
// at the same time as each other and as the webhooks that upsert contacts,
// since every write is an upsert keyed on the contact's wa_id. A Service
// holds only its options: any number of them, in any number of processes,
// may act on one store.
package campaign
