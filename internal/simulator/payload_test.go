package simulator

import (
	"bytes"
	"encoding/base64"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/simulator/persona"
)

func TestParseMix(t *testing.T) {
	tests := []struct {
		provider, mix string
		want          map[string]bool // outcomes that must be present
		wantErr       bool
	}{
		{Generic, "", map[string]bool{"clean": true, "pep": true, "sanctions": true, "highrisk": true}, false},
		{FPTAI, "demo", map[string]bool{"clean": true, "spoof": true, "lowconf": true, "error": true, "mismatch": true}, false},
		{FrankieOne, "risky", map[string]bool{"unacceptable": true, "unknownrisk": true}, false},
		{FPTAI, "pass=60,review=25,fail=15", map[string]bool{"clean": true, "lowconf": true, "error": true, "spoof": true, "mismatch": true}, false},
		{FrankieOne, "clean", map[string]bool{"clean": true}, false},
		{Generic, "clean=1, pep=1", map[string]bool{"clean": true, "pep": true}, false},
		{Generic, "spoof=10", nil, true},
		{Generic, "pass=-1", nil, true},
		{Generic, "pass", nil, true},
		{Generic, "clean=0", nil, true},
		{"acme", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.provider+" "+tt.mix, func(t *testing.T) {
			m, err := ParseMix(tt.provider, tt.mix)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("accepted, mix %s", m)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, n := range m.names {
				have[n] = true
			}
			for n := range tt.want {
				if !have[n] {
					t.Errorf("outcome %s missing from %s", n, m)
				}
			}
		})
	}
	// Class weights spread evenly over the class: review=30 for fptai is lowconf=15, error=15.
	m, _ := ParseMix(FPTAI, "review=30")
	if len(m.weights) != 2 || m.weights[0] != 15 || m.weights[1] != 15 {
		t.Errorf("review=30 → %v %v", m.names, m.weights)
	}
}

