package simulator

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// frankieFixtureVerification is a REVIEW-with-PEP entity registered on srv, like the fixture's.
func frankieFixtureVerification(t *testing.T, srv *Server) *Verification {
	v := findVerification(t, FrankieOne, "pep", 0, nil)
	srv.register(v)
	return v
}

func TestFrankieOneAPIAuth(t *testing.T) {
	srv := startServer(t)
	v := frankieFixtureVerification(t, srv)
	url := srv.BaseURL() + "/v2/individuals/" + v.Reference
	tests := []struct {
		name, key, customer string
		want                int
	}{
		{"no headers", "", "", 401},
		{"wrong key", "nope", "cust-1", 401},
		{"wrong customer", "test-key", "cust-2", 401},
		{"right", "test-key", "cust-1", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := frankieGet(t, url, tt.key, tt.customer)
			if code != tt.want {
				t.Fatalf("status %d, want %d", code, tt.want)
			}
			if code == 401 && get(body, "errorCode") == nil {
				t.Errorf("401 without a FrankieOne error body: %v", body)
			}
		})
	}
	if code, _ := frankieGet(t, srv.BaseURL()+"/v2/individuals/no-such-entity", "test-key", "cust-1"); code != 404 {
		t.Errorf("unknown entity: %d", code)
	}
}

func TestFrankieOneAPIShapes(t *testing.T) {
	srv := startServer(t)
	v := frankieFixtureVerification(t, srv)
	s := v.Latest()
	api := srv.BaseURL() + "/v2"
	execURL := fmt.Sprintf("%s/individuals/%s/serviceprofiles/KYC/workflows/%s/executions/%s", api, v.Reference, frankieWorkflow(v.Person), s.ID)

	code, res := frankieGet(t, execURL, "test-key", "cust-1")
	if code != 200 {
		t.Fatalf("execution: %d", code)
	}
	want := keyPaths(fixture(t, "frankieone/execution_result_review.json"))
	if m := missing(want, keyPaths(res)); len(m) > 0 {
		t.Errorf("execution result lacks %v", m)
	}
	if get(res, "workflowResult", "status") != "REVIEW" || get(res, "workflowResult", "riskAssessment", "riskLevel") != "HIGH" {
		t.Errorf("pep outcome: %v", get(res, "workflowResult"))
	}
	if code, _ := frankieGet(t, strings.Replace(execURL, "/KYC/", "/AML/", 1), "test-key", "cust-1"); code != 404 {
		t.Errorf("wrong service name: %d", code)
	}

	code, ind := frankieGet(t, api+"/individuals/"+v.Reference, "test-key", "cust-1")
	if code != 200 {
		t.Fatalf("individual: %d", code)
	}
	sums := get(ind, "serviceProfiles").([]any)[0].(map[string]any)["workflowSummaries"].([]any)
	sum := sums[0].(map[string]any)
	for _, k := range []string{"workflowName", "workflowExecutionId", "status", "result", "endedAt"} {
		if sum[k] == nil {
			t.Errorf("workflow summary lacks %s: %v", k, sum)
		}
	}
	if get(ind, "individual", "serviceProfiles") == nil || get(ind, "individual", "documents", "IDENTITY") == nil {
		t.Errorf("individual lacks serviceProfiles or documents: %v", get(ind, "individual"))
	}

	for _, doc := range []struct{ id, format string }{{v.DocumentID, "jpeg"}, {v.SelfieDocumentID, "png"}} {
		code, d := frankieGet(t, api+"/individuals/"+v.Reference+"/documents/"+doc.id+"?level=base64", "test-key", "cust-1")
		if code != 200 {
			t.Fatalf("document %s: %d", doc.id, code)
		}
		if m := missing(keyPaths(fixture(t, "frankieone/document_base64.json")), keyPaths(d)); len(m) > 0 {
			t.Errorf("document lacks %v", m)
		}
		att := get(d, "document", "attachments").([]any)[0].(map[string]any)
		raw, err := base64.StdEncoding.DecodeString(get(att, "data", "base64").(string))
		if err != nil {
			t.Fatal(err)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
		if err != nil || format != doc.format || cfg.Width < 400 {
			t.Errorf("document %s: %v %s %dx%d", doc.id, err, format, cfg.Width, cfg.Height)
		}
	}
	if code, d := frankieGet(t, api+"/individuals/"+v.Reference+"/documents/"+v.DocumentID, "test-key", "cust-1"); code != 200 || get(d, "document", "attachments").([]any)[0].(map[string]any)["data"] != nil {
		t.Errorf("metadata-only document: %d %v", code, d)
	}
}

func TestFrankieOneStatusOverride(t *testing.T) {
	rec := newRecorder(t)
	srv := startServer(t)
	srv.attach(rec.srv.URL + "/webhooks/frankieone/int9")
	v := frankieFixtureVerification(t, srv)
	execURL := fmt.Sprintf("%s/v2/individuals/%s/serviceprofiles/KYC/workflows/%s/executions/%s", srv.BaseURL(), v.Reference, frankieWorkflow(v.Person), v.Latest().ID)

	patch := func(body, key string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPatch, execURL, strings.NewReader(body))
		req.Header.Set("api_key", key)
		req.Header.Set("X-Frankie-CustomerID", "cust-1")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m, _ := decodeJSON(t, b).(map[string]any)
		return resp.StatusCode, m
	}
	if code, _ := patch(`{"status":"APPROVED"}`, "wrong"); code != 401 {
		t.Errorf("PATCH with a wrong key: %d", code)
	}
	if code, _ := patch(`{"status":"MAYBE"}`, "test-key"); code != 400 {
		t.Errorf("PATCH with an unknown status: %d", code)
	}
	code, ans := patch(`{"status":"APPROVED","comment":{"text":"checked by analyst"}}`, "test-key")
	rid, _ := ans["requestId"].(string)
	if code != 200 || rid == "" {
		t.Fatalf("PATCH: %d %v", code, ans)
	}
	_, res := frankieGet(t, execURL, "test-key", "cust-1")
	wr := get(res, "workflowResult")
	if get(wr, "statusOverrideRequestId") != rid || get(wr, "status") != "APPROVED" || get(wr, "result") != "REVIEW" || get(wr, "statusOverrideAt") == nil {
		t.Errorf("after override: status %v result %v overrideRequestId %v (want %s)", get(wr, "status"), get(wr, "result"), get(wr, "statusOverrideRequestId"), rid)
	}
	_, ind := frankieGet(t, srv.BaseURL()+"/v2/individuals/"+v.Reference, "test-key", "cust-1")
	if s := get(ind, "serviceProfiles").([]any)[0].(map[string]any)["workflowSummaries"].([]any)[0].(map[string]any)["status"]; s != "APPROVED" {
		t.Errorf("summary status after override: %v", s)
	}

	// The override is echoed as an EntityStatusChanged notification to the webhook URL + requestId.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && len(rec.requests()) == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	reqs := rec.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d notifications after the override, want 1", len(reqs))
	}
	n := decodeJSON(t, reqs[0].body)
	if reqs[0].path != "/webhooks/frankieone/int9/"+rid || get(n, "function") != "EntityStatusChanged" || get(n, "entityId") != v.Reference || get(n, "workflowExecutionId") != nil {
		t.Errorf("echo notification %s: %v", reqs[0].path, n)
	}
	want := keyPaths(fixture(t, "frankieone/webhook_status_changed_echo.json"))
	if m, extra := missing(want, keyPaths(n)), missing(keyPaths(n), want); len(m)+len(extra) > 0 {
		t.Errorf("echo: missing %v, extra %v", m, extra)
	}
}

