// Package assistant will own the turn pipeline: gates, understanding,
// the decision (answer, tool, clarify, hand off) with its confidence policy,
// conversation state and the handoff context pack. Nothing is implemented
// yet; see docs/architecture.md for what exists today.
package assistant
