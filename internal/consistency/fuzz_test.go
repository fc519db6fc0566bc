package consistency

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzRun: whatever a provider reads off a card, the checks never panic, always list all ten,
// give each a status and a reason, and never quote a 12-digit ID number in a reason.
func FuzzRun(f *testing.F) {
	c := card()
	f.Add(c.IDNumber, c.DateOfBirth, c.Sex, c.PlaceOfOrigin, c.Name, c.Expiry, c.MRZ, c.Nationality)
	f.Add("N/A", "N/A", "N/A", "N/A", "N/A", "N/A", "N/A", "N/A")
	f.Add("079 195 001 234", "1995-09-02", "Nữ", "Hà Nội", "", "Không thời hạn", strings.Repeat("<", 90), "")
	f.Add("003495001234", "31/02/2095", "X", ",,,", "Đ", "99/99/9999", "IDVNM\n\n", "VNM")
	f.Fuzz(func(t *testing.T, id, dob, sex, home, name, doe, mrz, nat string) {
		in := Input{IDNumber: id, DateOfBirth: dob, Sex: sex, PlaceOfOrigin: home, Name: name, Expiry: doe, MRZ: mrz, Nationality: nat}
		checks := Run(in, time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
		if len(checks) != 10 {
			t.Fatalf("%d checks", len(checks))
		}
		for _, ch := range checks {
			if ch.Reason == "" || (ch.Status != Pass && ch.Status != Mismatch && ch.Status != NotCheckable) {
				t.Fatalf("%s: %q %q", ch.Key, ch.Status, ch.Reason)
			}
			if utf8.ValidString(id) && len(id) == 12 && digits(id) && strings.Contains(ch.Reason, id) {
				t.Fatalf("%s quotes the ID number: %q", ch.Key, ch.Reason)
			}
		}
	})
}
