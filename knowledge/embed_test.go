package knowledge_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
)

// flaky fails the first n calls of each batch it has not seen before.
type flaky struct {
	mu     sync.Mutex
	e      knowledge.Embedder
	fails  int
	seen   map[string]int
	calls  int
	always string // a text whose batch always fails
}

func (f *flaky) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	f.mu.Lock()
	f.calls++
	f.seen[texts[0]]++
	n := f.seen[texts[0]]
	f.mu.Unlock()
	if slices.Contains(texts, f.always) || n <= f.fails {
		return nil, errors.New("embedding endpoint: 503")
	}
	return f.e.Embed(ctx, texts)
}

func TestEmbedAllKeepsOrderAndRetries(t *testing.T) {
	texts := make([]string, 300)
	for i := range texts {
		texts[i] = "mağaza saatleri " + strconv.Itoa(i)
	}
	e := local.NewEmbedder(64)
	want, _ := e.Embed(context.Background(), texts)
	f := &flaky{e: e, fails: 1, seen: map[string]int{}}
	got, err := knowledge.EmbedAll(context.Background(), f, texts, knowledge.EmbedOptions{Batch: 64, Workers: 3, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("vector %d out of order", i)
		}
	}
	if f.calls != 10 { // 5 batches, each failing once
		t.Errorf("%d calls, want 10 (5 batches, one retry each)", f.calls)
	}

	// A batch that keeps failing stops the whole: no partial result.
	f = &flaky{e: e, seen: map[string]int{}, always: texts[200]}
	_, err = knowledge.EmbedAll(context.Background(), f, texts, knowledge.EmbedOptions{Batch: 64, Retries: 2, Backoff: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "embedding chunks 193-256") {
		t.Fatalf("a batch failing for good: %v, want an error naming chunks 193-256", err)
	}
	if n := f.seen[texts[192]]; n != 3 {
		t.Errorf("the failing batch was tried %d times, want 3 (two retries)", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := knowledge.EmbedAll(ctx, e, texts, knowledge.EmbedOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
