package consistency

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/simulator/persona"
)

// TestSimulatedCardsPass: the provider simulator's Vietnamese cards (its own province list,
// names in capitals as FPT.AI prints them, a genuine MRZ) pass every check. A province this
// package could not find by the name on a card, or a digit rule read differently from the
// simulator's, fails here.
func TestSimulatedCardsPass(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 11))
	for i := range 2000 {
		p := persona.Generate(r, persona.Vietnam, now)
		mrz := persona.MRZ(p)
		in := Input{
			IDNumber: p.IDNumber, DateOfBirth: p.DOB.Format("02/01/2006"), Sex: p.SexVi(),
			PlaceOfOrigin: persona.Upper(p.Origin.Line()), Name: persona.Upper(p.FullName()),
			Expiry: p.Expiry.Format("02/01/2006"), MRZ: strings.Join(mrz[:], "\n"), Nationality: "VIỆT NAM",
		}
		for _, c := range Run(in, p.IssueDate) {
			if c.Status != Pass {
				t.Errorf("card %d (%s, origin %q): %s %s %q", i, p.IDNumber[:3], in.PlaceOfOrigin, c.Key, c.Status, c.Reason)
			}
		}
		if t.Failed() {
			return
		}
	}
}
