package frankieone

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

func f(v float64) *float64 { return &v }

func parseExecutionFixture(t testing.TB) *Execution {
	t.Helper()
	x, err := ParseExecution(testkit.Fixture(t, "frankieone/execution_result_review.json"))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestExecutionResultFixture maps fixtures/frankieone/execution_result_review.json field by field.
func TestExecutionResultFixture(t *testing.T) {
	x := parseExecutionFixture(t)
	if x.RequestID != "01HZX3M1N2P3Q4R5S6T7V8W9XY" || x.WorkflowResult.WorkflowName != "AUS-Basic3-IDV" {
		t.Errorf("RequestID %q WorkflowName %q", x.RequestID, x.WorkflowResult.WorkflowName)
	}
	got := x.Result()
	want := cases.Result{
		Reference:      "3f1c2b7e-9a41-4d6b-8c55-0e2f7a9d1b34",
		Round:          "01HZX3K9V2M4Q7R8S1T5W6Y0AB",
		OccurredAt:     time.Date(2026, 11, 20, 8, 14, 41, 877_000_000, time.UTC),
		Result:         cases.ResultReview,
		ProviderStatus: "REVIEW",
		RiskLevel:      cases.RiskHigh,
		RiskScore:      f(42),
		RiskFactors: []cases.RiskFactor{
			{Factor: "pep_match", Value: "POTENTIAL_MATCH", Score: f(30), Description: "Potential PEP match"},
			{Factor: "country_of_residence", Value: "AUS", Score: f(2)},
			{Factor: "document_age", Value: "EXPIRES_IN_30_DAYS", Score: f(10)},
		},
		Applicant: cases.Applicant{
			FullName:    "Jane Alexandra Citizen",
			GivenName:   "Jane",
			MiddleName:  "Alexandra",
			FamilyName:  "Citizen",
			DateOfBirth: "1988-04-17",
			IDNumber:    "123456789",
			Address:     "12 Example St, Sydney NSW 2000",
		},
		Checks: []cases.Check{
			{Kind: cases.KindDocument, Result: cases.CheckPass, Source: "IDV",
				Details: json.RawMessage(`{"type":"DRIVERS_LICENSE","faceMatchScore":0.93,"livenessResult":"PASS"}`)},
			{Kind: cases.KindFaceMatch, Result: cases.CheckPass, Score: f(0.93), Source: "IDV",
				Details: json.RawMessage(`{"faceMatchScore":0.93}`)},
			{Kind: cases.KindLiveness, Result: cases.CheckPass, Source: "IDV",
				Details: json.RawMessage(`{"livenessResult":"PASS"}`)},
			{Kind: cases.KindPEP, Result: cases.CheckHit, Score: f(0.88), Source: "AML",
				Details: json.RawMessage(`{"matchType":"PEP","matchedName":"JANE ALEXANDRA CITIZEN","pepLevel":"TIER_2","countries":["AUS"],"score":0.88}`)},
			{Kind: cases.KindDatabase, Result: cases.CheckPass, Source: "KYC",
				Details: json.RawMessage(`{"matchedSources":2,"sources":["AUS_ELECTORAL_ROLL","AUS_CREDIT_HEADER"]}`)},
		},
		Issues: []cases.Issue{{Category: "AML", Issue: "PEP", Severity: "REVIEW"}},
		Documents: []cases.DocumentRef{
			{ProviderID: "doc-7d0e3a/att-front-1", Kind: cases.DocIDFront, ContentType: "image/jpeg"},
			{ProviderID: "doc-7d0e3a/att-back-1", Kind: cases.DocIDBack, ContentType: "image/jpeg"},
			{ProviderID: "doc-selfie-01/att-selfie-1", Kind: cases.DocSelfie, ContentType: "image/png"},
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
}

// TestExecutionVariants changes one thing in the fixture at a time.
func TestExecutionVariants(t *testing.T) {
	type mutation func(wr map[string]any, ind map[string]any)
	tests := []struct {
		name   string
		mutate mutation
		check  func(t *testing.T, r cases.Result)
	}{
		{"status override wins over result", func(wr, _ map[string]any) {
			wr["status"], wr["result"] = "APPROVED", "REVIEW"
			wr["statusOverrideRequestId"] = "01HZX4AAAA"
			wr["statusOverrideAt"] = "2026-11-21T09:00:00Z"
		}, func(t *testing.T, r cases.Result) {
			if r.Result != cases.ResultPass || r.ProviderStatus != "APPROVED" || r.OverrideRequestID != "01HZX4AAAA" {
				t.Errorf("Result %q ProviderStatus %q OverrideRequestID %q", r.Result, r.ProviderStatus, r.OverrideRequestID)
			}
			if !r.OccurredAt.Equal(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)) {
				t.Errorf("OccurredAt = %v, want the override time", r.OccurredAt)
			}
		}},
		{"rejected", func(wr, _ map[string]any) { wr["status"] = "REJECTED" }, wantResult(cases.ResultFail)},
		{"blocked", func(wr, _ map[string]any) { wr["status"] = "BLOCKED" }, wantResult(cases.ResultFail)},
		{"fail", func(wr, _ map[string]any) { wr["status"] = "FAIL" }, wantResult(cases.ResultFail)},
		{"clear", func(wr, _ map[string]any) { wr["status"] = "CLEAR" }, wantResult(cases.ResultPass)},
		{"pass", func(wr, _ map[string]any) { wr["status"] = "PASS" }, wantResult(cases.ResultPass)},
		{"urgent", func(wr, _ map[string]any) { wr["status"] = "URGENT" }, wantResult(cases.ResultReview)},
		{"needs approval", func(wr, _ map[string]any) { wr["status"] = "NEEDS_APPROVAL" }, wantResult(cases.ResultReview)},
		{"no status falls back to result", func(wr, _ map[string]any) { delete(wr, "status"); wr["result"] = "PASS" },
			func(t *testing.T, r cases.Result) {
				if r.Result != cases.ResultPass || !hasFlag(r, "workflowResult.status missing: result used") {
					t.Errorf("Result %q Flags %q", r.Result, r.Flags)
				}
			}},
		{"unacceptable risk is high", func(wr, _ map[string]any) { risk(wr)["riskLevel"] = "UNACCEPTABLE" },
			func(t *testing.T, r cases.Result) {
				if r.RiskLevel != cases.RiskHigh || len(r.Flags) != 0 {
					t.Errorf("RiskLevel %q Flags %q", r.RiskLevel, r.Flags)
				}
			}},
		{"low risk", func(wr, _ map[string]any) { risk(wr)["riskLevel"] = "LOW" }, func(t *testing.T, r cases.Result) {
			if r.RiskLevel != cases.RiskLow {
				t.Errorf("RiskLevel %q", r.RiskLevel)
			}
		}},
		{"unknown risk is derived and flagged", func(wr, _ map[string]any) { risk(wr)["riskLevel"] = "UNKNOWN" },
			func(t *testing.T, r cases.Result) {
				if r.RiskLevel != "" || !hasFlag(r, "risk level UNKNOWN: derived") {
					t.Errorf("RiskLevel %q Flags %q", r.RiskLevel, r.Flags)
				}
			}},
		{"missing risk level uses the workflow's", func(wr, _ map[string]any) {
			delete(risk(wr), "riskLevel")
			delete(risk(wr), "riskScore")
			risk(wr)["workflowRiskLevel"] = "MEDIUM"
			risk(wr)["workflowRiskScore"] = "17.5"
		}, func(t *testing.T, r cases.Result) {
			if r.RiskLevel != cases.RiskMedium || r.RiskScore == nil || *r.RiskScore != 17.5 {
				t.Errorf("RiskLevel %q RiskScore %v", r.RiskLevel, r.RiskScore)
			}
		}},
		{"no risk assessment", func(wr, _ map[string]any) { delete(wr, "riskAssessment") }, func(t *testing.T, r cases.Result) {
			if r.RiskLevel != "" || r.RiskScore != nil || !hasFlag(r, "risk level missing: derived") {
				t.Errorf("RiskLevel %q RiskScore %v Flags %q", r.RiskLevel, r.RiskScore, r.Flags)
			}
		}},
		{"hit marked false positive by hand", func(wr, _ map[string]any) {
			process(wr, 1)["manualStatus"] = "FALSE_POSITIVE"
		}, func(t *testing.T, r cases.Result) {
			c := r.Checks[3]
			if c.Kind != cases.KindPEP || c.Result != cases.CheckPass || c.Message != "manual status FALSE_POSITIVE" {
				t.Errorf("check = %+v", c)
			}
		}},
		{"sanctions and media matches", func(wr, _ map[string]any) {
			supp(process(wr, 1))["matchType"] = "SANCTION"
			steps(wr)[2].(map[string]any)["processResults"] = []any{
				map[string]any{"class": "AML", "result": "POTENTIAL_MATCH", "supplementaryData": map[string]any{"matchType": "MEDIA"}},
				map[string]any{"class": "KYC", "result": "NO_MATCH"},
				map[string]any{"class": "FRAUD", "result": "ERROR"},
			}
		}, func(t *testing.T, r cases.Result) {
			got := kinds(r.Checks)
			want := []string{"document:pass", "face_match:pass", "liveness:pass", "sanctions:hit", "aml:hit", "database:fail", "database:error"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("checks = %q, want %q", got, want)
			}
			if !hasFlag(r, `process class "FRAUD" kept as a database check`) {
				t.Errorf("Flags = %q", r.Flags)
			}
		}},
		{"step without process results", func(wr, _ map[string]any) {
			steps(wr)[2].(map[string]any)["processResults"] = []any{}
		}, func(t *testing.T, r cases.Result) {
			c := r.Checks[len(r.Checks)-1]
			if c.Kind != cases.KindDatabase || c.Result != cases.CheckPass || c.Source != "KYC" {
				t.Errorf("check = %+v", c)
			}
		}},
		{"workflow errors are flagged", func(wr, _ map[string]any) {
			wr["errors"] = []any{map[string]any{"code": "E100", "description": "data source down"}, "plain"}
		}, func(t *testing.T, r cases.Result) {
			if !hasFlag(r, "workflow error: E100 data source down") || !hasFlag(r, "workflow error: plain") {
				t.Errorf("Flags = %q", r.Flags)
			}
		}},
		{"no endedAt uses startedAt", func(wr, _ map[string]any) { wr["endedAt"] = nil }, func(t *testing.T, r cases.Result) {
			if !r.OccurredAt.Equal(time.Date(2026, 11, 20, 8, 14, 3, 120_000_000, time.UTC)) {
				t.Errorf("OccurredAt = %v", r.OccurredAt)
			}
		}},
		{"applicant from other shapes", func(_, ind map[string]any) {
			ind["name"] = map[string]any{"displayName": "Jane Citizen"}
			ind["dateOfBirth"] = map[string]any{"year": "1988", "month": "4", "day": 17}
			ind["gender"] = map[string]any{"gender": "FEMALE"}
			ind["nationality"] = "AUS"
			ind["externalReferences"] = []any{map[string]any{"name": "CUSTOMER-REFERENCE", "value": "cust-77"}}
			ind["addresses"] = []any{
				map[string]any{"type": "POSTAL", "unstructuredLongForm": "PO Box 1"},
				map[string]any{"type": "RESIDENTIAL", "streetNumber": "12", "streetName": "Example", "streetType": "St",
					"locality": "Sydney", "subdivision": "NSW", "postalCode": "2000", "country": "AUS"},
			}
		}, func(t *testing.T, r cases.Result) {
			want := cases.Applicant{ExternalID: "cust-77", FullName: "Jane Citizen", DateOfBirth: "1988-04-17", Sex: "FEMALE",
				Nationality: "AUS", IDNumber: "123456789", Address: "12 Example St, Sydney, NSW 2000, AUS"}
			if r.Applicant != want {
				t.Errorf("Applicant = %+v\nwant %+v", r.Applicant, want)
			}
		}},
		{"unparsable date of birth", func(_, ind map[string]any) {
			ind["dateOfBirth"] = map[string]any{"unstructured": "around 1988"}
			ind["customerReference"] = "cust-1"
		}, func(t *testing.T, r cases.Result) {
			if r.Applicant.DateOfBirth != "" || r.Applicant.DateOfBirthRaw != "around 1988" || !hasFlag(r, "dateOfBirth: unparsable date") ||
				r.Applicant.ExternalID != "cust-1" {
				t.Errorf("Applicant %+v Flags %q", r.Applicant, r.Flags)
			}
		}},
		{"documents as a list, a passport, a deleted attachment", func(_, ind map[string]any) {
			ind["documents"] = []any{
				map[string]any{"documentId": "p1", "type": "PASSPORT", "primaryIdentifier": "PA123",
					"attachments": []any{map[string]any{"attachmentId": "a1", "mimeType": "image/jpeg"}}},
				map[string]any{"documentId": "u1", "type": "UTILITY_BILL",
					"attachments": []any{map[string]any{"attachmentId": "a2", "retrievalStatus": "DELETED"},
						map[string]any{"attachmentId": "a3", "data": map[string]any{"uri": "data:application/pdf;base64,JVBERg=="}}}},
			}
		}, func(t *testing.T, r cases.Result) {
			want := []cases.DocumentRef{
				{ProviderID: "p1/a1", Kind: cases.DocPassport, ContentType: "image/jpeg"},
				{ProviderID: "u1/a3", Kind: cases.DocProofOfAddress, ContentType: "application/pdf", Data: []byte("%PDF")},
			}
			if !reflect.DeepEqual(r.Documents, want) {
				t.Errorf("Documents = %+v\nwant %+v", r.Documents, want)
			}
			if !hasFlag(r, "document u1/a2 not retrievable (DELETED)") {
				t.Errorf("Flags = %q", r.Flags)
			}
			// A list has no categories, so no document is known to be an identity document.
			if r.Applicant.IDNumber != "" {
				t.Errorf("IDNumber = %q", r.Applicant.IDNumber)
			}
		}},
		{"more documents than a case keeps: the first are fetched, the rest flagged", func(_, ind map[string]any) {
			var docs []any
			for i := range cases.MaxDocuments + 5 {
				docs = append(docs, map[string]any{"documentId": fmt.Sprintf("d%d", i), "type": "PASSPORT",
					"attachments": []any{map[string]any{"attachmentId": "a", "mimeType": "image/jpeg"}}})
			}
			ind["documents"] = docs
		}, func(t *testing.T, r cases.Result) {
			if len(r.Documents) != cases.MaxDocuments || r.Documents[0].ProviderID != "d0/a" {
				t.Errorf("%d documents, first %+v", len(r.Documents), r.Documents[0])
			}
			if !hasFlag(r, "5 documents beyond the limit of 20 left out") {
				t.Errorf("Flags = %q", r.Flags)
			}
		}},
		{"no individual", func(_, ind map[string]any) {
			for k := range ind {
				delete(ind, k)
			}
			ind["entityId"] = "3f1c2b7e-9a41-4d6b-8c55-0e2f7a9d1b34"
		}, func(t *testing.T, r cases.Result) {
			if r.Applicant != (cases.Applicant{}) || r.Documents != nil || r.Reference == "" {
				t.Errorf("Applicant %+v Documents %+v", r.Applicant, r.Documents)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(testkit.Fixture(t, "frankieone/execution_result_review.json"), &m); err != nil {
				t.Fatal(err)
			}
			tt.mutate(m["workflowResult"].(map[string]any), m["individual"].(map[string]any))
			body, _ := json.Marshal(m)
			x, err := ParseExecution(body)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, x.Result())
		})
	}
}

func wantResult(want string) func(t *testing.T, r cases.Result) {
	return func(t *testing.T, r cases.Result) {
		t.Helper()
		if r.Result != want {
			t.Errorf("Result = %q, want %q", r.Result, want)
		}
	}
}

func risk(wr map[string]any) map[string]any { return wr["riskAssessment"].(map[string]any) }
func steps(wr map[string]any) []any         { return wr["workflowStepResults"].([]any) }
func supp(pr map[string]any) map[string]any { return pr["supplementaryData"].(map[string]any) }
func process(wr map[string]any, step int) map[string]any {
	return steps(wr)[step].(map[string]any)["processResults"].([]any)[0].(map[string]any)
}

func kinds(cs []cases.Check) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Kind+":"+c.Result)
	}
	return out
}

