package simulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// verifyStandardWebhook checks a delivery's signature independently of webhookauth.Sign.
func verifyStandardWebhook(t *testing.T, r recorded) {
	t.Helper()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(testSecret, "whsec_"))
	id, ts := r.header.Get("webhook-id"), r.header.Get("webhook-timestamp")
	if id == "" || ts == "" {
		t.Fatalf("missing webhook-id/timestamp: %v", r.header)
	}
	if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || time.Since(time.Unix(sec, 0)) > 5*time.Minute {
		t.Errorf("webhook-timestamp %q not recent", ts)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(r.body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(r.header.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return
		}
	}
	t.Errorf("signature %q does not verify for %s", r.header.Get("webhook-signature"), id)
}

func TestRunGeneric(t *testing.T) {
	rec := newRecorder(t)
	srv := startServer(t)
	var out bytes.Buffer
	opts := Options{Target: rec.srv.URL, Provider: Generic, Rate: 400, Count: 40, Duplicates: 0.3, OutOfOrder: 0.3, Seed: 11,
		Auth: Auth{WebhookURL: rec.srv.URL + "/webhooks/generic/int1", Secret: testSecret}, Out: &out}
	st, err := Run(context.Background(), opts, srv)
	if err != nil {
		t.Fatal(err)
	}
	reqs := rec.requests()
	if st.Sent != len(reqs) || st.Acked != len(reqs) || st.Failed != 0 || st.Rejected4xx != 0 {
		t.Errorf("stats %+v, %d requests", st, len(reqs))
	}
	if st.Duplicates == 0 || st.OutOfOrder == 0 {
		t.Errorf("no duplicates or out-of-order deliveries: %+v", st)
	}
	if !strings.Contains(out.String(), "done in") {
		t.Errorf("no summary line:\n%s", out.String())
	}

	byID := map[string][]recorded{}
	byRef := map[string][]recorded{}
	for _, r := range reqs {
		if r.path != "/webhooks/generic/int1" {
			t.Errorf("path %s", r.path)
		}
		verifyStandardWebhook(t, r)
		id := r.header.Get("webhook-id")
		byID[id] = append(byID[id], r)
		if len(byID[id]) == 1 {
			ref := get(decodeJSON(t, r.body), "verification", "reference").(string)
			byRef[ref] = append(byRef[ref], r)
		}
	}
	if len(byRef) != opts.Count {
		t.Errorf("%d distinct references, want %d", len(byRef), opts.Count)
	}
	dups := 0
	for id, rs := range byID {
		if len(rs) > 1 {
			dups += len(rs) - 1
			if !bytes.Equal(rs[0].body, rs[1].body) {
				t.Errorf("duplicate %s has a different body", id)
			}
		}
	}
	if dups != st.Duplicates {
		t.Errorf("%d repeated webhook-ids, stats say %d duplicates", dups, st.Duplicates)
	}
	ooo := 0
	for ref, rs := range byRef {
		if len(rs) < 2 {
			continue
		}
		ooo++
		first := get(decodeJSON(t, rs[0].body), "occurred_at").(string)
		last := get(decodeJSON(t, rs[1].body), "occurred_at").(string)
		if !(last < first) || !rs[1].at.After(rs[0].at) {
			t.Errorf("%s: older event (%s) was not delivered after the newer (%s)", ref, last, first)
		}
	}
	if ooo != st.OutOfOrder {
		t.Errorf("%d references with two results, stats say %d out of order", ooo, st.OutOfOrder)
	}

	// Every picture the events point to can be fetched from the provider server.
	ev := decodeJSON(t, reqs[0].body)
	for _, d := range get(ev, "verification", "documents").([]any) {
		doc := d.(map[string]any)
		url, ok := doc["url"].(string)
		if !ok {
			continue
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != doc["content_type"] || len(b) < 1000 {
			t.Errorf("GET %s: %d %s (%d bytes), document says %s", url, resp.StatusCode, resp.Header.Get("Content-Type"), len(b), doc["content_type"])
		}
	}
}

func TestRunFPTAI(t *testing.T) {
	rec := newRecorder(t)
	srv := startServer(t)
	opts := Options{Provider: FPTAI, Count: 30, Duplicates: 0.25, OutOfOrder: 0.3, Seed: 5,
		Auth: Auth{WebhookURL: rec.srv.URL + "/webhooks/fptai/int2", Token: "tok-123", TokenHeader: "X-Fpt-Token", DataKey: "ekyc_result"}}
	st, err := Run(context.Background(), opts, srv)
	if err != nil {
		t.Fatal(err)
	}
	reqs := rec.requests()
	if st.Sent != len(reqs) || st.Acked != st.Sent {
		t.Errorf("stats %+v, %d requests", st, len(reqs))
	}
	seq := map[string][]string{} // reference → uuids in arrival order
	bodies := map[string][]byte{}
	for _, r := range reqs {
		if r.header.Get("X-Fpt-Token") != "tok-123" {
			t.Errorf("token header %q", r.header.Get("X-Fpt-Token"))
		}
		if r.header.Get("webhook-signature") != "" {
			t.Error("fptai delivery carries a Standard Webhooks signature")
		}
		cb := get(decodeJSON(t, r.body), "ekyc_result")
		if cb == nil {
			t.Fatalf("not wrapped under ekyc_result: %s", r.body)
		}
		uuid := get(cb, "uuid").(string)
		if prev, ok := bodies[uuid]; ok && !bytes.Equal(prev, r.body) {
			t.Errorf("uuid %s redelivered with a different body", uuid)
		}
		bodies[uuid] = r.body
		ref, _ := get(cb, "client_uuid").(string)
		if ref == "" {
			ref = uuid
		}
		seq[ref] = append(seq[ref], uuid)
	}
	if len(seq) != opts.Count {
		t.Errorf("%d cases, want %d", len(seq), opts.Count)
	}
	ooo := 0
	for ref, uuids := range seq {
		distinct := map[string]bool{}
		for _, u := range uuids {
			distinct[u] = true
		}
		if len(distinct) == 2 {
			ooo++
			// Older session, newer session, then the older one again.
			if len(uuids) < 3 || uuids[0] == uuids[1] || uuids[2] != uuids[0] {
				t.Errorf("%s: sessions arrived as %v, want A B A", ref, uuids)
			}
		}
	}
	if ooo != st.OutOfOrder || ooo == 0 {
		t.Errorf("%d out-of-order cases seen, stats %d", ooo, st.OutOfOrder)
	}
}

func TestRunFrankieOne(t *testing.T) {
	rec := newRecorder(t)
	srv := startServer(t)
	opts := Options{Provider: FrankieOne, Count: 30, Duplicates: 0.2, OutOfOrder: 0.3, Seed: 3,
		Auth: Auth{WebhookURL: rec.srv.URL + "/webhooks/frankieone/int3"}}
	st, err := Run(context.Background(), opts, srv)
	if err != nil {
		t.Fatal(err)
	}
	reqs := rec.requests()
	if st.Sent != len(reqs) || st.Acked != st.Sent {
		t.Errorf("stats %+v, %d requests", st, len(reqs))
	}
	entities := map[string][]map[string]any{}
	for _, r := range reqs {
		n := decodeJSON(t, r.body).(map[string]any)
		if r.path != "/webhooks/frankieone/int3/"+n["requestId"].(string) {
			t.Errorf("path %s does not end in the requestId %s", r.path, n["requestId"])
		}
		if len(r.header.Values("webhook-signature"))+len(r.header.Values("Authorization")) > 0 {
			t.Error("FrankieOne delivery carries credentials")
		}
		entities[n["entityId"].(string)] = append(entities[n["entityId"].(string)], n)
	}
	if len(entities) != opts.Count {
		t.Errorf("%d entities, want %d", len(entities), opts.Count)
	}
	api := srv.BaseURL() + "/v2"
	ooo := 0
	for id, ns := range entities {
		var execs []map[string]any
		for _, n := range ns {
			if n["function"] == "WorkflowComplete" {
				execs = append(execs, n)
			}
		}
		distinct := map[string]bool{}
		for _, n := range execs {
			distinct[n["workflowExecutionId"].(string)] = true
		}
		if len(distinct) < 2 {
			continue
		}
		ooo++
		// The notification delivered second is for the execution that ended first.
		var ended []string
		for _, n := range execs[:2] {
			url := fmt.Sprintf("%s/individuals/%s/serviceprofiles/%s/workflows/%s/executions/%s", api, id, n["serviceName"], n["workflowName"], n["workflowExecutionId"])
			code, body := frankieGet(t, url, "test-key", "cust-1")
			if code != 200 {
				t.Fatalf("GET execution: %d", code)
			}
			ended = append(ended, get(body, "workflowResult", "endedAt").(string))
		}
		if !(ended[1] < ended[0]) {
			t.Errorf("%s: second notification's execution ended %s, not before the first's %s", id, ended[1], ended[0])
		}
	}
	if ooo != st.OutOfOrder || ooo == 0 {
		t.Errorf("%d out-of-order entities, stats %d", ooo, st.OutOfOrder)
	}
}

func TestRunRetriesAndCounts(t *testing.T) {
	rec := newRecorder(t)
	var calls atomic.Int64
	rec.respond = func(n int, r *http.Request) (int, http.Header) {
		switch c := calls.Add(1); {
		case c <= 3: // the first three attempts meet an overloaded server
			return http.StatusServiceUnavailable, http.Header{"Retry-After": {"0"}}
		case strings.Contains(r.URL.Path, "/bad"):
			return http.StatusBadRequest, nil
		}
		return http.StatusAccepted, nil
	}
	srv := startServer(t)
	st, err := Run(context.Background(), Options{Provider: FrankieOne, Count: 5, Seed: 1,
		Auth: Auth{WebhookURL: rec.srv.URL + "/webhooks/frankieone/int"}}, srv)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 5+countEntityNotices(t, rec) || st.Acked != st.Sent || st.Failed != 0 {
		t.Errorf("after 503s: %+v", st)
	}
	if got := len(rec.requests()); got != st.Sent+3 {
		t.Errorf("%d requests, want %d deliveries + 3 retries", got, st.Sent)
	}

	st, err = Run(context.Background(), Options{Provider: FrankieOne, Count: 3, Seed: 2,
		Auth: Auth{WebhookURL: rec.srv.URL + "/bad"}}, srv)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rejected4xx != st.Sent || st.Acked != 0 {
		t.Errorf("400s not counted as rejected: %+v", st)
	}

	// A target that does not answer at all: deliveries keep retrying until ctx ends, then count as failed.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	dead := newRecorder(t)
	dead.srv.Close()
	start := time.Now()
	st, err = Run(ctx, Options{Provider: Generic, Count: 2, Seed: 3, Auth: Auth{WebhookURL: dead.srv.URL + "/x"}}, srv)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Errorf("unreachable target: err %v after %s", err, time.Since(start))
	}
	if st.Failed != 2 || st.Acked != 0 {
		t.Errorf("unreachable target: %+v", st)
	}
}

