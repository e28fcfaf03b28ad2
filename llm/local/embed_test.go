package local

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func cosine(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s // both unit length
}

func embedOne(t testing.TB, e *Embedder, text string) []float32 {
	t.Helper()
	v, err := e.Embed(context.Background(), []string{text})
	if err != nil {
		t.Fatal(err)
	}
	return v[0]
}

func TestEmbedder(t *testing.T) {
	t.Parallel()
	e := NewEmbedder(0)
	if e.Dim() != DefaultEmbeddingDim || e.Model() != "local-hash-v1" {
		t.Fatalf("NewEmbedder(0): dim %d, model %q", e.Dim(), e.Model())
	}

	t.Run("deterministic and unit length", func(t *testing.T) {
		t.Parallel()
		a := embedOne(t, e, "Siparişim nerede kaldı?")
		b := embedOne(t, NewEmbedder(512), "Siparişim nerede kaldı?")
		if !slices.Equal(a, b) {
			t.Fatal("the same text gave two vectors")
		}
		var sq float64
		for _, f := range a {
			sq += float64(f) * float64(f)
		}
		if math.Abs(sq-1) > 1e-5 {
			t.Fatalf("norm² = %v, want 1", sq)
		}
	})

	t.Run("case and Turkish folding", func(t *testing.T) {
		t.Parallel()
		base := embedOne(t, e, "iptal")
		for _, s := range []string{"İPTAL", "IPTAL", "ıptal", "Iptal", "İptal!"} {
			if !slices.Equal(embedOne(t, e, s), base) {
				t.Errorf("Embed(%q) differs from Embed(%q)", s, "iptal")
			}
		}
	})

	t.Run("shared stems are closer", func(t *testing.T) {
		t.Parallel()
		tests := []struct{ q, near, far string }{
			{"sipariş durumu", "siparişimin durumu nedir", "hava nasıl"},
			{"iade etmek istiyorum", "ürünü iade edebilir miyim", "kargo ücreti ne kadar"},
			{"where is my order", "has my order shipped", "what is the weather like"},
			{"kargom nerede", "kargomun nerede olduğunu öğrenmek istiyorum", "şifremi unuttum"},
		}
		for _, tt := range tests {
			q := embedOne(t, e, tt.q)
			n, f := cosine(q, embedOne(t, e, tt.near)), cosine(q, embedOne(t, e, tt.far))
			if n <= f {
				t.Errorf("cos(%q, %q) = %.3f, not above cos(%q, %q) = %.3f", tt.q, tt.near, n, tt.q, tt.far, f)
			}
		}
	})

	t.Run("empty text is the zero vector", func(t *testing.T) {
		t.Parallel()
		for _, s := range []string{"", "   ", "?!…", "😀"} {
			v := embedOne(t, e, s)
			for _, f := range v {
				if f != 0 || math.IsNaN(float64(f)) {
					t.Fatalf("Embed(%q) is not the zero vector", s)
				}
			}
		}
	})

	t.Run("dimension", func(t *testing.T) {
		t.Parallel()
		v := embedOne(t, NewEmbedder(64), "merhaba dünya")
		if len(v) != 64 {
			t.Fatalf("len = %d, want 64", len(v))
		}
	})

	t.Run("batch keeps order", func(t *testing.T) {
		t.Parallel()
		texts := []string{"bir", "iki", "üç"}
		vs, err := e.Embed(context.Background(), texts)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range texts {
			if !slices.Equal(vs[i], embedOne(t, e, s)) {
				t.Errorf("batch vector %d differs from Embed(%q)", i, s)
			}
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := e.Embed(ctx, []string{"a"}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Embed on a cancelled context = %v, want context.Canceled", err)
		}
	})
}

// chunk100 returns a deterministic ~100-word Turkish and English chunk.
func chunk100(i int) string {
	words := strings.Fields("sipariş kargo iade ödeme fatura teslimat müşteri hizmetleri ürün garanti order refund " +
		"delivery payment invoice customer support product warranty değişim kampanya indirim kupon adres telefon")
	var b strings.Builder
	for j := range 100 {
		if j > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[(i*7+j*13)%len(words)])
		if j%17 == 0 {
			fmt.Fprintf(&b, "%d", i+j)
		}
	}
	return b.String()
}

// BenchmarkEmbed reports chunks/s for ~100-word chunks, one goroutine.
func BenchmarkEmbed(b *testing.B) {
	e := NewEmbedder(0)
	chunks := make([]string, 64)
	for i := range chunks {
		chunks[i] = chunk100(i)
	}
	ctx := context.Background()
	n := 0
	for b.Loop() {
		if _, err := e.Embed(ctx, chunks); err != nil {
			b.Fatal(err)
		}
		n += len(chunks)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "chunks/s")
}
