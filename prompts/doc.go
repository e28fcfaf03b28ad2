// Package prompts holds the prompt templates yanit sends to language
// models, embedded in the binary and rendered with text/template: one file
// per prompt (templates/<name>.tmpl), with per-language variants
// (<name>.<lang>.tmpl) taking precedence. Each template starts with a
// version comment; a change to a prompt bumps it.
package prompts
