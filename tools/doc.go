// Package tools owns the Tool interface, the actions an assistant can take
// in the organisation's systems, and the Registry that runs them.
//
// A Registry checks each tool when it is registered (name, description,
// a compilable JSON Schema of its arguments) and runs every call the same
// way: the arguments are validated against the schema before the tool
// runs, each attempt is bounded by the tool's Timeout, failures of
// idempotent tools are retried with backoff, and a panic in a tool is
// recovered. Failures are *Error values whose Kind tells the engine what to
// do next; Call records each call for the conversation trace.
//
// Package tools/demo holds the Go-native tools of the demo retailer.
//
// # HTTP tools
//
// An integrator adds tools without Go code by declaring them in YAML;
// LoadHTTPTools turns each into an *HTTPTool:
//
//	backends:
//	  - name: demo                                   # lower-case letters, digits, _ and -
//	    base_url: "${YANIT_DEMO_BACKEND_URL}"        # http or https, may end in a path
//	    signing_secret_env: YANIT_DEMO_BACKEND_SECRET # required; at least 16 bytes
//	    headers: {Authorization: "Bearer ${YANIT_DEMO_BACKEND_TOKEN}"}
//	    timeout: 3s                                  # per attempt, for tools that set none
//	    breaker: {failures: 5, cooldown: 30s}        # the defaults
//	tools:
//	  - name: book_appointment
//	    backend: demo
//	    description: {tr: "…", en: "…"}
//	    parameters: {type: object, required: [store_id, date, time], properties: {…}}
//	    method: POST                                 # GET, POST, PUT, PATCH or DELETE
//	    path: /stores/{store_id}/appointments        # {arg}: a required parameter, path-escaped
//	    query: {lang: "{lang}", v: "2"}              # "{arg}" or a literal
//	    body: {date: "{date}", party: "{party}", source: whatsapp}
//	    mutates: true                                # default: false for GET, else true
//	    idempotent: false                            # default: true for GET, else false
//	    timeout: 5s
//	    response:
//	      user: [appointment_id, date, status_text.tr] # fields the user may see
//	      agent: [customer.name]                       # fields only a human agent sees
//
// ${VAR} is read from the environment in base_url and header values only,
// and the values never appear in errors, logs or DescribeRequest. Unknown
// keys are errors, and every error names its place
// ("tools[book_appointment].path: {store} is not a parameter").
//
// A query or body value that is exactly "{arg}" stands for the argument: in
// the body it keeps its JSON type (numbers stay numbers, objects stay
// objects), in the query a list repeats the key; an optional argument that
// is missing leaves its key out. Other values are literals. A GET has no
// body.
//
// The answer is mapped to a Result or an *Error: a 2xx JSON object (or an
// empty body) gives the selected fields, a.b keeping its nesting as
// {"a": {"b": …}} and a missing field left out; 404 is KindNotFound with
// the body's "error" as message; 400 and 422 are KindInvalid, naming the
// body's "field" when it is a parameter; everything else is
// KindUnavailable: 401 and 403 (logged at error level, once a minute per
// backend, since they need a person), other statuses, redirects (never
// followed), bodies that are not a JSON object or exceed 1 MiB, timeouts
// and connection failures. Logs name the backend, the tool and the status,
// never the arguments, the URL or the answer.
//
// # Request signing
//
// Every request of an HTTP tool carries
//
//	X-Yanit-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<METHOD>.<request URI>.<body>")>
//
// where the key is the backend's signing secret, the request URI is the
// escaped path and query exactly as sent (/orders/a%2Fb?lang=tr) and the
// body the raw bytes (empty for none). A backend verifies it with
// VerifyRequest, or in any language by recomputing the HMAC over the raw
// request, comparing in constant time, and refusing a timestamp more than
// five minutes from its clock. The host is not signed: give each backend a
// key of its own.
//
// # Circuit breakers
//
// Each backend has a breaker shared by its tools. After `failures`
// KindUnavailable outcomes in a row it opens, and calls fail fast with a
// KindUnavailable error wrapping ErrCircuitOpen, without a request. Once
// the cooldown has passed, one trial request goes through (half-open): a
// success closes the breaker, a failure opens it for another cooldown.
// Not-found and invalid answers count as successes: the backend answered.
// A call the caller cancelled counts for nothing. Backend.Stats reads a
// breaker for health checks and metrics.
//
// # Concurrency
//
// A Registry, an HTTPTool and a Backend are safe for concurrent use. A
// Tool's Call may run on several goroutines at once and must honour its
// context: a call that outlives its timeout is abandoned, not stopped.
package tools