func countEntityNotices(t *testing.T, rec *recorder) int {
	n := 0
	seen := map[string]bool{}
	for _, r := range rec.requests() {
		var m map[string]any
		_ = json.Unmarshal(r.body, &m)
		if m["function"] == "EntityRiskChanged" && !seen[m["requestId"].(string)] {
			seen[m["requestId"].(string)] = true
			n++
		}
	}
	return n
}

func TestRunPacesDeliveries(t *testing.T) {
	rec := newRecorder(t)
	srv := startServer(t)
	count, rate := 30, 60.0
	st, err := Run(context.Background(), Options{Provider: FPTAI, Count: count, Rate: rate, Seed: 4,
		Auth: Auth{WebhookURL: rec.srv.URL + "/w", Token: "t"}}, srv)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Duration(float64(count-1) / rate * float64(time.Second)) // the first goes at once
	if st.Elapsed < want*8/10 || st.Elapsed > want*3 {
		t.Errorf("%d deliveries at %.0f/s took %s, want about %s", count, rate, st.Elapsed, want)
	}
	reqs := rec.requests()
	// No burst: any ten consecutive deliveries span at least 80% of nine intervals.
	for i := 0; i+10 <= len(reqs); i++ {
		if span := reqs[i+9].at.Sub(reqs[i].at); span < time.Duration(9/rate*0.8*float64(time.Second)) {
			t.Fatalf("deliveries %d..%d within %s: not paced", i, i+9, span)
		}
	}
}

