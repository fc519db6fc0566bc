package views

import (
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
)

func TestDueText(t *testing.T) {
	now := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		due     time.Duration
		text    string
		overdue bool
	}{
		{3*time.Hour + 59*time.Minute, "in 3 h", false},
		{45 * time.Minute, "in 45 min", false},
		{30 * time.Second, "due now", false},
		{-20 * time.Minute, "overdue by 20 min", true},
		{-26 * time.Hour, "overdue by 26 h", true},
		{-72 * time.Hour, "overdue by 3 d", true},
		{-10 * time.Second, "overdue by under 1 min", true},
		{50 * time.Hour, "in 2 d", false},
	}
	for _, tt := range tests {
		text, overdue := dueText(now.Add(tt.due), now)
		if text != tt.text || overdue != tt.overdue {
			t.Errorf("due %s: %q %v, want %q %v", tt.due, text, overdue, tt.text, tt.overdue)
		}
	}
}

func TestPercentAndConfidence(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for in, want := range map[float64]string{0.97: "97%", 0.974: "97.4%", 98.77: "98.8%", 1: "100%", 0: "0%", 61.2: "61.2%"} {
		if got := percent(f(in)); got != want {
			t.Errorf("percent(%v) = %q, want %q", in, got, want)
		}
	}
	if percent(nil) != "" {
		t.Error("no score must print nothing")
	}
	for _, tt := range []struct {
		f    cases.Field
		want bool
	}{
		{cases.Field{Confidence: f(61.2)}, true},
		{cases.Field{Confidence: f(0.62)}, true},
		{cases.Field{Confidence: f(95)}, false},
		{cases.Field{Flag: "low confidence"}, true},
		{cases.Field{}, false},
	} {
		if got := lowConfidence(tt.f); got != tt.want {
			t.Errorf("lowConfidence(%+v) = %v", tt.f, got)
		}
	}
}

func TestNoteTextNeverPrintsNA(t *testing.T) {
	for in, want := range map[string]string{
		"N/A":                      "",
		"missing":                  "",
		"N/A; low confidence":      "low confidence",
		"dob: N/A":                 "dob: not available",
		"unparsable date":          "unparsable date",
		"missing; unparsable date": "unparsable date",
	} {
		if got := noteText(in); got != want {
			t.Errorf("noteText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckDetails(t *testing.T) {
	got := checkDetails([]byte(`{"matched_name":"NGUYEN THU HUONG","level":"tier 2","sides":[{"group":"front","score":98.9}],"x":"N/A"}`))
	want := []detailPair{{"level", "tier 2"}, {"matched name", "NGUYEN THU HUONG"}, {"sides", "group front · score 98.9"}, {"x", "—"}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("pair %d = %v, want %v", i, got[i], want[i])
		}
	}
}
