package local_test

import (
	"context"
	"fmt"
	"time"

	"github.com/yanit/yanit/llm/local"
)

func ExampleTrain() {
	examples := []local.Example{
		{Text: "siparişim nerede", Intent: "order_status"},
		{Text: "kargom ne zaman gelir", Intent: "order_status"},
		{Text: "where is my order", Intent: "order_status"},
		{Text: "siparişimi iptal etmek istiyorum", Intent: "cancel_order"},
		{Text: "iptal edin lütfen", Intent: "cancel_order"},
		{Text: "cancel my order", Intent: "cancel_order"},
		{Text: "müşteri temsilcisine bağlan", Intent: "human"},
		{Text: "canlı destek", Intent: "human"},
		{Text: "talk to a person", Intent: "human"},
	}
	c, err := local.Train(examples, local.TrainOptions{Seed: 1})
	if err != nil {
		panic(err)
	}
	p := c.Classify("İPTAL etmek istiyorum")
	fmt.Println(p.Intent, len(p.Candidates))
	// Output: cancel_order 3
}

func ExampleExtractSlots() {
	ref := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) // a Wednesday
	text := "Yarın saat 14:30'da 0532 123 45 67'den arayın, sipariş no 123456, 1.250,50 TL"
	for _, s := range local.ExtractSlots(text, "tr", ref) {
		fmt.Printf("%s=%s (%q)\n", s.Name, s.Value, text[s.Start:s.End])
	}
	// Output:
	// date=2026-11-26 ("Yarın")
	// time=14:30 ("saat 14:30'da")
	// phone=+905321234567 ("0532 123 45 67")
	// order_id=123456 ("123456")
	// amount=1250.50 TRY ("1.250,50 TL")
}

func ExampleEmbedder() {
	e := local.NewEmbedder(0)
	vs, err := e.Embed(context.Background(), []string{"İPTAL", "iptal", ""})
	if err != nil {
		panic(err)
	}
	same := true
	for i := range vs[0] {
		same = same && vs[0][i] == vs[1][i]
	}
	var zero float32
	for _, f := range vs[2] {
		zero += f * f
	}
	fmt.Println(e.Model(), e.Dim(), same, zero)
	// Output: local-hash-v1 512 true 0
}
