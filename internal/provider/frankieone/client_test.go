package frankieone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

const (
	testKey      = "key-very-secret-123"
	testCustomer = "cust-id-7"
	entity       = "3f1c2b7e-9a41-4d6b-8c55-0e2f7a9d1b34"
)

// fakeFrankie stands in for FrankieOne's API: it serves the fixtures on the documented paths
// and records what it was sent.
type fakeFrankie struct {
	t        *testing.T
	mu       sync.Mutex
	requests []string // "METHOD path?query"
	patch    []byte
	docCalls int
}

func (ff *fakeFrankie) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ff.mu.Lock()
	ff.requests = append(ff.requests, r.Method+" "+r.URL.RequestURI())
	ff.mu.Unlock()
	if r.Header.Get("api_key") != testKey || r.Header.Get("X-Frankie-CustomerID") != testCustomer {
		http.Error(w, `{"errorMsg":"unauthorised"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	exec := "/v2/individuals/" + entity + "/serviceprofiles/KYC/workflows/AUS-Basic3-IDV/executions/01HZX3K9V2M4Q7R8S1T5W6Y0AB"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == exec:
		_, _ = w.Write(testkit.Fixture(ff.t, "frankieone/execution_result_review.json"))
	case r.Method == http.MethodPatch && r.URL.Path == exec:
		if r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "content type", http.StatusBadRequest)
			return
		}
		ff.patch, _ = io.ReadAll(r.Body)
		_, _ = w.Write([]byte(`{"requestId":"01HZX4OVERRIDE0000000000000"}`))
	case r.Method == http.MethodGet && r.URL.Path == "/v2/individuals/"+entity:
		_, _ = w.Write([]byte(`{"requestId":"r1","individual":{"entityId":"` + entity + `","name":{"givenName":"Jane"}},
			"serviceProfiles":[{"serviceName":"KYC","workflowSummaries":[
			{"workflowName":"AUS-Basic3-IDV","workflowExecutionId":"01HZX3K9V2M4Q7R8S1T5W6Y0AB","endedAt":"2026-11-20T08:14:41.877Z"}]}]}`))
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v2/individuals/"+entity+"/documents/"):
		ff.mu.Lock()
		ff.docCalls++
		ff.mu.Unlock()
		if r.URL.Query().Get("level") != "base64" {
			http.Error(w, "level", http.StatusBadRequest)
			return
		}
		switch strings.TrimPrefix(r.URL.Path, "/v2/individuals/"+entity+"/documents/") {
		case "doc-selfie-01":
			_, _ = w.Write(testkit.Fixture(ff.t, "frankieone/document_base64.json"))
		case "doc-7d0e3a":
			_, _ = w.Write([]byte(`{"requestId":"r2","document":{"documentId":"doc-7d0e3a","type":"DRIVERS_LICENSE","attachments":[
				{"attachmentId":"att-front-1","side":"FRONT","mimeType":"image/jpeg","data":{"base64":"/9j/4A=="}},
				{"attachmentId":"att-back-1","side":"BACK","data":{"uri":"data:image/jpeg;base64,/9j/4Q=="}}]}}`))
		default:
			http.Error(w, `{"errorMsg":"not found"}`, http.StatusNotFound)
		}
	default:
		http.Error(w, "no route "+r.URL.Path, http.StatusNotFound)
	}
}

func newClient(t *testing.T) (*Client, *fakeFrankie) {
	ff := &fakeFrankie{t: t}
	srv := httptest.NewServer(ff)
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL + "/v2/", APIKey: testKey, CustomerID: testCustomer, HTTP: srv.Client()}, ff
}

func TestClientAgainstFakeAPI(t *testing.T) {
	ctx := context.Background()
	c, ff := newClient(t)

	x, err := c.GetExecution(ctx, entity, "KYC", "AUS-Basic3-IDV", "01HZX3K9V2M4Q7R8S1T5W6Y0AB")
	if err != nil {
		t.Fatalf("GetExecution: %v", err)
	}
	if x.WorkflowResult.Status != "REVIEW" || x.Individual == nil || x.Individual.EntityID != entity {
		t.Errorf("execution = %+v", x.WorkflowResult)
	}

	p, err := c.GetIndividual(ctx, entity)
	if err != nil {
		t.Fatalf("GetIndividual: %v", err)
	}
	if ref, ok := p.LatestExecution(); !ok || ref.ExecutionID != "01HZX3K9V2M4Q7R8S1T5W6Y0AB" || p.Individual.Name.GivenName != "Jane" {
		t.Errorf("profile latest = %+v %v", ref, ok)
	}

	doc, err := c.GetDocument(ctx, entity, "doc-selfie-01")
	if err != nil || doc.DocumentID != "doc-selfie-01" {
		t.Fatalf("GetDocument: %+v %v", doc, err)
	}

	reqID, err := c.OverrideStatus(ctx, entity, "KYC", "AUS-Basic3-IDV", "01HZX3K9V2M4Q7R8S1T5W6Y0AB", "APPROVED", "Nguyễn checked: ok")
	if err != nil || reqID != "01HZX4OVERRIDE0000000000000" {
		t.Fatalf("OverrideStatus = %q %v", reqID, err)
	}
	var sent map[string]any
	if err := json.Unmarshal(ff.patch, &sent); err != nil {
		t.Fatal(err)
	}
	if sent["status"] != "APPROVED" || sent["comment"].(map[string]any)["text"] != "Nguyễn checked: ok" || len(sent) != 2 {
		t.Errorf("PATCH body = %s", ff.patch)
	}

	want := []string{
		"GET /v2/individuals/" + entity + "/serviceprofiles/KYC/workflows/AUS-Basic3-IDV/executions/01HZX3K9V2M4Q7R8S1T5W6Y0AB",
		"GET /v2/individuals/" + entity,
		"GET /v2/individuals/" + entity + "/documents/doc-selfie-01?level=base64",
		"PATCH /v2/individuals/" + entity + "/serviceprofiles/KYC/workflows/AUS-Basic3-IDV/executions/01HZX3K9V2M4Q7R8S1T5W6Y0AB",
	}
	if strings.Join(ff.requests, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(ff.requests, "\n"), strings.Join(want, "\n"))
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	c, ff := newClient(t)
	_, err := c.GetDocument(context.Background(), entity, "../../x?y=1")
	var apiErr *provider.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Fatalf("err = %v", err)
	}
	if got := ff.requests[0]; got != "GET /v2/individuals/"+entity+"/documents/..%2F..%2Fx%3Fy=1?level=base64" {
		t.Errorf("request = %q", got)
	}
	if _, err := c.GetIndividual(context.Background(), ""); err == nil || len(ff.requests) != 1 {
		t.Errorf("empty entity id: err %v, %d requests", err, len(ff.requests))
	}
}

func TestFetchDocuments(t *testing.T) {
	ctx := context.Background()
	c, ff := newClient(t)
	x, err := c.GetExecution(ctx, entity, "KYC", "AUS-Basic3-IDV", "01HZX3K9V2M4Q7R8S1T5W6Y0AB")
	if err != nil {
		t.Fatal(err)
	}
	refs := x.Result().Documents
	refs = append(refs,
		cases.DocumentRef{ProviderID: "doc-gone/att-1", Kind: cases.DocIDFront},
		cases.DocumentRef{ProviderID: "doc-7d0e3a/att-missing", Kind: cases.DocIDFront},
		cases.DocumentRef{ProviderID: "inline", Kind: cases.DocSelfie, Data: []byte("kept")},
	)
	got, err := c.FetchDocuments(ctx, entity, refs)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id, ct string
		data   []byte
	}{
		{"doc-7d0e3a/att-front-1", "image/jpeg", []byte{0xff, 0xd8, 0xff, 0xe0}},
		{"doc-7d0e3a/att-back-1", "image/jpeg", []byte{0xff, 0xd8, 0xff, 0xe1}},
		{"doc-selfie-01/att-selfie-1", "image/png", nil}, // checked below
		{"doc-gone/att-1", "", nil},
		{"doc-7d0e3a/att-missing", "", nil},
		{"inline", "", []byte("kept")},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d refs", len(got))
	}
	for i, w := range want {
		g := got[i]
		if g.ProviderID != w.id || g.ContentType != w.ct || g.URL != "" {
			t.Errorf("ref %d = %s %q %q", i, g.ProviderID, g.ContentType, g.URL)
		}
		if w.data != nil && !bytes.Equal(g.Data, w.data) {
			t.Errorf("ref %s data = %x, want %x", g.ProviderID, g.Data, w.data)
		}
		if w.data == nil && i != 2 && g.Data != nil {
			t.Errorf("ref %s data = %x, want none", g.ProviderID, g.Data)
		}
	}
	if !bytes.HasPrefix(got[2].Data, []byte("\x89PNG")) {
		t.Errorf("selfie data = %x", got[2].Data)
	}
	if refs[0].Data != nil {
		t.Error("FetchDocuments changed its input")
	}
	// One call per document, however many attachments it has.
	if ff.docCalls != 3 {
		t.Errorf("%d document calls, want 3", ff.docCalls)
	}
}

// TestAPIErrorClassification: how each answer tells the worker to react.
func TestAPIErrorClassification(t *testing.T) {
	tests := []struct {
		status           int
		retryable, auth  bool
		retryAfterHeader string
		retryAfter       time.Duration
	}{
		{400, false, false, "", 0},
		{401, false, true, "", 0},
		{403, false, true, "", 0},
		{404, false, false, "", 0},
		{422, false, false, "", 0},
		{429, true, false, "7", 7 * time.Second},
		{500, true, false, "", 0},
		{502, true, false, "", 0},
		{503, true, false, "120", 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfterHeader != "" {
					w.Header().Set("Retry-After", tt.retryAfterHeader)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"errorMsg":"body-with-PII Nguyễn Thị Thu Hương 079195001234"}`))
			}))
			defer srv.Close()
			c := &Client{BaseURL: srv.URL + "/v2", APIKey: testKey, CustomerID: testCustomer}
			_, err := c.GetExecution(context.Background(), entity, "KYC", "w", "x")
			assertAPIError(t, err, tt.status, tt.retryable, tt.auth)
			var apiErr *provider.APIError
			if errors.As(err, &apiErr) && apiErr.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", apiErr.RetryAfter, tt.retryAfter)
			}
		})
	}

	t.Run("network error", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		c := &Client{BaseURL: "http://" + addr + "/v2", APIKey: testKey, CustomerID: testCustomer}
		_, err = c.GetIndividual(context.Background(), entity)
		assertAPIError(t, err, 0, true, false)
	})

	t.Run("cancelled context", func(t *testing.T) {
		c, _ := newClient(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.GetIndividual(ctx, entity)
		assertAPIError(t, err, 0, true, false)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is(err, context.Canceled) = false for %v", err)
		}
	})

	t.Run("answer is not JSON", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<html>gateway says hi</html>"))
		}))
		defer srv.Close()
		c := &Client{BaseURL: srv.URL, APIKey: testKey, CustomerID: testCustomer}
		_, err := c.GetIndividual(context.Background(), entity)
		assertAPIError(t, err, 200, true, false)
	})

	t.Run("JSON of the wrong shape", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"workflowResult":{"entityId":"e"}}`))
		}))
		defer srv.Close()
		c := &Client{BaseURL: srv.URL, APIKey: testKey, CustomerID: testCustomer}
		_, err := c.GetExecution(context.Background(), entity, "KYC", "w", "x")
		var se *provider.ShapeError
		if !errors.As(err, &se) {
			t.Errorf("err = %v, want a ShapeError", err)
		}
	})

	t.Run("redirect to another host keeps the key home", func(t *testing.T) {
		var leaked bool
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			leaked = r.Header.Get("api_key") != ""
			_, _ = w.Write([]byte(`{}`))
		}))
		defer other.Close()
		otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) // another host, same machine
		srv := httptest.NewServer(http.RedirectHandler(otherURL+"/elsewhere", http.StatusFound))
		defer srv.Close()
		c := &Client{BaseURL: srv.URL, APIKey: testKey, CustomerID: testCustomer}
		_, err := c.GetIndividual(context.Background(), entity)
		assertAPIError(t, err, 0, false, false)
		if leaked {
			t.Error("api_key was sent to another host")
		}
	})
}

func assertAPIError(t *testing.T, err error, status int, retryable, auth bool) {
	t.Helper()
	var apiErr *provider.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v (%T), want *provider.APIError", err, err)
	}
	if apiErr.Status != status || apiErr.Retryable != retryable || apiErr.Auth != auth {
		t.Errorf("APIError = {Status %d Retryable %v Auth %v}, want {%d %v %v}", apiErr.Status, apiErr.Retryable, apiErr.Auth, status, retryable, auth)
	}
	msg := err.Error()
	for _, secret := range []string{testKey, "body-with-PII", "079195001234", "Nguyễn"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error text %q holds %q", msg, secret)
		}
	}
}
