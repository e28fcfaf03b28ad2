package tools_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/yanit/yanit/tools"
)

func TestMetricsCountCallsByOutcome(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := tools.NewRegistry()
	r.MustRegister(newTool("order_status", func(_ context.Context, args json.RawMessage) (tools.Result, error) {
		if strings.Contains(string(args), "9999") {
			return tools.Result{}, tools.NotFound("no such order")
		}
		return tools.Result{}, nil
	}))
	r.Observe(tools.NewMetrics(reg, nil).Observe)
	for _, id := range []string{"SP-2026-0001", "SP-2026-0002", "SP-2026-9999", "bad"} {
		r.Call(context.Background(), "order_status", json.RawMessage(`{"order_id":"`+id+`"}`))
	}
	want := `
# HELP yanit_tool_calls_total Tool calls by tool and outcome (ok, not_found, invalid, unavailable).
# TYPE yanit_tool_calls_total counter
yanit_tool_calls_total{outcome="invalid",tool="order_status"} 1
yanit_tool_calls_total{outcome="not_found",tool="order_status"} 1
yanit_tool_calls_total{outcome="ok",tool="order_status"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "yanit_tool_calls_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "yanit_tool_call_seconds"); n != 1 {
		t.Errorf("latency series: %d, want 1 (one tool)", n)
	}
}
