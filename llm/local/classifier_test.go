package local

import (
	"math"
	"strings"
	"sync"
	"testing"
)

// shopExamples is a small Turkish and English customer-service intent set.
var shopExamples = func() []Example {
	byIntent := map[string][]string{
		"order_status": {
			"siparişim nerede", "siparişim ne zaman gelir", "kargom nerede kaldı", "siparişimin durumu nedir",
			"sipariş durumunu öğrenmek istiyorum", "kargo takip", "where is my order", "when will my order arrive",
			"track my package", "has my order shipped yet", "order status please", "siparişim hala gelmedi",
		},
		"cancel_order": {
			"siparişimi iptal etmek istiyorum", "iptal", "siparişi iptal et", "vazgeçtim iptal edin",
			"sipariş iptali nasıl yapılır", "cancel my order", "i want to cancel", "please cancel the order",
			"how do i cancel my purchase", "iptal etmek istiyorum lütfen", "cancel order", "siparişimi iptal edebilir miyim",
		},
		"refund": {
			"param ne zaman iade edilir", "iade istiyorum", "ürünü iade etmek istiyorum", "para iadesi",
			"iadem yattı mı", "refund my money", "i want a refund", "when will i get my refund",
			"return this product", "how do i return an item", "ücret iadesi alabilir miyim", "geri ödeme ne zaman",
		},
		"human": {
			"müşteri temsilcisine bağlan", "bir insanla konuşmak istiyorum", "temsilci", "canlı destek",
			"yetkili biriyle görüşmek istiyorum", "talk to a human", "i want to speak to an agent", "customer service representative",
			"connect me to a person", "real person please", "operatöre bağlar mısın", "insan lütfen",
		},
		"greeting": {
			"merhaba", "selam", "iyi günler", "günaydın", "merhabalar nasılsınız", "hello", "hi there",
			"good morning", "hey", "selamlar", "iyi akşamlar", "hi",
		},
	}
	var out []Example
	for _, intent := range []string{"order_status", "cancel_order", "refund", "human", "greeting"} {
		for _, text := range byIntent[intent] {
			out = append(out, Example{Text: text, Intent: intent})
		}
	}
	return out
}()