func TestImagesServedAndCached(t *testing.T) {
	srv := NewServer(ServerConfig{CacheSize: 2})
	if _, err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	v := findVerification(t, FPTAI, "spoof", 0, nil)
	srv.register(v)
	for _, tt := range []struct{ kind, ct string }{{"front", "image/jpeg"}, {"back", "image/jpeg"}, {"selfie", "image/jpeg"}} {
		url := srv.imageURL(tt.kind, v.ImageID(v.Latest()))
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tt.ct {
			t.Fatalf("%s: %d %s", tt.kind, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if _, _, err := image.DecodeConfig(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %v", tt.kind, err)
		}
	}
	if n := srv.cache.order.Len(); n != 2 {
		t.Errorf("cache holds %d pictures, bound is 2", n)
	}
	for _, u := range []string{"/img/front/unknown", "/img/passport/" + v.ImageID(v.Latest())} {
		resp, err := http.Get(srv.BaseURL() + u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d", u, resp.StatusCode)
		}
	}
	// Concurrent first requests draw once and agree.
	v2 := findVerification(t, FPTAI, "clean", 0, nil)
	srv.register(v2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	results := make(chan []byte, 8)
	for range 8 {
		go func() {
			b, _, _ := srv.image("selfie", v2.ImageID(v2.Latest()))
			results <- b
		}()
	}
	var first []byte
	for range 8 {
		select {
		case b := <-results:
			if first == nil {
				first = b
			} else if !bytes.Equal(first, b) {
				t.Error("concurrent requests got different pictures")
			}
		case <-ctx.Done():
			t.Fatal("timed out")
		}
	}
}
