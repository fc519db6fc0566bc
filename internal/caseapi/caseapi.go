// Package caseapi is the read model behind the JSON API (/api/v1) for customer backends:
// one case, or a filtered keyset-paginated list, in the documented shape without PII.
package caseapi

import (
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// Case is one case as the JSON API shows it (DESIGN.md, "The JSON API"). Fields may be
// added, none renamed. ID numbers, dates of birth, addresses and images are never in it.
//
// SQLite builds this object itself (caseJSON in sql.go): a page of 1,000 cases encoded in
// C costs a fraction of scanning some 40,000 columns through database/sql. The type
// documents the shape for Go readers and clients, and the tests decode every answer into
// it with unknown fields refused; openapi.json describes it to everyone else.
type Case struct {
	ID          string     `json:"id"`
	Reference   string     `json:"reference"`
	Provider    string     `json:"provider"`
	Integration string     `json:"integration"` // the integration's name
	Status      string     `json:"status"`
	RiskLevel   string     `json:"risk_level"`
	Result      string     `json:"result"`
	Round       int        `json:"round"`
	Assignee    *string    `json:"assignee"`    // the assignee's email
	Decision    *string    `json:"decision"`    // approve, reject; null while undecided
	ReasonCode  *string    `json:"reason_code"` // given with a decision
	CreatedAt   time.Time  `json:"created_at"`  // TimeFormat
	UpdatedAt   time.Time  `json:"updated_at"`
	SLADue      time.Time  `json:"sla_due"`
	DecidedAt   *time.Time `json:"decided_at"` // when the current decision was taken; null while undecided
	Applicant   Applicant  `json:"applicant"`
	Checks      []Check    `json:"checks"`    // of the current round
	Documents   []Document `json:"documents"` // of the current round, metadata only
}

// Applicant is the person, as far as the API may say: names and the customer's own id.
// A value the provider did not give is null.
type Applicant struct {
	FullName   *string `json:"full_name"`
	GivenName  *string `json:"given_name"`
	FamilyName *string `json:"family_name"`
	ExternalID *string `json:"external_id"`
}

// Check is one verification step of the current round, in the generic event's vocabulary
// (the provider adapters normalise every provider to it). Score and Details are left out
// when the provider gave none.
type Check struct {
	Kind    string          `json:"kind"`
	Result  string          `json:"result"`
	Score   *float64        `json:"score,omitempty"`
	Details json.RawMessage `json:"details,omitempty"`
}

// Document is an image's metadata. ID is the {doc} of /cases/{id}/documents/{doc};
// SHA256 is the lowercase hex digest of the bytes as received.
type Document struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// TimeFormat is how every time in the API is written: RFC 3339 in UTC with exactly three
// fractional digits. Milliseconds are what the database stores, so an updated_at handed
// back as updated_after loses nothing.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Page is one page of the list: each case already encoded, and the cursor of the next
// page, nil on the last.
type Page struct {
	Cases []json.RawMessage
	Next  *string
}

// WriteJSON writes the page as {"cases": [...], "next": "…" | null}: the cases as SQLite
// built them, without a second pass through encoding/json, and piece by piece so that a
// 1 MB page needs no buffer of its own (the HTTP response's pooled buffer takes it).
func (p Page) WriteJSON(w io.Writer) error {
	bw := errWriter{w: w}
	bw.write([]byte(`{"cases":[`))
	for i, c := range p.Cases {
		if i > 0 {
			bw.write([]byte{','})
		}
		bw.write(c)
	}
	bw.write([]byte(`],"next":`))
	if p.Next == nil {
		bw.write([]byte("null"))
	} else {
		bw.write(strconv.AppendQuote(nil, *p.Next)) // base64url: nothing to escape
	}
	bw.write([]byte{'}'})
	return bw.err
}

// errWriter keeps the first write error and skips the writes after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}
