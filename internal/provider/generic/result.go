package generic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider"
)

// Result maps the event to kycdesk's normalised result. The sender already speaks our
// vocabulary, so this is mostly a copy; what it adds is the full name, the date check and
// the Round, which changes with every occurred_at so a re-run reopens a decided case.
func (e *Event) Result() cases.Result {
	v := &e.Verification
	r := cases.Result{
		Reference:      v.Reference,
		Round:          v.Reference + "@" + e.OccurredAt.UTC().Format(time.RFC3339Nano),
		OccurredAt:     e.OccurredAt,
		Result:         v.Result,
		ProviderStatus: v.Result,
		RiskLevel:      v.RiskLevel,
	}
	if v.RiskScore != nil {
		r.RiskScore = provider.Float(*v.RiskScore)
	}
	r.Applicant = e.applicant(&r.Flags)

	for _, c := range v.Checks {
		ch := cases.Check{Kind: c.Kind, Result: c.Result, Code: c.Code, Message: c.Message}
		if c.Score != nil {
			ch.Score = provider.Float(*c.Score)
		}
		if len(c.Details) > 0 {
			var buf bytes.Buffer
			if json.Compact(&buf, c.Details) == nil {
				ch.Details = buf.Bytes()
			}
		}
		r.Checks = append(r.Checks, ch)
	}

	for i, d := range v.Documents {
		ref := cases.DocumentRef{ProviderID: d.ID, Kind: d.Kind, ContentType: d.ContentType, URL: d.URL}
		if ref.ProviderID == "" {
			// Position is stable across redeliveries of the same event, which is all ProviderID needs.
			ref.ProviderID = fmt.Sprintf("%s-%d", d.Kind, i)
		}
		if d.URL == "" {
			data := d.data
			if data == nil { // an Event built in code rather than by Parse
				var err error
				if data, err = provider.DecodeBase64(d.DataBase64); err != nil {
					r.Flags = append(r.Flags, fmt.Sprintf("document %s: data_base64 is not valid base64", ref.ProviderID))
					continue
				}
			}
			ref.Data = bytes.Clone(data)
		}
		r.Documents = append(r.Documents, ref)
	}
	return r
}

func (e *Event) applicant(flags *[]string) cases.Applicant {
	a := e.Applicant
	out := cases.Applicant{
		ExternalID:  a.ExternalID,
		FullName:    a.FullName,
		GivenName:   a.GivenName,
		MiddleName:  a.MiddleName,
		FamilyName:  a.FamilyName,
		Sex:         a.Sex,
		Nationality: a.Nationality,
		IDNumber:    a.IDNumber,
		Address:     a.Address,
	}
	if out.FullName == "" {
		out.FullName = FullName(a.GivenName, a.MiddleName, a.FamilyName, a.Nationality)
	}
	switch dob := strings.TrimSpace(a.DateOfBirth); {
	case dob == "":
	case isISODate(dob):
		out.DateOfBirth = dob
	default:
		out.DateOfBirthRaw = a.DateOfBirth
		*flags = append(*flags, "date_of_birth: unparsable date")
	}
	return out
}

func isISODate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// familyNameFirst lists nationalities whose names are written family name first. The design's
// own example, given "Thu Hương" and family "Nguyễn" from VNM, shows "Nguyễn Thu Hương".
var familyNameFirst = set("VNM", "VN", "CHN", "CN", "TWN", "TW", "HKG", "HK", "MAC", "MO",
	"KOR", "KR", "PRK", "KP", "JPN", "JP", "HUN", "HU")

// FullName joins the name parts in the order the applicant's nationality writes them:
// family name first for Vietnamese, Chinese, Korean, Japanese and Hungarian names, given
// name first otherwise. Empty parts are skipped.
func FullName(given, middle, family, nationality string) string {
	parts := []string{given, middle, family}
	if familyNameFirst[strings.ToUpper(strings.TrimSpace(nationality))] {
		parts = []string{family, middle, given}
	}
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, " ")
}
