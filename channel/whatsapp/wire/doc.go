// Package wire holds the WhatsApp Cloud API's JSON shapes exactly as Meta
// sends and receives them: the webhook envelope and its items, the send and
// mark-read requests, and the Graph API's success and error bodies.
//
// The types carry no behaviour beyond JSON decoding quirks (timestamps and
// button indexes that Meta writes as strings but may write as numbers). Code
// that wants yanit's normalised view uses package whatsapp (Parse, Outbound,
// Client); this package is for code that must speak the raw format, such as
// the simulator and the fake Graph API in tests.
//
// Every field is optional on the wire, so every field is tagged omitempty and
// nested objects are pointers: a zero value means "absent".
//
// Values of these types are plain data; they are safe for concurrent reads
// and not for concurrent writes.
package wire
