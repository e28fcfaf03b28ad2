package main

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/configs"
	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/llm/openai"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/tools"
)

// demoCollection is the knowledge collection of the demo retailer.
const demoCollection = "demo"

// assistants builds the engine of every configured business number: it
// loads each definition, indexes its knowledge into kst (unchanged files
// are not embedded again) and trains its classifier. A definition that does not load stops the start with the
// reason.
func assistants(ctx context.Context, cfg config.Config, log *slog.Logger, registry *tools.Registry, kst store.Store) (assistant.Router, error) {
	list := cfg.Assistants
	if len(list) == 0 {
		list = []config.Assistant{{Name: "demo", PhoneNumberIDs: []string{cfg.WhatsApp.PhoneNumberID}}}
	}
	provider, err := newProvider(cfg.LLM, log)
	if err != nil {
		return nil, err
	}
	router := assistant.Router{}
	for _, a := range list {
		start := time.Now()
		engine, err := newEngine(ctx, a, provider, detectors(cfg.Privacy), registry, kst, log)
		if err != nil {
			return nil, fmt.Errorf("assistant %s: %w", a.Name, err)
		}
		def := engine.Definition()
		log.Info("assistant ready", slog.String("assistant", a.Name), slog.String("definition", def.Name),
			slog.Int("intents", len(def.Intents)), slog.String("understanding", def.Understanding.Provider),
			slog.Duration("took", time.Since(start)))
		for _, id := range a.PhoneNumberIDs {
			router[id] = engine
		}
	}
	return router, nil
}

// models are the configured model provider's parts: a chat model (none
// with the local provider) and the embeddings knowledge is indexed with.
type models struct {
	chat  llm.Chatter
	embed knowledge.Embedder
	// model and dims name the embeddings, recorded per collection.
	model string
	dims  int
}

// newProvider returns local embeddings and no chat model, or an
// OpenAI-compatible endpoint's.
func newProvider(c config.LLM, log *slog.Logger) (models, error) {
	m := models{embed: local.NewEmbedder(local.DefaultEmbeddingDim), model: local.EmbeddingModel, dims: local.DefaultEmbeddingDim}
	if c.Provider != "openai" {
		return m, nil
	}
	client, err := openai.New(c, openai.WithLogger(log))
	if err != nil {
		return m, err
	}
	m.chat = client
	if c.EmbeddingModel != "" {
		m.embed, m.model, m.dims = knowledge.FromLLM(client), c.EmbeddingModel, c.EmbeddingDimensions
	}
	return m, nil
}

// newEngine builds one assistant: the demo retailer with its knowledge
// when no file is given, else the definition in a.File with the knowledge
// in a.KnowledgeDir; its tools come from the process's registry.
func newEngine(ctx context.Context, a config.Assistant, p models, ds []privacy.Detector, registry *tools.Registry, kst store.Store, log *slog.Logger) (*assistant.Engine, error) {
	data, collection := configs.DemoAssistant, demoCollection
	var docs fs.FS = configs.DemoKnowledge()
	if a.File != "" {
		var err error
		if data, err = os.ReadFile(a.File); err != nil {
			return nil, err
		}
		// An assistant's own files form the collection named after it;
		// its intents may name it or leave knowledge.collection empty.
		docs, collection = nil, a.Name
		if a.KnowledgeDir != "" {
			docs = os.DirFS(a.KnowledgeDir)
		}
	}
	def, err := assistant.LoadDefinition(data)
	if err != nil {
		return nil, err
	}
	deps := assistant.Deps{Tools: registry, Chat: p.chat, Logger: log, Detectors: ds}
	if docs != nil {
		mem := knowledge.NewStored(kst, p.embed, p.model, p.dims, knowledge.EmbedOptions{})
		n, err := knowledge.LoadDir(ctx, mem, docs, collection)
		if err != nil {
			return nil, fmt.Errorf("loading knowledge: %w", err)
		}
		log.Info("knowledge loaded", slog.String("assistant", a.Name), slog.Int("documents", n))
		deps.Knowledge = mem
	}
	return assistant.NewEngine(def, deps)
}
