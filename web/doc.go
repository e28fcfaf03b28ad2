// Package web wires yanit's HTTP surface with gin: health and readiness,
// Prometheus metrics, and (in later stages) the webhook, admin and agent
// APIs and the console pages. (*Server).Routes is the one place routes are
// declared; handlers bind, validate, call a domain package and write.
//
// Concurrency: a Server is safe for concurrent use. The store is attached
// once it is reachable (SetStore); until then readiness reports why not.
package web
