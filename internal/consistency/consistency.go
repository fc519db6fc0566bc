// Package consistency checks what a case's own data says against itself, where no provider
// looks: a Vietnamese CCCD number against the card's place of origin, sex and date of birth,
// the MRZ against the card's front, and the document's expiry date.
package consistency

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider/fptai"
	"github.com/kycdesk/kycdesk/internal/vnid"
)

// Status is a check's outcome.
type Status string

const (
	Pass         Status = "pass"
	Mismatch     Status = "mismatch"
	NotCheckable Status = "not_checkable"
)

// Check is one consistency check with the reason for its outcome, in the reviewer's words.
// A reason never quotes the ID number or the date of birth, which the case page masks until
// a reviewer reveals them; it may name the province code, sex and expiry date.
type Check struct {
	Key    string // stable name ("cccd_province"), for tests and the page's ids
	Name   string // what was compared
	Status Status
	Reason string
}

// ExpirySoon is how close to its expiry date a document is flagged.
const ExpirySoon = 30 * 24 * time.Hour

// Input is the data the checks compare: the OCR'd fields where the provider read the card,
// else what the provider said about the applicant. Dates are as written (ISO or dd/mm/yyyy).
type Input struct {
	IDNumber      string
	DateOfBirth   string
	Sex           string
	PlaceOfOrigin string // quê quán, FPT.AI's "home"
	Name          string
	Expiry        string // FPT.AI's "doe"
	MRZ           string
	Nationality   string
}

// FromCase builds the input from a case's applicant and its OCR fields (FPT.AI's names:
// id, dob, sex, home, name, doe, mrz, nationality). A field read from the card wins over
// the applicant record, which may be what the customer typed.
func FromCase(a cases.Applicant, fields []cases.Field) Input {
	in := Input{IDNumber: a.IDNumber, DateOfBirth: firstOf(a.DateOfBirth, a.DateOfBirthRaw), Sex: a.Sex,
		Name: a.FullName, Nationality: a.Nationality}
	if in.Name == "" {
		in.Name = strings.TrimSpace(strings.Join([]string{a.FamilyName, a.MiddleName, a.GivenName}, " "))
	}
	set := func(dst *string, name string) {
		for _, f := range fields {
			if f.Name == name && !f.Missing && present(f.Value) {
				*dst = f.Value
				return
			}
		}
	}
	set(&in.IDNumber, "id")
	set(&in.DateOfBirth, "dob")
	set(&in.Sex, "sex")
	set(&in.PlaceOfOrigin, "home")
	set(&in.Name, "name")
	set(&in.Expiry, "doe")
	set(&in.MRZ, "mrz")
	set(&in.Nationality, "nationality")
	return in
}

// Run runs every check. Each is listed even when it cannot be made, with the reason, so a
// reviewer sees what was not checked as well as what was.
func Run(in Input, now time.Time) []Check {
	for _, s := range []*string{&in.IDNumber, &in.DateOfBirth, &in.Sex, &in.PlaceOfOrigin, &in.Name, &in.Expiry, &in.MRZ, &in.Nationality} {
		*s = strings.TrimSpace(norm.NFC.String(*s))
		if !present(*s) {
			*s = ""
		}
	}
	dob, dobOK := parseDate(in.DateOfBirth)
	var out []Check
	out = append(out, cccdChecks(in, dob, dobOK)...)
	out = append(out, mrzChecks(in, dob, dobOK)...)
	out = append(out, expiryCheck(in, now))
	return out
}

