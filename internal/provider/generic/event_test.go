package generic

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider"
)

func readExample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/event_design_example.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func f(v float64) *float64 { return &v }

// TestDesignExample maps the event shown in DESIGN.md field by field.
func TestDesignExample(t *testing.T) {
	e, err := Parse(readExample(t))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := e.Result()

	occurred := time.Date(2026, 11, 20, 8, 14, 41, 0, time.UTC)
	want := cases.Result{
		Reference:      "vrf-2026-000187",
		Round:          "vrf-2026-000187@2026-11-20T08:14:41Z",
		OccurredAt:     occurred,
		Result:         cases.ResultReview,
		ProviderStatus: "review",
		RiskLevel:      cases.RiskHigh,
		RiskScore:      f(71),
		Applicant: cases.Applicant{
			ExternalID:  "cust-42",
			FullName:    "Nguyễn Thu Hương",
			GivenName:   "Thu Hương",
			FamilyName:  "Nguyễn",
			DateOfBirth: "1995-09-02",
			Nationality: "VNM",
			IDNumber:    "079195001234",
			Address:     "123 Lê Lợi, Quận 1, TP. Hồ Chí Minh",
		},
		Checks: []cases.Check{
			{Kind: cases.KindDocument, Result: cases.CheckPass, Score: f(0.97)},
			{Kind: cases.KindLiveness, Result: cases.CheckPass, Score: f(0.98)},
			{Kind: cases.KindFaceMatch, Result: cases.CheckPass, Score: f(0.91)},
			{Kind: cases.KindPEP, Result: cases.CheckHit,
				Details: json.RawMessage(`{"matched_name":"NGUYEN THU HUONG","level":"tier 2"}`)},
		},
		Documents: []cases.DocumentRef{
			{ProviderID: "front", Kind: cases.DocIDFront, ContentType: "image/jpeg", Data: []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F'}},
			{ProviderID: "selfie", Kind: cases.DocSelfie, ContentType: "image/png", URL: "http://127.0.0.1:9000/img/selfie"},
		},
	}
	if !got.OccurredAt.Equal(want.OccurredAt) {
		t.Errorf("OccurredAt = %v, want %v", got.OccurredAt, want.OccurredAt)
	}
	got.OccurredAt = want.OccurredAt
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("Result mismatch\n got: %s\nwant: %s", gj, wj)
	}
	if e.Type != TypeCompleted {
		t.Errorf("Type = %q", e.Type)
	}
}

