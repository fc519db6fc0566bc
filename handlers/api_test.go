package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/color"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/caseapi"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/provider/frankieone"
	"github.com/kycdesk/kycdesk/internal/provider/generic"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// apiToken makes an API token (as the CLI would) and returns it.
func (e *testEnv) apiToken(name string) string {
	e.t.Helper()
	_, secret, err := e.srv.apiTokens().Create(context.Background(), name, "cli")
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// apiGet sends GET path with the token as a bearer token ("" sends no Authorization).
func (e *testEnv) apiGet(token, path string) (*http.Response, string) {
	e.t.Helper()
	req := httptestRequest("GET", path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(req)
}

// apiError decodes an error answer and checks it is JSON with a request id.
func apiError(t *testing.T, resp *http.Response, body string) string {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error answered as %q: %s", ct, body)
	}
	var e struct {
		Error     string `json:"error"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
		t.Fatalf("error body %q: %v", body, err)
	}
	if e.RequestID == "" || e.RequestID != resp.Header.Get("X-Request-Id") {
		t.Errorf("request_id %q, header %q", e.RequestID, resp.Header.Get("X-Request-Id"))
	}
	return e.Error
}

// apiCase decodes one case strictly: a field caseapi.Case does not declare fails.
func apiCase(t *testing.T, raw []byte) caseapi.Case {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c caseapi.Case
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("case %s: %v", raw, err)
	}
	return c
}

type apiPage struct {
	Cases []json.RawMessage `json:"cases"`
	Next  *string           `json:"next"`
}

func apiList(t *testing.T, env *testEnv, token, query string) apiPage {
	t.Helper()
	resp, body := env.apiGet(token, "/api/v1/cases"+query)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/cases%s: %d %s", query, resp.StatusCode, body)
	}
	var p apiPage
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("page: %v", err)
	}
	return p
}

func TestAPIAuthentication(t *testing.T) {
	env := newTestEnv(t)
	token := env.apiToken("erp")
	revoked := env.apiToken("old")
	list, _ := env.srv.apiTokens().List(context.Background())
	for _, tk := range list {
		if tk.Name == "old" {
			if _, err := env.srv.apiTokens().Revoke(context.Background(), tk.ID, "cli"); err != nil {
				t.Fatal(err)
			}
		}
	}
	caseID := env.applyResult(env.caseSource(integration.Generic), simpleResult("vrf-1", "Ana", cases.RiskLow, env.now))
	tests := []struct {
		name          string
		authorization string // "-" sends none
		status        int
		challenge     string
	}{
		{"no header", "-", 401, `Bearer realm="kycdesk"`},
		{"empty header", "", 401, `Bearer realm="kycdesk"`},
		{"bearer without token", "Bearer ", 401, `Bearer realm="kycdesk"`},
		{"basic", "Basic " + base64.StdEncoding.EncodeToString([]byte("erp:"+token)), 401, `Bearer realm="kycdesk"`},
		{"token without scheme", token, 401, `Bearer realm="kycdesk"`},
		{"wrong token", "Bearer kyc_" + strings.Repeat("x", 43), 401, `Bearer realm="kycdesk", error="invalid_token"`},
		{"token with a changed character", "Bearer " + token[:10] + "A" + token[11:], 401, `Bearer realm="kycdesk", error="invalid_token"`},
		{"revoked token", "Bearer " + revoked, 401, `Bearer realm="kycdesk", error="invalid_token"`},
		{"the token's hash", "Bearer " + hashOf(token), 401, `Bearer realm="kycdesk", error="invalid_token"`},
		{"right token", "Bearer " + token, 200, ""},
		{"scheme in lower case", "bearer " + token, 200, ""},
	}
	for _, path := range []string{"/api/v1/cases", "/api/v1/cases/" + caseID} {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				req := httptestRequest("GET", path, nil)
				if tt.authorization != "-" {
					req.Header.Set("Authorization", tt.authorization)
				}
				// A browser session does not open the API: only the token counts.
				resp, body := env.do(req)
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
				}
				if got := resp.Header.Get("WWW-Authenticate"); got != tt.challenge {
					t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
				}
				if tt.status == 401 {
					apiError(t, resp, body)
				} else if !strings.Contains(body, caseID) || resp.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("answer lacks the case or no-store: %s", body)
				}
			})
		}
	}
	// A signed-in admin's session cookie is not an API credential.
	admin := env.signIn(auth.Admin)
	if resp, body := admin.get("/api/v1/cases"); resp.StatusCode != 401 {
		t.Errorf("session without token: %d %s", resp.StatusCode, body)
	}
}

func hashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func TestAPIParameters(t *testing.T) {
	env := newTestEnv(t)
	token := env.apiToken("erp")
	other := newTestEnv(t) // another installation: another master key
	for i := range 3 {
		env.applyResult(env.caseSource(integration.Generic), simpleResult(fmt.Sprintf("vrf-%d", i), "Ana", cases.RiskLow, env.now))
		other.applyResult(other.caseSource(integration.Generic), simpleResult(fmt.Sprintf("vrf-%d", i), "Ana", cases.RiskLow, other.now))
	}
	cursor := *apiList(t, env, token, "?limit=1").Next
	foreign := *apiList(t, other, other.apiToken("x"), "?limit=1").Next
	raw, _ := base64.RawURLEncoding.DecodeString(cursor)
	raw[len(raw)-1] ^= 0x40
	edited := base64.RawURLEncoding.EncodeToString(raw)

	tests := []struct {
		query string
		param string // the parameter the 400 names; "" for 200
	}{
		{"?updated_after=garbage", "updated_after"},
		{"?updated_after=2026-11-20", "updated_after"},
		{"?updated_after=20%2F11%2F2026", "updated_after"},
		{"?status=open", "status"},
		{"?status=Approved", "status"},
		{"?provider=onfido", "provider"},
		{"?limit=0", "limit"},
		{"?limit=1001", "limit"},
		{"?limit=abc", "limit"},
		{"?limit=-1", "limit"},
		{"?after=not-a-cursor", "after"},
		{"?after=" + cursor[:len(cursor)-3], "after"},
		{"?after=" + edited, "after"},
		{"?after=" + foreign, "after"},
		{"?sort=desc", `"sort"`},
		{"?status=new&status=approved", "status"},
		{"?offset=100", `"offset"`},

		{"", ""},
		{"?limit=1&after=" + cursor, ""},
		{"?updated_after=2026-11-20T07:59:59Z&status=new&provider=generic&reference=vrf-1&limit=1000", ""},
		{"?updated_after=2026-11-20T14:59:59%2B07:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := env.apiGet(token, "/api/v1/cases"+tt.query)
			if tt.param == "" {
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != 400 {
				t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
			}
			if msg := apiError(t, resp, body); !strings.HasPrefix(msg, tt.param+":") {
				t.Errorf("error %q does not name %s", msg, tt.param)
			}
		})
	}
	// The single case takes no parameters.
	caseID := apiCase(t, apiList(t, env, token, "?limit=1").Cases[0]).ID
	resp, body := env.apiGet(token, "/api/v1/cases/"+caseID+"?status=new")
	if resp.StatusCode != 400 || !strings.HasPrefix(apiError(t, resp, body), `"status":`) {
		t.Errorf("parameter on one case: %d %s", resp.StatusCode, body)
	}
}

func TestAPINotFoundAndMethods(t *testing.T) {
	env := newTestEnv(t)
	token := env.apiToken("erp")
	caseID := env.applyResult(env.caseSource(integration.Generic), simpleResult("vrf-1", "Ana", cases.RiskLow, env.now))
	for _, path := range []string{
		"/api/v1/cases/nope",
		"/api/v1/cases/" + strings.ToUpper(caseID),
		"/api/v1/cases/" + otherID(caseID),        // well-formed, unknown
		"/api/v1/cases/0000000000000000000000000", // 25 characters
		"/api/v1/cases/%00",
		"/api/v1/cases/" + caseID + "/documents",
		"/api/v1/nothing",
		"/api/v2/cases",
	} {
		resp, body := env.apiGet(token, path)
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
			continue
		}
		apiError(t, resp, body)
	}
	// An unknown id answers the same with or without a token? No: the token comes first.
	if resp, _ := env.apiGet("", "/api/v1/cases/nope"); resp.StatusCode != 401 {
		t.Errorf("unknown case without token: %d", resp.StatusCode)
	}
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} {
		for _, path := range []string{"/api/v1/cases", "/api/v1/cases/" + caseID, "/api/v1/openapi.json"} {
			req := httptestRequest(method, path, strings.NewReader(`{}`))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, body := env.do(req)
			if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET" {
				t.Errorf("%s %s: %d Allow=%q", method, path, resp.StatusCode, resp.Header.Get("Allow"))
				continue
			}
			if method != "HEAD" {
				apiError(t, resp, body)
			}
		}
	}
}

// otherID is a well-formed case id that differs from id in its last character.
func otherID(id string) string {
	if strings.HasSuffix(id, "z") {
		return id[:25] + "y"
	}
	return id[:25] + "z"
}

// piiStrings lists strings from the fixtures and the generic event that must never appear in
// an API answer: ID numbers, dates of birth, addresses, the MRZ.
var piiStrings = []string{
	"079195001234", "1995-09-02", "02/09/1995", "02091995", "Lê Lợi", "LÊ LỢI", "BẾN NGHÉ", "IDVNM", "9509023",
	"1988-04-17", "12 Example St", "Sydney", "123456789",
	"date_of_birth", "id_number", "address", "nationality", "mrz",
}

func assertNoPII(t *testing.T, what, body string) {
	t.Helper()
	for _, s := range piiStrings {
		if strings.Contains(body, s) {
			t.Errorf("%s contains %q", what, s)
		}
	}
}

// genericEvent is a generic webhook event as DESIGN.md describes it, with two inline images.
func genericEvent(t *testing.T) ([]byte, [][]byte) {
	front := testImage(t, "jpeg", 64, 40, color.RGBA{200, 180, 150, 255})
	selfie := testImage(t, "png", 40, 50, color.RGBA{90, 90, 90, 255})
	ev := fmt.Sprintf(`{
	  "type": "verification.completed",
	  "occurred_at": "2026-11-20T08:14:41Z",
	  "applicant": {"external_id": "cust-42", "given_name": "Thu Hương", "family_name": "Nguyễn", "date_of_birth": "1995-09-02",
	                "nationality": "VNM", "id_number": "079195001234", "address": "123 Lê Lợi, Quận 1, TP. Hồ Chí Minh"},
	  "verification": {
	    "reference": "vrf-2026-000187", "result": "review", "risk_level": "high", "risk_score": 71,
	    "checks": [
	      {"kind": "document", "result": "pass", "score": 0.97},
	      {"kind": "liveness", "result": "pass", "score": 0.98},
	      {"kind": "face_match", "result": "pass", "score": 0.91},
	      {"kind": "pep", "result": "hit", "details": {"matched_name": "NGUYEN THU HUONG", "level": "tier 2"}}
	    ],
	    "documents": [
	      {"id": "front", "kind": "id_front", "content_type": "image/jpeg", "data_base64": %q},
	      {"id": "selfie", "kind": "selfie", "content_type": "image/png", "data_base64": %q}
	    ]
	  }
	}`, base64.StdEncoding.EncodeToString(front), base64.StdEncoding.EncodeToString(selfie))
	return []byte(ev), [][]byte{front, selfie}
}

// frankieoneResult maps the FrankieOne execution fixture through the adapter, with images
// standing in for the ones the worker would have fetched.
func frankieoneResult(t *testing.T) cases.Result {
	t.Helper()
	x, err := frankieone.ParseExecution(testkit.Fixture(t, "frankieone/execution_result_review.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := x.Result()
	for i := range r.Documents {
		r.Documents[i].Data = testImage(t, "png", 30, 20, color.RGBA{uint8(50 * i), 100, 100, 255})
		r.Documents[i].URL = ""
	}
	return r
}

// The three providers' cases, built through their adapters and the case store, answer in
// one shape and one vocabulary, with no ID number, date of birth or address anywhere.
func TestAPICaseShape(t *testing.T) {
	env := newTestEnv(t)
	token := env.apiToken("erp")
	analyst := env.newUser(auth.Analyst)

	body, images := genericEvent(t)
	ev, err := generic.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	genericR := ev.Result()
	genericID := env.applyResult(env.caseSource(integration.Generic), genericR)
	env.setCase(genericID, cases.StatusInReview, analyst.ID)

	fptR := fptaiResult(t, "callback_success.json", env.now)
	fptID := env.applyResult(env.caseSource(integration.FPTAI), fptR)

	frankieR := frankieoneResult(t)
	frankieID := env.applyResult(env.caseSource(integration.FrankieOne), frankieR)
	env.setCase(frankieID, cases.StatusApproved, 0)

	get := func(id string) (caseapi.Case, string) {
		t.Helper()
		resp, body := env.apiGet(token, "/api/v1/cases/"+id)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET case: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		assertNoPII(t, "case "+id, body)
		return apiCase(t, []byte(body)), body
	}

	g, gBody := get(genericID)
	str := func(p *string) string {
		if p == nil {
			return "<null>"
		}
		return *p
	}
	if g.ID != genericID || g.Reference != "vrf-2026-000187" || g.Provider != "generic" || g.Integration != "acme-generic" ||
		g.Status != "in_review" || g.RiskLevel != "high" || g.Result != "review" || g.Round != 1 ||
		str(g.Assignee) != analyst.Email || g.Decision != nil || g.ReasonCode != nil {
		t.Errorf("generic case: %s", gBody)
	}
	if str(g.Applicant.FullName) != "Nguyễn Thu Hương" || str(g.Applicant.GivenName) != "Thu Hương" ||
		str(g.Applicant.FamilyName) != "Nguyễn" || str(g.Applicant.ExternalID) != "cust-42" {
		t.Errorf("generic applicant: %+v", g.Applicant)
	}
	if !g.CreatedAt.Equal(env.now) || !g.UpdatedAt.Equal(env.now) || g.SLADue.Before(env.now) {
		t.Errorf("generic times: %v %v %v", g.CreatedAt, g.UpdatedAt, g.SLADue)
	}
	for _, want := range []string{`"created_at":"2026-11-20T08:00:00.000Z"`, `{"kind":"document","result":"pass","score":0.97}`,
		`{"kind":"pep","result":"hit","details":{"matched_name":"NGUYEN THU HUONG","level":"tier 2"}}`} {
		if !strings.Contains(gBody, want) {
			t.Errorf("generic case lacks %s: %s", want, gBody)
		}
	}
	if len(g.Documents) != 2 {
		t.Fatalf("generic documents: %+v", g.Documents)
	}
	for i, d := range g.Documents {
		sum := sha256.Sum256(images[i])
		if d.SHA256 != hex.EncodeToString(sum[:]) || d.Size != int64(len(images[i])) || d.ID == "" {
			t.Errorf("document %d: %+v", i, d)
		}
		// The id is the {doc} of the workspace's document URL.
		if resp, _ := env.signIn(auth.Analyst).get("/cases/" + genericID + "/documents/" + d.ID); resp.StatusCode != 200 {
			t.Errorf("document %s not served at /cases/{id}/documents/{doc}: %d", d.ID, resp.StatusCode)
		}
	}
	if g.Documents[0].Kind != "id_front" || g.Documents[0].ContentType != "image/jpeg" || g.Documents[1].Kind != "selfie" {
		t.Errorf("document kinds: %+v", g.Documents)
	}

	f, fBody := get(fptID)
	if f.Provider != "fptai" || f.Reference != "cust-2026-000187" || f.Result != fptR.Result || f.Status != "new" ||
		str(f.Applicant.FullName) != "NGUYỄN THỊ THU HƯƠNG" || f.Applicant.GivenName != nil ||
		str(f.Applicant.ExternalID) != "cust-2026-000187" || f.Assignee != nil {
		t.Errorf("FPT.AI case: %s", fBody)
	}
	k, kBody := get(frankieID)
	if k.Provider != "frankieone" || k.Reference != "3f1c2b7e-9a41-4d6b-8c55-0e2f7a9d1b34" || k.Result != "review" ||
		k.RiskLevel != "high" || k.Status != "approved" || str(k.Decision) != "approve" || str(k.ReasonCode) != "test_reason" ||
		str(k.Applicant.GivenName) != "Jane" || str(k.Applicant.FamilyName) != "Citizen" {
		t.Errorf("FrankieOne case: %s", kBody)
	}
	// decided_at: when the decision was taken, null while undecided.
	if k.DecidedAt == nil || k.DecidedAt.UnixMilli() != env.now.UnixMilli() || g.DecidedAt != nil || f.DecidedAt != nil {
		t.Errorf("decided_at: FrankieOne %v, generic %v, FPT.AI %v (decided at %s)", k.DecidedAt, g.DecidedAt, f.DecidedAt, env.now)
	}
	// Checks are the adapters' normalised vocabulary, as stored, in order.
	for _, tc := range []struct {
		got  caseapi.Case
		want cases.Result
	}{{g, genericR}, {f, fptR}, {k, frankieR}} {
		if len(tc.got.Checks) != len(tc.want.Checks) || len(tc.got.Checks) == 0 {
			t.Errorf("%s: %d checks, want %d", tc.got.Provider, len(tc.got.Checks), len(tc.want.Checks))
			continue
		}
		for i, c := range tc.got.Checks {
			w := tc.want.Checks[i]
			if c.Kind != w.Kind || c.Result != w.Result || (c.Score == nil) != (w.Score == nil) || (c.Score != nil && *c.Score != *w.Score) {
				t.Errorf("%s check %d: %+v, want %s/%s", tc.got.Provider, i, c, w.Kind, w.Result)
			}
		}
		if len(tc.got.Documents) != len(tc.want.Documents) {
			t.Errorf("%s: %d documents, want %d", tc.got.Provider, len(tc.got.Documents), len(tc.want.Documents))
		}
	}

	// The list shows the same objects, in the order the cases last changed.
	resp, list := env.apiGet(token, "/api/v1/cases")
	if resp.StatusCode != 200 {
		t.Fatal(list)
	}
	assertNoPII(t, "list", list)
	var page apiPage
	if err := json.Unmarshal([]byte(list), &page); err != nil || page.Next != nil {
		t.Fatalf("page %v next %v", err, page.Next)
	}
	var ids []string
	for _, raw := range page.Cases {
		c := apiCase(t, raw)
		ids = append(ids, c.ID)
		if c.ID == genericID && !bytes.Equal(compact(t, raw), compact(t, []byte(gBody))) {
			t.Errorf("list and single case differ:\n%s\n%s", raw, gBody)
		}
	}
	if !slices.Equal(ids, []string{genericID, fptID, frankieID}) { // the order they last changed in
		t.Errorf("order %v, want generic, fptai, frankieone", ids)
	}
	for _, q := range []struct{ query, id string }{
		{"?provider=fptai", fptID}, {"?status=approved", frankieID}, {"?reference=vrf-2026-000187", genericID},
		{"?reference=cust-2026-000187&provider=fptai&status=new", fptID},
	} {
		p := apiList(t, env, token, q.query)
		if len(p.Cases) != 1 || apiCase(t, p.Cases[0]).ID != q.id {
			t.Errorf("%s: %d cases", q.query, len(p.Cases))
		}
	}
	if p := apiList(t, env, token, "?reference=vrf-2026"); len(p.Cases) != 0 {
		t.Errorf("reference is an exact match: %d cases", len(p.Cases))
	}
}

func compact(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Paging through 2,500 cases while others arrive (from another goroutine, and between
// pages) lists each case exactly once. All of them are stamped with the same millisecond
// (the test clock stands still), the case where ordering by (updated_at, id) would skip.
func TestAPIPagingWhileCasesArrive(t *testing.T) {
	env := newTestEnv(t)
	token := env.apiToken("erp")
	src := env.caseSource(integration.Generic)
	var initial []cases.Result
	for i := range 2500 {
		initial = append(initial, simpleResult(fmt.Sprintf("old-%04d", i), "Ana", cases.RiskLow, env.now))
	}
	want := map[string]bool{} // case ids that must be listed
	for _, id := range env.applyMany(src, initial) {
		want[id] = true
	}

	var wg sync.WaitGroup
	var bgErr error
	var bgIDs []string
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // arrivals at their own pace, through the case store as the worker applies them
		defer wg.Done()
		store := env.srv.caseStore()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			out, err := store.Apply(context.Background(), src, 0, simpleResult(fmt.Sprintf("bg-%04d", i), "Bo", cases.RiskLow, env.now))
			if err != nil {
				bgErr = err
				return
			}
			bgIDs = append(bgIDs, out.CaseID)
		}
	}()

	seen := map[string]int{}
	query, pages := "?limit=97", 0
	for {
		// Two more arrive between every two pages, for certain.
		for j := range 2 {
			want[env.applyResult(src, simpleResult(fmt.Sprintf("new-%03d-%d", pages, j), "Chi", cases.RiskLow, env.now))] = true
		}
		p := apiList(t, env, token, query)
		pages++
		for _, raw := range p.Cases {
			seen[apiCase(t, raw).ID]++
		}
		if p.Next == nil {
			break
		}
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		query = fmt.Sprintf("?limit=%d&after=%s", []int{97, 250}[pages%2], url.QueryEscape(*p.Next))
	}
	close(stop)
	wg.Wait()
	if bgErr != nil {
		t.Fatal(bgErr)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("case %s listed %d times", id, n)
		}
	}
	missing := 0
	for id := range want {
		if seen[id] != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d cases not listed", missing, len(want))
	}
	t.Logf("%d pages, %d cases listed, %d arrived from the other goroutine", pages, len(seen), len(bgIDs))
	if len(bgIDs) == 0 {
		t.Log("the other goroutine added nothing while paging: only the arrivals between pages were tested")
	}
}

// TestOpenAPIDescribesResponses keeps openapi.json true: real answers of every kind are
// validated against its component schemas, and every property they carry is declared.
func TestOpenAPIDescribesResponses(t *testing.T) {
	env := newTestEnv(t)
	token := env.apiToken("erp")
	body, _ := genericEvent(t)
	ev, err := generic.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{
		env.applyResult(env.caseSource(integration.Generic), ev.Result()),
		env.applyResult(env.caseSource(integration.FPTAI), fptaiResult(t, "callback_success.json", env.now)),
		env.applyResult(env.caseSource(integration.FPTAI), fptaiResult(t, "callback_spoof_lowconf.json", env.now)),
		env.applyResult(env.caseSource(integration.FPTAI), fptaiResult(t, "callback_error.json", env.now)),
		env.applyResult(env.caseSource(integration.FrankieOne), frankieoneResult(t)),
	}
	env.setCase(ids[0], cases.StatusRejected, env.newUser(auth.Lead).ID)

	resp, doc := env.do(httptestRequest("GET", "/api/v1/openapi.json", nil)) // public: no token
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	spec, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := spec.(map[string]any); m["openapi"] != "3.1.0" {
		t.Errorf("openapi version %v", m["openapi"])
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020) // OpenAPI 3.1's schema dialect
	const base = "https://kycdesk.test/api/v1/openapi.json"
	if err := c.AddResource(base, spec); err != nil {
		t.Fatal(err)
	}
	schema := func(name string) *jsonschema.Schema {
		s, err := c.Compile(base + "#/components/schemas/" + name)
		if err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
		return s
	}
	declared := func(name string) map[string]any {
		props, _ := spec.(map[string]any)["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)["properties"].(map[string]any)
		return props
	}
	validate := func(what, name, body string) {
		t.Helper()
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := schema(name).Validate(inst); err != nil {
			t.Errorf("%s does not match %s: %v\n%s", what, name, err, body)
		}
	}
	undeclared := func(what, name string, obj map[string]any) {
		t.Helper()
		props := declared(name)
		for k := range obj {
			if _, ok := props[k]; !ok {
				t.Errorf("%s: property %q is not in openapi.json's %s", what, k, name)
			}
		}
	}
	checkCase := func(what string, obj map[string]any) {
		undeclared(what, "Case", obj)
		undeclared(what+" applicant", "Applicant", obj["applicant"].(map[string]any))
		for _, ck := range obj["checks"].([]any) {
			undeclared(what+" check", "Check", ck.(map[string]any))
		}
		for _, d := range obj["documents"].([]any) {
			undeclared(what+" document", "Document", d.(map[string]any))
		}
	}

	for _, id := range ids {
		resp, body := env.apiGet(token, "/api/v1/cases/"+id)
		if resp.StatusCode != 200 {
			t.Fatalf("case %s: %d", id, resp.StatusCode)
		}
		validate("case "+id, "Case", body)
		var obj map[string]any
		_ = json.Unmarshal([]byte(body), &obj)
		checkCase("case "+id, obj)
	}
	for _, q := range []string{"", "?limit=2", "?status=rejected", "?reference=none"} {
		_, body := env.apiGet(token, "/api/v1/cases"+q)
		validate("list"+q, "CaseList", body)
		var obj map[string]any
		_ = json.Unmarshal([]byte(body), &obj)
		undeclared("list", "CaseList", obj)
	}
	errorAnswers := []struct {
		token, path string
		status      int
	}{
		{"", "/api/v1/cases", 401},
		{token, "/api/v1/cases?limit=0", 400},
		{token, "/api/v1/cases/nope", 404},
	}
	for _, e := range errorAnswers {
		resp, body := env.apiGet(e.token, e.path)
		if resp.StatusCode != e.status {
			t.Errorf("%s: %d", e.path, resp.StatusCode)
		}
		validate(fmt.Sprint(e.status), "Error", body)
	}
	resp, answer := env.do(httptestRequest("DELETE", "/api/v1/cases", nil))
	if resp.StatusCode != 405 {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	validate("405", "Error", answer)

	// Every status and parameter the document names is one the API answers with or takes.
	for _, want := range []string{`"/cases"`, `"/cases/{id}"`, `"/openapi.json"`, `"updated_after"`, `"after"`, `"limit"`,
		`"reference"`, `"provider"`, `"bearer"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("openapi.json lacks %s", want)
		}
	}
}
