package eval_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/eval"
	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/tools"
	"github.com/yanit/yanit/tools/demo"
)

var (
	shopOnce   sync.Once
	shopEngine *assistant.Engine
	shopErr    error
)

// shop returns the engine of testdata/shop.yaml with the demo's Go-native
// tools and its knowledge in memory, trained once per test binary (a few
// seconds under -race).
func shop(t *testing.T) *assistant.Engine {
	t.Helper()
	shopOnce.Do(func() {
		data, err := os.ReadFile(filepath.Join("testdata", "shop.yaml"))
		if err != nil {
			shopErr = err
			return
		}
		def, err := assistant.LoadDefinition(data)
		if err != nil {
			shopErr = err
			return
		}
		reg := tools.NewRegistry()
		if shopErr = demo.Register(reg, demo.New(time.Now)); shopErr != nil {
			return
		}
		mem := knowledge.NewMemory(local.NewEmbedder(local.DefaultEmbeddingDim))
		if _, shopErr = knowledge.LoadDir(context.Background(), mem, os.DirFS(filepath.Join("testdata", "knowledge")), "shop"); shopErr != nil {
			return
		}
		shopEngine, shopErr = assistant.NewEngine(def, assistant.Deps{Tools: reg, Knowledge: mem})
	})
	if shopErr != nil {
		t.Fatal(shopErr)
	}
	return shopEngine
}

// shopOptions run suites on the shop engine.
func shopOptions(t *testing.T) eval.Options {
	t.Helper()
	e := shop(t)
	return eval.Options{
		Assistant:   func(context.Context, store.Store) (assistant.Responder, error) { return e, nil },
		Concurrency: 3,
		Provider:    "local",
	}
}

// runSuite parses a suite and runs it on the shop engine.
func runSuite(t *testing.T, yaml string) eval.Report {
	t.Helper()
	s, err := eval.ParseSuite([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	r, err := eval.Run(context.Background(), s, shopOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}
