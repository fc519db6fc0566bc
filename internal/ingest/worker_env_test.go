package ingest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/ingest"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// workerEnv is the back half of ingestion on a real SQLite file: the real inbox writer (its
// committer running), the real integration and case stores, and the worker under test with
// an injected clock. fakeAPI stands in for the provider's API and image host on loopback.
type workerEnv struct {
	t      testing.TB
	ctx    context.Context
	db     *db.DB // kycdesk.db
	ib     *db.DB // the inbox file
	sealer *crypto.Sealer
	integ  *integration.Store
	cases  *cases.Store
	inbox  *ingest.Inbox
	api    *fakeAPI

	*testkit.Clock
}

func newWorkerEnv(t testing.TB) *workerEnv {
	t.Helper()
	d, sealer := testkit.Store(t) // closes after the cleanup below has stopped the committer
	ctx, cancel := context.WithCancel(context.Background())
	e := &workerEnv{t: t, ctx: ctx, db: d, ib: testkit.Inbox(t, d), sealer: sealer,
		Clock: testkit.NewClock(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))}
	e.integ = integration.NewStore(d, sealer)
	e.integ.Now = e.Now
	e.cases = &cases.Store{DB: d, Sealer: sealer, Now: e.Now, Routing: cases.Routing{SLA: cases.DefaultSLA}}
	e.inbox = ingest.New(e.ib, d, sealer, nil, nil, e.Now, ingest.Options{})
	e.api = newFakeAPI(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.inbox.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return e
}

// worker returns a worker with test-friendly settings; tune lets a test change them.
func (e *workerEnv) worker(tune ...func(*ingest.WorkerConfig)) *ingest.Worker {
	cfg := ingest.WorkerConfig{DB: e.db, Inbox: e.ib, Marks: e.inbox.Mark, Sealer: e.sealer, Cases: e.cases, Integrations: e.integ,
		Log: slog.New(slog.DiscardHandler), Now: e.Now, LowConfidence: 80}
	for _, f := range tune {
		f(&cfg)
	}
	return ingest.NewWorker(cfg)
}

func (e *workerEnv) drain(w *ingest.Worker) { testkit.Drain(e.t, e.ctx, w) }

func (e *workerEnv) integration(spec integration.Spec) *integration.Integration {
	e.t.Helper()
	if spec.AuthMode == "" {
		spec.AuthMode = map[string]string{integration.Generic: integration.AuthHMAC, integration.FPTAI: integration.AuthToken,
			integration.FrankieOne: integration.AuthIP}[spec.Provider]
	}
	if spec.AuthMode == integration.AuthIP {
		spec.AllowIPs = []string{"127.0.0.1/32"}
	}
	in, _, err := e.integ.Create(e.ctx, "test", spec)
	if err != nil {
		e.t.Fatal(err)
	}
	return in
}

func (e *workerEnv) frankieIntegration() *integration.Integration {
	return e.integration(integration.Spec{Name: "frankie-au", Provider: integration.FrankieOne,
		APIURL: e.api.srv.URL + "/v2", APIKey: fakeAPIKey, CustomerID: fakeCustomer})
}

// deliver stores a delivery through the real inbox writer, as the webhook endpoint does.
func (e *workerEnv) deliver(in *integration.Integration, key string, body []byte) int64 {
	e.t.Helper()
	rc, err := e.inbox.Submit(e.ctx, ingest.Delivery{IntegrationID: in.ID, Integration: in.Name, Provider: in.Provider,
		DeliveryKey: key, Payload: body, Sensitive: in.Provider != integration.FrankieOne})
	if err != nil {
		e.t.Fatalf("Submit: %v", err)
	}
	if rc.Duplicate {
		e.t.Fatalf("delivery %s is a duplicate", key)
	}
	return rc.ID
}

type inboxState struct {
	State     string
	Attempts  int
	NextAt    time.Time
	LastError string
	CaseID    string
}

func (e *workerEnv) row(id int64) inboxState {
	e.t.Helper()
	var s inboxState
	var next int64
	var caseID *string
	if err := e.ib.Read.QueryRowContext(e.ctx, `SELECT state, attempts, next_attempt_at, last_error, case_id FROM inbox WHERE id = ?`, id).
		Scan(&s.State, &s.Attempts, &next, &s.LastError, &caseID); err != nil {
		e.t.Fatal(err)
	}
	s.NextAt = db.Time(next)
	if caseID != nil {
		s.CaseID = *caseID
	}
	return s
}

