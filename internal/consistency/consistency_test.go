package consistency

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/kycdesk/kycdesk/internal/cases"
)

var now = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// card is the FPT.AI sample card (fixtures/fptai/callback_success.json): every check passes.
func card() Input {
	return Input{
		IDNumber: "079195001234", DateOfBirth: "02/09/1995", Sex: "NỮ", Name: "NGUYỄN THỊ THU HƯƠNG",
		PlaceOfOrigin: "PHƯỜNG BẾN NGHÉ, QUẬN 1, TP. HỒ CHÍ MINH", Expiry: "02/09/2035", Nationality: "VIỆT NAM",
		MRZ: "IDVNM1950012347079195001234<<7\n9509023F3509021VNM<<<<<<<<<<<2\nNGUYEN<<THI<THU<HUONG<<<<<<<<<",
	}
}

func byKey(checks []Check) map[string]Check {
	m := map[string]Check{}
	for _, c := range checks {
		m[c.Key] = c
	}
	return m
}

func TestSampleCardPasses(t *testing.T) {
	checks := Run(card(), now)
	if len(checks) != 10 {
		t.Fatalf("%d checks, want 10", len(checks))
	}
	for _, c := range checks {
		if c.Status != Pass || c.Reason == "" {
			t.Errorf("%s: %s %q", c.Key, c.Status, c.Reason)
		}
	}
}

