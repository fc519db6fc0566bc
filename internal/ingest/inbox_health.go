package ingest

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/metrics"
)

// The queries of the health page and /metrics; each reads ranges of an index
// (inbox_integration_state, inbox_pending, the delivery_stats key), as TestQueryPlans checks.
const (
	healthStatsQuery = `SELECT outcome, SUM(n) FROM delivery_stats
		WHERE integration_id = ? AND hour >= ? GROUP BY outcome`

	healthInboxQuery = `SELECT
		(SELECT MAX(m) FROM (
			SELECT MAX(received_at) AS m FROM inbox WHERE integration_id = ?1 AND state = 'pending'
			UNION ALL SELECT MAX(received_at) FROM inbox WHERE integration_id = ?1 AND state = 'done'
			UNION ALL SELECT MAX(received_at) FROM inbox WHERE integration_id = ?1 AND state = 'dead')),
		(SELECT COUNT(*) FROM inbox WHERE integration_id = ?1 AND state = 'pending'),
		(SELECT MIN(received_at) FROM inbox WHERE integration_id = ?1 AND state = 'pending'),
		(SELECT COUNT(*) FROM inbox WHERE integration_id = ?1 AND state = 'dead')`

	deadLettersQuery = `SELECT id, delivery_key, last_error, attempts, received_at FROM inbox
		WHERE integration_id = ? AND state = 'dead' ORDER BY received_at DESC, id DESC LIMIT ?`

	// The depth is a range of inbox_pending; the oldest pending row is one index lookup per
	// integration (their ids come from kycdesk.db).
	depthQuery  = `SELECT COUNT(*) FROM inbox WHERE state = 'pending'`
	oldestQuery = `SELECT MIN(received_at) FROM inbox WHERE integration_id = ? AND state = 'pending'`
)

// Health is what the integration page shows about one integration's deliveries.
type Health struct {
	LastDelivery    time.Time // newest stored delivery; zero when none
	Deliveries24h   int64     // accepted and duplicate deliveries in the last 24 hours
	AuthFailures24h int64
	Malformed24h    int64 // malformed and too large
	Pending         int64 // inbox depth: rows not yet processed
	OldestPending   time.Time
	Dead            int64
}

// Health reads an integration's counters (delivery_stats, whole hours overlapping the last
// 24 h) and its inbox state. Counters not yet flushed (up to a second) are not included.
func (ib *Inbox) Health(ctx context.Context, integrationID string) (Health, error) {
	var h Health
	since := hourOf(db.Millis(ib.now().Add(-24 * time.Hour)))
	rows, err := ib.db.Read.QueryContext(ctx, healthStatsQuery, integrationID, since)
	if err != nil {
		return h, err
	}
	defer rows.Close()
	for rows.Next() {
		var outcome string
		var n int64
		if err := rows.Scan(&outcome, &n); err != nil {
			return h, err
		}
		switch outcome {
		case metrics.Accepted, metrics.Duplicate:
			h.Deliveries24h += n
		case metrics.AuthFailed:
			h.AuthFailures24h += n
		case metrics.Malformed, metrics.TooLarge:
			h.Malformed24h += n
		}
	}
	if err := rows.Err(); err != nil {
		return h, err
	}
	var last, oldest sql.NullInt64
	err = ib.db.Read.QueryRowContext(ctx, healthInboxQuery, integrationID).
		Scan(&last, &h.Pending, &oldest, &h.Dead)
	if err != nil {
		return h, err
	}
	if last.Valid {
		h.LastDelivery = db.Time(last.Int64)
	}
	if oldest.Valid {
		h.OldestPending = db.Time(oldest.Int64)
	}
	return h, nil
}

// DeadLetter is an inbox row the worker gave up on.
type DeadLetter struct {
	ID          int64
	DeliveryKey string
	Reason      string // the worker's last error: short, no payload
	Attempts    int
	ReceivedAt  time.Time
}

// DeadLetters lists an integration's dead letters, newest first.
func (ib *Inbox) DeadLetters(ctx context.Context, integrationID string, limit int) ([]DeadLetter, error) {
	rows, err := ib.db.Read.QueryContext(ctx, deadLettersQuery, integrationID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var at int64
		if err := rows.Scan(&d.ID, &d.DeliveryKey, &d.Reason, &d.Attempts, &at); err != nil {
			return nil, err
		}
		d.ReceivedAt = db.Time(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Stored reports whether a delivery key of an integration is in the inbox, and its row id.
func (ib *Inbox) Stored(ctx context.Context, integrationID, deliveryKey string) (int64, bool, error) {
	var rowID int64
	err := ib.db.Read.QueryRowContext(ctx, `SELECT id FROM inbox WHERE integration_id = ? AND delivery_key = ?`,
		integrationID, deliveryKey).Scan(&rowID)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	return rowID, err == nil, err
}

// gauges computes the inbox depth and the worker lag when Prometheus scrapes, so no
// writer has to keep them up to date.
type gauges struct {
	db   *db.DB // the inbox file
	main *db.DB // integrations
	now  func() time.Time
}

var (
	depthDesc = prometheus.NewDesc("kycdesk_inbox_depth", "Inbox rows not yet processed (state pending).", nil, nil)
	lagDesc   = prometheus.NewDesc("kycdesk_worker_lag_seconds", "Age of the oldest pending inbox row; 0 when none.", nil, nil)
)

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- lagDesc
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	depth, oldest, err := g.read(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, err)
		return
	}
	lag := 0.0
	if oldest.Valid {
		lag = max(0, g.now().Sub(db.Time(oldest.Int64)).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(depth))
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, lag)
}

func (g *gauges) read(ctx context.Context) (int64, sql.NullInt64, error) {
	var depth int64
	var oldest sql.NullInt64
	if err := g.db.Read.QueryRowContext(ctx, depthQuery).Scan(&depth); err != nil {
		return 0, oldest, err
	}
	if depth == 0 {
		return 0, oldest, nil
	}
	ids, err := integrationIDs(ctx, g.main)
	if err != nil {
		return 0, oldest, err
	}
	for _, id := range ids {
		var at sql.NullInt64
		if err := g.db.Read.QueryRowContext(ctx, oldestQuery, id).Scan(&at); err != nil {
			return 0, oldest, err
		}
		if at.Valid && (!oldest.Valid || at.Int64 < oldest.Int64) {
			oldest = at
		}
	}
	return depth, oldest, nil
}

func integrationIDs(ctx context.Context, main *db.DB) ([]string, error) {
	rows, err := main.Read.QueryContext(ctx, `SELECT id FROM integrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
