// Package configs embeds the configurations that ship with yanit, so that
// the binary runs them from anywhere: dev.yaml is the base layer of
// `yanit dev`; production.example.yaml documents every key for operators;
// demo-assistant.yaml and knowledge/ are the demo retailer.
package configs

import (
	"embed"
	"io/fs"
)

// Dev is the base configuration of `yanit dev`: local address, embedded
// store, verbose logs. A --config file and YANIT_* variables override it.
//
//go:embed dev.yaml
var Dev []byte

// DemoAssistant is the demo retailer's assistant definition (Turkish and
// English): the assistant of yanit dev and the default of serve.
//
//go:embed demo-assistant.yaml
var DemoAssistant []byte

// DemoTools declares the demo retailer's tools as HTTP tools against the
// demo backend (tools/demo): yanit dev serves that backend in-process.
//
//go:embed demo-tools.yaml
var DemoTools []byte

//go:embed knowledge
var knowledgeFS embed.FS

// DemoKnowledge holds the demo retailer's knowledge base: Markdown files,
// one topic per language.
func DemoKnowledge() fs.FS {
	sub, err := fs.Sub(knowledgeFS, "knowledge")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}
