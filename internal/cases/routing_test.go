package cases_test

import (
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
)

func TestRoute(t *testing.T) {
	start := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	rt := cases.Routing{SLA: map[string]time.Duration{cases.RiskHigh: 2 * time.Hour, cases.RiskMedium: 12 * time.Hour}}
	pep := cases.Check{Kind: cases.KindPEP, Result: cases.CheckHit}
	sanctions := cases.Check{Kind: cases.KindSanctions, Result: cases.CheckHit}
	aml := cases.Check{Kind: cases.KindAML, Result: cases.CheckHit}
	clearPEP := cases.Check{Kind: cases.KindPEP, Result: cases.CheckPass}
	doc := cases.Check{Kind: cases.KindDocument, Result: cases.CheckPass}

	tests := []struct {
		name        string
		src         cases.Source
		result      string
		risk        string
		checks      []cases.Check
		wantRisk    string
		wantDerived bool
		wantFour    bool
		wantSLA     time.Duration
		wantAuto    bool
		wantQueue   string
	}{
		{name: "provider risk kept", result: cases.ResultPass, risk: cases.RiskMedium, wantRisk: cases.RiskMedium, wantSLA: 12 * time.Hour, wantQueue: "default"},
		{name: "provider high: four-eyes", result: cases.ResultReview, risk: cases.RiskHigh, wantRisk: cases.RiskHigh, wantFour: true, wantSLA: 2 * time.Hour},
		{name: "derived: fail → high", result: cases.ResultFail, wantRisk: cases.RiskHigh, wantDerived: true, wantFour: true, wantSLA: 2 * time.Hour},
		{name: "derived: review with PEP hit → high", result: cases.ResultReview, checks: []cases.Check{doc, pep}, wantRisk: cases.RiskHigh, wantDerived: true, wantFour: true, wantSLA: 2 * time.Hour},
		{name: "derived: review with AML hit → high", result: cases.ResultReview, checks: []cases.Check{aml}, wantRisk: cases.RiskHigh, wantDerived: true, wantFour: true, wantSLA: 2 * time.Hour},
		{name: "derived: review → medium", result: cases.ResultReview, checks: []cases.Check{doc, clearPEP}, wantRisk: cases.RiskMedium, wantDerived: true, wantSLA: 12 * time.Hour},
		{name: "derived: pass → low, default SLA 72h", result: cases.ResultPass, checks: []cases.Check{doc}, wantRisk: cases.RiskLow, wantDerived: true, wantSLA: 72 * time.Hour},
		{name: "unknown provider risk word → derived", result: cases.ResultPass, risk: "UNKNOWN", wantRisk: cases.RiskLow, wantDerived: true, wantSLA: 72 * time.Hour},
		{name: "low risk with PEP hit: four-eyes", result: cases.ResultReview, risk: cases.RiskLow, checks: []cases.Check{pep}, wantRisk: cases.RiskLow, wantFour: true, wantSLA: 72 * time.Hour},
		{name: "sanctions hit: four-eyes", result: cases.ResultReview, risk: cases.RiskMedium, checks: []cases.Check{sanctions}, wantRisk: cases.RiskMedium, wantFour: true, wantSLA: 12 * time.Hour},
		{name: "auto-approve off by default", result: cases.ResultPass, risk: cases.RiskLow, wantRisk: cases.RiskLow, wantSLA: 72 * time.Hour},
		{name: "auto-approve: pass, low, no hits", src: cases.Source{AutoApprove: true, Queue: "vn-retail"}, result: cases.ResultPass, risk: cases.RiskLow, checks: []cases.Check{doc, clearPEP}, wantRisk: cases.RiskLow, wantSLA: 72 * time.Hour, wantAuto: true, wantQueue: "vn-retail"},
		{name: "auto-approve: derived low counts", src: cases.Source{AutoApprove: true}, result: cases.ResultPass, wantRisk: cases.RiskLow, wantDerived: true, wantSLA: 72 * time.Hour, wantAuto: true},
		{name: "no auto-approve: medium risk", src: cases.Source{AutoApprove: true}, result: cases.ResultPass, risk: cases.RiskMedium, wantRisk: cases.RiskMedium, wantSLA: 12 * time.Hour},
		{name: "no auto-approve: review", src: cases.Source{AutoApprove: true}, result: cases.ResultReview, risk: cases.RiskLow, wantRisk: cases.RiskLow, wantSLA: 72 * time.Hour},
		{name: "no auto-approve: a hit", src: cases.Source{AutoApprove: true}, result: cases.ResultPass, risk: cases.RiskLow, checks: []cases.Check{aml}, wantRisk: cases.RiskLow, wantSLA: 72 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cases.Result{Result: tt.result, RiskLevel: tt.risk, Checks: tt.checks}
			got := rt.Route(tt.src, &r, start)
			if got.RiskLevel != tt.wantRisk || got.RiskDerived != tt.wantDerived {
				t.Errorf("risk = %s derived %v, want %s derived %v", got.RiskLevel, got.RiskDerived, tt.wantRisk, tt.wantDerived)
			}
			if got.RiskDerived != (len(got.Flags) == 1) {
				t.Errorf("flags = %q: a derived risk level is flagged, a provider's is not", got.Flags)
			}
			if got.FourEyes != tt.wantFour {
				t.Errorf("four-eyes = %v, want %v", got.FourEyes, tt.wantFour)
			}
			if want := start.Add(tt.wantSLA); !got.SLADue.Equal(want) {
				t.Errorf("SLA due = %s, want %s", got.SLADue, want)
			}
			if got.AutoApprove != tt.wantAuto {
				t.Errorf("auto-approve = %v, want %v", got.AutoApprove, tt.wantAuto)
			}
			wantQueue := tt.wantQueue
			if wantQueue == "" {
				wantQueue = cases.DefaultQueue
			}
			if got.Queue != wantQueue {
				t.Errorf("queue = %q, want %q", got.Queue, wantQueue)
			}
		})
	}
}

func TestSniffContentType(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		want  string
		allow bool
	}{
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01rest"), "image/jpeg", true},
		{"png", pngPixel, "image/png", true},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"), "image/webp", true},
		{"pdf", []byte("%PDF-1.7\n%âãÏÓ\n"), "application/pdf", true},
		{"html", []byte("<!DOCTYPE html><html><script>alert(1)</script>"), "text/html", false},
		{"riff but not webp", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), "audio/wave", false},
		{"text", []byte("just some text"), "text/plain", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cases.SniffContentType(tt.data)
			if got != tt.want || cases.AllowedContentType(got) != tt.allow {
				t.Errorf("SniffContentType = %q (allowed %v), want %q (allowed %v)", got, cases.AllowedContentType(got), tt.want, tt.allow)
			}
		})
	}
}
