package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/testkit"
)

// sharedDir finds <repo>/../shared by walking up from the test's directory to go.mod.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(filepath.Join(shared, "fixtures")); err != nil {
		t.Skipf("shared fixtures not found beside the repo: %v", err)
	}
	return shared
}

func fixture(t *testing.T, name string) any {
	t.Helper()
	return decodeJSON(t, testkit.Fixture(t, name))
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("json: %v\n%s", err, b)
	}
	return v
}

// keyPaths lists every object key as a path ("ocr.data[].id"); array elements share "[]", so
// the set is the union of what the elements carry.
func keyPaths(v any) map[string]bool {
	out := map[string]bool{}
	var walk func(v any, prefix string)
	walk = func(v any, prefix string) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				p := prefix + "." + k
				out[p] = true
				walk(c, p)
			}
		case []any:
			for _, c := range x {
				walk(c, prefix+"[]")
			}
		}
	}
	walk(v, "")
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// missing lists the paths of want that got lacks.
func missing(want, got map[string]bool) []string {
	var out []string
	for k := range want {
		if !got[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func without(m map[string]bool, prefixes ...string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		drop := false
		for _, p := range prefixes {
			if k == p || strings.HasPrefix(k, p+".") || strings.HasPrefix(k, p+"[]") {
				drop = true
			}
		}
		if !drop {
			out[k] = true
		}
	}
	return out
}

// recorded is one request that reached the stand-in kycdesk.
type recorded struct {
	at     time.Time
	path   string
	header http.Header
	body   []byte
}

// recorder stands in for kycdesk: it keeps every request and answers with respond (200 by default).
type recorder struct {
	mu      sync.Mutex
	reqs    []recorded
	respond func(n int, r *http.Request) (int, http.Header)
	srv     *httptest.Server
}

func newRecorder(t *testing.T) *recorder {
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/healthz" {
			return
		}
		rec.mu.Lock()
		n := len(rec.reqs)
		rec.reqs = append(rec.reqs, recorded{at: time.Now(), path: r.URL.Path, header: r.Header.Clone(), body: body})
		respond := rec.respond
		rec.mu.Unlock()
		status := http.StatusOK
		if respond != nil {
			var h http.Header
			status, h = respond(n, r)
			for k, v := range h {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) requests() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.reqs...)
}

func startServer(t *testing.T) *Server {
	t.Helper()
	srv := NewServer(ServerConfig{APIKey: "test-key", CustomerID: "cust-1"})
	if _, err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func frankieGet(t *testing.T, url, key, customer string) (int, any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set("api_key", key)
	}
	if customer != "" {
		req.Header.Set("X-Frankie-CustomerID", customer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: content type %q", url, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, decodeJSON(t, b)
}

func get(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}