// findVerification generates verifications of outcome until ok accepts one.
func findVerification(t *testing.T, provider, outcome string, ooo float64, ok func(*Verification) bool) *Verification {
	t.Helper()
	mix, err := ParseMix(provider, outcome+"=1")
	if err != nil {
		t.Fatal(err)
	}
	g := newGenerator(99, provider, mix, 0, ooo, time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
	for i := range 500 {
		if v := g.verification(i); ok == nil || ok(v) {
			return v
		}
	}
	t.Fatalf("no %s %s verification matched", provider, outcome)
	return nil
}

func TestFPTAIShapes(t *testing.T) {
	srv := startServer(t)
	build := func(v *Verification, key string) any {
		srv.register(v)
		b, err := fptaiCallback(v, v.Latest(), srv, key)
		if err != nil {
			t.Fatal(err)
		}
		return decodeJSON(t, b)
	}

	t.Run("clean matches callback_success", func(t *testing.T) {
		v := findVerification(t, FPTAI, "clean", 0, nil)
		got, want := keyPaths(build(v, "")), keyPaths(fixture(t, "fptai/callback_success.json"))
		if m, extra := missing(want, got), missing(got, want); len(m)+len(extra) > 0 {
			t.Errorf("missing %v, extra %v", m, extra)
		}
		cb := build(v, "").(map[string]any)
		data := get(cb, "ocr", "data").([]any)
		front, back := data[0].(map[string]any), data[1].(map[string]any)
		if front["type_new"] != "cccd_12_front" || back["type_new"] != "new_back" {
			t.Errorf("type_new %v / %v", front["type_new"], back["type_new"])
		}
		if front["name"] != persona.Upper(v.Person.FullName()) || !strings.ContainsAny(front["name"].(string), "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ") && v.Person.Country == persona.Vietnam {
			t.Logf("name %v (no diacritics in this one is possible)", front["name"])
		}
		var mrz [3]string
		for i, l := range back["mrz"].([]any) {
			mrz[i] = l.(string)
		}
		if !persona.ValidMRZ(mrz) {
			t.Errorf("MRZ check digits wrong: %q", mrz)
		}
		if !persona.ValidCCCD(front["id"].(string), v.Person.DOB, v.Person.Sex) {
			t.Errorf("id %v does not fit dob/sex", front["id"])
		}
	})

	t.Run("lowconf and spoof match callback_spoof_lowconf", func(t *testing.T) {
		want := keyPaths(fixture(t, "fptai/callback_spoof_lowconf.json"))
		v := findVerification(t, FPTAI, "lowconf", 0, func(v *Verification) bool {
			b, _ := fptaiCallback(v, v.Latest(), srv, "")
			return bytes.Count(b, []byte(`"type_new"`)) == 1
		})
		got := without(keyPaths(build(v, "")), ".images")
		if m, extra := missing(want, got), missing(got, want); len(m)+len(extra) > 0 {
			t.Errorf("lowconf: missing %v, extra %v", m, extra)
		}
		cb := build(v, "")
		front := get(cb, "ocr", "data").([]any)[0].(map[string]any)
		if front["dob"] != "N/A" || front["dob_prob"] != "N/A" || !strings.HasSuffix(front["id"].(string), "N/A") {
			t.Errorf("lowconf front lacks N/A values: %v", front)
		}
		s := findVerification(t, FPTAI, "spoof", 0, nil)
		sp := build(s, "")
		if get(sp, "liveness", "is_live") != "false" || get(sp, "liveness", "need_to_review") != "true" {
			t.Errorf("spoof liveness %v", get(sp, "liveness"))
		}
		if m := missing(without(want, ".ocr"), keyPaths(sp)); len(m) > 0 {
			t.Errorf("spoof: missing %v", m)
		}
	})

	t.Run("error matches callback_error", func(t *testing.T) {
		v := findVerification(t, FPTAI, "error", 0, func(v *Verification) bool {
			b, _ := fptaiCallback(v, v.Latest(), srv, "")
			return v.Reference == "" && bytes.Contains(b, []byte(`"E102"`)) && bytes.Contains(b, []byte(`"303"`))
		})
		got := without(keyPaths(build(v, "")), ".images")
		want := keyPaths(fixture(t, "fptai/callback_error.json"))
		if m, extra := missing(want, got), missing(got, want); len(m)+len(extra) > 0 {
			t.Errorf("missing %v, extra %v", m, extra)
		}
		codes := map[string]bool{}
		for i := range 60 {
			mix, _ := ParseMix(FPTAI, "error=1")
			g := newGenerator(int64(i), FPTAI, mix, 0, 0, time.Now())
			cb := decodeJSON(t, must(fptaiCallback(g.verification(0), g.verification(0).Latest(), srv, "")))
			for _, part := range []string{"ocr", "liveness", "face_match"} {
				codes[get(cb, part, "code").(string)] = true
			}
		}
		for _, c := range []string{"E102", "-1", "303", "FC"} {
			if !codes[c] {
				t.Errorf("error code %s never produced (got %v)", c, sortedKeys(codes))
			}
		}
	})

	t.Run("wrapped matches callback_wrapped", func(t *testing.T) {
		v := findVerification(t, FPTAI, "clean", 0, nil)
		got := keyPaths(build(v, "ekyc_result"))
		want := keyPaths(fixture(t, "fptai/callback_wrapped.json"))
		if m := missing(want, got); len(m) > 0 {
			t.Errorf("missing %v", m)
		}
		if len(missing(got, want)) > 0 && !got[".ekyc_result.images"] {
			t.Errorf("unexpected extra keys %v", missing(got, want))
		}
	})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// designGenericExample is the example event in DESIGN.md, the generic format's contract.
func designGenericExample(t *testing.T) any {
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "DESIGN.md"))
	if err != nil {
		t.Fatal(err)
	}
	sec := string(b)[strings.Index(string(b), "## The generic event"):]
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindStringSubmatch(sec)
	if m == nil {
		t.Fatal("no JSON example in DESIGN.md's generic event section")
	}
	return decodeJSON(t, []byte(m[1]))
}

