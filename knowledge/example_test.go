package knowledge_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
)

func ExampleMemory() {
	ctx := context.Background()
	kb := fstest.MapFS{
		"iade.md": {Data: []byte(`# İade

## Süre

Ürünü teslimattan sonra 30 gün içinde iade edebilirsiniz.

## Para iadesi

Ödemeniz ürün depoya ulaştıktan sonra 3 iş günü içinde kartınıza iade edilir.
`)},
		"returns.md": {Data: []byte(`# Returns

You can return an item within 30 days of delivery.
`)},
	}
	m := knowledge.NewMemory(local.NewEmbedder(512))
	added, err := knowledge.LoadDir(ctx, m, kb, "shop")
	if err != nil {
		panic(err)
	}
	fmt.Println(added, "documents")

	hits, err := m.Search(ctx, knowledge.Query{Text: "param ne zaman iade edilir", Language: "tr", Limit: 1})
	if err != nil {
		panic(err)
	}
	for _, h := range hits {
		fmt.Printf("[%s] %s: %s\n", h.Citation, h.Section, h.Text)
	}
	// Output:
	// 2 documents
	// [iade#2] İade > Para iadesi: Ödemeniz ürün depoya ulaştıktan sonra 3 iş günü içinde kartınıza iade edilir.
}
