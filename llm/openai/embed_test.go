package openai_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/yanit/yanit/llm"
	"github.com/yanit/yanit/llm/openai/openaitest"
)

func TestEmbedInInputOrder(t *testing.T) {
	t.Parallel()
	// The fake returns the vectors in reverse order, as the index field
	// allows: the client must put them back.
	f := openaitest.New(t, openaitest.Config{Shuffle: true})
	cl := newClient(t, testConfig(f))
	texts := []string{"a", "bb cc", "ddd", "eeee ff gg"}

	got, err := cl.Embed(context.Background(), texts)
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	want := llm.Embeddings{Model: "test-embed", Usage: llm.Usage{PromptTokens: 7, TotalTokens: 7}}
	for _, text := range texts {
		want.Vectors = append(want.Vectors, openaitest.Vector(text, 4))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Embed = %+v, want %+v", got, want)
	}

	if path := f.Last(t).Path; path != "/v1/embeddings" {
		t.Errorf("path = %q, want /v1/embeddings", path)
	}
	body := lastBody(t, f)
	if body["model"] != "test-embed" {
		t.Errorf("model = %v, want test-embed", body["model"])
	}
	if input, _ := body["input"].([]any); len(input) != len(texts) {
		t.Errorf("input = %v, want the %d texts in one request", body["input"], len(texts))
	}
	if v, ok := body["dimensions"]; ok {
		t.Errorf("dimensions = %v sent; servers other than OpenAI's refuse it", v)
	}
	if cl.EmbeddingModel() != "test-embed" || cl.Dimensions() != 4 {
		t.Errorf("EmbeddingModel, Dimensions = %q, %d; want test-embed, 4", cl.EmbeddingModel(), cl.Dimensions())
	}
}

func TestEmbedDimensionMismatch(t *testing.T) {
	t.Parallel()
	f := openaitest.New(t, openaitest.Config{Dimensions: 3})
	_, err := newClient(t, testConfig(f)).Embed(context.Background(), []string{"hello"})
	if err == nil {
		t.Fatal("Embed accepted 3-dimensional vectors configured as 4")
	}
	if msg := err.Error(); !strings.Contains(msg, "has 3 dimensions") || !strings.Contains(msg, "llm.embedding_dimensions is 4") {
		t.Errorf("error %q does not name the actual (3) and configured (4) dimensions", msg)
	}
	if errors.Is(err, llm.ErrUnavailable) || len(f.Requests()) != 1 {
		t.Errorf("a mismatch was retried (%d requests) or called unavailable: %v", len(f.Requests()), err)
	}
}

func TestEmbedEmptyInputSendsNothing(t *testing.T) {
	t.Parallel()
	f := openaitest.New(t, openaitest.Config{})
	cl := newClient(t, testConfig(f))
	for _, texts := range [][]string{nil, {}} {
		got, err := cl.Embed(context.Background(), texts)
		if err != nil || len(got.Vectors) != 0 {
			t.Errorf("Embed(%#v) = %+v, %v; want no vectors and no error", texts, got, err)
		}
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("sent %d requests for no texts", n)
	}
}

func TestEmbedNeedsModel(t *testing.T) {
	t.Parallel()
	f := openaitest.New(t, openaitest.Config{})
	c := testConfig(f)
	c.EmbeddingModel, c.EmbeddingDimensions = "", 0
	_, err := newClient(t, c).Embed(context.Background(), []string{"hello"})
	if err == nil || !strings.Contains(err.Error(), "llm.embedding_model") {
		t.Errorf("Embed = %v, want an error naming llm.embedding_model", err)
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("sent %d requests without a model", n)
	}
}

func TestEmbedRefusesMalformedResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, wantErr string
	}{
		{"too few vectors", `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1,2,3,4]}],"model":"test-embed"}`,
			"returned 1 vectors for 2 texts"},
		{"repeated index", `{"object":"list","data":[{"object":"embedding","index":1,"embedding":[1,2,3,4]},{"object":"embedding","index":1,"embedding":[1,2,3,4]}],"model":"test-embed"}`,
			"index 1, out of range or repeated"},
		{"index out of range", `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1,2,3,4]},{"object":"embedding","index":2,"embedding":[1,2,3,4]}],"model":"test-embed"}`,
			"index 2, out of range or repeated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := openaitest.New(t, openaitest.Config{Fault: func(w http.ResponseWriter, _ *http.Request, _ int) bool {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tt.body))
				return true
			}})
			_, err := newClient(t, testConfig(f)).Embed(context.Background(), []string{"one", "two"})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Embed = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
