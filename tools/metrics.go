package tools

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts tool calls for Prometheus: calls by tool and outcome,
// their latency, and each HTTP backend's breaker state.
type Metrics struct {
	calls   *prometheus.CounterVec
	seconds *prometheus.HistogramVec
}

// NewMetrics registers the tool metrics with reg; backends are the HTTP
// backends whose breaker state is exported (yanit_tool_breaker_state is 1
// for the current state of each backend, 0 for the others).
func NewMetrics(reg prometheus.Registerer, backends []*Backend) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanit_tool_calls_total",
			Help: "Tool calls by tool and outcome (ok, not_found, invalid, unavailable).",
		}, []string{"tool", "outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "yanit_tool_call_seconds",
			Help:    "Tool call latency, retries included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"tool"}),
	}
	reg.MustRegister(m.calls, m.seconds)
	for _, b := range backends {
		for _, state := range []BreakerState{BreakerClosed, BreakerOpen, BreakerHalfOpen} {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name:        "yanit_tool_breaker_state",
				Help:        "1 when the backend's circuit breaker is in this state.",
				ConstLabels: prometheus.Labels{"backend": b.Name(), "state": string(state)},
			}, func() float64 {
				if b.State() == state {
					return 1
				}
				return 0
			}))
		}
	}
	return m
}

// Observe records a finished call; pass it to Registry.Observe.
func (m *Metrics) Observe(c Call) {
	outcome := "ok"
	if c.Err != "" {
		outcome = string(c.Kind)
	}
	m.calls.WithLabelValues(c.Name, outcome).Inc()
	m.seconds.WithLabelValues(c.Name).Observe(c.Latency.Seconds())
}
