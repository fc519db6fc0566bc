package views

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/consistency"
)

// CaseExtra is what the case page shows beside the stored case: the consistency checks, the
// duplicates, whether the personal data is shown, and the watermark over the images.
type CaseExtra struct {
	Revealed         bool // the ID number and date of birth are shown (POST /cases/{id}/reveal), else masked
	WatermarkEmail   string
	WatermarkAt      time.Time
	Consistency      []consistency.Check
	Duplicates       []cases.Duplicate
	DuplicatesMore   bool              // more duplicates than listed
	IntegrationNames map[string]string // integration id → name, for the duplicates
	HasIDNumber      bool
}

// maskedFields are the OCR fields that carry the ID number or the date of birth: FPT.AI's
// id, dob, the MRZ (both, and the name) and the QR code (both).
var maskedFields = map[string]bool{"id": true, "dob": true, "mrz": true, "QRcode": true}

// MaskPII hides the ID number and date of birth everywhere the page would show them (the
// applicant panel and the OCR fields), unless they were revealed. Call it after everything
// computed from them (consistency checks, duplicates) is done.
func (v *CaseView) MaskPII() {
	if v.Extra.Revealed {
		return
	}
	idNumber := v.Applicant.IDNumber
	v.Applicant.IDNumber = maskID(v.Applicant.IDNumber)
	if v.Applicant.DateOfBirth != "" {
		v.Applicant.DateOfBirth = "••••-••-••"
	}
	if v.Applicant.DateOfBirthRaw != "" {
		v.Applicant.DateOfBirthRaw = "••••"
	}
	fields := make([]cases.Field, len(v.Fields))
	copy(fields, v.Fields)
	for i, f := range fields {
		switch {
		case fieldMissing(f):
		case f.Name == "id":
			fields[i].Value = maskID(f.Value)
		case maskedFields[f.Name]:
			fields[i].Value = "•••• (hidden)"
		case len(idNumber) >= 6 && strings.Contains(f.Value, idNumber):
			fields[i].Value = strings.ReplaceAll(f.Value, idNumber, maskID(idNumber))
		}
	}
	v.Fields = fields
}

// maskID keeps an ID number's last three characters, enough to tell two cases apart at a glance.
func maskID(s string) string {
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return ""
	}
	keep := 3
	if n <= 6 {
		keep = 0
	}
	r := []rune(s)
	return strings.Repeat("•", n-keep) + string(r[n-keep:])
}

func consistencyLabel(s consistency.Status) string {
	switch s {
	case consistency.Pass:
		return "Pass"
	case consistency.Mismatch:
		return "Mismatch"
	}
	return "Not checkable"
}

func consistencyCount(checks []consistency.Check, s consistency.Status) int {
	n := 0
	for _, c := range checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

func (v CaseView) integrationName(id string) string {
	if n := v.Extra.IntegrationNames[id]; n != "" {
		return n
	}
	return id
}

// watermark is the text laid over every image: who is looking, and when.
func (v CaseView) watermark() string {
	return v.Extra.WatermarkEmail + " · " + stamp(v.Extra.WatermarkAt)
}
