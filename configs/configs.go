// Package configs embeds the configurations that ship with yanit, so that
// the binary runs them from anywhere: dev.yaml is the base layer of
// `yanit dev`; production.example.yaml documents every key for operators.
package configs

import _ "embed"

// Dev is the base configuration of `yanit dev`: local address, embedded
// store, verbose logs. A --config file and YANIT_* variables override it.
//
//go:embed dev.yaml
var Dev []byte

// DemoRules are the demo retailer's keyword auto-replies (Turkish and
// English), the responder of yanit dev and the default of serve.
//
//go:embed demo-rules.yaml
var DemoRules []byte
