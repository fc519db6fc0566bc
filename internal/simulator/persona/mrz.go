package persona

import (
	"strings"
	"time"
)

// CheckDigit is the ICAO 9303 check digit of s: weights 7, 3, 1 repeating, digits at face
// value, A–Z as 10–35, '<' as 0, the sum mod 10.
func CheckDigit(s string) byte {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		v := 0
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		}
		sum += v * weights[i%3]
	}
	return byte('0' + sum%10)
}

func mrzDate(t time.Time) string { return t.Format("060102") }

func pad(s string, n int) string {
	if len(s) >= n {
		return s[:n]
	}
	return s + strings.Repeat("<", n-len(s))
}

// mrzName turns a name part into MRZ characters: folded to ASCII, upper case, spaces and
// punctuation as '<' fillers.
func mrzName(s string) string {
	s = strings.ToUpper(Fold(s))
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		} else if r == ' ' || r == '-' {
			b.WriteByte('<')
		}
	}
	return b.String()
}

// MRZ is the CCCD back's machine-readable zone, ICAO 9303 TD1 (3 × 30 characters).
// Line 1: IDVNM, the number's last 9 digits and their check digit, then as optional data the
// full 12-digit number, "<<" and a check digit over it. Line 2: birth date, sex, expiry, VNM,
// filler and the composite check digit. Line 3: FAMILY<<GIVEN<NAMES.
func MRZ(p Person) [3]string {
	num := p.IDNumber
	short := num
	if len(short) > 9 {
		short = short[len(short)-9:]
	}
	docField := pad(short, 9)
	l1 := "IDVNM" + docField + string(CheckDigit(docField)) + num + "<<" + string(CheckDigit(num))
	l1 = pad(l1, 30)

	sex := "M"
	if p.Sex == "F" {
		sex = "F"
	}
	dob, exp := mrzDate(p.DOB), mrzDate(p.Expiry)
	l2 := dob + string(CheckDigit(dob)) + sex + exp + string(CheckDigit(exp)) + "VNM"
	l2 = pad(l2, 29)
	// The composite covers line 1 from position 6 and line 2's dates with their check digits and optional data.
	composite := l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
	l2 += string(CheckDigit(composite))

	given := mrzName(strings.TrimSpace(p.MiddleName + " " + p.GivenName))
	l3 := pad(mrzName(p.FamilyName)+"<<"+given, 30)
	return [3]string{l1, l2, l3}
}

// ValidMRZ reports whether the TD1 lines' check digits all hold.
func ValidMRZ(lines [3]string) bool {
	l1, l2 := lines[0], lines[1]
	if len(l1) != 30 || len(l2) != 30 || len(lines[2]) != 30 {
		return false
	}
	if CheckDigit(l1[5:14]) != l1[14] {
		return false
	}
	if i := strings.Index(l1[15:], "<<"); i >= 0 && 15+i+2 < 30 && l1[15+i+2] != '<' {
		if CheckDigit(l1[15:15+i]) != l1[15+i+2] {
			return false
		}
	}
	if CheckDigit(l2[0:6]) != l2[6] || CheckDigit(l2[8:14]) != l2[14] {
		return false
	}
	return CheckDigit(l1[5:30]+l2[0:7]+l2[8:15]+l2[18:29]) == l2[29]
}
