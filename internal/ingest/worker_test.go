package ingest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/ingest"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/provider/generic"
)

// genericEvent builds a generic webhook body; docs are inline unless their URL is set.
func genericEvent(t testing.TB, ref string, at time.Time, result string, docs ...generic.Document) []byte {
	ev := generic.Event{
		Type: generic.TypeCompleted, OccurredAt: at,
		Applicant: generic.Applicant{ExternalID: "ext-" + ref, GivenName: "Thu Hương", FamilyName: "Nguyễn", Nationality: "VNM",
			DateOfBirth: "1995-09-02", IDNumber: "079195001234"},
		Verification: generic.Verification{Reference: ref, Result: result, Documents: docs,
			Checks: []generic.Check{{Kind: cases.KindDocument, Result: cases.CheckPass}}},
	}
	return jsonBody(t, ev)
}

func inline(id, kind string, data []byte) generic.Document {
	return generic.Document{ID: id, Kind: kind, DataBase64: base64.StdEncoding.EncodeToString(data)}
}

func TestWorkerReprocessIsIdempotent(t *testing.T) {
	e := newWorkerEnv(t)
	in := e.integration(integration.Spec{Name: "gen", Provider: integration.Generic})
	body := genericEvent(t, "ref-1", e.Now().Add(-time.Minute), cases.ResultReview,
		inline("front", cases.DocIDFront, testJPEG(1)), inline("selfie", cases.DocSelfie, testPNG(2)))
	rowID := e.deliver(in, "d-1", body)
	e.drain(e.worker())
	c := e.caseOf(rowID)
	auditBefore := e.verifyAudit()

	// A crash after the case committed in kycdesk.db but before the row was marked done in
	// the inbox file leaves the row pending: put it back so and run again. inbox_applied
	// makes the second run mark it done without a second case, check or audit entry.
	e.execInbox(`UPDATE inbox SET state = 'pending', case_id = NULL, processed_at = NULL WHERE id = ?`, rowID)
	e.drain(e.worker(func(c *ingest.WorkerConfig) { c.Marks = nil })) // marks in the worker's own transaction
	// The provider redelivers under a new delivery id: still one case.
	again := e.deliver(in, "d-1-redelivered", body)
	e.drain(e.worker())

	if n := e.count(`SELECT COUNT(*) FROM cases`); n != 1 {
		t.Errorf("cases = %d, want 1", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM case_checks WHERE case_id = ?`, c.ID); n != 1 {
		t.Errorf("checks = %d, want 1", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM case_documents WHERE case_id = ?`, c.ID); n != 2 {
		t.Errorf("documents = %d, want 2", n)
	}
	if st := e.row(again); st.State != "done" || st.CaseID != c.ID {
		t.Errorf("redelivered row = %+v", st)
	}
	if st := e.row(rowID); st.State != "done" || st.CaseID != c.ID {
		t.Errorf("reprocessed row = %+v", st)
	}
	if n := e.verifyAudit(); n != auditBefore {
		t.Errorf("audit entries %d → %d: reprocessing wrote history", auditBefore, n)
	}
}

func TestWorkerOrderingAndReopen(t *testing.T) {
	e := newWorkerEnv(t)
	in := e.integration(integration.Spec{Name: "gen", Provider: integration.Generic})
	t0 := e.Now().Add(-time.Hour)
	newer := e.deliver(in, "d-newer", genericEvent(t, "ref-1", t0.Add(10*time.Minute), cases.ResultFail))
	older := e.deliver(in, "d-older", genericEvent(t, "ref-1", t0, cases.ResultPass))
	e.drain(e.worker())
	c := e.caseOf(newer)
	if c.Result != cases.ResultFail || !c.ResultAt.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("older result overwrote the newer: result %s at %s", c.Result, c.ResultAt)
	}
	if st := e.row(older); st.State != "done" || st.CaseID != c.ID {
		t.Errorf("older row = %+v, want done on the same case", st)
	}
	evs, _ := e.cases.Timeline(e.ctx, c.ID)
	if len(evs) != 2 || evs[1].Kind != cases.EventResultIgnored {
		t.Errorf("timeline = %+v, want the older result noted as ignored", evs)
	}

	// An analyst's decision (set directly), then a re-run at the provider: round 2.
	e.exec(`UPDATE cases SET status = 'approved', decision = 'approve', reason_code = 'docs_ok', decided_at = 1 WHERE id = ?`, c.ID)
	e.Advance(48 * time.Hour)
	rerun := e.deliver(in, "d-rerun", genericEvent(t, "ref-1", e.Now().Add(-time.Minute), cases.ResultReview))
	e.drain(e.worker())
	c = e.caseOf(rerun)
	if c.Round != 2 || c.Status != cases.StatusNew || c.Decision != "" || c.ReasonCode != "" || c.Result != cases.ResultReview {
		t.Errorf("after re-run: round %d status %s decision %q reason %q result %s", c.Round, c.Status, c.Decision, c.ReasonCode, c.Result)
	}
	evs, _ = e.cases.Timeline(e.ctx, c.ID)
	last := evs[len(evs)-1]
	if last.Kind != cases.EventReopened || last.Details["previous_decision"] != "approve" {
		t.Errorf("last event = %+v, want the reopen keeping the old decision", last)
	}
	if got := e.auditActions("ref-1"); !slices.Equal(got, []string{"case.created", "case.stale_result_ignored", "case.reopened"}) {
		t.Errorf("audit = %v", got)
	}
	e.verifyAudit()
}

