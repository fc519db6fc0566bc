package views

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider/fptai"
)

// How the queue and case pages put case data into words. Kept apart from the templates so
// that the wording is one place and tested (case_format_test.go).

// dueText says how far an SLA due time is from now, as a reviewer reads it at a glance:
// "in 3 h", "overdue by 20 min". overdue tells the page to show it in red.
func dueText(due, now time.Time) (text string, overdue bool) {
	d := due.Sub(now)
	if d < 0 {
		return "overdue by " + span(-d), true
	}
	if d < time.Minute {
		return "due now", false
	}
	return "in " + span(d), false
}

// agoText is a past moment relative to now: "5 min ago", "2 d ago".
func agoText(t, now time.Time) string {
	d := now.Sub(t)
	if d < time.Minute {
		return "just now"
	}
	return span(d) + " ago"
}

// span is a duration rounded down to the unit a person thinks in at that size.
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under 1 min"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d d", int(d/(24*time.Hour)))
}

// stamp is a time as the pages print it: UTC, to the minute (the title attribute and the
// audit trail carry the precise value).
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// label turns a stored word into a reviewer's: "awaiting_second_approval" → "Awaiting second
// approval", with the few that need more than that spelled out.
func label(word string) string {
	if l, ok := labels[word]; ok {
		return l
	}
	if word == "" {
		return ""
	}
	s := strings.ReplaceAll(word, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

var labels = map[string]string{
	cases.QueueMine:                    "Mine",
	cases.QueueSecondApproval:          "Second approval",
	cases.QueuePendingInfo:             "Pending info",
	cases.StatusAwaitingSecondApproval: "Awaiting 2nd approval",
	cases.KindAML:                      "AML",
	cases.KindPEP:                      "PEP",
	cases.KindFaceMatch:                "Face match",
	cases.DocIDFront:                   "ID front",
	cases.DocIDBack:                    "ID back",
	cases.DocProofOfAddress:            "Proof of address",
	cases.EventResultReceived:          "Result received",
	cases.EventResultIgnored:           "Older result ignored",
	cases.EventProviderConfirmed:       "Provider confirmed our decision",
	cases.EventDocumentReplaced:        "Document replaced",
	cases.EventStatusChanged:           "Status changed",
	"fptai":                            "FPT.AI",
	"frankieone":                       "FrankieOne",
	"generic":                          "Generic",
	"pass":                             "Pass",
	"fail":                             "Fail",
	"review":                           "Review",
	"hit":                              "Hit",
	"error":                            "Error",
	"low":                              "Low",
	"medium":                           "Medium",
	"high":                             "High",
	"approve":                          "Approved",
	"reject":                           "Rejected",
}

// queueEmpty is what an empty queue says, so that an empty list reads as good news or as a
// hint, never as a fault.
var queueEmpty = map[string]string{
	cases.QueueUnassigned:     "No cases waiting — new verifications appear here as providers send them.",
	cases.QueueMine:           "Nothing is assigned to you. Cases you take on appear here until they are decided.",
	cases.QueueEscalated:      "No escalated cases.",
	cases.QueuePendingInfo:    "No cases are waiting for more information.",
	cases.QueueSecondApproval: "No cases are waiting for a second approval.",
	cases.QueueDecided:        "No decisions yet — approved and rejected cases are listed here, newest first.",
}

// percent prints a score or confidence as a percentage. Providers give 0–1 (scores, most
// confidences) or 0–100 (FPT.AI's *_prob): a value above 1 is taken as already in percent.
func percent(v *float64) string {
	if v == nil {
		return ""
	}
	p := asPercent(*v)
	if math.Abs(p-math.Round(p)) < 0.05 {
		return strconv.Itoa(int(math.Round(p))) + "%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// asPercent reads a 0–1 value as a fraction and anything above 1 as already in percent.
func asPercent(v float64) float64 {
	if v <= 1 {
		return v * 100
	}
	return v
}

// lowConfidence is a field highlighted for its OCR confidence: flagged by the provider
// mapping, or under the threshold the FPT.AI adapter flags with.
func lowConfidence(f cases.Field) bool {
	if strings.Contains(f.Flag, "low confidence") {
		return true
	}
	if f.Confidence == nil {
		return false
	}
	return asPercent(*f.Confidence) < fptai.DefaultLowConfidence
}

// missingValue reports a value that is not there, whatever word the provider used for it:
// such a value is shown as "missing", never printed.
func missingValue(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || strings.EqualFold(s, "N/A") || strings.EqualFold(s, "null")
}

// fieldMissing is a field with no usable value.
func fieldMissing(f cases.Field) bool { return f.Missing || missingValue(f.Value) }

// noteText rewords a mapping note for the page: "N/A" is the provider's placeholder, not a
// value, and is shown as what it means; a bare "missing" repeats what the value cell says.
func noteText(flag string) string {
	parts := strings.Split(flag, "; ")
	out := parts[:0]
	for _, p := range parts {
		switch strings.TrimSpace(p) {
		case "", "missing", "N/A":
			continue
		}
		out = append(out, strings.ReplaceAll(p, "N/A", "not available"))
	}
	return strings.Join(out, "; ")
}

// flagClass marks the mapping notes a reviewer must not miss.
func flagClass(flag string) string {
	switch {
	case strings.Contains(flag, "refused"), strings.Contains(flag, "not retrieved"):
		return "flag bad"
	case strings.Contains(flag, "derived"), strings.Contains(flag, "low confidence"), strings.Contains(flag, "mismatch"):
		return "flag warn"
	}
	return "flag"
}

// detailPair is one entry of a check's provider details.
type detailPair struct{ Key, Value string }

// checkDetails lays out a check's provider details (matched name, PEP level, similarity ...)
// as key/value pairs, keys sorted; nested values stay compact JSON.
func checkDetails(raw json.RawMessage) []detailPair {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return []detailPair{{"details", string(raw)}}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]detailPair, 0, len(keys))
	for _, k := range keys {
		s := detailText(m[k])
		if missingValue(s) {
			s = "—"
		}
		out = append(out, detailPair{strings.ReplaceAll(k, "_", " "), s})
	}
	return out
}

// detailText prints one detail value: a string as it is, a list one item per line, an
// object as "key value" pairs, anything else as compact JSON.
func detailText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		lines := make([]string, len(list))
		for i, item := range list {
			lines[i] = detailText(item)
		}
		return strings.Join(lines, "\n")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		parts := make([]string, 0, len(obj))
		for _, p := range checkDetails(raw) {
			parts = append(parts, p.Key+" "+p.Value)
		}
		return strings.Join(parts, " · ")
	}
	return string(raw)
}

// docURL is where a document's bytes are served (after authorisation, audited).
func docURL(caseID, docID string) templ.SafeURL {
	return templ.SafeURL("/cases/" + url.PathEscape(caseID) + "/documents/" + url.PathEscape(docID))
}

func caseURL(caseID string) templ.SafeURL {
	return templ.SafeURL("/cases/" + url.PathEscape(caseID))
}

func isImage(contentType string) bool { return strings.HasPrefix(contentType, "image/") }

// size prints a byte count the way a file list does.
func size(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.0f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
}

// present is a value that is there (see the templates' valueOrMissing).
func present(s string) bool { return !missingValue(s) }
