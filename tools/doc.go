// Package tools will own the Tool interface, the registry, HTTP tools
// declared in configuration, argument validation by JSON Schema, timeouts,
// circuit breakers and the demo backend. Nothing is implemented yet; see
// docs/architecture.md for what exists today.
package tools