// cccdChecks: a 12-digit CCCD number is PPP G YY NNNNNN: the province (PPP) where the birth
// was registered, a digit for century and sex (G: 0/1 born 1900-1999 male/female, 2/3
// 2000-2099, 4/5 2100-2199, ...), the last two digits of the birth year (YY).
func cccdChecks(in Input, dob time.Time, dobOK bool) []Check {
	province := Check{Key: "cccd_province", Name: "CCCD province code vs place of origin"}
	century := Check{Key: "cccd_century_sex", Name: "CCCD century and sex digit vs sex and date of birth"}
	year := Check{Key: "cccd_birth_year", Name: "CCCD birth-year digits vs date of birth"}
	all := []*Check{&province, &century, &year}
	notCheckable := func(reason string) []Check {
		for _, c := range all {
			c.Status, c.Reason = NotCheckable, reason
		}
		return []Check{province, century, year}
	}
	num := strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '-' {
			return -1
		}
		return r
	}, in.IDNumber)
	switch {
	case num == "":
		return notCheckable("No ID number was given or read.")
	case !vietnamese(in.Nationality):
		return notCheckable(fmt.Sprintf("Not a Vietnamese document (nationality %s).", in.Nationality))
	case len(num) == 9 && digits(num):
		return notCheckable("A 9-digit number is the old CMND, which encodes no province, sex or birth year.")
	case len(num) != 12 || !digits(num):
		return notCheckable("The ID number is not a 12-digit CCCD number.")
	}

	// Province code against the place of origin.
	code := num[:3]
	codeName, known := vnid.Province(code)
	switch placeCode, part, found := vnid.ProvinceIn(in.PlaceOfOrigin); {
	case !known:
		province.Status, province.Reason = Mismatch, fmt.Sprintf("%s is not a province code: no CCCD number starts with it.", code)
	case in.PlaceOfOrigin == "":
		province.Status, province.Reason = NotCheckable, fmt.Sprintf("Code %s is %s; no place of origin was read to compare it with.", code, codeName)
	case !found:
		province.Status, province.Reason = NotCheckable, fmt.Sprintf("Code %s is %s; the place of origin %q names no province we know.", code, codeName, in.PlaceOfOrigin)
	default:
		placeName, _ := vnid.Province(placeCode)
		switch same, merged := vnid.SameProvince(code, placeCode); {
		case same && merged:
			province.Status, province.Reason = Pass, fmt.Sprintf("Code %s is %s, which became part of %s on 1 July 2025; the place of origin names %s.",
				code, codeName, vnid.MergedInto(code), part)
		case same:
			province.Status, province.Reason = Pass, fmt.Sprintf("Code %s is %s, as the place of origin says.", code, codeName)
		default:
			province.Status, province.Reason = Mismatch, fmt.Sprintf("Code %s is %s, the place of origin says %s (%s). The code is where the birth was registered, which is usually, not always, the place of origin.",
				code, codeName, part, placeName)
		}
	}

	// Century and sex digit.
	g := int(num[3] - '0')
	born := 1900 + 100*(g/2) + int(num[4]-'0')*10 + int(num[5]-'0')
	female := g%2 == 1
	digitSex := map[bool]string{false: "male", true: "female"}[female]
	centuryFrom := 1900 + 100*(g/2)
	var problems, compared []string
	if sex := sexOf(in.Sex); sex != "" {
		compared = append(compared, "sex "+in.Sex)
		if sex != digitSex {
			problems = append(problems, fmt.Sprintf("the digit %d means %s, the sex read is %s", g, digitSex, in.Sex))
		}
	}
	if dobOK {
		compared = append(compared, "the date of birth")
		if c := (dob.Year() / 100) * 100; c != centuryFrom {
			problems = append(problems, fmt.Sprintf("the digit %d means born %d-%d, the date of birth is in another century", g, centuryFrom, centuryFrom+99))
		}
	}
	if centuryFrom >= 2100 {
		problems = append(problems, fmt.Sprintf("the digit %d means born after 2099", g))
	}
	switch {
	case len(problems) > 0:
		century.Status, century.Reason = Mismatch, upperFirst(strings.Join(problems, "; ")+".")
	case len(compared) == 0:
		century.Status, century.Reason = NotCheckable, fmt.Sprintf("The digit %d means %s, born %d-%d; neither sex nor date of birth was read.", g, digitSex, centuryFrom, centuryFrom+99)
	default:
		century.Status, century.Reason = Pass, fmt.Sprintf("The digit %d means %s, born %d-%d: agrees with %s.", g, digitSex, centuryFrom, centuryFrom+99, strings.Join(compared, " and "))
	}

	// Birth-year digits.
	switch {
	case !dobOK && in.DateOfBirth != "":
		year.Status, year.Reason = NotCheckable, "The date of birth read is not a date."
	case !dobOK:
		year.Status, year.Reason = NotCheckable, "No date of birth was read to compare digits 5-6 with."
	case dob.Year()%100 != born%100:
		year.Status, year.Reason = Mismatch, "Digits 5-6 of the number are not the last two digits of the year of birth."
	default:
		year.Status, year.Reason = Pass, "Digits 5-6 of the number are the last two digits of the year of birth."
	}
	return []Check{province, century, year}
}

