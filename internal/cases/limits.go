package cases

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on one provider result. A result within them is applied in a few milliseconds
// (BenchmarkApplyWorstAllowed) and shown whole; the generic webhook refuses an event over
// them with 400 naming the limit, while results the worker fetches (FrankieOne) or that are
// the record (FPT.AI callbacks) are kept within them and flagged: one odd provider answer
// never fails the whole case. README "Configuration" lists them.
const (
	MaxChecks      = 200 // checks per result
	MaxDocuments   = 20  // documents (images) per result
	MaxFields      = 100 // extracted (OCR) fields per result
	MaxIssues      = 50  // provider issues per result
	MaxRiskFactors = 50  // risk factors per result
	MaxFlags       = 100 // mapping notes per result
	MaxNameLen     = 256 // characters of a full, given, middle or family name
	MaxAddressLen  = 1000
	MaxShortLen    = 128 // characters of an external id, ID number, nationality, sex, date of birth, codes, kinds
	MaxTextLen     = 256 // characters of a check message, issue, field value, risk factor description
	// MaxDetailsBytes bounds one check's details (JSON), and MaxCheckTextBytes all checks'
	// details and messages together: 200 checks may each say a little, not each say a lot.
	MaxDetailsBytes   = 2048
	MaxCheckTextBytes = 32 << 10
)