func trainShop(t testing.TB, opts TrainOptions) *Classifier {
	t.Helper()
	c, err := Train(shopExamples, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// shopClassifier is trained once (seed 1, default options) for the tests
// that only read it.
var shopClassifier = sync.OnceValues(func() (*Classifier, error) {
	return Train(shopExamples, TrainOptions{Seed: 1})
})

func sharedShop(t testing.TB) *Classifier {
	t.Helper()
	c, err := shopClassifier()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClassify(t *testing.T) {
	t.Parallel()
	c := sharedShop(t)
	tests := []struct{ text, intent string }{
		{"İPTAL etmek istiyorum", "cancel_order"},
		{"IPTAL", "cancel_order"},
		{"Siparişim NEREDE?", "order_status"},
		{"kargom hala gelmedi", "order_status"},
		{"iade ne zaman yatar", "refund"},
		{"I would like a refund please", "refund"},
		{"temsilciye bağlanmak istiyorum", "human"},
		{"can I talk to a real person", "human"},
		{"Merhaba!", "greeting"},
	}
	for _, tt := range tests {
		p := c.Classify(tt.text)
		if p.Intent != tt.intent {
			t.Errorf("Classify(%q) = %s (%.2f), want %s; candidates %v", tt.text, p.Intent, p.Confidence, tt.intent, p.Candidates)
		}
		if len(p.Candidates) != DefaultTopK {
			t.Errorf("Classify(%q): %d candidates, want %d", tt.text, len(p.Candidates), DefaultTopK)
		}
		var sum float64
		for i, cand := range p.Candidates {
			sum += cand.Prob
			if i > 0 && cand.Prob > p.Candidates[i-1].Prob {
				t.Errorf("Classify(%q): candidates not sorted: %v", tt.text, p.Candidates)
			}
		}
		if math.Abs(sum-1) > 1e-4 { // 5 intents, top 5: all of them
			t.Errorf("Classify(%q): probabilities sum to %v", tt.text, sum)
		}
		if p.Confidence != p.Candidates[0].Prob || p.Intent != p.Candidates[0].Intent {
			t.Errorf("Classify(%q): top candidate %v disagrees with %s %.3f", tt.text, p.Candidates[0], p.Intent, p.Confidence)
		}
	}
	for _, text := range []string{"", "?!", "zzqx wqvj"} {
		if p := c.Classify(text); !p.OutOfScope {
			t.Errorf("Classify(%q) = %+v, want out of scope (nothing known)", text, p)
		}
	}
}

func TestTrainDeterministic(t *testing.T) {
	t.Parallel()
	a := trainShop(t, TrainOptions{Seed: 5, Workers: 1, Folds: 2})
	b := trainShop(t, TrainOptions{Seed: 5, Workers: 4, Folds: 2})
	if a.Temperature() != b.Temperature() {
		t.Fatalf("temperatures differ: %v vs %v", a.Temperature(), b.Temperature())
	}
	for _, text := range []string{"siparişim nerede", "iade", "hello there", "hava nasıl"} {
		pa, pb := a.Classify(text), b.Classify(text)
		if pa.Intent != pb.Intent || pa.Confidence != pb.Confidence {
			t.Errorf("Classify(%q): %s %.6f vs %s %.6f with other workers", text, pa.Intent, pa.Confidence, pb.Intent, pb.Confidence)
		}
	}
}

func TestThresholds(t *testing.T) {
	t.Parallel()
	if c := sharedShop(t); c.Threshold() != DefaultThreshold || c.Temperature() <= 0 {
		t.Errorf("default threshold %v, temperature %v", c.Threshold(), c.Temperature())
	}
	c := trainShop(t, TrainOptions{Seed: 1, Threshold: 1.01, TopK: 2, Folds: 1})
	p := c.Classify("merhaba")
	if !p.OutOfScope || p.Intent != "greeting" || len(p.Candidates) != 2 {
		t.Errorf("with threshold 1.01: %+v, want greeting out of scope with 2 candidates", p)
	}
	if c.Temperature() != 1 {
		t.Errorf("Folds 1: temperature %v, want 1 (uncalibrated)", c.Temperature())
	}
	never := c.WithThreshold(-1)
	if never.Classify("merhaba").OutOfScope {
		t.Error("WithThreshold(-1) still rejects")
	}
	if c.Threshold() != 1.01 || never.Threshold() != -1 {
		t.Errorf("thresholds %v, %v: WithThreshold changed the original", c.Threshold(), never.Threshold())
	}
	val := []Example{
		{"siparişim gelmedi", "order_status"}, {"iptal edin", "cancel_order"}, {"iade lütfen", "refund"},
		{"what's the weather in istanbul", OutOfScope}, {"bana bir şiir yaz", OutOfScope},
	}
	pt := c.ChooseThreshold(val)
	if pt.Threshold < 0 || pt.Threshold > 1 || pt.Objective < 0.6 {
		t.Errorf("ChooseThreshold = %+v", pt)
	}
}

func TestTrainErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		examples []Example
		opts     TrainOptions
		want     string
	}{
		{"one intent", []Example{{"a", "x"}, {"b", "x"}}, TrainOptions{}, "at least two intents"},
		{"empty text", []Example{{"a", "x"}, {" ", "y"}}, TrainOptions{}, "example 1: empty text"},
		{"empty intent", []Example{{"a", "x"}, {"b", ""}}, TrainOptions{}, "empty intent"},
		{"oos label", []Example{{"a", "x"}, {"b", OutOfScope}}, TrainOptions{}, "in-scope intents only"},
		{"unknown calibration intent", []Example{{"a", "x"}, {"b", "y"}}, TrainOptions{Calibration: []Example{{"c", "z"}}}, `intent "z" is not in the training examples`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Train(tt.examples, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Train = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