// mrzChecks verify the MRZ's check digits and compare its fields with the card's front.
func mrzChecks(in Input, dob time.Time, dobOK bool) []Check {
	digitsCheck := Check{Key: "mrz_check_digits", Name: "MRZ check digits"}
	fields := []Check{
		{Key: "mrz_document_number", Name: "MRZ document number vs ID number"},
		{Key: "mrz_birth_date", Name: "MRZ date of birth vs date of birth"},
		{Key: "mrz_expiry", Name: "MRZ expiry vs expiry date"},
		{Key: "mrz_sex", Name: "MRZ sex vs sex"},
		{Key: "mrz_name", Name: "MRZ name vs name"},
	}
	if in.MRZ == "" {
		digitsCheck.Status, digitsCheck.Reason = NotCheckable, "No MRZ was read (the back of the card was not sent, or the document has none)."
		out := []Check{digitsCheck}
		for _, f := range fields {
			f.Status, f.Reason = NotCheckable, "No MRZ was read."
			out = append(out, f)
		}
		return out
	}
	lines := fptai.MRZLines(in.MRZ)
	if compact := strings.Join(lines, ""); len(compact) == 88 && (len(lines) == 1 || len(lines) == 2 && len(lines[0]) == 44) {
		// A passport's MRZ (ICAO 9303 TD3, 2 lines of 44): not the card's TD1, and not read here yet.
		digitsCheck.Status, digitsCheck.Reason = NotCheckable, "A passport MRZ (2 lines of 44): only the ID card's MRZ (3 lines of 30) is checked."
		out := []Check{digitsCheck}
		for _, f := range fields {
			f.Status, f.Reason = NotCheckable, "A passport MRZ is not compared yet."
			out = append(out, f)
		}
		return out
	}
	m, problems := fptai.ParseMRZ(lines)
	if m == (fptai.MRZ{}) { // not even its shape: nothing to compare
		digitsCheck.Status, digitsCheck.Reason = Mismatch, upperFirst(strings.Join(problems, "; ")+".")
		out := []Check{digitsCheck}
		for _, f := range fields {
			f.Status, f.Reason = NotCheckable, "The MRZ could not be read as 3 lines of 30 characters."
			out = append(out, f)
		}
		return out
	}
	if len(problems) > 0 {
		digitsCheck.Status, digitsCheck.Reason = Mismatch, strings.Join(problems, "; ")+": an OCR misread or an edited document."
	} else {
		digitsCheck.Status, digitsCheck.Reason = Pass, "Every check digit (document number, birth date, expiry, composite) is right."
	}

	// Document number: the CCCD's MRZ holds the full 12 digits in its optional data, and the
	// last 9 as the document number.
	num := strings.ReplaceAll(in.IDNumber, " ", "")
	f := &fields[0]
	switch {
	case num == "":
		f.Status, f.Reason = NotCheckable, "No ID number was read from the front."
	case m.IDNumber != "" && m.IDNumber == num, m.IDNumber == "" && strings.HasSuffix(num, m.DocumentNumber) && m.DocumentNumber != "":
		f.Status, f.Reason = Pass, "The MRZ holds the number on the front."
	case m.IDNumber != "":
		f.Status, f.Reason = Mismatch, "The 12-digit number in the MRZ differs from the number on the front."
	default:
		f.Status, f.Reason = Mismatch, "The MRZ document number is not the end of the number on the front."
	}
	compareDate(&fields[1], m.BirthDate, dob, dobOK, "date of birth", true)
	exp, expOK := parseDate(in.Expiry)
	compareDate(&fields[2], m.ExpiryDate, exp, expOK, "expiry date", false)

	f = &fields[3]
	sex := sexOf(in.Sex)
	mrzSex := map[string]string{"M": "male", "F": "female"}[m.Sex]
	switch {
	case mrzSex == "":
		f.Status, f.Reason = NotCheckable, "The MRZ leaves sex unspecified (<)."
	case sex == "":
		f.Status, f.Reason = NotCheckable, fmt.Sprintf("The MRZ says %s; no sex was read from the front.", mrzSex)
	case sex == mrzSex:
		f.Status, f.Reason = Pass, fmt.Sprintf("Both say %s.", mrzSex)
	default:
		f.Status, f.Reason = Mismatch, fmt.Sprintf("The MRZ says %s, the front %s.", mrzSex, in.Sex)
	}

	f = &fields[4]
	switch name := mrzName(in.Name); {
	case in.Name == "":
		f.Status, f.Reason = NotCheckable, fmt.Sprintf("The MRZ says %s; no name was read from the front.", m.Name)
	case m.Name == "":
		f.Status, f.Reason = NotCheckable, "The MRZ holds no name."
	case name == strings.ReplaceAll(m.Name, " ", ""):
		f.Status, f.Reason = Pass, fmt.Sprintf("%s is %s without diacritics.", m.Name, in.Name)
	default:
		f.Status, f.Reason = Mismatch, fmt.Sprintf("The MRZ says %s, the front %s.", m.Name, in.Name)
	}
	return append([]Check{digitsCheck}, fields...)
}