func hasFlag(r cases.Result, flag string) bool {
	for _, f := range r.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

func TestCheckResultWords(t *testing.T) {
	tests := map[string]string{
		"PASS": cases.CheckPass, "CLEAR": cases.CheckPass, "MATCH": cases.CheckPass, "clear": cases.CheckPass,
		"FAIL": cases.CheckFail, "NO_MATCH": cases.CheckFail,
		"HIT": cases.CheckHit, "POTENTIAL_MATCH": cases.CheckHit, "TRUE_POSITIVE": cases.CheckHit,
		"REVIEW": cases.CheckReview, "PARTIAL_MATCH": cases.CheckReview, "": cases.CheckReview, "SOMETHING_NEW": cases.CheckReview,
		"ERROR": cases.CheckError, "TIMEOUT": cases.CheckError,
	}
	for word, want := range tests {
		if got := checkResult(word); got != want {
			t.Errorf("checkResult(%q) = %q, want %q", word, got, want)
		}
	}
}

func TestParseExecutionRejects(t *testing.T) {
	tests := []struct{ name, body, reason string }{
		{"array", `[]`, "execution: body must be a JSON object"},
		{"no workflowResult", `{"requestId":"r"}`, "execution: workflowResult is missing"},
		{"workflowResult a string", `{"workflowResult":"PASS"}`, "execution: workflowResult is missing"},
		{"no execution id", `{"workflowResult":{"entityId":"e"}}`, "execution: workflowResult.workflowExecutionId is missing"},
		{"no entity id", `{"workflowResult":{"workflowExecutionId":"x"}}`, "execution: workflowResult.entityId is missing"},
		{"status a number", `{"workflowResult":{"workflowExecutionId":"x","entityId":"e","status":1}}`, "execution: workflowResult.status must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseExecution([]byte(tt.body))
			var se *provider.ShapeError
			if !errors.As(err, &se) || se.Reason != tt.reason {
				t.Errorf("err = %v, want ShapeError %q", err, tt.reason)
			}
		})
	}
	// The entity id may come from the individual alone.
	x, err := ParseExecution([]byte(`{"workflowResult":{"workflowExecutionId":"x"},"individual":{"entityId":"e"}}`))
	if err != nil || x.Result().Reference != "e" {
		t.Errorf("entity id from individual: %v", err)
	}
}

