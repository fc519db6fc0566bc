package fptai

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// The MRZ of fixtures/fptai/callback_success.json.
var fixtureMRZ = []string{
	"IDVNM1950012347079195001234<<7",
	"9509023F3509021VNM<<<<<<<<<<<2",
	"NGUYEN<<THI<THU<HUONG<<<<<<<<<",
}

func TestParseMRZFixture(t *testing.T) {
	m, problems := ParseMRZ(fixtureMRZ)
	if len(problems) != 0 {
		t.Fatalf("fixture MRZ problems: %q", problems)
	}
	want := MRZ{
		DocumentCode: "ID", Issuer: "VNM", DocumentNumber: "195001234", IDNumber: "079195001234",
		BirthDate: "950902", Sex: "F", ExpiryDate: "350902", Nationality: "VNM", Name: "NGUYEN THI THU HUONG",
	}
	if m != want {
		t.Errorf("MRZ = %+v\nwant %+v", m, want)
	}
}

// set replaces one character of one line.
func set(lines []string, line, pos int, c byte) []string {
	out := append([]string(nil), lines...)
	b := []byte(out[line])
	b[pos] = c
	out[line] = string(b)
	return out
}

func TestParseMRZMutations(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"document number digit", set(fixtureMRZ, 0, 6, '8'), []string{
			"MRZ check digit mismatch: document number", "MRZ check digit mismatch: composite"}},
		{"document check digit", set(fixtureMRZ, 0, 14, '3'), []string{
			"MRZ check digit mismatch: document number", "MRZ check digit mismatch: composite"}},
		{"full id number digit", set(fixtureMRZ, 0, 17, '8'), []string{
			"MRZ check digit mismatch: id number", "MRZ check digit mismatch: composite"}},
		{"birth date", set(fixtureMRZ, 1, 5, '3'), []string{
			"MRZ check digit mismatch: birth date", "MRZ check digit mismatch: composite"}},
		{"expiry date", set(fixtureMRZ, 1, 9, '6'), []string{
			"MRZ check digit mismatch: expiry date", "MRZ check digit mismatch: composite"}},
		{"composite digit", set(fixtureMRZ, 1, 29, '5'), []string{"MRZ check digit mismatch: composite"}},
		{"sex is outside the checks", set(fixtureMRZ, 1, 7, 'M'), nil},
		{"name is outside the checks", set(fixtureMRZ, 2, 0, 'M'), nil},
		{"lower case", set(fixtureMRZ, 2, 0, 'n'), []string{"MRZ holds characters other than A-Z, 0-9 and <"}},
		{"short line", []string{fixtureMRZ[0], fixtureMRZ[1][:29], fixtureMRZ[2]}, []string{"MRZ is not 3 lines of 30 characters"}},
		{"two lines", fixtureMRZ[:2], []string{"MRZ is not 3 lines of 30 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := ParseMRZ(tt.lines)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckDigit(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"195001234", 7},
		{"950902", 3},
		{"L898902C3", 6}, // ICAO 9303 part 3 example
		{"<<<", 0},
		{"a", -1},
	}
	for _, tt := range tests {
		if got := CheckDigit(tt.in); got != tt.want {
			t.Errorf("CheckDigit(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// withCheckDigits recomputes every TD1 check digit, so a test can change a value without
// tripping the digit checks.
func withCheckDigits(lines []string) []string {
	l1, l2 := []byte(lines[0]), []byte(lines[1])
	l1[14] = byte('0' + CheckDigit(string(l1[5:14])))
	l1[29] = byte('0' + CheckDigit(string(l1[15:27])))
	l2[6] = byte('0' + CheckDigit(string(l2[0:6])))
	l2[14] = byte('0' + CheckDigit(string(l2[8:14])))
	l2[29] = byte('0' + CheckDigit(string(l1[5:30])+string(l2[0:7])+string(l2[8:15])+string(l2[18:29])))
	return []string{string(l1), string(l2), lines[2]}
}

// TestMutatedMRZInCallback runs the fixture with an altered MRZ through Result: the document
// check goes to review and the mrz field carries the reason.
func TestMutatedMRZInCallback(t *testing.T) {
	body := testkit.Fixture(t, "fptai/callback_success.json")
	replaceMRZ := func(lines []string) []byte {
		old := `"` + strings.Join(fixtureMRZ, "\",\n          \"") + `"`
		repl := `"` + strings.Join(lines, "\",\n          \"") + `"`
		if !bytes.Contains(body, []byte(old)) {
			t.Fatal("fixture MRZ layout changed")
		}
		return bytes.Replace(body, []byte(old), []byte(repl), 1)
	}
	tests := []struct {
		name  string
		lines []string
		flag  string
	}{
		{"unchanged", fixtureMRZ, ""},
		{"birth date digit", set(fixtureMRZ, 1, 5, '3'),
			"MRZ check digit mismatch: birth date; MRZ check digit mismatch: composite"},
		{"consistent but another birth date", withCheckDigits(set(fixtureMRZ, 1, 5, '3')),
			"MRZ birth date differs from the front"},
		{"consistent but another number", withCheckDigits(set(fixtureMRZ, 0, 26, '5')),
			"MRZ id number differs from the front"},
		{"consistent but another sex and expiry", withCheckDigits(set(set(fixtureMRZ, 1, 7, 'M'), 1, 9, '6')),
			"MRZ expiry date differs from the front; MRZ sex differs from the front"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb, err := Parse(replaceMRZ(tt.lines), "")
			if err != nil {
				t.Fatal(err)
			}
			r := cb.Result(Options{})
			var mrz cases.Field
			for _, f := range r.Fields {
				if f.Name == "mrz" {
					mrz = f
				}
			}
			if mrz.Flag != tt.flag {
				t.Errorf("mrz flag = %q, want %q", mrz.Flag, tt.flag)
			}
			wantResult, wantCheck := cases.ResultPass, cases.CheckPass
			if tt.flag != "" {
				wantResult, wantCheck = cases.ResultReview, cases.CheckReview
			}
			if r.Result != wantResult || r.Checks[0].Result != wantCheck {
				t.Errorf("Result %q document check %q, want %q %q", r.Result, r.Checks[0].Result, wantResult, wantCheck)
			}
		})
	}
}

func TestCheckCCCD(t *testing.T) {
	tests := []struct {
		name, number, dob, sex string
		want                   []string
	}{
		{"fixture success", "079195001234", "1995-09-02", "NỮ", nil},
		{"fixture wrapped", "001201004567", "2001-03-14", "NAM", nil},
		{"nothing to compare", "079195001234", "", "", nil},
		{"1900s male", "001090000001", "1990-01-01", "Nam", nil},
		{"2000s female", "001305000001", "2005-06-07", "nữ", nil},
		{"english sex words", "001305000001", "2005-06-07", "FEMALE", nil},
		{"unknown sex word is skipped", "001305000001", "2005-06-07", "KHÁC", nil},
		{"unknown province", "003195001234", "1995-09-02", "NỮ", []string{"unknown province code 003"}},
		{"year digits disagree", "079196001234", "1995-09-02", "NỮ", []string{"number says born in 1996, date of birth says 1995"}},
		{"century disagrees", "079395001234", "1995-09-02", "NỮ", []string{"number says born in 2095, date of birth says 1995"}},
		{"sex disagrees", "079195001234", "1995-09-02", "NAM", []string{"number says female, sex says NAM"}},
		{"far future century", "079895001234", "", "", []string{"century digit 8 means born after 2099"}},
		{"eleven digits", "07919500123", "", "", []string{"not a 12-digit CCCD number"}},
		{"letters", "07919500123A", "", "", []string{"not a 12-digit CCCD number"}},
		{"several at once", "999296001234", "1995-09-02", "NỮ", []string{
			"unknown province code 999",
			"number says born in 2096, date of birth says 1995",
			"number says male, sex says NỮ",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckCCCD(tt.number, tt.dob, tt.sex); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CheckCCCD = %q, want %q", got, tt.want)
			}
		})
	}
	if name, ok := Province("079"); !ok || name != "TP. Hồ Chí Minh" {
		t.Errorf("Province(079) = %q %v", name, ok)
	}
}

// TestCCCDInCallback: an inconsistent number on the card sends the case to review.
func TestCCCDInCallback(t *testing.T) {
	body := bytes.Replace(testkit.Fixture(t, "fptai/callback_wrapped.json"), []byte(`"sex": "NAM"`), []byte(`"sex": "NỮ"`), 1)
	r := parseFixtureBytes(t, body, "ekyc_result").Result(Options{})
	if r.Result != cases.ResultReview || r.Fields[0].Name != "id" || r.Fields[0].Flag != "number says male, sex says NỮ" {
		t.Errorf("Result %q id field %+v", r.Result, r.Fields[0])
	}
	if !contains(r.Flags, "id: number says male, sex says NỮ") {
		t.Errorf("Flags = %q", r.Flags)
	}
}

func parseFixtureBytes(t *testing.T, body []byte, key string) *Callback {
	t.Helper()
	cb, err := Parse(body, key)
	if err != nil {
		t.Fatal(err)
	}
	return cb
}

func TestParseDMY(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"02/09/1995", "1995-09-02"},
		{"2/9/1995", "1995-09-02"},
		{"14-03-2001", "2001-03-14"},
		{" 29.02.2000 ", "2000-02-29"},
		{"29/02/2001", ""},
		{"31/04/2020", ""},
		{"1995-09-02", ""},
		{"N/A", ""},
		{"KHÔNG THỜI HẠN", ""},
		{"00/01/2000", ""},
		{"+1/01/2000", ""},
	}
	for _, tt := range tests {
		got := ""
		if d, ok := parseDMY(tt.in); ok {
			got = d.Format("2006-01-02")
		}
		if got != tt.want {
			t.Errorf("parseDMY(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
