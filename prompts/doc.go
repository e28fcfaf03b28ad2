// Package prompts will own the versioned prompt templates per locale,
// embedded in the binary and rendered with text/template. Nothing is
// implemented yet; see docs/architecture.md for what exists today.
package prompts