func TestRunTrickle(t *testing.T) {
	rec := newRecorder(t)
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	st, err := RunTrickle(ctx, Options{Provider: Generic, Seed: 9, Auth: Auth{WebhookURL: rec.srv.URL + "/w", Secret: testSecret}}, srv, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent < 4 || st.Sent > 8 || st.Acked != st.Sent {
		t.Errorf("trickle every 100ms for 600ms: %+v", st)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	srv := startServer(t)
	for _, o := range []Options{
		{Provider: "acme", Count: 1, Auth: Auth{WebhookURL: "http://127.0.0.1:1/"}},
		{Provider: Generic, Count: 1},
		{Provider: Generic, Count: 1, Duplicates: 2, Auth: Auth{WebhookURL: "http://127.0.0.1:1/"}},
		{Provider: Generic, Count: 1, Auth: Auth{WebhookURL: "http://127.0.0.1:1/", Secret: "whsec_***"}},
		{Provider: Generic, Count: 1, Mix: "clean=x", Auth: Auth{WebhookURL: "http://127.0.0.1:1/"}},
	} {
		if _, err := Run(context.Background(), o, srv); err == nil {
			t.Errorf("accepted %+v", o)
		}
	}
	if _, err := Run(context.Background(), Options{Provider: Generic, Count: 1, Auth: Auth{WebhookURL: "http://127.0.0.1:1/"}}, NewServer(ServerConfig{})); err == nil {
		t.Error("accepted a server that was never started")
	}
}