func TestWorkerFrankieEcho(t *testing.T) {
	e := newWorkerEnv(t)
	in := e.frankieIntegration()
	execution := fixture(t, "frankieone/execution_result_review.json")
	serveFrankieFixtures(t, e.api, execution)
	first := e.deliver(in, "n-1", fixture(t, "frankieone/webhook_workflow_complete.json"))
	e.drain(e.worker())
	c := e.caseOf(first)

	// kycdesk decided and wrote the decision back; FrankieOne answered with a requestId.
	e.exec(`UPDATE cases SET status = 'approved', decision = 'approve', reason_code = 'docs_ok', decided_at = 1 WHERE id = ?`, c.ID)
	e.exec(`INSERT INTO provider_overrides (request_id, case_id, created_at) VALUES ('01HZXOVERRIDE00000000000001', ?, 0)`, c.ID)
	overridden := bytes.Replace(execution, []byte(`"status": "REVIEW"`), []byte(`"status": "APPROVED"`), 1)
	overridden = bytes.Replace(overridden, []byte(`"statusOverrideRequestId": null`), []byte(`"statusOverrideRequestId": "01HZXOVERRIDE00000000000001"`), 1)
	overridden = bytes.Replace(overridden, []byte(`"statusOverrideAt": null`), []byte(`"statusOverrideAt": "2026-11-20T09:30:00.000Z"`), 1)
	if bytes.Equal(overridden, execution) {
		t.Fatal("fixture changed shape: the override could not be written into it")
	}
	e.api.set(func(f *fakeAPI) { f.executions[fxExecution] = overridden })
	docCalls := e.api.hit("document")

	echo := e.deliver(in, "n-2", fixture(t, "frankieone/webhook_status_changed_echo.json"))
	e.drain(e.worker())
	c2 := e.caseOf(echo)
	if c2.ID != c.ID || c2.Status != cases.StatusApproved || c2.Round != 1 || c2.Decision != "approve" || c2.ProviderStatus != "REVIEW" {
		t.Errorf("echo changed the case: status %s round %d decision %q provider status %s", c2.Status, c2.Round, c2.Decision, c2.ProviderStatus)
	}
	evs, _ := e.cases.Timeline(e.ctx, c.ID)
	if last := evs[len(evs)-1]; last.Kind != cases.EventProviderConfirmed || !strings.Contains(last.Body, "provider confirmed our decision") &&
		!strings.Contains(last.Body, "Provider confirmed our decision") {
		t.Errorf("last event = %+v, want provider confirmed our decision", last)
	}
	if n := e.api.hit("document"); n != docCalls {
		t.Errorf("documents fetched again for our own echo (%d → %d calls)", docCalls, n)
	}

	// An override someone made in FrankieOne's portal is not ours: the case takes the news
	// (same execution: data only, the decision stands, shown on the timeline).
	foreign := bytes.Replace(overridden, []byte("01HZXOVERRIDE00000000000001"), []byte("01HZXSOMEONEELSE0000000001"), 1)
	foreign = bytes.Replace(foreign, []byte(`"status": "APPROVED"`), []byte(`"status": "REJECTED"`), 1)
	foreign = bytes.Replace(foreign, []byte("2026-11-20T09:30:00.000Z"), []byte("2026-11-20T10:00:00.000Z"), 1)
	e.api.set(func(f *fakeAPI) { f.executions[fxExecution] = foreign })
	third := e.deliver(in, "n-3", fixture(t, "frankieone/webhook_workflow_complete.json"))
	e.drain(e.worker())
	if c3 := e.caseOf(third); c3.Status != cases.StatusApproved || c3.ProviderStatus != "REJECTED" || c3.Result != cases.ResultFail {
		t.Errorf("foreign override: status %s provider status %s result %s", c3.Status, c3.ProviderStatus, c3.Result)
	}
	e.verifyAudit()
}

