// Package eval will own the evaluation harness: suite format, runner,
// metrics, reports and baseline comparison. Nothing is implemented yet; see
// docs/architecture.md for what exists today.
package eval