// compareDate compares an MRZ date (YYMMDD) with a date read from the front. A personal
// date (the date of birth, masked on the page until revealed) is not written in the reason.
func compareDate(c *Check, mrz string, front time.Time, ok bool, what string, personal bool) {
	switch {
	case personal && !ok:
		c.Status, c.Reason = NotCheckable, fmt.Sprintf("No %s was read from the front.", what)
	case personal && front.Format("060102") == mrz:
		c.Status, c.Reason = Pass, fmt.Sprintf("The MRZ holds the %s on the front.", what)
	case personal:
		c.Status, c.Reason = Mismatch, fmt.Sprintf("The %s in the MRZ differs from the one on the front.", what)
	case !ok:
		c.Status, c.Reason = NotCheckable, fmt.Sprintf("The MRZ says %s; no %s was read from the front.", mrzDate(mrz), what)
	case front.Format("060102") == mrz:
		c.Status, c.Reason = Pass, fmt.Sprintf("Both say %s.", front.Format("02/01/2006"))
	default:
		c.Status, c.Reason = Mismatch, fmt.Sprintf("The MRZ says %s, the front %s.", mrzDate(mrz), front.Format("02/01/2006"))
	}
}

func mrzDate(yymmdd string) string {
	if len(yymmdd) != 6 {
		return yymmdd
	}
	return yymmdd[4:6] + "/" + yymmdd[2:4] + "/" + yymmdd[0:2]
}

// mrzName is a name as ICAO 9303 writes it in an MRZ, without its fillers: Latin capitals,
// diacritics dropped, Đ as D ("Nguyễn Thị Thu Hương" → "NGUYENTHITHUHUONG").
func mrzName(s string) string {
	return strings.ToUpper(strings.ReplaceAll(vnid.Fold(s), " ", ""))
}

// expiryCheck: an expired document, or one expiring within ExpirySoon, is a mismatch.
func expiryCheck(in Input, now time.Time) Check {
	c := Check{Key: "document_expiry", Name: "Document expiry"}
	if in.Expiry == "" {
		c.Status, c.Reason = NotCheckable, "No expiry date was read."
		return c
	}
	if f := vnid.Fold(in.Expiry); f == "khong thoi han" || f == "khong co thoi han" {
		c.Status, c.Reason = Pass, "The card has no expiry date (không thời hạn)."
		return c
	}
	exp, ok := parseDate(in.Expiry)
	if !ok {
		c.Status, c.Reason = NotCheckable, fmt.Sprintf("The expiry date %q is not a date.", in.Expiry)
		return c
	}
	// A document is valid through its expiry day, in Vietnam's time.
	end := time.Date(exp.Year(), exp.Month(), exp.Day()+1, 0, 0, 0, 0, vietnam)
	days := int(end.Sub(now).Hours() / 24)
	switch {
	case !now.Before(end):
		c.Status, c.Reason = Mismatch, fmt.Sprintf("Expired on %s.", exp.Format("02/01/2006"))
	case end.Sub(now) <= ExpirySoon:
		left := fmt.Sprintf("%d days", days+1)
		if days+1 == 1 {
			left = "1 day"
		}
		c.Status, c.Reason = Mismatch, fmt.Sprintf("Expires on %s, in %s: less than 30 days left.", exp.Format("02/01/2006"), left)
	default:
		c.Status, c.Reason = Pass, fmt.Sprintf("Valid until %s.", exp.Format("02/01/2006"))
	}
	return c
}

var vietnam = time.FixedZone("ICT", 7*3600)

// parseDate reads ISO dates (the applicant record) and the card's dd/mm/yyyy.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	return fptai.ParseDate(s)
}

// sexOf reads a sex as "male" or "female", "" when unknown: Vietnamese (Nam / Nữ, composed or
// not, with or without diacritics) or English.
func sexOf(s string) string {
	switch vnid.Fold(s) {
	case "nam", "m", "male":
		return "male"
	case "nu", "f", "female":
		return "female"
	}
	return ""
}

func vietnamese(nationality string) bool {
	switch vnid.Fold(nationality) {
	case "", "vnm", "vn", "viet nam", "vietnam", "vietnamese":
		return true
	}
	return false
}

func present(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && !strings.EqualFold(s, "N/A") && !strings.EqualFold(s, "null")
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
