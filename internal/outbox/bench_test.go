package outbox_test

import (
	"fmt"
	"testing"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/outbox"
)

// BenchmarkDecisionDelivery measures routing and delivering decisions to a decision URL on
// loopback: per decision one routing transaction, one signed POST, and one transaction for
// the outcome with its audit entry (synchronous=FULL), 4 in flight.
//
//	go test ./internal/outbox/ -run '^$' -bench DecisionDelivery -benchtime 2000x
func BenchmarkDecisionDelivery(b *testing.B) {
	e := newEnv(b)
	rc := newReceiver(b, e.Now)
	in := e.genericIntegration("acme", rc.srv.URL)
	rc.trust(in.DecisionSecret)
	for i := range b.N {
		e.decidedCase(in, fmt.Sprintf("vrf-%d", i), cases.DecisionApprove)
	}
	w := e.worker()
	b.ResetTimer()
	e.drain(w)
	b.StopTimer()
	if n := e.count(`SELECT COUNT(*) FROM outbox_deliveries WHERE state = ?`, outbox.StateDelivered); n != b.N || rc.refused() != 0 {
		b.Fatalf("%d of %d delivered", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
