package ingest_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/integration"
)

// The worker's throughput: N deliveries already in the inbox (stored through the real inbox
// writer), then one Drain, timed, on a real SQLite file with synchronous=FULL. Reported as
// cases/s. Run:
//
//	go test ./internal/ingest/ -run '^$' -bench BenchmarkWorker -benchtime 1x

// BenchmarkWorkerGeneric: 2,000 generic events, each with two small inline images (JPEG front, PNG selfie).
func BenchmarkWorkerGeneric(b *testing.B) {
	const n = 2000
	front, selfie := testJPEG(1), testPNG(2)
	for range b.N {
		b.StopTimer()
		e := newWorkerEnv(b)
		in := e.integration(integration.Spec{Name: "bench-generic", Provider: integration.Generic})
		t0 := e.Now().Add(-time.Hour)
		bodies := make([][]byte, n)
		for i := range n {
			bodies[i] = genericEvent(b, fmt.Sprintf("vrf-%06d", i), t0, cases.ResultReview,
				inline("front", cases.DocIDFront, front), inline("selfie", cases.DocSelfie, selfie))
		}
		submitAll(b, e, in, bodies)
		runDrain(b, e, n)
	}
}

// BenchmarkWorkerFrankieOne: 1,000 WorkflowComplete notifications, each fetched from the
// provider API on loopback: the execution and two documents (three images) per case.
func BenchmarkWorkerFrankieOne(b *testing.B) {
	const n = 1000
	for range b.N {
		b.StopTimer()
		e := newWorkerEnv(b)
		in := e.frankieIntegration()
		execution := fixture(b, "frankieone/execution_result_review.json")
		serveFrankieFixtures(e.t, e.api, execution)
		notice := fixture(b, "frankieone/webhook_workflow_complete.json")
		bodies := make([][]byte, n)
		for i := range n {
			entity, exec := fmt.Sprintf("ent-%06d", i), fmt.Sprintf("EXEC%06d", i)
			x := bytes.ReplaceAll(execution, []byte(fxEntity), []byte(entity))
			x = bytes.ReplaceAll(x, []byte(fxExecution), []byte(exec))
			e.api.set(func(f *fakeAPI) { f.executions[exec] = x })
			body := bytes.ReplaceAll(notice, []byte(fxEntity), []byte(entity))
			body = bytes.ReplaceAll(body, []byte(fxExecution), []byte(exec))
			bodies[i] = bytes.ReplaceAll(body, []byte("01HZX3KA0DQJ8W2N5P7R9T1V3X"), []byte(fmt.Sprintf("REQ%06d", i)))
		}
		submitAll(b, e, in, bodies)
		runDrain(b, e, n)
	}
}

func submitAll(b *testing.B, e *workerEnv, in *integration.Integration, bodies [][]byte) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				e.deliver(in, fmt.Sprintf("delivery-%06d", i), bodies[i])
			}
		}()
	}
	for i := range bodies {
		next <- i
	}
	close(next)
	wg.Wait()
}

func runDrain(b *testing.B, e *workerEnv, n int) {
	w := e.worker()
	b.StartTimer()
	start := time.Now()
	if err := w.Drain(e.ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if got := e.count(`SELECT COUNT(*) FROM cases`); got != n {
		b.Fatalf("cases = %d, want %d", got, n)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "cases/s")
}
