// Package openaitest is an OpenAI-compatible server for tests: it runs in
// the test process (net/http/httptest) and stands in for an account-bound
// service, the OpenAI API or an Azure OpenAI resource, so that the tests of
// any package can drive a real openai.Client, wire format included, with no
// network, no key and no cost. It is for tests only: nothing in a running
// yanit imports it.
//
// New starts a Server. It speaks POST /v1/chat/completions and
// POST /v1/embeddings (Authorization: Bearer) and Azure's
// /openai/deployments/{deployment}/… paths (api-key header, api-version
// query), and refuses what a real server refuses, with OpenAI's error body:
// a missing or wrong key, unknown request fields, a missing model, no
// messages, tool parameters that are not a JSON object, tool messages that
// answer no earlier tool call, tool calls left unanswered, a tool_choice
// without tools, top_logprobs outside 0..20 or without logprobs.
//
// The test plays the model: Config.Reply chooses the content, the tool
// calls, the log probabilities and the token usage of each valid chat
// request; Config.Fault answers a request before the server looks at it, as
// an overloaded or broken upstream would. Requests and Last return what the
// server received, for assertions on what left the client.
//
// Concurrency: a Server is safe for concurrent use. Reply and Fault are
// called from the server's goroutines, possibly at the same time, and must
// be safe for that.
package openaitest
