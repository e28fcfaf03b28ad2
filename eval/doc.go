// Package eval owns the QA evaluation harness: the suite format, the
// runner that plays each case through the real turn pipeline, the metrics,
// the reports (terminal summary, JSON, JUnit XML) and the comparison with a
// baseline that gates CI. `yanit eval run` and `yanit eval compare` are its
// command line; configs/eval/demo.yaml is the commented example suite.
//
// # Suite format
//
// A suite is one YAML file. Every key not listed here is an error naming
// the key, its line and the keys allowed there. The same format as a JSON
// Schema, for editors and CI linters: configs/eval/suite.schema.json (a
// test keeps it and these types in step).
//
//	name: demo                 # required
//	assistant: shop.yaml       # definition file, relative to the suite; empty: the demo retailer
//	knowledge: docs/           # its knowledge folder (only with assistant)
//	language: tr               # the users' WhatsApp language (contact locale); a case may set its own
//	cases:
//	  - name: order status     # required, unique
//	    language: en           # optional
//	    tools:                 # optional: stub tools for this case, by name; the others call their backend
//	      order_status: {result: {user: {order_id: SP-1, status_text: {en: Shipped}}}}
//	      # or {error: not_found | invalid | unavailable, field: order_id (invalid only)}, or {timeout: true}
//	    turns:                 # at least one; each is a text or a tap
//	      - text: "where is my order"
//	        expect:
//	          intent: order_status          # "" expects no intent
//	          confidence: {min: 0.6, max: 1}
//	          decision: ask                 # or a list of acceptable ones: [fallback, handoff]
//	      - text: "SP-2026-0001"
//	        expect:
//	          decision: tool
//	          slots: {order_id: SP-2026-0001}               # a subset of the filled slots
//	          tool: {name: order_status, args: {order_id: SP-2026-0001}}   # args: a subset
//	          reply: {contains: [Shipped], not_contains: [error], matches: "(?i)yurti[çc]i"}
//	          language: en
//	          kind: text                    # of the last message: text, buttons, list, template, a media kind
//	      - tap: {id: human_agent}          # a button or row an earlier message offered; title optional
//	        expect:
//	          decision: handoff
//	          handoff_reason: intent_handoff_always
//	          cites: hours.tr                # document id (or full citation hours.tr#1) of a source shown
//
// Personal data (phone numbers, e-mail addresses, identity, card and
// account numbers) shows in traces as the conversation's placeholders
// ([PHONE_1]): expect those in slots and tool arguments.
//
// Decisions are the assistant's: answer, tool, ask, confirm, clarify,
// handoff, fallback, gate, unsupported, silent. Reply checks read the
// bodies of the turn's messages and their buttons' titles and list rows,
// one per line, case-sensitively (matches is RE2; (?i) ignores case).
//
// # Running
//
// Run gives each case a new user and conversation on a new embedded SQLite
// store. Each turn is delivered as WhatsApp would deliver it, through the
// channel's receiver, then the turn job runs the assistant's pipeline as
// yanit serve does; the turn's record (intent, confidence, decision,
// trace) and the messages it queued in the outbox are read back, every
// message is checked against WhatsApp's limits (whatsapp.Outbound.Validate)
// and against the expectations. A tap must tap something an earlier
// message of the case offered. With the local provider a run is
// deterministic, apart from latencies and what the tools return. A case
// with tools stubbed gets the same assistant with those tools answering as
// the stubs say (a timeout within 50 ms), so that QA sees what the user
// gets when a backend finds nothing, fails or does not answer.
//
// # Metrics
//
// Intent accuracy, macro-F1 and the confusion matrix (turns expecting an
// intent), calibration error and its reliability bins (turns expecting a
// real intent, as llm/local's: right when the intent the confidence
// belongs to, the trace's top candidate even under the threshold, is the
// expected one), handoff precision and recall, tool-call exact match, slot
// F1, the pass rate of reply checks, of turns and of cases, retrieval
// hit@1, hit@k and MRR (turns naming documents to cite: where the document
// ranks among the hits the assistant's knowledge search retrieved), and
// latency percentiles of the turn and of each stage of its trace. With a
// model the report sums its tokens, and estimates their cost when prices
// are given (Options.Prices; yanit eval run --price-prompt,
// --price-completion, US dollars per million tokens). The Metric
// constants say exactly what each counts; a metric nothing measured is
// absent from the report. Confusion.InScope gives yanit eval intents'
// in-scope accuracy and out-of-scope recall.
//
// A CLINC150 split imported with FromCLINC150 and run on an assistant
// that records its classifier's decision (the intent, none when out of
// scope, the top candidate's confidence) gives exactly the numbers of
// yanit eval intents on the same split: accuracy, macro-F1, ECE, in-scope
// accuracy and out-of-scope recall (TestCLINC150Parity). The demo engine
// (assistant.Engine) is not that assistant, by design: it fits its
// temperature out of fold instead of on val, takes its threshold from its
// definition instead of choosing it on val + oos_val, and its policy
// (clarify, follow-ups, handoffs) may record another intent than the
// classifier's, so its numbers on the same split may differ.
//
// # Reports and the gate
//
// WriteSummary prints a report for a terminal, WriteJSON writes a Results
// document (the baseline format), WriteJUnit JUnit XML, WriteHTML one
// self-contained page (inline CSS and SVG, no script): per suite the
// metrics, the confusion matrix as a heat map coloured by share of the
// row (the 30 most mistaken intents when there are more), the
// reliability diagram, the F1 of each intent and the failed cases with
// each failing turn's reasons and trace. Compare compares a
// run with a baseline metric by metric: a rate may not drop at all unless
// Limits allow it (in percentage points); latencies are gated only when a
// limit names them.
//
// # Concurrency
//
// Run plays up to Options.Concurrency cases at once; each case's turns run
// in order, and the report lists cases in the suite's order. Run calls
// Options.Progress from one goroutine at a time. Suites, reports and
// comparisons are plain values: read them from any goroutine, change them
// from one.
package eval
