package generic

import (
	"unicode/utf8"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider"
)

// checkLimits refuses an event over the case limits (internal/cases, README "Configuration"):
// the generic event is the result itself and the format is ours, so the sender is told
// which limit it passed (400) rather than having the event cut. Counts are checked before
// anything is decoded further, so an event with 12,000 checks costs no more than its parse.
func (e *Event) checkLimits() error {
	v := &e.Verification
	switch {
	case len(v.Checks) > cases.MaxChecks:
		return provider.Shapef("verification.checks: at most %d checks per event", cases.MaxChecks)
	case len(v.Documents) > cases.MaxDocuments:
		return provider.Shapef("verification.documents: at most %d documents per event", cases.MaxDocuments)
	}
	a := &e.Applicant
	for _, f := range []struct {
		name  string
		value string
		max   int
	}{
		{"applicant.full_name", a.FullName, cases.MaxNameLen},
		{"applicant.given_name", a.GivenName, cases.MaxNameLen},
		{"applicant.middle_name", a.MiddleName, cases.MaxNameLen},
		{"applicant.family_name", a.FamilyName, cases.MaxNameLen},
		{"applicant.address", a.Address, cases.MaxAddressLen},
		{"applicant.external_id", a.ExternalID, cases.MaxShortLen},
		{"applicant.date_of_birth", a.DateOfBirth, cases.MaxShortLen},
		{"applicant.sex", a.Sex, cases.MaxShortLen},
		{"applicant.nationality", a.Nationality, cases.MaxShortLen},
		{"applicant.id_number", a.IDNumber, cases.MaxShortLen},
	} {
		if tooLong(f.value, f.max) {
			return provider.Shapef("%s: at most %d characters", f.name, f.max)
		}
	}
	text := 0
	for i := range v.Checks {
		c := &v.Checks[i]
		switch {
		case tooLong(c.Code, cases.MaxShortLen):
			return provider.Shapef("verification.checks[%d].code: at most %d characters", i, cases.MaxShortLen)
		case tooLong(c.Message, cases.MaxTextLen):
			return provider.Shapef("verification.checks[%d].message: at most %d characters", i, cases.MaxTextLen)
		case len(c.Details) > cases.MaxDetailsBytes:
			return provider.Shapef("verification.checks[%d].details: at most %d bytes", i, cases.MaxDetailsBytes)
		}
		text += len(c.Details) + len(c.Message)
	}
	if text > cases.MaxCheckTextBytes {
		return provider.Shapef("verification.checks: details and messages of at most %d KiB per event", cases.MaxCheckTextBytes>>10)
	}
	for i := range v.Documents {
		if tooLong(v.Documents[i].ID, cases.MaxShortLen) {
			return provider.Shapef("verification.documents[%d].id: at most %d characters", i, cases.MaxShortLen)
		}
	}
	return nil
}

func tooLong(s string, max int) bool {
	return len(s) > max && utf8.RuneCountInString(s) > max // bytes ≥ characters
}
