// Package persona invents the people the provider simulator verifies: Vietnamese and Australian
// names with diacritics, CCCD numbers and ICAO 9303 TD1 MRZ lines that pass the checks real documents pass.
package persona

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Countries the simulator makes people for (ISO 3166-1 alpha-3, as providers send them).
const (
	Vietnam   = "VNM"
	Australia = "AUS"
)

// Person is one invented applicant. Names are in their natural case with diacritics;
// providers upper-case them in OCR output themselves.
type Person struct {
	Country    string // Vietnam or Australia: decides the name order and the ID document
	FamilyName string
	MiddleName string // Vietnamese: tên đệm (may be two words); Australian: middle name or ""
	GivenName  string
	Sex        string // "M" or "F"
	DOB        time.Time

	// IDNumber is the 12-digit CCCD number (Vietnam) or the driver licence number (Australia).
	IDNumber string
	// CardNumber is the Australian licence's card number; empty for a CCCD.
	CardNumber string
	// Origin is the CCCD's quê quán (place of origin); empty for Australians.
	Origin  Address
	Address Address

	IssueDate time.Time
	Expiry    time.Time

	// CCCD back-side details.
	Ethnicity string
	Religion  string
	Features  string // đặc điểm nhân dạng, e.g. a mole

	ExternalID string // the customer's own id for this person ("cust-…")
}

// Address is a postal address split the way FPT.AI's address_entities and FrankieOne's addresses need it.
type Address struct {
	Street   string // "123 Lê Lợi"
	Ward     string // Vietnam: phường/xã
	District string // Vietnam: quận/huyện; Australia: suburb
	Province string // Vietnam: province or city as printed ("TP. Hồ Chí Minh"); Australia: state ("NSW")
	Postcode string // Australia only
	Country  string
}

