package openai

import (
	"context"
	"errors"
	"fmt"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/yanit/yanit/llm"
)

// Embed returns the vectors of texts in input order, from one request for
// the whole batch: the caller sizes batches to the server's limits (OpenAI
// takes up to 2048 inputs). Every vector must have the configured
// dimension. Embeddings.Model is the configured model name, the one
// EmbeddingModel reports, whatever name the server answers with, so that
// vectors are labelled consistently. No texts: no request.
func (c *Client) Embed(ctx context.Context, texts []string) (llm.Embeddings, error) {
	if c.embedModel == "" {
		return llm.Embeddings{}, errors.New("openai: embedding: no model (set llm.embedding_model)")
	}
	if len(texts) == 0 {
		return llm.Embeddings{Model: c.embedModel}, nil
	}
	// The dimensions parameter is not sent: only OpenAI's text-embedding-3
	// models accept it, and vLLM refuses it for most models. The vectors
	// are checked against the configured dimension instead.
	req := goopenai.EmbeddingRequest{Input: texts, Model: goopenai.EmbeddingModel(c.embedModel)}
	var resp goopenai.EmbeddingResponse
	err := c.call(ctx, "embeddings", exchange{}, func(ctx context.Context) error {
		var err error
		resp, err = c.api.CreateEmbeddings(ctx, req)
		return err
	})
	if err != nil {
		return llm.Embeddings{}, fmt.Errorf("openai: embedding %d texts with %s: %w", len(texts), c.embedModel, err)
	}
	vectors, err := c.vectors(resp.Data, len(texts))
	if err != nil {
		return llm.Embeddings{}, fmt.Errorf("openai: embedding %d texts with %s: %w", len(texts), c.embedModel, err)
	}
	return llm.Embeddings{
		Model:   c.embedModel,
		Vectors: vectors,
		Usage: llm.Usage{
			PromptTokens: resp.Usage.PromptTokens,
			TotalTokens:  resp.Usage.TotalTokens,
		},
	}, nil
}

// vectors puts the n embeddings of data in input order by their index and
// checks their dimension.
func (c *Client) vectors(data []goopenai.Embedding, n int) ([][]float32, error) {
	if len(data) != n {
		return nil, fmt.Errorf("the server returned %d vectors for %d texts", len(data), n)
	}
	out := make([][]float32, n)
	for _, d := range data {
		if d.Index < 0 || d.Index >= n || out[d.Index] != nil {
			return nil, fmt.Errorf("the server returned a vector with index %d, out of range or repeated", d.Index)
		}
		if len(d.Embedding) != c.dimensions {
			return nil, fmt.Errorf("vector %d has %d dimensions but llm.embedding_dimensions is %d: set it to the model's dimension",
				d.Index, len(d.Embedding), c.dimensions)
		}
		out[d.Index] = d.Embedding
	}
	return out, nil
}
