package fptai

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

var received = time.Date(2026, 11, 20, 8, 15, 0, 0, time.UTC)

func parseFixture(t testing.TB, name, dataKey string) *Callback {
	t.Helper()
	cb, err := Parse(testkit.Fixture(t, "fptai/"+name), dataKey)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return cb
}

// wantField is one expected OCR field; conf < 0 means no confidence.
type wantField struct {
	group, name, value string
	conf               float64
	missing            bool
	flag               string
}

func checkFields(t *testing.T, got []cases.Field, want []wantField) {
	t.Helper()
	if len(got) != len(want) {
		for _, f := range got {
			t.Logf("got field %s.%s = %q flag %q", f.Group, f.Name, f.Value, f.Flag)
		}
		t.Fatalf("got %d fields, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Group != w.group || g.Name != w.name || g.Value != w.value || g.Missing != w.missing || g.Flag != w.flag {
			t.Errorf("field %d = {%s %s %q missing=%v flag=%q}, want {%s %s %q missing=%v flag=%q}",
				i, g.Group, g.Name, g.Value, g.Missing, g.Flag, w.group, w.name, w.value, w.missing, w.flag)
		}
		switch {
		case w.conf < 0 && g.Confidence != nil:
			t.Errorf("field %s.%s confidence = %v, want none", w.group, w.name, *g.Confidence)
		case w.conf >= 0 && (g.Confidence == nil || !near(*g.Confidence, w.conf)):
			t.Errorf("field %s.%s confidence = %v, want %v", w.group, w.name, g.Confidence, w.conf)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// wantCheck is one expected check; score < 0 means no score.
type wantCheck struct {
	kind, result string
	score        float64
	code         string
	message      string // "" means any; prefix match otherwise
	details      string // "" means any; exact JSON otherwise
}

func checkChecks(t *testing.T, got []cases.Check, want []wantCheck) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d checks %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.kind || g.Result != w.result || g.Code != w.code {
			t.Errorf("check %d = {%s %s code %q}, want {%s %s code %q}", i, g.Kind, g.Result, g.Code, w.kind, w.result, w.code)
		}
		switch {
		case w.score < 0 && g.Score != nil:
			t.Errorf("check %s score = %v, want none", w.kind, *g.Score)
		case w.score >= 0 && (g.Score == nil || !near(*g.Score, w.score)):
			t.Errorf("check %s score = %v, want %v", w.kind, g.Score, w.score)
		}
		if w.message != "" && !strings.HasPrefix(g.Message, w.message) {
			t.Errorf("check %s message = %q, want %q", w.kind, g.Message, w.message)
		}
		if w.details != "" && string(g.Details) != w.details {
			t.Errorf("check %s details = %s, want %s", w.kind, g.Details, w.details)
		}
	}
}

func TestCallbackSuccess(t *testing.T) {
	cb := parseFixture(t, "callback_success.json", "")
	if cb.DeliveryID() != "b6d8f1c2-4e7a-4c3b-9f0d-2a1e5c7b9d10" {
		t.Errorf("DeliveryID = %q", cb.DeliveryID())
	}
	r := cb.Result(Options{ReceivedAt: received})

	if r.Reference != "cust-2026-000187" || r.Round != "b6d8f1c2-4e7a-4c3b-9f0d-2a1e5c7b9d10" || !r.OccurredAt.Equal(received) {
		t.Errorf("Reference/Round/OccurredAt = %q %q %v", r.Reference, r.Round, r.OccurredAt)
	}
	if r.Result != cases.ResultPass || r.RiskLevel != "" || r.RiskScore != nil || r.ProviderStatus != "" {
		t.Errorf("Result %q RiskLevel %q RiskScore %v", r.Result, r.RiskLevel, r.RiskScore)
	}
	if len(r.Flags) != 0 {
		t.Errorf("Flags = %q, want none", r.Flags)
	}
	wantApplicant := cases.Applicant{
		ExternalID:  "cust-2026-000187",
		FullName:    "NGUYỄN THỊ THU HƯƠNG",
		DateOfBirth: "1995-09-02",
		Sex:         "NỮ",
		Nationality: "VIỆT NAM",
		IDNumber:    "079195001234",
		Address:     "123 LÊ LỢI, PHƯỜNG BẾN THÀNH, QUẬN 1, TP. HỒ CHÍ MINH",
	}
	if r.Applicant != wantApplicant {
		t.Errorf("Applicant = %+v\nwant %+v", r.Applicant, wantApplicant)
	}
	checkFields(t, r.Fields, []wantField{
		{"front", "id", "079195001234", 99.41, false, ""},
		{"front", "name", "NGUYỄN THỊ THU HƯƠNG", 98.77, false, ""},
		{"front", "dob", "02/09/1995", 99.10, false, ""},
		{"front", "sex", "NỮ", 99.80, false, ""},
		{"front", "nationality", "VIỆT NAM", 99.90, false, ""},
		{"front", "home", "PHƯỜNG BẾN NGHÉ, QUẬN 1, TP. HỒ CHÍ MINH", 95.12, false, ""},
		{"front", "address", "123 LÊ LỢI, PHƯỜNG BẾN THÀNH, QUẬN 1, TP. HỒ CHÍ MINH", 93.40, false, ""},
		{"front", "address_entities.district", "QUẬN 1", -1, false, ""},
		{"front", "address_entities.province", "HỒ CHÍ MINH", -1, false, ""},
		{"front", "address_entities.street", "123 LÊ LỢI", -1, false, ""},
		{"front", "address_entities.ward", "PHƯỜNG BẾN THÀNH", -1, false, ""},
		{"front", "doe", "02/09/2035", 99.02, false, ""},
		{"front", "QRcode", "079195001234||Nguyễn Thị Thu Hương|02091995|Nữ|123 Lê Lợi, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh|15042021", -1, false, ""},
		{"back", "ethnicity", "KINH", 99.20, false, ""},
		{"back", "religion", "KHÔNG", 98.70, false, ""},
		{"back", "features", "NỐT RUỒI C:1CM DƯỚI SAU ĐUÔI MẮT TRÁI", 90.15, false, ""},
		{"back", "issue_date", "15/04/2021", 98.30, false, ""},
		{"back", "issue_loc", "CỤC TRƯỞNG CỤC CẢNH SÁT QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI", 97.55, false, ""},
		{"back", "mrz", "IDVNM1950012347079195001234<<7\n9509023F3509021VNM<<<<<<<<<<<2\nNGUYEN<<THI<THU<HUONG<<<<<<<<<", 96.70, false, ""},
	})
	checkChecks(t, r.Checks, []wantCheck{
		{kind: cases.KindDocument, result: cases.CheckPass, score: 0.971,
			details: `{"sides":[{"group":"front","type_new":"cccd_12_front","type":"new","overall_score":98.9},{"group":"back","type_new":"new_back","type":"new_back","overall_score":97.1}]}`},
		{kind: cases.KindLiveness, result: cases.CheckPass, score: 1 - 0.0213,
			details: `{"is_live":true,"spoof_prob":0.0213,"is_deepfake":false,"deepfake_prob":0.0041,"need_to_review":false}`},
		{kind: cases.KindFaceMatch, result: cases.CheckPass, score: 0.9783, details: `{"is_match":true,"similarity":97.83}`},
	})
	wantDocs := []cases.DocumentRef{
		{ProviderID: "b6d8f1c2-4e7a-4c3b-9f0d-2a1e5c7b9d10/front", Kind: cases.DocIDFront, URL: "http://127.0.0.1:9000/img/front/b6d8f1c2"},
		{ProviderID: "b6d8f1c2-4e7a-4c3b-9f0d-2a1e5c7b9d10/back", Kind: cases.DocIDBack, URL: "http://127.0.0.1:9000/img/back/b6d8f1c2"},
		{ProviderID: "b6d8f1c2-4e7a-4c3b-9f0d-2a1e5c7b9d10/selfie", Kind: cases.DocSelfie, URL: "http://127.0.0.1:9000/img/selfie/b6d8f1c2"},
	}
	if len(r.Documents) != len(wantDocs) {
		t.Fatalf("Documents = %+v", r.Documents)
	}
	for i, w := range wantDocs {
		g := r.Documents[i]
		if g.ProviderID != w.ProviderID || g.Kind != w.Kind || g.URL != w.URL || g.Data != nil {
			t.Errorf("document %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestCallbackSpoofLowConfidence(t *testing.T) {
	r := parseFixture(t, "callback_spoof_lowconf.json", "").Result(Options{ReceivedAt: received})

	if r.Reference != "cust-2026-000188" || r.Round != "0c4e9a7b-2d15-4f6e-8a3b-5d7c9e1f2a40" {
		t.Errorf("Reference/Round = %q %q", r.Reference, r.Round)
	}
	if r.Result != cases.ResultFail || r.RiskLevel != cases.RiskHigh {
		t.Errorf("Result %q RiskLevel %q, want fail high", r.Result, r.RiskLevel)
	}
	wantApplicant := cases.Applicant{
		ExternalID:  "cust-2026-000188",
		FullName:    "TRẦN VĂN ĐỨC",
		Sex:         "NAM",
		Nationality: "VIỆT NAM",
	}
	if r.Applicant != wantApplicant {
		t.Errorf("Applicant = %+v\nwant %+v", r.Applicant, wantApplicant)
	}
	checkFields(t, r.Fields, []wantField{
		{"front", "id", "", 61.20, true, "partly unreadable: 001099…; low confidence"},
		{"front", "name", "TRẦN VĂN ĐỨC", 88.04, false, ""},
		{"front", "dob", "", -1, true, "N/A"},
		{"front", "sex", "NAM", 97.00, false, ""},
		{"front", "nationality", "VIỆT NAM", 99.00, false, ""},
		{"front", "home", "HÀ NỘI", 70.10, false, "low confidence"},
		{"front", "address", "", -1, true, "N/A"},
		{"front", "doe", "31/12/2025", 95.00, false, ""},
	})
	checkChecks(t, r.Checks, []wantCheck{
		{kind: cases.KindDocument, result: cases.CheckReview, score: 0.724,
			message: "low confidence: front.id, front.home, front.overall_score; id not read; dob not read"},
		{kind: cases.KindLiveness, result: cases.CheckFail, score: 1 - 0.9312, message: "not live; deepfake suspected",
			details: `{"is_live":false,"spoof_prob":0.9312,"is_deepfake":true,"deepfake_prob":0.812,"need_to_review":true}`},
		{kind: cases.KindFaceMatch, result: cases.CheckFail, score: 0.4107, message: "face does not match the document"},
	})
	// Scores reach reviewers and API clients as written: 0.724, not 0.7240000000000001.
	for _, c := range r.Checks {
		if b, _ := json.Marshal(c.Score); c.Score != nil && len(b) > 6 {
			t.Errorf("check %s score %s is not rounded to four decimals", c.Kind, b)
		}
	}
	for _, want := range []string{"id: partly unreadable: 001099…; low confidence", "dob: N/A", "address: N/A", "risk level high: liveness shows a spoof or deepfake"} {
		if !contains(r.Flags, want) {
			t.Errorf("Flags %q lack %q", r.Flags, want)
		}
	}
	if len(r.Documents) != 0 {
		t.Errorf("Documents = %+v, want none (FPT.AI's own callback carries no images)", r.Documents)
	}
}

func TestCallbackError(t *testing.T) {
	cb := parseFixture(t, "callback_error.json", "")
	if cb.Reference() != "7a1b3c5d-9e2f-4a6b-8c0d-1e3f5a7b9c2d" {
		t.Errorf("Reference without client_uuid = %q, want the uuid", cb.Reference())
	}
	r := cb.Result(Options{ReceivedAt: received})
	if r.Reference != cb.UUID || r.Round != cb.UUID || r.Applicant.ExternalID != "" {
		t.Errorf("Reference %q Round %q ExternalID %q", r.Reference, r.Round, r.Applicant.ExternalID)
	}
	// 303 is "face is not matching": a failed match, so the case fails rather than waits.
	if r.Result != cases.ResultFail || r.RiskLevel != "" {
		t.Errorf("Result %q RiskLevel %q, want fail and no risk level", r.Result, r.RiskLevel)
	}
	if len(r.Fields) != 0 {
		t.Errorf("Fields = %+v, want none", r.Fields)
	}
	checkChecks(t, r.Checks, []wantCheck{
		{kind: cases.KindDocument, result: cases.CheckError, score: -1, code: "E102", message: "Document type is not supported"},
		{kind: cases.KindLiveness, result: cases.CheckError, score: -1, code: "-1", message: "unknown error", details: `{}`},
		{kind: cases.KindFaceMatch, result: cases.CheckFail, score: -1, code: "303", message: "face is not matching with document",
			details: `{"is_match":false}`},
	})
}

func TestCallbackWrapped(t *testing.T) {
	body := testkit.Fixture(t, "fptai/callback_wrapped.json")
	inner, err := Unwrap(body, "ekyc_result")
	if err != nil {
		t.Fatal(err)
	}
	var probe map[string]any
	if err := json.Unmarshal(inner, &probe); err != nil || probe["uuid"] != "5e2d8c1a-7b3f-4d9e-a0c6-3f1b2e4d6a88" || probe["customer_ref"] != nil {
		t.Fatalf("Unwrap gave %s", inner)
	}

	cb := parseFixture(t, "callback_wrapped.json", "ekyc_result")
	r := cb.Result(Options{ReceivedAt: received})
	if r.Reference != "cust-2026-000190" || r.Round != "5e2d8c1a-7b3f-4d9e-a0c6-3f1b2e4d6a88" || r.Result != cases.ResultPass {
		t.Errorf("Reference %q Round %q Result %q", r.Reference, r.Round, r.Result)
	}
	wantApplicant := cases.Applicant{
		ExternalID:  "cust-2026-000190",
		FullName:    "LÊ MINH KHOA",
		DateOfBirth: "2001-03-14",
		Sex:         "NAM",
		Nationality: "VIỆT NAM",
		IDNumber:    "001201004567",
		Address:     "123 LÊ LỢI, PHƯỜNG BẾN THÀNH, QUẬN 1, TP. HỒ CHÍ MINH",
	}
	if r.Applicant != wantApplicant {
		t.Errorf("Applicant = %+v\nwant %+v", r.Applicant, wantApplicant)
	}
	// A missing QR code is flagged on its field but is no reason to review.
	qr := r.Fields[len(r.Fields)-1]
	if qr.Name != "QRcode" || qr.Value != "" || !qr.Missing || qr.Flag != "N/A" {
		t.Errorf("QRcode field = %+v", qr)
	}
	checkChecks(t, r.Checks, []wantCheck{
		{kind: cases.KindDocument, result: cases.CheckPass, score: 0.989},
		{kind: cases.KindLiveness, result: cases.CheckPass, score: 1 - 0.0101},
		{kind: cases.KindFaceMatch, result: cases.CheckPass, score: 0.9315},
	})

	tests := []struct {
		name, dataKey, reason string
	}{
		{"wrapped body read without its key", "", "uuid is missing"},
		{"wrong key", "result", `callback data key "result" is missing`},
		{"key naming a string that is not JSON", "customer_ref", `callback data key "customer_ref" must hold an object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(body, tt.dataKey)
			assertShape(t, err, tt.reason)
		})
	}
	// A proxy that double-encodes the result as a JSON string still works.
	quoted, _ := json.Marshal(map[string]any{"ekyc_result": string(inner)})
	if cb2, err := Parse(quoted, "ekyc_result"); err != nil || cb2.UUID != cb.UUID {
		t.Errorf("double-encoded: %v", err)
	}
}

func assertShape(t *testing.T, err error, reason string) {
	t.Helper()
	var se *provider.ShapeError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want *provider.ShapeError", err, err)
	}
	if se.Reason != reason {
		t.Errorf("reason = %q, want %q", se.Reason, reason)
	}
}

func TestParseRejects(t *testing.T) {
	long := strings.Repeat("a", MaxIDLen+1)
	tests := []struct {
		name, body, reason string
	}{
		{"array", `[{"uuid":"u"}]`, "body must be a JSON object"},
		{"not JSON", `{"uuid":`, "body is not valid JSON (at byte 8)"},
		{"no uuid", `{"ocr":{"code":"200","data":[]}}`, "uuid is missing"},
		{"N/A uuid", `{"uuid":"N/A","ocr":{}}`, "uuid is missing"},
		{"uuid object", `{"uuid":{"a":1},"ocr":{}}`, "uuid must be a string"},
		{"long uuid", `{"uuid":"` + long + `","ocr":{}}`, "uuid is longer than 200 characters"},
		{"client_uuid with newline", `{"uuid":"u","client_uuid":"a\nb","ocr":{}}`, "client_uuid contains control characters"},
		{"no section", `{"uuid":"u","code":"200"}`, "callback has none of ocr, liveness, face_match"},
		{"null sections", `{"uuid":"u","ocr":null,"liveness":null,"face_match":null}`, "callback has none of ocr, liveness, face_match"},
		{"ocr a string", `{"uuid":"u","ocr":"failed"}`, "ocr must be an object"},
		{"liveness an array", `{"uuid":"u","liveness":[]}`, "liveness must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.body), "")
			assertShape(t, err, tt.reason)
		})
	}
}

// TestOddValuesAreFlaggedNotFatal: one strange field never loses the session.
func TestOddValuesAreFlaggedNotFatal(t *testing.T) {
	body := `{"uuid": 12345, "code": "500", "message": "partial",
		"ocr": {"code": 200, "data": {"id": 79195001234, "id_prob": 99, "name": "Nguyễn Văn A", "dob": "31/02/1990",
			"doe": "KHÔNG THỜI HẠN", "sex": "Nam", "mrz": "IDVNM1950012347079195001234<<7 9509023F3509021VNM<<<<<<<<<<<2"}},
		"liveness": {"is_live": true, "spoof_prob": 0.5, "need_to_review": "N/A"},
		"face_match": {"code": "200", "isMatch": "N/A", "similarity": "N/A"},
		"images": {"front": "data:image/jpeg;base64,/9j/4A==", "back": "aGVsbG8", "selfie": "ftp://x/y", "extra": "https://x/z", "bad": 5}}`
	cb, err := Parse([]byte(body), "")
	if err != nil {
		t.Fatal(err)
	}
	r := cb.Result(Options{ReceivedAt: received})
	if r.Reference != "12345" || r.Result != cases.ResultReview {
		t.Errorf("Reference %q Result %q", r.Reference, r.Result)
	}
	if r.Applicant.DateOfBirth != "" || r.Applicant.DateOfBirthRaw != "31/02/1990" {
		t.Errorf("dob %q raw %q", r.Applicant.DateOfBirth, r.Applicant.DateOfBirthRaw)
	}
	byName := map[string]cases.Field{}
	for _, f := range r.Fields {
		byName[f.Name] = f
	}
	if f := byName["doe"]; f.Flag != "no expiry date" || f.Value != "KHÔNG THỜI HẠN" {
		t.Errorf("doe = %+v", f)
	}
	if f := byName["dob"]; f.Flag != "unparsable date" {
		t.Errorf("dob = %+v", f)
	}
	if f := byName["id"]; f.Value != "79195001234" || f.Flag != "not a 12-digit CCCD number" {
		t.Errorf("id = %+v", f)
	}
	if f := byName["mrz"]; f.Flag != "MRZ is not 3 lines of 30 characters" {
		t.Errorf("mrz = %+v", f)
	}
	for _, want := range []string{
		"callback code 500: partial", "dob: unparsable date", "id: not a 12-digit CCCD number",
		"images.selfie: neither an http(s) URL nor base64: ignored", "images.bad is not a string: ignored",
		"images.extra: unknown image name: ignored",
	} {
		if !contains(r.Flags, want) {
			t.Errorf("Flags %q lack %q", r.Flags, want)
		}
	}
	checkChecks(t, r.Checks, []wantCheck{
		{kind: cases.KindDocument, result: cases.CheckReview, score: -1},
		{kind: cases.KindLiveness, result: cases.CheckPass, score: 0.5},
		{kind: cases.KindFaceMatch, result: cases.CheckReview, score: -1, message: "isMatch missing"},
	})
	if len(r.Documents) != 2 ||
		r.Documents[0].Kind != cases.DocIDFront || r.Documents[0].ContentType != "image/jpeg" || !bytes.Equal(r.Documents[0].Data, []byte{0xff, 0xd8, 0xff, 0xe0}) ||
		r.Documents[1].Kind != cases.DocIDBack || string(r.Documents[1].Data) != "hello" {
		t.Errorf("Documents = %+v", r.Documents)
	}
}

func TestLowConfidenceThreshold(t *testing.T) {
	cb := parseFixture(t, "callback_success.json", "")
	tests := []struct {
		threshold float64
		want      string
	}{
		{0, cases.ResultPass},    // default 80
		{90.1, cases.ResultPass}, // lowest field is features at 90.15
		{90.2, cases.ResultReview},
		{99.95, cases.ResultReview},
	}
	for _, tt := range tests {
		if got := cb.Result(Options{LowConfidence: tt.threshold}).Result; got != tt.want {
			t.Errorf("threshold %v: Result = %q, want %q", tt.threshold, got, tt.want)
		}
	}
}

// TestNoNAValues: "N/A" is FPT.AI's word for missing and must never reach a value.
func TestNoNAValues(t *testing.T) {
	for _, fx := range []struct{ name, key string }{
		{"callback_success.json", ""}, {"callback_spoof_lowconf.json", ""}, {"callback_error.json", ""}, {"callback_wrapped.json", "ekyc_result"},
	} {
		t.Run(fx.name, func(t *testing.T) {
			r := parseFixture(t, fx.name, fx.key).Result(Options{})
			assertNoNA(t, r)
		})
	}
}

func assertNoNA(t testing.TB, r cases.Result) {
	t.Helper()
	for _, f := range r.Fields {
		if strings.Contains(strings.ToUpper(f.Value), "N/A") {
			t.Errorf("field %s.%s value %q holds N/A", f.Group, f.Name, f.Value)
		}
	}
	a := r.Applicant
	for _, v := range []string{a.ExternalID, a.FullName, a.DateOfBirth, a.DateOfBirthRaw, a.Sex, a.Nationality, a.IDNumber, a.Address} {
		if strings.Contains(strings.ToUpper(v), "N/A") {
			t.Errorf("applicant value %q holds N/A", v)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func FuzzParse(f *testing.F) {
	for _, fx := range []struct{ name, key string }{
		{"callback_success.json", ""}, {"callback_spoof_lowconf.json", ""}, {"callback_error.json", ""},
		{"callback_wrapped.json", "ekyc_result"}, {"callback_wrapped.json", ""},
	} {
		f.Add(testkit.Fixture(f, "fptai/"+fx.name), fx.key)
	}
	f.Fuzz(func(t *testing.T, body []byte, dataKey string) {
		cb, err := Parse(body, dataKey)
		if err != nil {
			var se *provider.ShapeError
			if !errors.As(err, &se) || se.Reason == "" {
				t.Fatalf("error is not a ShapeError with a reason: %v", err)
			}
			return
		}
		if cb.UUID == "" || cb.Reference() == "" {
			t.Fatal("accepted callback without identity")
		}
		r := cb.Result(Options{ReceivedAt: received})
		switch r.Result {
		case cases.ResultPass, cases.ResultFail, cases.ResultReview:
		default:
			t.Fatalf("Result = %q", r.Result)
		}
		assertNoNA(t, r)
		if r.Applicant.DateOfBirth != "" {
			if _, err := time.Parse(time.DateOnly, r.Applicant.DateOfBirth); err != nil {
				t.Fatalf("DateOfBirth %q is not ISO", r.Applicant.DateOfBirth)
			}
		}
	})
}