func TestWorkerQuietNotification(t *testing.T) {
	e := newWorkerEnv(t)
	in := e.frankieIntegration()
	for i, fn := range []string{"EntityAssigneeChanged", "OCR_PROCESSED", "SomethingNew"} {
		body := fmt.Sprintf(`{"entityId":%q,"function":%q,"functionResult":"SUCCESS","notificationType":"EVENT","requestId":"q-%d","version":"2.0.0"}`,
			fxEntity, fn, i)
		rowID := e.deliver(in, fmt.Sprintf("q-%d", i), []byte(body))
		e.drain(e.worker())
		if st := e.row(rowID); st.State != "done" || st.CaseID != "" || !strings.Contains(st.LastError, fn) {
			t.Errorf("%s: row = %+v, want done without a case, noted", fn, st)
		}
	}
	if n := e.count(`SELECT COUNT(*) FROM cases`); n != 0 {
		t.Errorf("cases = %d", n)
	}
	if n := e.api.hit("execution") + e.api.hit("individual"); n != 0 {
		t.Errorf("API calls = %d for notifications that need no fetch", n)
	}
}

func TestWorkerAuthRefusedRestsIntegration(t *testing.T) {
	e := newWorkerEnv(t)
	in := e.integration(integration.Spec{Name: "frankie-bad-key", Provider: integration.FrankieOne,
		APIURL: e.api.srv.URL + "/v2", APIKey: "wrong-key", CustomerID: fakeCustomer})
	serveFrankieFixtures(t, e.api, fixture(t, "frankieone/execution_result_review.json"))
	first := e.deliver(in, "n-1", fixture(t, "frankieone/webhook_workflow_complete.json"))
	second := e.deliver(in, "n-2", fixture(t, "frankieone/webhook_status_changed_echo.json"))
	e.drain(e.worker())

	got, err := e.integ.Get(e.ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.UnhealthyReason == "" || !got.UnhealthyUntil.Equal(e.Now().Add(15*time.Minute)) || !strings.Contains(got.UnhealthyReason, "401") {
		t.Errorf("integration = reason %q until %s, want unhealthy for 15 min", got.UnhealthyReason, got.UnhealthyUntil)
	}
	for _, id := range []int64{first, second} {
		if st := e.row(id); st.State != "pending" || st.Attempts != 0 {
			t.Errorf("row %d = %+v, want pending with no attempt spent", id, st)
		}
	}
	calls := e.api.hit("execution") + e.api.hit("individual")
	if calls != 1 {
		t.Errorf("API calls = %d, want 1: the integration rests after the first refusal", calls)
	}
	// While it rests, nothing is tried.
	e.Advance(10 * time.Minute)
	e.drain(e.worker())
	if n := e.api.hit("execution") + e.api.hit("individual"); n != calls {
		t.Errorf("API called while the integration rests (%d → %d)", calls, n)
	}
	// After the rest, still refused: rests again, attempts still unspent.
	e.Advance(6 * time.Minute)
	e.drain(e.worker())
	if st := e.row(first); st.State != "pending" || st.Attempts != 0 {
		t.Errorf("row after a second refusal = %+v", st)
	}
	// An admin fixes the key and marks it healthy: both rows go through, in order.
	if err := e.integ.UpdateAPI(e.ctx, "admin@example.com", in.ID, integration.APISettings{APIURL: e.api.srv.URL + "/v2",
		APIKey: fakeAPIKey, CustomerID: fakeCustomer}); err != nil {
		t.Fatal(err)
	}
	if err := e.integ.MarkHealthyBy(e.ctx, "admin@example.com", in.ID); err != nil {
		t.Fatal(err)
	}
	e.drain(e.worker())
	if c := e.caseOf(first); c.Reference != fxEntity {
		t.Errorf("case reference = %q", c.Reference)
	}
	if st := e.row(second); st.State != "done" {
		t.Errorf("second row = %+v", st)
	}
	e.verifyAudit()
}

func TestWorkerRetriesThenDeadLetters(t *testing.T) {
	e := newWorkerEnv(t)
	in := e.frankieIntegration()
	serveFrankieFixtures(t, e.api, fixture(t, "frankieone/execution_result_review.json"))
	e.api.set(func(f *fakeAPI) { f.status = 500 })
	rowID := e.deliver(in, "n-1", fixture(t, "frankieone/webhook_workflow_complete.json"))
	w := e.worker(func(c *ingest.WorkerConfig) { c.RetryBase, c.RetryMax, c.MaxAttempts = 10*time.Second, time.Hour, 8 })

	for attempt := 1; attempt < 8; attempt++ {
		e.drain(w)
		st := e.row(rowID)
		if st.State != "pending" || st.Attempts != attempt || !strings.Contains(st.LastError, "500") {
			t.Fatalf("after attempt %d: %+v", attempt, st)
		}
		full := 10 * time.Second << (attempt - 1)
		wait := st.NextAt.Sub(e.Now())
		if wait < full/2 || wait > full {
			t.Errorf("attempt %d: next try in %s, want in [%s, %s] (exponential with jitter)", attempt, wait, full/2, full)
		}
		// Not before its time.
		e.drain(w)
		if st2 := e.row(rowID); st2.Attempts != attempt {
			t.Fatalf("retried before its time: %+v", st2)
		}
		e.Advance(wait)
	}
	e.drain(w)
	st := e.row(rowID)
	if st.State != "dead" || st.Attempts != 8 || !strings.Contains(st.LastError, "gave up after 8 attempts") || !strings.Contains(st.LastError, "500") {
		t.Errorf("after the last attempt: %+v, want dead with the reason", st)
	}
	if n := e.count(`SELECT COUNT(*) FROM cases`); n != 0 {
		t.Errorf("cases = %d", n)
	}

	// An admin replays it once the provider is back: the worker picks it up.
	e.api.set(func(f *fakeAPI) { f.status = 0 })
	if err := e.inbox.Replay(e.ctx, "admin@example.com", in.ID, rowID); err != nil {
		t.Fatal(err)
	}
	e.drain(w)
	if c := e.caseOf(rowID); c.Reference != fxEntity {
		t.Errorf("replayed row's case = %q", c.Reference)
	}
}

func TestWorkerDeadLettersAtOnce(t *testing.T) {
	tests := []struct {
		name   string
		status int    // FrankieOne API answer
		body   string // generic body, when not FrankieOne
		reason string
	}{
		{name: "execution not found", status: 404, reason: "404"},
		{name: "bad request", status: 400, reason: "400"},
		{name: "generic: not JSON", body: `{"type":`, reason: "not valid JSON"},
		{name: "generic: unknown result", body: `{"type":"verification.completed","occurred_at":"2026-11-20T08:14:41Z",
			"verification":{"reference":"r","result":"maybe"}}`, reason: "verification.result must be"},
		{name: "frankieone: no entityId", body: `{"function":"WorkflowComplete","requestId":"x"}`, reason: "entityId is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newWorkerEnv(t)
			var rowID int64
			switch {
			case tt.status != 0:
				serveFrankieFixtures(t, e.api, fixture(t, "frankieone/execution_result_review.json"))
				e.api.set(func(f *fakeAPI) { f.status = tt.status })
				rowID = e.deliver(e.frankieIntegration(), "n-1", fixture(t, "frankieone/webhook_workflow_complete.json"))
			case strings.Contains(tt.body, "requestId"):
				rowID = e.deliver(e.frankieIntegration(), "n-1", []byte(tt.body))
			default:
				rowID = e.deliver(e.integration(integration.Spec{Name: "gen", Provider: integration.Generic}), "d-1", []byte(tt.body))
			}
			e.drain(e.worker())
			if st := e.row(rowID); st.State != "dead" || st.Attempts != 1 || !strings.Contains(st.LastError, tt.reason) {
				t.Errorf("row = %+v, want dead at once with %q", st, tt.reason)
			}
		})
	}
}