// Line is the address on one line, as printed on the card and sent by providers.
func (a Address) Line() string {
	if a.Country == Australia {
		return fmt.Sprintf("%s, %s %s %s", a.Street, a.District, a.Province, a.Postcode)
	}
	parts := make([]string, 0, 4)
	for _, s := range []string{a.Street, a.Ward, a.District, a.Province} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// ProvinceName is the province without the "TP. " prefix, as FPT.AI's address_entities gives it.
func (a Address) ProvinceName() string {
	return strings.TrimPrefix(a.Province, "TP. ")
}

// FullName is the name in the person's own order: family name first for Vietnamese.
func (p Person) FullName() string {
	var parts []string
	if p.Country == Vietnam {
		parts = []string{p.FamilyName, p.MiddleName, p.GivenName}
	} else {
		parts = []string{p.GivenName, p.MiddleName, p.FamilyName}
	}
	out := parts[:0]
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// GivenNames is everything but the family name ("Thị Thu Hương"), as the generic event's given_name.
func (p Person) GivenNames() string {
	if p.Country == Vietnam {
		return strings.TrimSpace(p.MiddleName + " " + p.GivenName)
	}
	return p.GivenName
}

// Age is the person's age in whole years at t.
func (p Person) Age(t time.Time) int {
	age := t.Year() - p.DOB.Year()
	if t.YearDay() < p.DOB.YearDay() {
		age--
	}
	return age
}

// SexVi is the sex as a CCCD prints it.
func (p Person) SexVi() string {
	if p.Sex == "F" {
		return "Nữ"
	}
	return "Nam"
}

// Key is a stable identity for the person, used to derive appearance and to spot the same person twice.
func (p Person) Key() string { return p.Country + ":" + p.IDNumber }

// Upper upper-cases Vietnamese text the way OCR output shows it (ư → Ư, đ → Đ, ễ → Ễ).
func Upper(s string) string { return strings.ToUpper(norm.NFC.String(s)) }

// Fold removes diacritics for MRZ lines and ASCII-only systems: "Nguyễn Đức" → "Nguyen Duc".
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'Đ':
			r = 'D'
		case r == 'đ':
			r = 'd'
		case r == 'ø':
			r = 'o'
		case r == 'Ø':
			r = 'O'
		case r == 'ß':
			b.WriteString("ss")
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cccdCenturySex is the 4th CCCD digit: 0/1 for 1900s male/female, 2/3 for 2000s, and so on.
func cccdCenturySex(dob time.Time, sex string) int {
	d := (dob.Year()/100 - 19) * 2
	if sex == "F" {
		d++
	}
	return d
}

// CCCDNumber builds a 12-digit CCCD number: province of birth registration, century/sex digit,
// two-digit birth year, then six serial digits.
func CCCDNumber(provinceCode string, dob time.Time, sex string, serial int) string {
	return fmt.Sprintf("%s%d%02d%06d", provinceCode, cccdCenturySex(dob, sex), dob.Year()%100, serial%1000000)
}

// ValidCCCD reports whether n is shaped like a CCCD number for that birth date and sex.
func ValidCCCD(n string, dob time.Time, sex string) bool {
	if len(n) != 12 || strings.Trim(n, "0123456789") != "" {
		return false
	}
	return n[3] == byte('0'+cccdCenturySex(dob, sex)) && n[4:6] == fmt.Sprintf("%02d", dob.Year()%100)
}

// CCCDExpiry is when a card issued at issue expires: the 25th, 40th or 60th birthday, whichever
// comes first after issue (a card issued within two years of such a birthday runs to the next one).
// ok is false for cards issued after 58, which do not expire.
func CCCDExpiry(dob, issue time.Time) (expiry time.Time, ok bool) {
	for _, age := range []int{25, 40, 60} {
		at := dob.AddDate(age, 0, 0)
		if issue.Before(at.AddDate(-2, 0, 0)) {
			return at, true
		}
	}
	return time.Time{}, false
}

// Generate invents one person of the given country from r.
func Generate(r *rand.Rand, country string, now time.Time) Person {
	if country == Australia {
		return generateAustralian(r, now)
	}
	return generateVietnamese(r, now)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func generateVietnamese(r *rand.Rand, now time.Time) Person {
	p := Person{Country: Vietnam, Ethnicity: "Kinh", Religion: "Không"}
	p.Sex = "M"
	if r.IntN(2) == 0 {
		p.Sex = "F"
	}
	p.FamilyName = pick(r, vnFamily)
	if p.Sex == "F" {
		p.MiddleName = pick(r, vnMiddleF)
		if r.IntN(3) == 0 {
			p.MiddleName += " " + pick(r, vnMiddle2F)
		}
		p.GivenName = pick(r, vnGivenF)
	} else {
		p.MiddleName = pick(r, vnMiddleM)
		p.GivenName = pick(r, vnGivenM)
	}
	if r.IntN(8) == 0 {
		p.Ethnicity = pick(r, vnEthnicity)
	}
	if r.IntN(6) == 0 {
		p.Religion = pick(r, vnReligion)
	}
	p.Features = pick(r, vnFeatures)

	// Ages 18–55 at issue keep every card in the expiring range (a card issued after 58 has no MRZ expiry).
	p.IssueDate = now.AddDate(0, 0, -30-r.IntN(5*365)).Truncate(24 * time.Hour)
	ageDays := 18*365 + r.IntN(37*365)
	p.DOB = p.IssueDate.AddDate(0, 0, -ageDays).Truncate(24 * time.Hour)
	p.Expiry, _ = CCCDExpiry(p.DOB, p.IssueDate)

	birth := pick(r, vnProvinces)
	p.IDNumber = CCCDNumber(birth.code, p.DOB, p.Sex, r.IntN(1000000))
	p.Origin = birth.address(r, false)
	home := birth
	if r.IntN(3) == 0 {
		home = pick(r, vnProvinces)
	}
	p.Address = home.address(r, true)
	p.ExternalID = fmt.Sprintf("cust-%06d", r.IntN(1000000))
	return p
}

func generateAustralian(r *rand.Rand, now time.Time) Person {
	p := Person{Country: Australia}
	p.Sex = "M"
	if r.IntN(2) == 0 {
		p.Sex = "F"
	}
	if r.IntN(5) == 0 { // Vietnamese-Australians keep their diacritics on many documents
		p.FamilyName = pick(r, vnFamily)
		if p.Sex == "F" {
			p.GivenName = pick(r, vnGivenF)
		} else {
			p.GivenName = pick(r, vnGivenM)
		}
	} else {
		p.FamilyName = pick(r, auFamily)
		if p.Sex == "F" {
			p.GivenName = pick(r, auGivenF)
		} else {
			p.GivenName = pick(r, auGivenM)
		}
	}
	if r.IntN(2) == 0 {
		if p.Sex == "F" {
			p.MiddleName = pick(r, auGivenF)
		} else {
			p.MiddleName = pick(r, auGivenM)
		}
		if p.MiddleName == p.GivenName {
			p.MiddleName = ""
		}
	}
	p.IssueDate = now.AddDate(0, 0, -30-r.IntN(4*365)).Truncate(24 * time.Hour)
	p.DOB = p.IssueDate.AddDate(0, 0, -(18*365 + r.IntN(50*365))).Truncate(24 * time.Hour)
	p.Expiry = p.IssueDate.AddDate(5, 0, 0)
	if r.IntN(10) == 0 { // some licences are about to expire: a FrankieOne document_age risk factor
		p.Expiry = now.AddDate(0, 0, 10+r.IntN(20)).Truncate(24 * time.Hour)
	}
	sub := pick(r, auSuburbs)
	p.Address = Address{
		Street:   fmt.Sprintf("%d %s", 1+r.IntN(240), pick(r, auStreets)),
		District: sub.name, Province: sub.state, Postcode: sub.postcode, Country: Australia,
	}
	p.IDNumber = fmt.Sprintf("%08d", 10000000+r.IntN(90000000))
	p.CardNumber = fmt.Sprintf("%010d", r.Int64N(10000000000))
	p.ExternalID = fmt.Sprintf("cust-%06d", r.IntN(1000000))
	return p
}

type vnProvince struct {
	code, printed string
	places        []string // "district|ward"
}

func (v vnProvince) address(r *rand.Rand, withStreet bool) Address {
	dw := strings.SplitN(pick(r, v.places), "|", 2)
	a := Address{Ward: dw[1], District: dw[0], Province: v.printed, Country: Vietnam}
	if withStreet {
		a.Street = fmt.Sprintf("%d %s", 1+r.IntN(300), pick(r, vnStreets))
	}
	return a
}
