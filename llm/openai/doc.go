// Package openai implements llm.Chatter and llm.Embedder for any endpoint
// that speaks the OpenAI chat completions and embeddings API: OpenAI itself,
// Azure OpenAI (deployments in the path, api-key header, api-version query),
// and the OpenAI-compatible servers of vLLM, Ollama and llama.cpp. It is a
// thin mapping over github.com/sashabaranov/go-openai that adds what a
// production caller needs around it: a timeout per attempt, retries with
// exponential backoff and full jitter on rate limits, server errors,
// network errors and timeouts (honouring Retry-After), errors that name
// the status and the server's message, strict checks of what comes back
// (tool call arguments are JSON, vectors have the configured dimension),
// and an API key that never reaches an error or a log.
//
// Errors after which a later call may succeed wrap llm.ErrUnavailable once
// the retries are spent; an error the server reported with a status is an
// *APIError (errors.As); a cancelled context ends a call at once, wrapping
// ctx.Err().
//
// Concurrency: a Client is immutable after New and safe for concurrent use
// by any number of goroutines.
//
// The tests run against an in-process fake server (net/http/httptest) that
// speaks the wire format of POST /v1/chat/completions, POST /v1/embeddings
// and the Azure deployment paths, and enforces the rules a real server
// enforces (authentication, required fields, tool schemas, logprob limits,
// tool messages answering earlier tool calls); they need no network.
package openai