func TestWorkerRefusesBadImages(t *testing.T) {
	e := newWorkerEnv(t)
	in := e.integration(integration.Spec{Name: "gen", Provider: integration.Generic})
	e.api.set(func(f *fakeAPI) {
		f.images["selfie"] = servedImage{"image/png", []byte("<!DOCTYPE html><html><body>login page</body></html>")}
		f.images["back"] = servedImage{"image/jpeg", testJPEG(4)}
	})
	rowID := e.deliver(in, "d-1", genericEvent(t, "ref-1", e.Now(), cases.ResultReview,
		inline("front", cases.DocIDFront, []byte("<script>alert(1)</script>")),
		generic.Document{ID: "back", Kind: cases.DocIDBack, URL: e.api.url("back")},
		generic.Document{ID: "selfie", Kind: cases.DocSelfie, URL: e.api.url("selfie")},
		generic.Document{ID: "poa", Kind: cases.DocProofOfAddress, URL: e.api.url("gone")},
	))
	e.drain(e.worker())
	c := e.caseOf(rowID)
	docs, _ := e.cases.Documents(e.ctx, c.ID)
	if len(docs) != 1 || docs[0].ProviderRef != "back" || docs[0].ContentType != "image/jpeg" {
		t.Errorf("documents = %+v, want only the JPEG", docs)
	}
	for _, want := range []string{"document front refused: type text/html", "document selfie refused: type text/html",
		"document poa not retrieved: fetching document: not found"} {
		if !slices.Contains(c.Details.Flags, want) {
			t.Errorf("flags %q lack %q", c.Details.Flags, want)
		}
	}
}

