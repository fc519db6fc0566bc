package cases_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// worstAllowed is the largest result the limits allow: every list full, every text at
// its length limit, every check carrying details of the largest allowed size.
func worstAllowed(at time.Time, ref string) cases.Result {
	r := sampleResult(at, ref, cases.ResultReview)
	r.Reference = ref
	long := func(n int) string { return strings.Repeat("ư", n) } // two bytes each
	r.Applicant = cases.Applicant{ExternalID: long(cases.MaxShortLen), FullName: long(cases.MaxNameLen),
		GivenName: long(cases.MaxNameLen), MiddleName: long(cases.MaxNameLen), FamilyName: long(cases.MaxNameLen),
		Nationality: long(cases.MaxShortLen), IDNumber: long(cases.MaxShortLen), Address: long(cases.MaxAddressLen)}
	// Messages and details share MaxCheckTextBytes: each check gets its part of it.
	per := cases.MaxCheckTextBytes / cases.MaxChecks
	details := []byte(`{"note":"` + strings.Repeat("x", per/2-12) + `"}`)
	r.Checks = make([]cases.Check, cases.MaxChecks)
	for i := range r.Checks {
		r.Checks[i] = cases.Check{Kind: cases.KindAML, Result: cases.CheckHit, Score: score(0.5), Code: long(cases.MaxShortLen),
			Message: long(per / 4), Source: "aml", Details: details}
	}
	r.Fields = make([]cases.Field, cases.MaxFields)
	for i := range r.Fields {
		r.Fields[i] = cases.Field{Group: "front", Name: fmt.Sprintf("f%d", i), Value: long(cases.MaxTextLen)}
	}
	r.Documents = make([]cases.DocumentRef, cases.MaxDocuments)
	for i := range r.Documents {
		r.Documents[i] = cases.DocumentRef{ProviderID: fmt.Sprintf("doc-%d", i), Kind: cases.DocIDFront, Data: jpegBytes}
	}
	return r
}