func (e *workerEnv) caseOf(rowID int64) *cases.Case {
	e.t.Helper()
	st := e.row(rowID)
	if st.State != "done" || st.CaseID == "" {
		e.t.Fatalf("inbox row %d: %+v, want done with a case", rowID, st)
	}
	c, err := e.cases.Get(e.ctx, st.CaseID)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// count and exec run on kycdesk.db; countInbox and execInbox on the inbox file.
func (e *workerEnv) count(q string, args ...any) int {
	e.t.Helper()
	return countOn(e.t, e.ctx, e.db, q, args...)
}

func (e *workerEnv) countInbox(q string, args ...any) int {
	e.t.Helper()
	return countOn(e.t, e.ctx, e.ib, q, args...)
}

func countOn(t testing.TB, ctx context.Context, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *workerEnv) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Write.ExecContext(e.ctx, q, args...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *workerEnv) execInbox(q string, args ...any) {
	e.t.Helper()
	if _, err := e.ib.Write.ExecContext(e.ctx, q, args...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *workerEnv) verifyAudit() int64 {
	e.t.Helper()
	return testkit.VerifyAudit(e.t, e.db)
}

func (e *workerEnv) auditActions(subject string) []string {
	e.t.Helper()
	return testkit.AuditActions(e.t, e.db, subject)
}

// fixture reads one of the sample provider payloads.
func fixture(t testing.TB, name string) []byte { return testkit.Fixture(t, name) }

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// testJPEG and testPNG are real, small images, different per seed.
func testJPEG(seed int) []byte {
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, testImage(seed), &jpeg.Options{Quality: 80})
	return buf.Bytes()
}

func testPNG(seed int) []byte {
	var buf bytes.Buffer
	_ = png.Encode(&buf, testImage(seed))
	return buf.Bytes()
}

func testImage(seed int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for y := range 12 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{uint8(seed * 37), uint8(x * 16), uint8(y * 20), 255})
		}
	}
	return img
}

const (
	fakeAPIKey   = "fake-api-key-0123456789"
	fakeCustomer = "fake-customer"
)

// fakeAPI is a provider API and image host on loopback: FrankieOne's v2 paths (checking the
// api_key and customer headers) and /img/... for document URLs. Tests set its answers.
type fakeAPI struct {
	t   testing.TB
	srv *httptest.Server

	mu         sync.Mutex
	executions map[string][]byte      // execution id → body
	profiles   map[string][]byte      // entity id → body
	documents  map[string][]byte      // document id → body
	images     map[string]servedImage // path under /img/ → bytes
	status     int                    // when set, every API call (not /img) answers it
	hits       map[string]int         // "execution", "individual", "document", "img"
	delay      time.Duration          // per /img request
	inflight   map[string]int         // /img/{ref}/...: concurrent requests per reference
	maxPerRef  int
}

type servedImage struct {
	contentType string
	data        []byte
}

func newFakeAPI(t testing.TB) *fakeAPI {
	f := &fakeAPI{t: t, executions: map[string][]byte{}, profiles: map[string][]byte{}, documents: map[string][]byte{},
		images: map[string]servedImage{}, hits: map[string]int{}, inflight: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/individuals/{entity}/serviceprofiles/{svc}/workflows/{wf}/executions/{exec}", f.api("execution",
		func(r *http.Request) []byte { return f.executions[r.PathValue("exec")] }))
	mux.HandleFunc("GET /v2/individuals/{entity}", f.api("individual",
		func(r *http.Request) []byte { return f.profiles[r.PathValue("entity")] }))
	mux.HandleFunc("GET /v2/individuals/{entity}/documents/{doc}", f.api("document", func(r *http.Request) []byte {
		if r.URL.Query().Get("level") != "base64" {
			return nil
		}
		return f.documents[r.PathValue("doc")]
	}))
	mux.HandleFunc("GET /img/{path...}", f.image)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) api(name string, body func(*http.Request) []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits[name]++
		status := f.status
		b := body(r)
		f.mu.Unlock()
		if r.Header.Get("api_key") != fakeAPIKey || r.Header.Get("X-Frankie-CustomerID") != fakeCustomer {
			http.Error(w, `{"errorMsg":"unauthorised"}`, http.StatusUnauthorized)
			return
		}
		if status != 0 {
			http.Error(w, `{"errorMsg":"scripted"}`, status)
			return
		}
		if b == nil {
			http.Error(w, `{"errorMsg":"not found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}
}

func (f *fakeAPI) image(w http.ResponseWriter, r *http.Request) {
	path := r.PathValue("path")
	ref, _, _ := strings.Cut(path, "/")
	f.mu.Lock()
	f.hits["img"]++
	img, ok := f.images[path]
	delay := f.delay
	f.inflight[ref]++
	f.maxPerRef = max(f.maxPerRef, f.inflight[ref])
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight[ref]--
		f.mu.Unlock()
	}()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", img.contentType)
	_, _ = w.Write(img.data)
}

func (f *fakeAPI) set(fn func(f *fakeAPI)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeAPI) hit(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[name]
}

// url is the address of an image served at /img/path.
func (f *fakeAPI) url(path string) string { return f.srv.URL + "/img/" + path }

// jsonBody marshals v or fails the test.
func jsonBody(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