// TestWorkerKeepsOrderPerCase sends several results for each of a few verifications; the
// image host counts concurrent fetches per verification. Rows of one case never overlap, and
// each case's timeline shows its results in arrival order.
func TestWorkerKeepsOrderPerCase(t *testing.T) {
	e := newWorkerEnv(t)
	in := e.integration(integration.Spec{Name: "gen", Provider: integration.Generic})
	e.api.set(func(f *fakeAPI) { f.delay = 5 * time.Millisecond })
	t0 := e.Now().Add(-time.Hour)
	const refs, perRef = 6, 5
	for i := range perRef {
		for r := range refs {
			ref := fmt.Sprintf("ref-%d", r)
			img := fmt.Sprintf("%s/%d", ref, i)
			e.api.set(func(f *fakeAPI) { f.images[img] = servedImage{"image/jpeg", testJPEG(r*10 + i)} })
			// Results 0..4 arrive in order, except result 3, which is older than result 2.
			at := t0.Add(time.Duration(i) * time.Minute)
			if i == 3 {
				at = t0.Add(90 * time.Second)
			}
			e.deliver(in, fmt.Sprintf("%s-%d", ref, i), genericEvent(t, ref, at, cases.ResultReview,
				generic.Document{ID: fmt.Sprintf("front-%d", i), Kind: cases.DocIDFront, URL: e.api.url(img)}))
		}
	}
	e.drain(e.worker(func(c *ingest.WorkerConfig) { c.Workers = 8 }))
	e.api.mu.Lock()
	maxPerRef := e.api.maxPerRef
	e.api.mu.Unlock()
	if maxPerRef != 1 {
		t.Errorf("at most %d fetches of one case ran at once, want 1", maxPerRef)
	}
	for r := range refs {
		c, err := e.cases.FindByReference(e.ctx, in.ID, fmt.Sprintf("ref-%d", r))
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := e.cases.Timeline(e.ctx, c.ID)
		var kinds []string
		for _, ev := range evs {
			kinds = append(kinds, ev.Kind)
		}
		want := []string{cases.EventResultReceived, cases.EventResultReceived, cases.EventResultReceived,
			cases.EventResultIgnored, cases.EventResultReceived}
		if !slices.Equal(kinds, want) {
			t.Errorf("ref-%d timeline = %v, want %v", r, kinds, want)
		}
	}
	if n := e.countInbox(`SELECT COUNT(*) FROM inbox WHERE state <> 'done'`); n != 0 {
		t.Errorf("%d rows not done", n)
	}
	e.verifyAudit()
}

