// Package whatsapp is yanit's wire layer to the WhatsApp Cloud API: what
// arrives in webhooks and what goes out through the Graph API. It owns no
// storage and no HTTP server; the webhook handler, the outbox sender and the
// simulator are built on top of it.
//
// Inbound:
//   - VerifyChallenge answers the subscription handshake (GET).
//   - VerifySignature checks X-Hub-Signature-256 over the raw body; Sign
//     makes one (for the simulator and tests).
//   - Parse turns a webhook body into a Batch of normalised items (Inbound
//     messages, Status reports, ChannelError, Preference opt-outs) that the
//     rest of yanit persists without knowing Meta's JSON. Each item is decoded
//     on its own: a malformed one becomes an ItemError and never drops the
//     others, and unknown message types are kept, not rejected.
//
// Outbound:
//   - Outbound addresses one message whose Content is a *Text, *Buttons,
//     *List, *Template or *Media; Validate checks every WhatsApp limit and
//     names the offending field in a *LimitError. Its JSON form is the exact
//     request body, so an outbox can store it.
//   - SplitText cuts long answers at paragraph, sentence or word boundaries.
//   - Client.Send and Client.MarkRead call the Graph API; Classify maps any
//     error they return to what the sender should do (retry, back off which
//     scope, need a template, record an opt-out, alert the operator ...).
//
// Meta's raw JSON shapes live in the sub-package wire.
//
// Concurrency: every function is safe for concurrent use, and so is a
// Client, whose methods never modify it. Parse results share no memory with
// the body passed in. Values such as Batch and Outbound are plain data: safe
// to read from many goroutines, not to write.
package whatsapp