func TestChecks(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Input)
		key    string
		want   Status
		reason string // a part of the reason
	}{
		// The province code against the place of origin.
		{"NFD place of origin", func(in *Input) {
			in.PlaceOfOrigin = norm.NFD.String("Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh")
		}, "cccd_province", Pass, "TP. Hồ Chí Minh"},
		{"Hà Nội card", func(in *Input) { in.IDNumber, in.PlaceOfOrigin = "001195001234", "Hà Nội" }, "cccd_province", Pass, "Hà Nội"},
		{"NFD Hà Nội", func(in *Input) {
			in.IDNumber, in.PlaceOfOrigin = "001195001234", norm.NFD.String("Xã Đông Anh, Hà Nội")
		}, "cccd_province", Pass, "Hà Nội"},
		{"code of another province", func(in *Input) { in.PlaceOfOrigin = "Hà Nội" }, "cccd_province", Mismatch, "Code 079 is TP. Hồ Chí Minh, the place of origin says Hà Nội"},
		{"tampered province code", func(in *Input) { in.IDNumber = "003195001234" }, "cccd_province", Mismatch, "003 is not a province code"},
		{"province merged in 2025", func(in *Input) { in.IDNumber, in.PlaceOfOrigin = "080195001234", "Xã Mỹ Yên, Tây Ninh" }, "cccd_province", Pass, "became part of Tây Ninh"},
		{"place of origin N/A", func(in *Input) { in.PlaceOfOrigin = "N/A" }, "cccd_province", NotCheckable, "no place of origin"},
		{"place names no province", func(in *Input) { in.PlaceOfOrigin = "Quận 1" }, "cccd_province", NotCheckable, "names no province"},
		{"old 9-digit CMND", func(in *Input) { in.IDNumber = "025123456" }, "cccd_province", NotCheckable, "CMND"},
		{"not 12 digits", func(in *Input) { in.IDNumber = "07919500123X" }, "cccd_century_sex", NotCheckable, "not a 12-digit"},
		{"ID number N/A", func(in *Input) { in.IDNumber = "N/A" }, "cccd_birth_year", NotCheckable, "No ID number"},
		{"not Vietnamese", func(in *Input) { in.Nationality = "AUS" }, "cccd_province", NotCheckable, "AUS"},
		{"spaced number", func(in *Input) { in.IDNumber = "079 195 001 234" }, "cccd_birth_year", Pass, "are the last two digits"},

		// Century and sex digit.
		{"sex digit tampered to male", func(in *Input) { in.IDNumber = "079095001234" }, "cccd_century_sex", Mismatch, "means male, the sex read is NỮ"},
		{"NFD Nữ", func(in *Input) { in.Sex = norm.NFD.String("Nữ") }, "cccd_century_sex", Pass, "female"},
		{"sex in English", func(in *Input) { in.Sex = "F" }, "cccd_century_sex", Pass, "female"},
		{"century digit says 2000s", func(in *Input) { in.IDNumber = "079395001234" }, "cccd_century_sex", Mismatch, "born 2000-2099, the date of birth is in another century"},
		{"born 2005 male", func(in *Input) {
			in.IDNumber, in.Sex, in.DateOfBirth = "001205001234", "Nam", "2005-01-31"
		}, "cccd_century_sex", Pass, "male, born 2000-2099"},
		{"22nd century digit", func(in *Input) { in.IDNumber, in.DateOfBirth = "079495001234", "" }, "cccd_century_sex", Mismatch, "after 2099"},
		{"no sex nor date", func(in *Input) { in.Sex, in.DateOfBirth = "N/A", "" }, "cccd_century_sex", NotCheckable, "neither sex nor date"},

		// Birth-year digits.
		{"year digits tampered", func(in *Input) { in.IDNumber = "079185001234" }, "cccd_birth_year", Mismatch, "are not the last two digits of the year of birth"},
		{"ISO date of birth", func(in *Input) { in.DateOfBirth = "1995-09-02" }, "cccd_birth_year", Pass, "are the last two digits"},
		{"unparsable date", func(in *Input) { in.DateOfBirth = "31/02/1995" }, "cccd_birth_year", NotCheckable, "not a date"},

		// The MRZ.
		{"MRZ run together", func(in *Input) { in.MRZ = strings.ReplaceAll(in.MRZ, "\n", "") }, "mrz_check_digits", Pass, "Every check digit"},
		{"MRZ document number edited", func(in *Input) {
			in.MRZ = strings.Replace(in.MRZ, "IDVNM195001234", "IDVNM195001284", 1)
		}, "mrz_check_digits", Mismatch, "document number"},
		{"MRZ birth date edited", func(in *Input) { in.MRZ = strings.Replace(in.MRZ, "9509023F", "9509013F", 1) }, "mrz_check_digits", Mismatch, "birth date"},
		{"front date of birth differs", func(in *Input) { in.DateOfBirth = "03/09/1995" }, "mrz_birth_date", Mismatch, "differs from the one on the front"},
		{"front expiry differs", func(in *Input) { in.Expiry = "02/09/2036" }, "mrz_expiry", Mismatch, "02/09/2036"},
		{"front sex differs", func(in *Input) { in.Sex = "NAM" }, "mrz_sex", Mismatch, "The MRZ says female, the front NAM"},
		{"front number differs", func(in *Input) { in.IDNumber = "079195001235" }, "mrz_document_number", Mismatch, "differs from the number on the front"},
		{"front name differs", func(in *Input) { in.Name = "NGUYỄN THỊ THU HÀ" }, "mrz_name", Mismatch, "NGUYEN THI THU HUONG"},
		{"NFD name matches", func(in *Input) { in.Name = norm.NFD.String("Nguyễn Thị Thu Hương") }, "mrz_name", Pass, "without diacritics"},
		{"no MRZ", func(in *Input) { in.MRZ = "" }, "mrz_check_digits", NotCheckable, "No MRZ"},
		{"MRZ N/A", func(in *Input) { in.MRZ = "N/A" }, "mrz_name", NotCheckable, "No MRZ"},
		{"MRZ garbage", func(in *Input) { in.MRZ = "IDVNM12" }, "mrz_check_digits", Mismatch, "3 lines of 30"},
		{"passport MRZ", func(in *Input) {
			in.MRZ = "P<VNMNGUYEN<<THI<THU<HUONG<<<<<<<<<<<<<<<<<<\nB12345678<VNM9509023F3509021<<<<<<<<<<<<<<02"
		}, "mrz_check_digits", NotCheckable, "passport MRZ"},
		{"MRZ garbage fields", func(in *Input) { in.MRZ = "IDVNM12" }, "mrz_sex", NotCheckable, "could not be read"},

		// Expiry.
		{"expired", func(in *Input) { in.Expiry = "19/11/2026" }, "document_expiry", Mismatch, "Expired on 19/11/2026"},
		{"expires today: still valid, soon", func(in *Input) { in.Expiry = "20/11/2026" }, "document_expiry", Mismatch, "in 1 day:"},
		{"expires within 30 days", func(in *Input) { in.Expiry = "10/12/2026" }, "document_expiry", Mismatch, "in 21 days:"},
		{"expires in 60 days", func(in *Input) { in.Expiry = "19/01/2027" }, "document_expiry", Pass, "Valid until 19/01/2027"},
		{"no expiry on the card", func(in *Input) { in.Expiry = "Không thời hạn" }, "document_expiry", Pass, "no expiry"},
		{"expiry N/A", func(in *Input) { in.Expiry = "N/A" }, "document_expiry", NotCheckable, "No expiry"},
		{"expiry not a date", func(in *Input) { in.Expiry = "02/13/2035" }, "document_expiry", NotCheckable, "not a date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := card()
			tt.edit(&in)
			c, ok := byKey(Run(in, now))[tt.key]
			if !ok {
				t.Fatalf("no check %s", tt.key)
			}
			if c.Status != tt.want || !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("%s = %s %q, want %s containing %q", tt.key, c.Status, c.Reason, tt.want, tt.reason)
			}
		})
	}
}