// TestMarshalRoundTrip: the simulator builds Events in code and marshals them; what it sends
// must parse back to the same result.
func TestMarshalRoundTrip(t *testing.T) {
	e, err := Parse(readExample(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse(Marshal(e)): %v\n%s", err, b)
	}
	r1, r2 := e.Result(), e2.Result()
	r1.OccurredAt, r2.OccurredAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(r1, r2) {
		t.Errorf("round trip changed the result")
	}
}

func TestParseRejects(t *testing.T) {
	// mutate returns the example with one JSON path replaced (or deleted when v is nil).
	mutate := func(path string, v any) []byte {
		var m map[string]any
		if err := json.Unmarshal(readExample(t), &m); err != nil {
			t.Fatal(err)
		}
		keys := strings.Split(path, ".")
		var cur any = m
		for _, k := range keys[:len(keys)-1] {
			switch c := cur.(type) {
			case map[string]any:
				cur = c[k]
			case []any:
				i, _ := strconv.Atoi(k)
				cur = c[i]
			}
		}
		last := keys[len(keys)-1]
		obj := cur.(map[string]any)
		if v == nil {
			delete(obj, last)
		} else {
			obj[last] = v
		}
		b, _ := json.Marshal(m)
		return b
	}
	long := strings.Repeat("x", MaxReferenceLen+1)
	tests := []struct {
		name   string
		body   []byte
		reason string
	}{
		{"array body", []byte(`[1,2]`), "body must be a JSON object"},
		{"null body", []byte(`null`), "body must be a JSON object"},
		{"not JSON", []byte(`{"type":`), "body is not valid JSON"},
		{"missing type", mutate("type", nil), "type is missing"},
		{"unknown type", mutate("type", "verification.deleted"), "type must be verification.completed or verification.updated"},
		{"type not a string", mutate("type", 5), "type must be a string"},
		{"missing occurred_at", mutate("occurred_at", nil), "occurred_at is missing"},
		{"bad occurred_at", mutate("occurred_at", "20/11/2026 08:14"), "occurred_at must be an RFC 3339 time"},
		{"missing verification", mutate("verification", nil), "verification is missing"},
		{"missing reference", mutate("verification.reference", nil), "verification.reference is missing"},
		{"blank reference", mutate("verification.reference", "   "), "verification.reference is missing"},
		{"long reference", mutate("verification.reference", long), "verification.reference is longer than 200 characters"},
		{"reference with newline", mutate("verification.reference", "a\nb"), "verification.reference contains control characters"},
		{"reference not a string", mutate("verification.reference", 12), "verification.reference must be a string"},
		{"missing result", mutate("verification.result", nil), "verification.result is missing"},
		{"bad result", mutate("verification.result", "approved"), "verification.result must be pass, fail or review"},
		{"bad risk level", mutate("verification.risk_level", "HIGH"), "verification.risk_level must be low, medium or high"},
		{"risk score text", mutate("verification.risk_score", "71"), "verification.risk_score must be a number"},
		{"bad check kind", mutate("verification.checks.0.kind", "selfie"), "verification.checks[0].kind is not a known check kind"},
		{"missing check kind", mutate("verification.checks.1.kind", nil), "verification.checks[1].kind is missing"},
		{"bad check result", mutate("verification.checks.3.result", "match"), "verification.checks[3].result must be pass, fail, review, hit or error"},
		{"details not object", mutate("verification.checks.3.details", "tier 2"), "verification.checks[3].details must be an object"},
		{"bad document kind", mutate("verification.documents.0.kind", "drivers_licence"), "verification.documents[0].kind is not a known document kind"},
		{"both data and url", mutate("verification.documents.0.url", "https://example.com/a.jpg"), "verification.documents[0] has both data_base64 and url"},
		{"neither data nor url", mutate("verification.documents.1.url", nil), "verification.documents[1] needs data_base64 or url"},
		{"bad base64", mutate("verification.documents.0.data_base64", "not base64!"), "verification.documents[0].data_base64 is not valid base64"},
		{"ftp url", mutate("verification.documents.1.url", "ftp://example.com/a"), "verification.documents[1].url must be an absolute http or https URL"},
		{"relative url", mutate("verification.documents.1.url", "/img/selfie"), "verification.documents[1].url must be an absolute http or https URL"},
		{"repeated id", mutate("verification.documents.1.id", "front"), "verification.documents[1].id repeats an earlier id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.body)
			var se *provider.ShapeError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *provider.ShapeError", err, err)
			}
			if !strings.HasPrefix(se.Reason, tt.reason) {
				t.Errorf("reason = %q, want %q", se.Reason, tt.reason)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, r cases.Result)
	}{
		{
			name: "minimal update, no applicant, western name order",
			body: `{"type":"verification.updated","occurred_at":"2026-11-21T10:00:00.5+07:00",
				"applicant":{"given_name":"Jane","middle_name":"Alexandra","family_name":"Citizen","nationality":"AUS","date_of_birth":"17/04/1988"},
				"verification":{"reference":"r-1","result":"fail"}}`,
			check: func(t *testing.T, r cases.Result) {
				if r.Round != "r-1@2026-11-21T03:00:00.5Z" {
					t.Errorf("Round = %q", r.Round)
				}
				if r.Applicant.FullName != "Jane Alexandra Citizen" {
					t.Errorf("FullName = %q", r.Applicant.FullName)
				}
				if r.Applicant.DateOfBirth != "" || r.Applicant.DateOfBirthRaw != "17/04/1988" {
					t.Errorf("dob = %q raw %q", r.Applicant.DateOfBirth, r.Applicant.DateOfBirthRaw)
				}
				if len(r.Flags) != 1 || r.Flags[0] != "date_of_birth: unparsable date" {
					t.Errorf("Flags = %q", r.Flags)
				}
				if r.RiskLevel != "" || r.RiskScore != nil || r.Checks != nil || r.Documents != nil {
					t.Errorf("unexpected risk/checks/documents: %+v", r)
				}
			},
		},
		{
			name: "full name given wins, document without id, unpadded base64",
			body: `{"type":"verification.completed","occurred_at":"2026-11-21T10:00:00Z",
				"applicant":{"full_name":"Lê Minh Khoa","given_name":"Khoa","family_name":"Lê"},
				"verification":{"reference":"r-2","result":"pass","checks":[{"kind":"aml","result":"error","code":"E1","message":"timeout","details":null}],
				"documents":[{"kind":"passport","data_base64":"aGk"}]}}`,
			check: func(t *testing.T, r cases.Result) {
				if r.Applicant.FullName != "Lê Minh Khoa" {
					t.Errorf("FullName = %q", r.Applicant.FullName)
				}
				if len(r.Documents) != 1 || r.Documents[0].ProviderID != "passport-0" || !bytes.Equal(r.Documents[0].Data, []byte("hi")) {
					t.Errorf("Documents = %+v", r.Documents)
				}
				c := r.Checks[0]
				if c.Result != cases.CheckError || c.Code != "E1" || c.Message != "timeout" || c.Details != nil {
					t.Errorf("check = %+v", c)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, e.Result())
		})
	}
}

func TestFullName(t *testing.T) {
	tests := []struct{ given, middle, family, nat, want string }{
		{"Thu Hương", "", "Nguyễn", "VNM", "Nguyễn Thu Hương"},
		{"Thu Hương", "", "Nguyễn", "vn", "Nguyễn Thu Hương"},
		{"Jane", "Alexandra", "Citizen", "AUS", "Jane Alexandra Citizen"},
		{"Jane", "", "Citizen", "", "Jane Citizen"},
		{"", "", "Citizen", "", "Citizen"},
		{" ", "", "", "", ""},
	}
	for _, tt := range tests {
		if got := FullName(tt.given, tt.middle, tt.family, tt.nat); got != tt.want {
			t.Errorf("FullName(%q, %q, %q, %q) = %q, want %q", tt.given, tt.middle, tt.family, tt.nat, got, tt.want)
		}
	}
}

// TestResultDoesNotAlias: the worker may keep the result after the event is gone or reused.
func TestResultDoesNotAlias(t *testing.T) {
	e, err := Parse(readExample(t))
	if err != nil {
		t.Fatal(err)
	}
	r := e.Result()
	*r.RiskScore = 0
	r.Checks[3].Details[0] = 'X'
	r.Documents[0].Data[0] = 0
	r2 := e.Result()
	if *r2.RiskScore != 71 || r2.Checks[3].Details[0] != '{' || r2.Documents[0].Data[0] != 0xff {
		t.Error("Result shares memory with the event")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(readExample(f))
	f.Add([]byte(`{"type":"verification.updated","occurred_at":"2026-11-21T10:00:00Z","verification":{"reference":"r","result":"pass","documents":[{"kind":"selfie","data_base64":"aGk="}]}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := Parse(body)
		if err != nil {
			var se *provider.ShapeError
			if !errors.As(err, &se) || se.Reason == "" {
				t.Fatalf("error is not a ShapeError with a reason: %v", err)
			}
			return
		}
		r := e.Result()
		if strings.TrimSpace(r.Reference) == "" || !results[r.Result] {
			t.Fatalf("accepted event gives reference %q result %q", r.Reference, r.Result)
		}
		for _, d := range r.Documents {
			if (d.Data == nil) == (d.URL == "") {
				t.Fatalf("document %q has neither or both of data and url", d.ProviderID)
			}
		}
	})
}