func TestGenericShape(t *testing.T) {
	srv := startServer(t)
	v := findVerification(t, Generic, "pep", 0, func(v *Verification) bool { return v.InlineFront })
	srv.register(v)
	b, err := genericEvent(v, v.Latest(), "verification.completed", srv)
	if err != nil {
		t.Fatal(err)
	}
	ev := decodeJSON(t, b)
	got, want := keyPaths(ev), keyPaths(designGenericExample(t))
	if m, extra := missing(want, got), missing(got, want); len(m)+len(extra) > 0 {
		t.Errorf("missing %v, extra %v", m, extra)
	}
	if _, err := time.Parse(time.RFC3339, get(ev, "occurred_at").(string)); err != nil {
		t.Errorf("occurred_at: %v", err)
	}
	docs := get(ev, "verification", "documents").([]any)
	front := docs[0].(map[string]any)
	raw, err := base64.StdEncoding.DecodeString(front["data_base64"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if _, format, err := image.DecodeConfig(bytes.NewReader(raw)); err != nil || format != "jpeg" {
		t.Errorf("inline front: %v %s", err, format)
	}
	var pepHit bool
	for _, c := range get(ev, "verification", "checks").([]any) {
		if c.(map[string]any)["kind"] == "pep" && c.(map[string]any)["result"] == "hit" {
			pepHit = true
		}
	}
	if !pepHit || get(ev, "verification", "result") != "review" || get(ev, "verification", "risk_level") != "high" {
		t.Errorf("pep outcome not a PEP hit for review: %s", b)
	}
}

func TestFrankieOneNotificationShapes(t *testing.T) {
	v := findVerification(t, FrankieOne, "clean", 0, nil)
	got := keyPaths(decodeJSON(t, must(frankieWorkflowNotice(v, v.Latest()))))
	want := keyPaths(fixture(t, "frankieone/webhook_workflow_complete.json"))
	if m, extra := missing(want, got), missing(got, want); len(m)+len(extra) > 0 {
		t.Errorf("WorkflowComplete: missing %v, extra %v", m, extra)
	}
	got = keyPaths(decodeJSON(t, must(frankieEntityNotice(v.Reference, "EntityStatusChanged", "Entity status changed", "01HZX4B1C2D3E4F5G6H7J8K9LM"))))
	want = keyPaths(fixture(t, "frankieone/webhook_status_changed_echo.json"))
	if m, extra := missing(want, got), missing(got, want); len(m)+len(extra) > 0 {
		t.Errorf("EntityStatusChanged: missing %v, extra %v", m, extra)
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	mix, _ := ParseMix(Generic, "demo")
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	a := newGenerator(7, Generic, mix, 0.2, 0.2, base)
	b := newGenerator(7, Generic, mix, 0.2, 0.2, base)
	same := 0
	refs := map[string]bool{}
	for i := range 300 {
		va, vb := a.verification(i), b.verification(i)
		if va.Reference != vb.Reference || va.Person.IDNumber != vb.Person.IDNumber || va.Latest().ID != vb.Latest().ID || va.Outcome != vb.Outcome {
			t.Fatalf("verification %d differs between runs with one seed", i)
		}
		if refs[va.Reference] {
			t.Fatalf("reference %s repeated", va.Reference)
		}
		refs[va.Reference] = true
		if va.SamePersonAs >= 0 {
			same++
			if a.verification(va.SamePersonAs).Person.IDNumber != va.Person.IDNumber {
				t.Errorf("verification %d should be the same person as %d", i, va.SamePersonAs)
			}
		}
	}
	if same == 0 || same > 30 {
		t.Errorf("%d of 300 verifications repeat a person, want a few", same)
	}
	if c := newGenerator(8, Generic, mix, 0, 0, base).verification(0); c.Reference == a.verification(0).Reference {
		t.Error("different seeds gave the same reference")
	}
}
