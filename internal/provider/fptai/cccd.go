package fptai

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/kycdesk/kycdesk/internal/vnid"
)

// Province names the province of a CCCD birth-registration code ("079" → "TP. Hồ Chí Minh").
// The table and where it comes from are in internal/vnid.
func Province(code string) (name string, ok bool) { return vnid.Province(code) }

// CheckCCCD lists what is inconsistent in a 12-digit CCCD number: its province code, and its
// century-and-sex digit and two year digits against the date of birth (YYYY-MM-DD, "" to skip)
// and sex as read from the card ("NAM", "NỮ", "M", "F", ...; "" to skip). No problems, no list.
// It cannot prove a number genuine, only catch misreads and crude edits.
func CheckCCCD(number, dateOfBirth, sex string) []string {
	if !isDigits(number, 12) {
		return []string{"not a 12-digit CCCD number"}
	}
	var problems []string
	if _, ok := vnid.Province(number[:3]); !ok {
		problems = append(problems, fmt.Sprintf("unknown province code %s", number[:3]))
	}
	d := int(number[3] - '0')
	year := 1900 + 100*(d/2) + int(number[4]-'0')*10 + int(number[5]-'0')
	female := d%2 == 1
	if year >= 2100 {
		problems = append(problems, fmt.Sprintf("century digit %d means born after 2099", d))
	}
	if dob, err := time.Parse(time.DateOnly, dateOfBirth); err == nil && dob.Year() != year {
		problems = append(problems, fmt.Sprintf("number says born in %d, date of birth says %d", year, dob.Year()))
	}
	if s := sexCode(sex); s != 0 && (s == 'F') != female {
		says := "male"
		if female {
			says = "female"
		}
		problems = append(problems, fmt.Sprintf("number says %s, sex says %s", says, sex))
	}
	return problems
}

// sexCode reads the card's sex field as 'M' or 'F', 0 when unknown. Upper-casing here is
// for comparison only; the stored text keeps FPT.AI's spelling.
func sexCode(s string) byte {
	switch strings.ToUpper(norm.NFC.String(strings.TrimSpace(s))) { // "NỮ" may arrive decomposed (NFD)
	case "NAM", "M", "MALE":
		return 'M'
	case "NỮ", "NU", "F", "FEMALE":
		return 'F'
	}
	return 0
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MRZ is the machine-readable zone of a CCCD's back, ICAO 9303 TD1 (3 lines of 30).
type MRZ struct {
	DocumentCode   string // "ID"
	Issuer         string // "VNM"
	DocumentNumber string // the last 9 digits of the CCCD number
	IDNumber       string // the full 12-digit number, from the optional data
	BirthDate      string // YYMMDD
	Sex            string // "M", "F" or "<"
	ExpiryDate     string // YYMMDD
	Nationality    string
	Name           string // line 3 with fillers read as spaces ("NGUYEN THI THU HUONG")
}

// ParseMRZ reads a TD1 MRZ and verifies its check digits (weights 7-3-1, mod 10, '<' = 0,
// A = 10 … Z = 35): document number, the CCCD number in the optional data (when present),
// birth date, expiry date and the composite. It lists every problem it finds; a wrong check
// digit usually means an OCR misread or an edited card, either way a reviewer should look.
func ParseMRZ(lines []string) (MRZ, []string) {
	if len(lines) != 3 || len(lines[0]) != 30 || len(lines[1]) != 30 || len(lines[2]) != 30 {
		return MRZ{}, []string{"MRZ is not 3 lines of 30 characters"}
	}
	l1, l2, l3 := lines[0], lines[1], lines[2]
	for _, l := range lines {
		for i := 0; i < len(l); i++ {
			if charValue(l[i]) < 0 {
				return MRZ{}, []string{"MRZ holds characters other than A-Z, 0-9 and <"}
			}
		}
	}
	m := MRZ{
		DocumentCode:   strings.TrimRight(l1[0:2], "<"),
		Issuer:         strings.TrimRight(l1[2:5], "<"),
		DocumentNumber: strings.TrimRight(l1[5:14], "<"),
		BirthDate:      l2[0:6],
		Sex:            l2[7:8],
		ExpiryDate:     l2[8:14],
		Nationality:    strings.TrimRight(l2[15:18], "<"),
		Name:           strings.Join(strings.Fields(strings.ReplaceAll(l3, "<", " ")), " "),
	}
	var problems []string
	verify := func(what, data string, check byte) {
		if !digitMatches(data, check) {
			problems = append(problems, "MRZ check digit mismatch: "+what)
		}
	}
	verify("document number", l1[5:14], l1[14])
	// The CCCD puts the full number in the optional data, followed by "<<" and its own check digit.
	if isDigits(l1[15:27], 12) && l1[29] != '<' {
		m.IDNumber = l1[15:27]
		verify("id number", l1[15:27], l1[29])
	}
	verify("birth date", l2[0:6], l2[6])
	verify("expiry date", l2[8:14], l2[14])
	verify("composite", l1[5:30]+l2[0:7]+l2[8:15]+l2[18:29], l2[29])
	return m, problems
}

// CheckDigit computes an ICAO 9303 check digit, -1 when s holds a character MRZs do not use.
func CheckDigit(s string) int {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(s); i++ {
		v := charValue(s[i])
		if v < 0 {
			return -1
		}
		sum += v * weights[i%3]
	}
	return sum % 10
}

func digitMatches(data string, check byte) bool {
	d := CheckDigit(data)
	if check == '<' { // ICAO allows '<' for a zero check digit over an empty field
		return d == 0
	}
	return d >= 0 && check >= '0' && check <= '9' && int(check-'0') == d
}

func charValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c == '<':
		return 0
	}
	return -1
}

// mrzLines reads the mrz value as FPT.AI may send it: lines (an array, joined by Result with
// newlines, or one string with line breaks), or the 90 characters run together.
func mrzLines(v string) []string {
	v = strings.TrimSpace(v)
	if strings.ContainsAny(v, "\n\r") {
		return strings.Fields(v)
	}
	if len(v) == 90 {
		return []string{v[0:30], v[30:60], v[60:90]}
	}
	return []string{v}
}