func TestFromCase(t *testing.T) {
	a := cases.Applicant{FullName: "Nguyễn Thu Hương", IDNumber: "079195001234", DateOfBirth: "1995-09-02", Nationality: "VNM", Sex: "F"}
	fields := []cases.Field{
		{Group: "front", Name: "id", Value: "079195001235"},
		{Group: "front", Name: "home", Value: "Hà Nội"},
		{Group: "front", Name: "sex", Value: "", Missing: true},
		{Group: "back", Name: "mrz", Value: "N/A"},
	}
	in := FromCase(a, fields)
	want := Input{IDNumber: "079195001235", DateOfBirth: "1995-09-02", Sex: "F", PlaceOfOrigin: "Hà Nội",
		Name: "Nguyễn Thu Hương", Nationality: "VNM"}
	if in != want {
		t.Errorf("FromCase = %+v\nwant %+v", in, want)
	}
	// The generic provider's applicant alone: the CCCD digits are checked, the place of origin is not.
	got := byKey(Run(FromCase(a, nil), now))
	if got["cccd_birth_year"].Status != Pass || got["cccd_province"].Status != NotCheckable {
		t.Errorf("applicant only: %+v", got)
	}
}

// TestReasonsCarryNoPII: the page masks the ID number and the date of birth until a reviewer
// reveals them, and the checks' reasons are shown either way: they must not quote them.
func TestReasonsCarryNoPII(t *testing.T) {
	edits := []func(*Input){
		func(*Input) {},
		func(in *Input) { in.IDNumber = "079185001234" },
		func(in *Input) { in.IDNumber = "079195001235" },
		func(in *Input) { in.DateOfBirth = "03/08/1996" },
		func(in *Input) { in.MRZ = strings.Replace(in.MRZ, "IDVNM195001234", "IDVNM195001284", 1) },
		func(in *Input) { in.PlaceOfOrigin = "Hà Nội"; in.Sex = "NAM" },
		func(in *Input) { in.DateOfBirth = "31/02/1995" },
	}
	for i, edit := range edits {
		in := card()
		edit(&in)
		for _, c := range Run(in, now) {
			for _, secret := range []string{"195001234", "001234", "001235", "001284", "1995", "1996", "02/09/1995", "03/08", "950902", "1995-09-02", "31/02"} {
				if strings.Contains(c.Reason, secret) {
					t.Errorf("edit %d: %s reason %q quotes %q", i, c.Key, c.Reason, secret)
				}
			}
		}
	}
}

// BenchmarkRun times every check on the sample card, as the case page runs them:
// go test -run '^$' -bench Run ./internal/consistency/
func BenchmarkRun(b *testing.B) {
	in := card()
	for b.Loop() {
		if len(Run(in, now)) != 10 {
			b.Fatal("checks missing")
		}
	}
}
