package knowledge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// EmbedOptions tunes EmbedAll.
type EmbedOptions struct {
	// Batch is the number of texts per Embed call; 0 means 64.
	Batch int
	// Workers is the number of batches embedded at once; 0 means 2.
	Workers int
	// Retries is how many times a failed batch is tried again; 0 means 2,
	// negative none.
	Retries int
	// Backoff is the wait before the first retry, doubling; 0 means 200ms.
	Backoff time.Duration
}

// EmbedAll embeds texts in batches, several at once, retrying a failed
// batch, and returns one vector per text in order. Every vector must have
// the same, non-zero dimension. It stops at the first batch that fails
// after its retries, or when ctx ends.
func EmbedAll(ctx context.Context, e Embedder, texts []string, o EmbedOptions) ([][]float32, error) {
	if o.Batch <= 0 {
		o.Batch = embedBatch
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Retries == 0 {
		o.Retries = 2
	}
	if o.Backoff <= 0 {
		o.Backoff = 200 * time.Millisecond
	}
	out := make([][]float32, len(texts))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	batches := make(chan int)
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := range batches {
				end := min(start+o.Batch, len(texts))
				vecs, err := embedBatchRetrying(ctx, e, texts[start:end], o)
				if err == nil && len(vecs) != end-start {
					err = fmt.Errorf("got %d vectors for %d texts", len(vecs), end-start)
				}
				if err != nil {
					fail(fmt.Errorf("embedding chunks %d-%d: %w", start+1, end, err))
					continue
				}
				copy(out[start:end], vecs)
			}
		}()
	}
	for start := 0; start < len(texts); start += o.Batch {
		select {
		case batches <- start:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(batches)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embedding chunks: %w", err)
	}
	dim := 0
	for i, v := range out {
		if dim == 0 {
			dim = len(v)
		}
		if len(v) == 0 || len(v) != dim {
			return nil, fmt.Errorf("embedding chunk %d: vector of dimension %d, want %d", i+1, len(v), dim)
		}
	}
	return out, nil
}

func embedBatchRetrying(ctx context.Context, e Embedder, texts []string, o EmbedOptions) ([][]float32, error) {
	wait := o.Backoff
	for attempt := 0; ; attempt++ {
		vecs, err := e.Embed(ctx, texts)
		if err == nil || ctx.Err() != nil || attempt >= max(o.Retries, 0) {
			if err != nil && ctx.Err() != nil {
				return nil, errors.Join(err, ctx.Err())
			}
			return vecs, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}