func TestLatestExecution(t *testing.T) {
	body := `{"requestId":"r","individual":{"entityId":"e"},"serviceProfiles":[
		{"serviceName":"KYC","workflowSummaries":[
			{"workflowName":"AUS-Basic3-IDV","workflowExecutionId":"old","endedAt":"2026-11-20T08:14:41Z"},
			{"workflowName":"AUS-Basic3-IDV","workflowExecutionId":"new","startedAt":"2026-11-22T10:00:00.5Z"},
			{"workflowName":"AUS-Basic3-IDV","workflowExecutionId":"undated"}]},
		{"serviceName":"AML","workflows":[
			{"workflowName":"Monitor","executions":[{"workflowExecutionId":"mid","updatedAt":"2026-11-21T00:00:00Z"}]}]}]}`
	p, err := ParseProfile([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ref, ok := p.LatestExecution()
	if !ok || ref != (ExecutionRef{ServiceName: "KYC", WorkflowName: "AUS-Basic3-IDV", ExecutionID: "new"}) {
		t.Errorf("LatestExecution = %+v %v", ref, ok)
	}

	// Nested under the individual, and no usable time at all: the last listed wins.
	p, err = ParseProfile([]byte(`{"entityId":"e","serviceProfiles":[{"serviceName":"KYC","workflowSummaries":[
		{"workflowName":"w","workflowExecutionId":"a"},{"workflowName":"w","workflowExecutionId":"b"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if ref, ok := p.LatestExecution(); !ok || ref.ExecutionID != "b" || p.Individual.EntityID != "e" {
		t.Errorf("LatestExecution = %+v %v, entity %q", ref, ok, p.Individual.EntityID)
	}

	p, _ = ParseProfile([]byte(`{"individual":{"entityId":"e"}}`))
	if _, ok := p.LatestExecution(); ok {
		t.Error("an entity without service profiles has no execution")
	}
}

func TestParseDocumentFixture(t *testing.T) {
	d, err := ParseDocument(testkit.Fixture(t, "frankieone/document_base64.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d.DocumentID != "doc-selfie-01" || d.Type != "SELF_IMAGE" || len(d.Attachments) != 1 {
		t.Fatalf("document = %+v", d)
	}
	data, ct, link, err := d.Attachments[0].Image()
	if err != nil || ct != "image/png" || link != "" || !strings.HasPrefix(string(data), "\x89PNG\r\n\x1a\n") || len(data) != 69 {
		t.Errorf("Image = %d bytes %q %q %v", len(data), ct, link, err)
	}
}

func FuzzParseExecution(f *testing.F) {
	f.Add(testkit.Fixture(f, "frankieone/execution_result_review.json"))
	f.Add([]byte(`{"workflowResult":{"workflowExecutionId":"x","entityId":"e","riskAssessment":{"riskScore":"N/A"}},"individual":{"documents":[{"documentId":"d","attachments":[{"attachmentId":"a","data":{"uri":"data:;base64,aGk="}}]}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		x, err := ParseExecution(body)
		if err != nil {
			var se *provider.ShapeError
			if !errors.As(err, &se) || se.Reason == "" {
				t.Fatalf("error is not a ShapeError with a reason: %v", err)
			}
			return
		}
		r := x.Result()
		switch r.Result {
		case cases.ResultPass, cases.ResultFail, cases.ResultReview:
		default:
			t.Fatalf("Result = %q", r.Result)
		}
		if r.Reference == "" || r.Round == "" {
			t.Fatal("accepted execution without identity")
		}
		if r.RiskScore != nil && (math.IsNaN(*r.RiskScore) || math.IsInf(*r.RiskScore, 0)) {
			t.Fatal("non-finite risk score")
		}
		for _, c := range r.Checks {
			if len(c.Details) > 0 && !json.Valid(c.Details) {
				t.Fatalf("check details not JSON: %s", c.Details)
			}
		}
	})
}

func FuzzParseProfile(f *testing.F) {
	f.Add([]byte(`{"individual":{"entityId":"e"},"serviceProfiles":[{"serviceName":"KYC","workflowSummaries":[{"workflowName":"w","workflowExecutionId":"a","endedAt":"2026-11-20T08:14:41Z"}]}]}`))
	f.Add(testkit.Fixture(f, "frankieone/execution_result_review.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParseProfile(body)
		if err != nil {
			return
		}
		if ref, ok := p.LatestExecution(); ok && (ref.ExecutionID == "" || ref.ServiceName == "" || ref.WorkflowName == "") {
			t.Fatalf("LatestExecution ok with an empty part: %+v", ref)
		}
	})
}
