// Package metrics holds kycdesk's Prometheus collectors on a registry owned by the server
// (never the global one), so tests and several servers in one process do not collide.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// Webhook delivery outcomes, the `outcome` label of kycdesk_webhook_deliveries_total and
// delivery_stats.outcome.
const (
	Accepted   = "accepted"    // new delivery committed to the inbox
	Duplicate  = "duplicate"   // already in the inbox: acknowledged, no new work
	AuthFailed = "auth_failed" // sender not verified: 401
	Malformed  = "malformed"   // wrong content type or shape: 400/415
	TooLarge   = "too_large"   // body over the limit: 413
	Busy       = "busy"        // over capacity: 503 (not kept in delivery_stats)
)

// Metrics is the server's registry and the collectors the HTTP layer, the inbox
// committer and the worker update.
type Metrics struct {
	Registry *prometheus.Registry

	// WebhookDeliveries counts webhook requests by integration name and outcome.
	WebhookDeliveries *prometheus.CounterVec
	// CommitBatchSize is how many deliveries each inbox transaction committed.
	CommitBatchSize prometheus.Histogram
	// InboxProcessing is how long the worker took to process one inbox row (the worker observes it).
	InboxProcessing prometheus.Histogram
}

// New builds the collectors on a fresh registry, with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		WebhookDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kycdesk_webhook_deliveries_total",
			Help: "Webhook requests by integration and outcome (accepted, duplicate, auth_failed, malformed, too_large, busy).",
		}, []string{"integration", "outcome"}),
		CommitBatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kycdesk_webhook_commit_batch_size",
			Help:    "Deliveries committed per inbox transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		InboxProcessing: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kycdesk_inbox_processing_seconds",
			Help:    "Time the worker took to process one inbox row, fetches included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}),
	}
	m.Registry.MustRegister(m.WebhookDeliveries, m.CommitBatchSize, m.InboxProcessing,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format, without the Go collector's
// go_info: /metrics is open on the main listener by default, and the exact Go version tells
// an attacker which runtime vulnerabilities to try (`kycdesk version` says it to operators).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(withoutVersions{m.Registry}, promhttp.HandlerOpts{Registry: m.Registry})
}

// hiddenFamilies are the metric families that only say which versions run.
var hiddenFamilies = map[string]bool{"go_info": true}

// withoutVersions gathers everything but hiddenFamilies.
type withoutVersions struct{ prometheus.Gatherer }

func (g withoutVersions) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := g.Gatherer.Gather()
	kept := mfs[:0]
	for _, mf := range mfs {
		if !hiddenFamilies[mf.GetName()] {
			kept = append(kept, mf)
		}
	}
	return kept, err
}
