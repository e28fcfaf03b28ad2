// Package simulator is a fake WhatsApp that yanit serves in `yanit dev`, and
// that tests drive from Go: a fake Graph API for yanit to send through, and
// simulated users whose actions reach yanit as signed Cloud API webhooks.
//
// It owns three surfaces, all under the path prefix /sim:
//
//   - The fake Graph API, /sim/graph/{version}/{phone_number_id}/messages:
//     the same paths and JSON as Meta. Point whatsapp.graph_url at
//     http://<host>/sim/graph. It checks the bearer token (190), decodes every
//     body with whatsapp.Outbound and checks it with Validate (100, 131009),
//     enforces the 24-hour window (131047) and a per-number token bucket
//     (130429), answers mark-read and typing requests, and then reports sent,
//     delivered and read as status webhooks.
//   - Simulated users: a person in the page or a test through User picks a
//     name and a number and sends text, taps reply buttons, picks list rows
//     and taps template quick replies. Each action is a webhook signed with
//     the app secret and POSTed to Options.WebhookURL, retried like Meta on
//     any answer but 200. Every user keeps a transcript of both directions.
//   - The page, GET /sim: a WhatsApp-like chat (embedded HTML, CSS and plain
//     JS) that renders yanit's messages, turns taps into webhooks through
//     small JSON endpoints under /sim/api, and follows the chat live over
//     Server-Sent Events.
//
// Mounting in yanit (gin), after New:
//
//	h := sim.Routes()
//	r.Any("/sim", gin.WrapH(h))
//	r.Any("/sim/*path", gin.WrapH(h))
//
// and shut it down with Close before the HTTP server, so that open event
// streams end.
//
// Webhooks for one user leave in the order they were produced (messages and
// the statuses of messages to that user), one at a time; different users are
// delivered in parallel. With Options.StatusBatch > 1 statuses leave instead
// in batches, many to a webhook, from a few goroutines: as with Meta under
// load, a user's statuses may then arrive out of order. A webhook is sent
// with non-ASCII characters escaped as \uXXXX, as Meta does, so that a
// receiver that verifies a re-encoded body instead of the raw bytes fails
// here rather than in production.
//
// Concurrency: a Simulator and its Users are safe for concurrent use. The
// Messages that Transcript and WaitFor return are snapshots: their Outbound
// and Inbound members are shared with the simulator and must not be modified.
// There is no package-level mutable state; each Simulator owns its clock,
// rate limiter, users and goroutines, and Close stops them all.
package simulator
