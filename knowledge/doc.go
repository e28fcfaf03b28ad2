// Package knowledge owns the knowledge base the assistant answers from, as a
// pipeline of stages that each stand alone: Parse (Markdown and plain text
// into a Document and its heading Sections) → Split (Sections into Chunks
// under a token budget, with sentence overlap) → Memory.Add (embed and
// index) → Memory.Search (hybrid vector and BM25 search, fused by
// reciprocal rank, with citations). LoadDir runs the pipeline over a folder
// or an embedded file system.
//
// What exists today is the in-memory index, Memory. Storing chunks in
// PostgreSQL and SQLite, other formats (HTML, PDF), the CLI and the HTTP API
// come later, behind the same Searcher.
//
// Concurrency: Parse, Split and LoadDir's parsing are pure; a Memory is safe
// for concurrent use, and a search sees each document whole, in one version.
package knowledge
