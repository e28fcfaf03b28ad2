package eval_test

import (
	"fmt"

	"github.com/yanit/yanit/eval"
)

// A CI job compares tonight's run with the baseline it keeps: accuracy
// may drop by one point, calibration error may not rise at all, and the
// 95th percentile of turn latency may grow by 20 ms.
func ExampleCompare() {
	baseline := []eval.Report{{Suite: "demo", Metrics: map[string]float64{
		eval.MetricIntentAccuracy: 0.96, eval.MetricECE: 0.020, eval.MetricLatencyP95: 12,
	}}}
	tonight := []eval.Report{{Suite: "demo", Metrics: map[string]float64{
		eval.MetricIntentAccuracy: 0.955, eval.MetricECE: 0.031, eval.MetricLatencyP95: 45,
	}}}
	limits, err := eval.ParseLimits([]string{"intent_accuracy=1", "latency_p95_ms=20"})
	if err != nil {
		panic(err)
	}
	for _, d := range eval.Compare(baseline, tonight, limits).Regressions() {
		fmt.Println(d)
	}
	// Output:
	// demo: ece rose 1.10 points (0.020 → 0.031), more than the 0.00 allowed
	// demo: latency_p95_ms rose 33.00 ms (12.00 → 45.00), more than the 20.00 allowed
}
