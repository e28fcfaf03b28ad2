// Package channel moves messages between WhatsApp and the store: the
// Receiver persists what webhooks carry (one transaction per inbound message
// with its turn job), Queue writes outbound messages to the outbox inside the
// transaction of the turn that produced them, and the Sender delivers the
// outbox through the Cloud API client with rate limits, the 24-hour window
// and Meta's retry rules. channel/whatsapp holds the wire format.
//
// Delivery guarantee: an outbound message is sent at least once and, in the
// common case, exactly once. The sender records the wamid Meta returns before
// it acknowledges the send job; the one window for a second send is a crash
// (or lost response) after Meta accepted a message and before that record
// commits. Every send carries biz_opaque_callback_data = "yanit:<outbox id>",
// so the status webhooks of a message whose wamid was never recorded link it
// back to its outbox row (Receiver.reconcile), and a resend after such a
// crash is the only duplicate the user can see.
//
// Bulk sends (a campaign's messages) go through QueueBulk and
// Sender.HandleBatch: one send batch job per SendBatchSize messages, sent
// SendWave at a time, each wave's wamids recorded in one statement before
// the next wave, so a crash can repeat at most a wave per job running; a
// batch job claimed again after a crash first waits InterruptedWait for
// the status webhooks of the sends it had in flight, so that it repeats
// none whose webhook came.
// Status webhooks are applied many to a statement (store.Outbox). Bulk
// messages are not ordered with the other messages of their conversations.
//
// Concurrency: Receiver, Sender and Limiter are safe for concurrent use.
// Rate limits are per process; with several instances, divide the number's
// throughput among them (whatsapp.rate_per_second).
package channel