// TestApplyKeepsResultsWithinLimits: a result over the limits (a 1 MiB name, thousands of
// checks and documents) is kept within them and flagged, never refused: one odd provider
// answer does not fail the case. The caller's Result is left as it was.
func TestApplyKeepsResultsWithinLimits(t *testing.T) {
	e := newEnv(t)
	r := worstAllowed(e.now.Add(-time.Minute), "vrf-huge")
	huge := strings.Repeat("Hương ", 1<<20/6)
	r.Applicant.GivenName, r.Applicant.FamilyName, r.Applicant.FullName = huge, huge, huge+huge
	r.Applicant.Address = huge
	for range 12_000 - cases.MaxChecks {
		r.Checks = append(r.Checks, cases.Check{Kind: cases.KindPEP, Result: cases.CheckPass})
	}
	for i := range cases.MaxChecks { // messages at their limit: together over MaxCheckTextBytes
		r.Checks[i].Message = strings.Repeat("ư", cases.MaxTextLen)
	}
	r.Checks[0].Details = []byte(`{"x":"` + strings.Repeat("y", cases.MaxDetailsBytes) + `"}`)
	r.Checks[1].Message = huge
	for i := range 50 {
		r.Documents = append(r.Documents, cases.DocumentRef{ProviderID: fmt.Sprintf("extra-%d", i), Kind: cases.DocSelfie, Data: pngPixel})
	}
	before := fmt.Sprint(r.Applicant, len(r.Checks), r.Checks[1].Message == huge, len(r.Checks[0].Details))

	out := e.apply(e.inbox("huge"), r)
	if after := fmt.Sprint(r.Applicant, len(r.Checks), r.Checks[1].Message == huge, len(r.Checks[0].Details)); after != before {
		t.Fatal("Apply changed the caller's result")
	}
	c := e.get(out.CaseID)
	for name, v := range map[string]string{"given": c.GivenName, "family": c.FamilyName, "full": c.FullName} {
		if n := utf8.RuneCountInString(v); n != cases.MaxNameLen || !utf8.ValidString(v) {
			t.Errorf("%s name: %d characters (valid UTF-8: %v), want %d", name, n, utf8.ValidString(v), cases.MaxNameLen)
		}
	}
	if n := e.count(`SELECT COUNT(*) FROM case_checks WHERE case_id = ?`, c.ID); n != cases.MaxChecks {
		t.Errorf("%d checks stored, want %d", n, cases.MaxChecks)
	}
	if n := e.count(`SELECT COUNT(*) FROM case_documents WHERE case_id = ?`, c.ID); n != cases.MaxDocuments {
		t.Errorf("%d documents stored, want %d", n, cases.MaxDocuments)
	}
	checks, err := e.store.Checks(e.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if checks[0].Details != nil || utf8.RuneCountInString(checks[1].Message) != cases.MaxTextLen {
		t.Errorf("oversized details kept (%d bytes) or message not cut (%d characters)", len(checks[0].Details),
			utf8.RuneCountInString(checks[1].Message))
	}
	for _, want := range []string{
		"applicant given name cut to 256 characters",
		"applicant address cut to 1000 characters",
		"11800 checks beyond the limit of 200 left out",
		"check details over 2048 bytes left out",
		"check message cut to 256 characters",
		"50 documents beyond the limit of 20 left out",
	} {
		if !slices.Contains(c.Details.Flags, want) {
			t.Errorf("flag %q missing from %q", want, c.Details.Flags)
		}
	}
	if !slices.ContainsFunc(c.Details.Flags, func(f string) bool {
		return strings.HasPrefix(f, "details and message of ") && strings.HasSuffix(f, " checks left out: over 32 KiB per result")
	}) {
		t.Errorf("no flag for the checks over the text budget in %q", c.Details.Flags)
	}
	var text int
	for _, ch := range checks {
		text += len(ch.Details) + len(ch.Message)
	}
	if text > cases.MaxCheckTextBytes {
		t.Errorf("%d bytes of check details and messages stored", text)
	}
	if len(c.Details.Flags) > cases.MaxFlags+cases.MaxDocuments+1 {
		t.Errorf("%d flags", len(c.Details.Flags))
	}
}

// TestApplyWorstAllowedIsKeptWhole: a result exactly at every limit loses nothing and gets
// no flag for it.
func TestApplyWorstAllowedIsKeptWhole(t *testing.T) {
	e := newEnv(t)
	r := worstAllowed(e.now.Add(-time.Minute), "vrf-worst")
	c := e.get(e.apply(e.inbox("worst"), r).CaseID)
	if c.GivenName != r.Applicant.GivenName || c.FullName != r.Applicant.FullName {
		t.Error("a name at the limit was cut")
	}
	if n := e.count(`SELECT COUNT(*) FROM case_checks WHERE case_id = ?`, c.ID); n != cases.MaxChecks {
		t.Errorf("%d checks", n)
	}
	if n := e.count(`SELECT json_array_length(checks) FROM case_api_parts WHERE case_id = ? AND round = 1`, c.ID); n != cases.MaxChecks {
		t.Errorf("API array holds %d checks", n)
	}
	for _, f := range c.Details.Flags {
		if strings.Contains(f, "cut to") || strings.Contains(f, "left out") {
			t.Errorf("flag %q on a result within the limits", f)
		}
	}
}

// BenchmarkApplyWorstAllowed applies the largest result the limits allow, one case each,
// with the prepared statements the worker uses: the time one delivery can hold the writer.
func BenchmarkApplyWorstAllowed(b *testing.B) {
	ctx := context.Background()
	d, sealer := testkit.Store(b)
	in, _, err := integration.NewStore(d, sealer).Create(ctx, "test", integration.Spec{
		Name: "acme-generic", Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	store := &cases.Store{DB: d, Sealer: sealer, Now: func() time.Time { return now }, Routing: cases.Routing{SLA: cases.DefaultSLA}}
	src := cases.Source{IntegrationID: in.ID, IntegrationName: in.Name, Provider: in.Provider}
	if err := store.PrepareStatements(ctx); err != nil {
		b.Fatal(err)
	}
	results := make([]cases.Result, b.N)
	for i := range results {
		results[i] = worstAllowed(now.Add(-time.Minute), fmt.Sprintf("vrf-bench-%d", i))
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := store.Apply(ctx, src, 0, results[i]); err != nil {
			b.Fatal(err)
		}
	}
}
