// Package tools owns the Tool interface, the actions an assistant can take
// in the organisation's systems, and the Registry that runs them.
//
// A Registry checks each tool when it is registered (name, description,
// a compilable JSON Schema of its arguments) and runs every call the same
// way: the arguments are validated against the schema before the tool
// runs, each attempt is bounded by the tool's Timeout, failures of
// idempotent tools are retried with backoff, and a panic in a tool is
// recovered. Failures are *Error values whose Kind tells the engine what to
// do next; Call records each call for the conversation trace.
//
// Package tools/demo holds the Go-native tools of the demo retailer.
// Tools declared in configuration (HTTP) and circuit breakers do not exist
// yet.
//
// A Registry is safe for concurrent use. A Tool's Call may run on several
// goroutines at once and must honour its context: a call that outlives its
// timeout is abandoned, not stopped.
package tools
