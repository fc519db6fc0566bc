package persona

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func date(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// The fixture's MRZ (shared/fixtures/fptai/callback_success.json) is the reference.
func TestMRZMatchesFixture(t *testing.T) {
	p := Person{
		Country: Vietnam, FamilyName: "Nguyễn", MiddleName: "Thị Thu", GivenName: "Hương", Sex: "F",
		DOB: date("1995-09-02"), Expiry: date("2035-09-02"), IDNumber: "079195001234",
	}
	want := [3]string{
		"IDVNM1950012347079195001234<<7",
		"9509023F3509021VNM<<<<<<<<<<<2",
		"NGUYEN<<THI<THU<HUONG<<<<<<<<<",
	}
	if got := MRZ(p); got != want {
		t.Fatalf("MRZ:\n got %q\nwant %q", got, want)
	}
	if !ValidMRZ(want) {
		t.Fatal("fixture MRZ reported invalid")
	}
}

func TestGeneratedPeopleAreValid(t *testing.T) {
	now := date("2026-11-20")
	for i := range 500 {
		r := rand.New(rand.NewPCG(42, uint64(i)))
		country := Vietnam
		if i%3 == 0 {
			country = Australia
		}
		p := Generate(r, country, now)
		if p.FamilyName == "" || p.GivenName == "" || p.Address.Line() == "" {
			t.Fatalf("incomplete person %+v", p)
		}
		if a := p.Age(now); a < 18 || a > 80 {
			t.Errorf("%s: age %d", p.FullName(), a)
		}
		if country != Vietnam {
			continue
		}
		if !ValidCCCD(p.IDNumber, p.DOB, p.Sex) {
			t.Errorf("%s: CCCD %s does not fit dob %s sex %s", p.FullName(), p.IDNumber, p.DOB.Format("2006-01-02"), p.Sex)
		}
		m := MRZ(p)
		if !ValidMRZ(m) {
			t.Errorf("%s: invalid MRZ %q", p.FullName(), m)
		}
		if strings.ContainsFunc(strings.Join(m[:], ""), func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '<')
		}) {
			t.Errorf("MRZ has characters outside A-Z0-9<: %q", m)
		}
		if p.Expiry.IsZero() || !p.Expiry.After(p.IssueDate) {
			t.Errorf("%s: expiry %v not after issue %v", p.FullName(), p.Expiry, p.IssueDate)
		}
	}
}

func TestCCCDNumberDigits(t *testing.T) {
	tests := []struct {
		dob, sex, want string
	}{
		{"1995-09-02", "F", "079195001234"},
		{"1988-01-01", "M", "079088001234"},
		{"2001-03-14", "M", "079201001234"},
		{"2003-06-30", "F", "079303001234"},
	}
	for _, tt := range tests {
		if got := CCCDNumber("079", date(tt.dob), tt.sex, 1234); got != tt.want {
			t.Errorf("CCCDNumber(%s, %s) = %s, want %s", tt.dob, tt.sex, got, tt.want)
		}
	}
}

func TestFoldAndUpper(t *testing.T) {
	if got := Fold("Nguyễn Đức Thắng"); got != "Nguyen Duc Thang" {
		t.Errorf("Fold = %q", got)
	}
	if got := Upper("123 Lê Lợi, phường Bến Thành"); got != "123 LÊ LỢI, PHƯỜNG BẾN THÀNH" {
		t.Errorf("Upper = %q", got)
	}
}