func TestWorkerRunWakesAndStopsCleanly(t *testing.T) {
	e := newWorkerEnv(t)
	in := e.integration(integration.Spec{Name: "gen", Provider: integration.Generic})
	// The poll is an hour: only the inbox's notification can wake the worker in time.
	w := e.worker(func(c *ingest.WorkerConfig) { c.PollEvery, c.Wake = time.Hour, e.inbox.Notify() })
	ctx, cancel := context.WithCancel(e.ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = w.Run(ctx)
	}()

	first := e.deliver(in, "d-1", genericEvent(t, "ref-1", e.Now(), cases.ResultReview))
	waitFor(t, func() bool { return e.row(first).State == "done" })

	// A row whose image host hangs: stopping abandons it unmarked, and Run returns promptly.
	var once sync.Once
	hung := make(chan struct{})
	e.api.set(func(f *fakeAPI) {
		f.delay = time.Hour
		f.images["slow"] = servedImage{"image/jpeg", testJPEG(1)}
	})
	second := e.deliver(in, "d-2", genericEvent(t, "ref-2", e.Now(), cases.ResultReview,
		generic.Document{ID: "front", Kind: cases.DocIDFront, URL: e.api.url("slow")}))
	waitFor(t, func() bool {
		e.api.mu.Lock()
		defer e.api.mu.Unlock()
		if e.api.inflight["slow"] > 0 {
			once.Do(func() { close(hung) })
		}
		return e.api.inflight["slow"] > 0
	})
	<-hung
	start := time.Now()
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %s to stop", d)
	}
	if st := e.row(second); st.State != "pending" || st.Attempts != 0 || st.LastError != "" {
		t.Errorf("abandoned row = %+v, want pending and unmarked", st)
	}
	// The next start resumes it.
	e.api.set(func(f *fakeAPI) { f.delay = 0 })
	e.drain(e.worker())
	if st := e.row(second); st.State != "done" {
		t.Errorf("resumed row = %+v", st)
	}
}

// waitFor polls cond until it holds (a condition, not the passing of time, is awaited).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An image host that stays down costs the image, never the verification: the delivery is
// the record, so on the row's last try the case is made without it, with a flag.
func TestWorkerLastTryKeepsTheCaseWithoutAnUnreachableImage(t *testing.T) {
	e := newWorkerEnv(t)
	in := e.integration(integration.Spec{Name: "gen", Provider: integration.Generic})
	down := generic.Document{ID: "selfie", Kind: cases.DocSelfie, URL: "http://127.0.0.1:1/img/selfie"}
	rowID := e.deliver(in, "d-down", genericEvent(t, "ref-down", e.Now().Add(-time.Minute), cases.ResultReview,
		inline("front", cases.DocIDFront, testJPEG(1)), down))
	w := e.worker(func(c *ingest.WorkerConfig) { c.RetryBase, c.RetryMax, c.MaxAttempts = 10*time.Second, time.Hour, 3 })

	for attempt := 1; attempt < 3; attempt++ {
		e.drain(w)
		if st := e.row(rowID); st.State != "pending" || st.Attempts != attempt {
			t.Fatalf("after attempt %d: %+v, want pending (the image host may come back)", attempt, st)
		}
		if n := e.count(`SELECT COUNT(*) FROM cases`); n != 0 {
			t.Fatalf("a case was made before the last try: %d", n)
		}
		e.Advance(time.Hour)
	}
	e.drain(w)
	if st := e.row(rowID); st.State != "done" {
		t.Fatalf("after the last try: %+v, want done", st)
	}
	c := e.caseOf(rowID)
	if n := e.count(`SELECT COUNT(*) FROM case_documents WHERE case_id = ?`, c.ID); n != 1 {
		t.Errorf("documents = %d, want the inline one only", n)
	}
	if !strings.Contains(strings.Join(c.Details.Flags, "\n"), "document selfie not retrieved") {
		t.Errorf("flags %q do not say the selfie is missing", c.Details.Flags)
	}
}
