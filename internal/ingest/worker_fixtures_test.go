package ingest_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/integration"
)

const (
	fxEntity    = "3f1c2b7e-9a41-4d6b-8c55-0e2f7a9d1b34"
	fxExecution = "01HZX3K9V2M4Q7R8S1T5W6Y0AB"
)

// serveFrankieFixtures makes the fake API answer as FrankieOne would for the fixtures' entity:
// the execution, the individual with its service profile, and both documents with images.
func serveFrankieFixtures(t testing.TB, api *fakeAPI, execution []byte) (docs map[string][]byte) {
	front, back := testJPEG(1), testJPEG(2)
	selfie, _ := base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
	licence := fmt.Sprintf(`{"requestId":"r-doc","document":{"documentId":"doc-7d0e3a","type":"DRIVERS_LICENSE","attachments":[
		{"attachmentId":"att-front-1","side":"FRONT","mimeType":"image/jpeg","data":{"base64":%q}},
		{"attachmentId":"att-back-1","side":"BACK","data":{"uri":"data:image/jpeg;base64,%s"}}]}}`,
		base64.StdEncoding.EncodeToString(front), base64.StdEncoding.EncodeToString(back))
	profile := `{"requestId":"r-ind","individual":{"entityId":"` + fxEntity + `","name":{"givenName":"Jane","familyName":"Citizen"}},
		"serviceProfiles":[{"serviceName":"KYC","workflowSummaries":[
		{"workflowName":"AUS-Basic3-IDV","workflowExecutionId":"` + fxExecution + `","endedAt":"2026-11-20T08:14:41.877Z"}]}]}`
	api.set(func(f *fakeAPI) {
		f.executions[fxExecution] = execution
		f.profiles[fxEntity] = []byte(profile)
		f.documents["doc-7d0e3a"] = []byte(licence)
		f.documents["doc-selfie-01"] = fixture(t, "frankieone/document_base64.json")
	})
	return map[string][]byte{"doc-7d0e3a/att-front-1": front, "doc-7d0e3a/att-back-1": back, "doc-selfie-01/att-selfie-1": selfie}
}

