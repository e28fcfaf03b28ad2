// Package knowledge will own the knowledge base: parse, chunk, embed, index
// and hybrid search with citations. Nothing is implemented yet; see
// docs/architecture.md for what exists today.
package knowledge