// bound keeps r within the limits above, flagging every cut. Slices are copied before they
// change: the caller's Result is not modified.
func bound(r *Result) {
	var flags []string
	cut := func(what string, s *string, max int) bool {
		if len(*s) <= max || utf8.RuneCountInString(*s) <= max { // bytes ≥ characters
			return false
		}
		*s = truncateRunes(*s, max)
		flags = append(flags, fmt.Sprintf("%s cut to %d characters", what, max))
		return true
	}
	ap := &r.Applicant
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{
		{"applicant full name", &ap.FullName, MaxNameLen},
		{"applicant given name", &ap.GivenName, MaxNameLen},
		{"applicant middle name", &ap.MiddleName, MaxNameLen},
		{"applicant family name", &ap.FamilyName, MaxNameLen},
		{"applicant address", &ap.Address, MaxAddressLen},
		{"applicant external id", &ap.ExternalID, MaxShortLen},
		{"applicant date of birth", &ap.DateOfBirth, MaxShortLen},
		{"applicant date of birth (as given)", &ap.DateOfBirthRaw, MaxShortLen},
		{"applicant sex", &ap.Sex, MaxShortLen},
		{"applicant nationality", &ap.Nationality, MaxShortLen},
		{"applicant ID number", &ap.IDNumber, MaxShortLen},
	} {
		cut(f.name, f.v, f.max)
	}
	cut("provider status", &r.ProviderStatus, MaxShortLen)

	if len(r.Checks) > MaxChecks {
		flags = append(flags, fmt.Sprintf("%d checks beyond the limit of %d left out", len(r.Checks)-MaxChecks, MaxChecks))
		r.Checks = r.Checks[:MaxChecks:MaxChecks]
	}
	budget, overBudget := MaxCheckTextBytes, 0
	r.Checks = boundEach(r.Checks, func(c *Check) bool {
		changed := cut("check kind", &c.Kind, MaxShortLen)
		changed = cut("check result", &c.Result, MaxShortLen) || changed
		changed = cut("check code", &c.Code, MaxShortLen) || changed
		changed = cut("check source", &c.Source, MaxShortLen) || changed
		changed = cut("check message", &c.Message, MaxTextLen) || changed
		if len(c.Details) > MaxDetailsBytes {
			c.Details = nil
			flags = append(flags, fmt.Sprintf("check details over %d bytes left out", MaxDetailsBytes))
			changed = true
		}
		if n := len(c.Details) + len(c.Message); n > budget {
			c.Details, c.Message = nil, ""
			overBudget++
			changed = true
		} else {
			budget -= n
		}
		return changed
	})
	if overBudget > 0 {
		flags = append(flags, fmt.Sprintf("details and message of %d checks left out: over %d KiB per result",
			overBudget, MaxCheckTextBytes>>10))
	}
	if len(r.Fields) > MaxFields {
		flags = append(flags, fmt.Sprintf("%d extracted fields beyond the limit of %d left out", len(r.Fields)-MaxFields, MaxFields))
		r.Fields = r.Fields[:MaxFields:MaxFields]
	}
	r.Fields = boundEach(r.Fields, func(f *Field) bool {
		changed := cut("field group", &f.Group, MaxShortLen)
		changed = cut("field name", &f.Name, MaxShortLen) || changed
		changed = cut("field value", &f.Value, MaxTextLen) || changed
		return cut("field flag", &f.Flag, MaxTextLen) || changed
	})
	if len(r.Issues) > MaxIssues {
		flags = append(flags, fmt.Sprintf("%d issues beyond the limit of %d left out", len(r.Issues)-MaxIssues, MaxIssues))
		r.Issues = r.Issues[:MaxIssues:MaxIssues]
	}
	r.Issues = boundEach(r.Issues, func(is *Issue) bool {
		changed := cut("issue category", &is.Category, MaxShortLen)
		changed = cut("issue severity", &is.Severity, MaxShortLen) || changed
		return cut("issue", &is.Issue, MaxTextLen) || changed
	})
	if len(r.RiskFactors) > MaxRiskFactors {
		flags = append(flags, fmt.Sprintf("%d risk factors beyond the limit of %d left out", len(r.RiskFactors)-MaxRiskFactors, MaxRiskFactors))
		r.RiskFactors = r.RiskFactors[:MaxRiskFactors:MaxRiskFactors]
	}
	r.RiskFactors = boundEach(r.RiskFactors, func(f *RiskFactor) bool {
		changed := cut("risk factor", &f.Factor, MaxShortLen)
		changed = cut("risk factor value", &f.Value, MaxTextLen) || changed
		return cut("risk factor description", &f.Description, MaxTextLen) || changed
	})

	// The adapters' own flags, then the cuts, each said once, within MaxFlags.
	all := make([]string, 0, len(r.Flags)+len(flags))
	seen := make(map[string]bool, len(r.Flags)+len(flags))
	for _, f := range append(append([]string(nil), r.Flags...), flags...) {
		f = truncateRunes(f, MaxTextLen)
		if seen[f] {
			continue
		}
		seen[f] = true
		all = append(all, f)
	}
	if len(all) > MaxFlags {
		n := len(all) - (MaxFlags - 1)
		all = append(all[:MaxFlags-1], fmt.Sprintf("%d more mapping notes left out", n))
	}
	r.Flags = all
}

// boundDocuments keeps the first MaxDocuments documents of a result; the flag says how many
// were left out (empty when none were).
func boundDocuments(docs []DocumentRef) ([]DocumentRef, string) {
	if len(docs) <= MaxDocuments {
		return docs, ""
	}
	return docs[:MaxDocuments:MaxDocuments],
		fmt.Sprintf("%d documents beyond the limit of %d left out", len(docs)-MaxDocuments, MaxDocuments)
}

// boundEach applies fix to a copy of each element; a new slice is made only when fix says it
// changed one, so the caller's slice is never written.
func boundEach[T any](xs []T, fix func(*T) bool) []T {
	var out []T
	for i := range xs {
		x := xs[i]
		if !fix(&x) {
			continue
		}
		if out == nil {
			out = make([]T, len(xs))
			copy(out, xs)
		}
		out[i] = x
	}
	if out == nil {
		return xs
	}
	return out
}

// truncateRunes returns s cut to at most max characters, on a character boundary.
func truncateRunes(s string, max int) string {
	if len(s) <= max { // bytes ≥ characters
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return strings.ToValidUTF8(s[:i], "")
		}
		n++
	}
	return s
}