// TestWorkerFixtures runs each shared sample payload through the real inbox writer and the
// worker, and checks the case it leaves behind.
func TestWorkerFixtures(t *testing.T) {
	type check struct {
		kind, result string
		score        string // "%.4f" of the score, "" for none
	}
	tests := []struct {
		name      string
		spec      integration.Spec
		file      string
		setup     func(e *workerEnv, body []byte) (payload []byte, docs map[string][]byte)
		reference string
		result    string
		risk      string
		derived   bool
		fourEyes  bool
		checks    []check
		fullName  string
		flags     []string // substrings some flag must contain
	}{
		{
			name: "generic design example", spec: integration.Spec{Provider: integration.Generic}, file: "generic",
			setup: func(e *workerEnv, body []byte) ([]byte, map[string][]byte) {
				selfie := testPNG(3)
				e.api.set(func(f *fakeAPI) { f.images["selfie"] = servedImage{"image/png", selfie} })
				front, _ := base64.StdEncoding.DecodeString("/9j/4AAQSkZJRg==")
				return bytes.ReplaceAll(body, []byte("http://127.0.0.1:9000/img/selfie"), []byte(e.api.url("selfie"))),
					map[string][]byte{"front": front, "selfie": selfie}
			},
			reference: "vrf-2026-000187", result: cases.ResultReview, risk: cases.RiskHigh, fourEyes: true,
			checks: []check{{"document", "pass", "0.9700"}, {"liveness", "pass", "0.9800"}, {"face_match", "pass", "0.9100"},
				{"pep", "hit", ""}},
			fullName: "Nguyễn Thu Hương",
		},
		{
			name: "fptai callback_success", spec: integration.Spec{Provider: integration.FPTAI}, file: "fptai/callback_success.json",
			setup: func(e *workerEnv, body []byte) ([]byte, map[string][]byte) {
				docs := map[string][]byte{}
				for i, side := range []string{"front", "back", "selfie"} {
					img := servedImage{"image/jpeg", testJPEG(10 + i)}
					e.api.set(func(f *fakeAPI) { f.images[side+"/b6d8f1c2"] = img })
					docs["b6d8f1c2-4e7a-4c3b-9f0d-2a1e5c7b9d10/"+side] = img.data
				}
				return bytes.ReplaceAll(body, []byte("http://127.0.0.1:9000/img/"), []byte(e.api.url(""))), docs
			},
			reference: "cust-2026-000187", result: cases.ResultPass, risk: cases.RiskLow, derived: true,
			checks:   []check{{"document", "pass", "0.9710"}, {"liveness", "pass", "0.9787"}, {"face_match", "pass", "0.9783"}},
			fullName: "NGUYỄN THỊ THU HƯƠNG", flags: []string{"risk level derived"},
		},
		{
			name: "fptai callback_spoof_lowconf", spec: integration.Spec{Provider: integration.FPTAI}, file: "fptai/callback_spoof_lowconf.json",
			reference: "cust-2026-000188", result: cases.ResultFail, risk: cases.RiskHigh, fourEyes: true,
			checks:   []check{{"document", "review", "0.7240"}, {"liveness", "fail", "0.0688"}, {"face_match", "fail", "0.4107"}},
			fullName: "TRẦN VĂN ĐỨC", flags: []string{"spoof"},
		},
		{
			name: "fptai callback_error", spec: integration.Spec{Provider: integration.FPTAI}, file: "fptai/callback_error.json",
			reference: "7a1b3c5d-9e2f-4a6b-8c0d-1e3f5a7b9c2d", result: cases.ResultFail, risk: cases.RiskHigh, derived: true, fourEyes: true,
			checks: []check{{"document", "error", ""}, {"liveness", "error", ""}, {"face_match", "fail", ""}},
		},
		{
			name: "fptai callback_wrapped", spec: integration.Spec{Provider: integration.FPTAI, DataKey: "ekyc_result"}, file: "fptai/callback_wrapped.json",
			reference: "cust-2026-000190", result: cases.ResultPass, risk: cases.RiskLow, derived: true,
			checks:   []check{{"document", "pass", "0.9890"}, {"liveness", "pass", "0.9899"}, {"face_match", "pass", "0.9315"}},
			fullName: "LÊ MINH KHOA",
		},
		{
			name: "frankieone webhook_workflow_complete", file: "frankieone/webhook_workflow_complete.json",
			setup: func(e *workerEnv, body []byte) ([]byte, map[string][]byte) {
				return body, serveFrankieFixtures(e.t, e.api, fixture(e.t, "frankieone/execution_result_review.json"))
			},
			reference: fxEntity, result: cases.ResultReview, risk: cases.RiskHigh, fourEyes: true,
			checks: []check{{"document", "pass", ""}, {"face_match", "pass", "0.9300"}, {"liveness", "pass", ""},
				{"pep", "hit", "0.8800"}, {"database", "pass", ""}},
			fullName: "Jane Alexandra Citizen",
		},
		{
			// An entity notification names no execution: the worker asks the individual which one.
			name: "frankieone webhook_status_changed", file: "frankieone/webhook_status_changed_echo.json",
			setup: func(e *workerEnv, body []byte) ([]byte, map[string][]byte) {
				return body, serveFrankieFixtures(e.t, e.api, fixture(e.t, "frankieone/execution_result_review.json"))
			},
			reference: fxEntity, result: cases.ResultReview, risk: cases.RiskHigh, fourEyes: true,
			checks: []check{{"document", "pass", ""}, {"face_match", "pass", "0.9300"}, {"liveness", "pass", ""},
				{"pep", "hit", "0.8800"}, {"database", "pass", ""}},
			fullName: "Jane Alexandra Citizen",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newWorkerEnv(t)
			var in *integration.Integration
			var body []byte
			if strings.HasPrefix(tt.file, "frankieone/") {
				in = e.frankieIntegration()
				body = fixture(t, tt.file)
			} else {
				tt.spec.Name = "fx-" + tt.spec.Provider
				in = e.integration(tt.spec)
				if tt.file == "generic" {
					body = fixtureGenericExample(t)
				} else {
					body = fixture(t, tt.file)
				}
			}
			wantDocs := map[string][]byte{}
			if tt.setup != nil {
				body, wantDocs = tt.setup(e, body)
			}
			rowID := e.deliver(in, "delivery-1", body)
			e.drain(e.worker())

			c := e.caseOf(rowID)
			if c.Reference != tt.reference || c.Result != tt.result || c.RiskLevel != tt.risk || c.RiskDerived != tt.derived ||
				c.FourEyes != tt.fourEyes || c.Status != cases.StatusNew || c.Provider != in.Provider || c.Round != 1 {
				t.Errorf("case = ref %q result %s risk %s derived %v four-eyes %v status %s provider %s round %d",
					c.Reference, c.Result, c.RiskLevel, c.RiskDerived, c.FourEyes, c.Status, c.Provider, c.Round)
			}
			if tt.fullName != "" && c.FullName != tt.fullName {
				t.Errorf("full name = %q, want %q", c.FullName, tt.fullName)
			}
			for _, want := range tt.flags {
				if !slices.ContainsFunc(c.Details.Flags, func(f string) bool { return strings.Contains(f, want) }) {
					t.Errorf("flags %q lack %q", c.Details.Flags, want)
				}
			}

			stored, err := e.cases.Checks(e.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []check
			for _, ch := range stored {
				s := ""
				if ch.Score != nil {
					s = fmt.Sprintf("%.4f", *ch.Score)
				}
				got = append(got, check{ch.Kind, ch.Result, s})
			}
			if !slices.Equal(got, tt.checks) {
				t.Errorf("checks = %v, want %v", got, tt.checks)
			}

			// "N/A" is never stored as a value: not in the plain columns, the applicant or the OCR fields.
			ap, err := e.cases.Applicant(e.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			fields, err := e.cases.Fields(e.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			values := []string{c.FullName, c.GivenName, c.FamilyName, c.ExternalID, ap.FullName, ap.GivenName, ap.FamilyName,
				ap.DateOfBirth, ap.DateOfBirthRaw, ap.Sex, ap.Nationality, ap.IDNumber, ap.Address, ap.ExternalID}
			for _, f := range fields {
				values = append(values, f.Value)
			}
			for _, v := range values {
				if strings.EqualFold(strings.TrimSpace(v), "N/A") {
					t.Errorf("N/A stored as a value (applicant %+v)", ap)
				}
			}
			if tt.fullName != "" && ap.FullName != tt.fullName {
				t.Errorf("sealed applicant's name = %q, want %q", ap.FullName, tt.fullName)
			}

			docs, err := e.cases.Documents(e.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != len(wantDocs) {
				t.Errorf("documents = %d, want %d", len(docs), len(wantDocs))
			}
			for _, d := range docs {
				want, ok := wantDocs[d.ProviderRef]
				if !ok {
					t.Errorf("unexpected document %q", d.ProviderRef)
					continue
				}
				if d.SHA256 != sha(want) || d.Size != int64(len(want)) {
					t.Errorf("document %s: sha256 %s size %d, want the bytes as received (%s, %d)", d.ProviderRef, d.SHA256, d.Size, sha(want), len(want))
				}
				got, data, err := e.cases.OpenDocument(e.ctx, c.ID, d.ID)
				if err != nil || !bytes.Equal(data, want) || !cases.AllowedContentType(got.ContentType) {
					t.Errorf("document %s opens as %s, %d bytes, %v", d.ProviderRef, got.ContentType, len(data), err)
				}
				if n := e.count(`SELECT COUNT(*) FROM case_documents WHERE id = ? AND instr(ciphertext, ?) = 0`, d.ID, want[:min(len(want), 24)]); n != 1 {
					t.Errorf("document %s stored in the clear", d.ProviderRef)
				}
			}

			if got := e.auditActions(tt.reference); !slices.Contains(got, "case.created") {
				t.Errorf("audit for %s = %v, want case.created", tt.reference, got)
			}
			e.verifyAudit()
		})
	}
}

// fixtureGenericExample is DESIGN.md's generic event, as the generic adapter's tests keep it.
func fixtureGenericExample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../provider/generic/testdata/event_design_example.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
