package ingest

import (
	"context"
	"database/sql"
	"sync"
)

// statKey is one delivery_stats row: an integration's count of one outcome in one hour.
type statKey struct {
	integrationID string
	hour          int64
	outcome       string
}

type counts map[statKey]int64

func (c counts) add(integrationID string, hour int64, outcome string, n int64) {
	c[statKey{integrationID, hour, outcome}] += n
}

func (c counts) clone() counts {
	out := make(counts, len(c)+4)
	for k, v := range c {
		out[k] = v
	}
	return out
}

const upsertStat = `INSERT INTO delivery_stats (integration_id, hour, outcome, n) VALUES (?, ?, ?, ?)
	ON CONFLICT (integration_id, hour, outcome) DO UPDATE SET n = n + excluded.n`

// write adds the counts to delivery_stats with stmt (upsertStat, bound to the transaction).
func (c counts) write(ctx context.Context, stmt *sql.Stmt) error {
	for k, n := range c {
		if _, err := stmt.ExecContext(ctx, k.integrationID, k.hour, k.outcome, n); err != nil {
			return err
		}
	}
	return nil
}

// Stats aggregates the counts of deliveries that store nothing (authentication failures,
// malformed bodies) in memory until the committer writes them: a flood of forged requests
// costs a map increment each, not a write.
type Stats struct {
	mu sync.Mutex
	m  counts
}

func newStats() *Stats { return &Stats{m: counts{}} }

func (s *Stats) add(integrationID string, hour int64, outcome string, n int64) {
	s.mu.Lock()
	s.m.add(integrationID, hour, outcome, n)
	s.mu.Unlock()
}

// take returns the counts gathered so far and starts afresh.
func (s *Stats) take() counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) == 0 {
		return counts{}
	}
	c := s.m
	s.m = counts{}
	return c
}

// merge puts back counts a failed commit did not write.
func (s *Stats) merge(c counts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range c {
		s.m[k] += v
	}
}

func (s *Stats) dirty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m) > 0
}
