package caseapi

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/integration"
)

// Statuses are the case lifecycle states of DESIGN.md, as the status filter accepts them.
var Statuses = []string{cases.StatusNew, cases.StatusInReview, cases.StatusPendingInfo, cases.StatusEscalated,
	cases.StatusAwaitingSecondApproval, cases.StatusApproved, cases.StatusRejected}

// Providers are the provider names the provider filter accepts.
var Providers = []string{integration.FrankieOne, integration.FPTAI, integration.Generic}

// Page sizes.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Query is a validated list request.
type Query struct {
	Reference    string    // exact match; "" for any
	Status       string    // one of Statuses; "" for any
	Provider     string    // one of Providers; "" for any
	UpdatedAfter time.Time // exclusive; zero for any
	Limit        int       // 1..MaxLimit

	afterSeq int64 // from the cursor: list changes after this one
}

// updatedAfterMillis is the filter in stored units: times are whole milliseconds, so
// "after t" is "after t's millisecond".
func (q Query) updatedAfterMillis() int64 {
	return q.UpdatedAfter.Truncate(time.Millisecond).UnixMilli()
}

// parameters are the query parameters the list accepts; anything else is refused, so a
// misspelt filter fails loudly instead of silently returning every case.
var parameters = []string{"reference", "status", "provider", "updated_after", "after", "limit"}

// ParseQuery validates the list's query parameters. Every error is errs.Invalid with a
// message that starts with the parameter's name. An empty value counts as not given.
func (r *Reader) ParseQuery(v url.Values) (Query, error) {
	q := Query{Limit: DefaultLimit}
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names) // report the same parameter first every time
	for _, name := range names {
		if !slices.Contains(parameters, name) {
			return q, errs.E(errs.Invalid, "%s: unknown parameter (this endpoint takes %s)", printable(name), strings.Join(parameters, ", "))
		}
		if len(v[name]) > 1 {
			return q, errs.E(errs.Invalid, "%s: given more than once", name)
		}
	}
	q.Reference = v.Get("reference")
	if s := v.Get("status"); s != "" {
		if !slices.Contains(Statuses, s) {
			return q, errs.E(errs.Invalid, "status: must be one of %s", strings.Join(Statuses, ", "))
		}
		q.Status = s
	}
	if p := v.Get("provider"); p != "" {
		if !slices.Contains(Providers, p) {
			return q, errs.E(errs.Invalid, "provider: must be one of %s", strings.Join(Providers, ", "))
		}
		q.Provider = p
	}
	if s := v.Get("updated_after"); s != "" {
		t, err := parseTime(s)
		if err != nil {
			return q, errs.E(errs.Invalid, "updated_after: not an RFC 3339 time (e.g. 2026-11-20T08:14:42Z)")
		}
		q.UpdatedAfter = t
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return q, errs.E(errs.Invalid, "limit: must be a whole number from 1 to %d", MaxLimit)
		}
		q.Limit = n
	}
	if s := v.Get("after"); s != "" {
		seq, err := r.openCursor(s)
		if err != nil {
			return q, errs.E(errs.Invalid, "after: not a cursor this server issued (pass the next value of a previous page unchanged)")
		}
		q.afterSeq = seq
	}
	return q, nil
}

// parseTime reads an RFC 3339 time. A '+' of a UTC offset sent unencoded in a query string
// arrives as a space; it is read as the '+' the client meant.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && strings.Count(s, " ") == 1 {
		t, err = time.Parse(time.RFC3339Nano, strings.Replace(s, " ", "+", 1))
	}
	return t, err
}

// printable keeps an unknown parameter's name short and readable in the error message.
func printable(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}
