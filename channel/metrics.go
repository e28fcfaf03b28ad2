package channel

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the channel's Prometheus metrics.
type Metrics struct {
	items *prometheus.CounterVec
	sends *prometheus.CounterVec
}

// NewMetrics registers the channel's metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanit_webhook_items_total",
			Help: "Webhook items by kind (message, status, preference, error, other) and outcome.",
		}, []string{"kind", "outcome"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanit_whatsapp_sends_total",
			Help: "Outbox sends by outcome (sent, retry, failed) and Graph API error code (0 when none).",
		}, []string{"outcome", "code"}),
	}
	if reg != nil {
		reg.MustRegister(m.items, m.sends)
	}
	return m
}

// Item counts one webhook item the caller handled itself (e.g. unparsable).
func (m *Metrics) Item(kind, outcome string) { m.items.WithLabelValues(kind, outcome).Inc() }
