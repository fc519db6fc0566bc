// Package generic reads kycdesk's own documented webhook format (DESIGN.md, "The generic event"),
// which any provider or in-house flow can send, and maps it to a cases.Result.
package generic

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider"
)

// Event types.
const (
	TypeCompleted = "verification.completed"
	TypeUpdated   = "verification.updated"
)

// MaxReferenceLen bounds verification.reference (in characters): it is the case's identity,
// shown in lists and URLs, not a place for payloads.
const MaxReferenceLen = 200

// Event is one generic webhook delivery. Its JSON form is the documented wire format, so a
// sender (the simulator, a test) can marshal it directly.
type Event struct {
	Type         string       `json:"type"`
	OccurredAt   time.Time    `json:"occurred_at"`
	Applicant    Applicant    `json:"applicant"`
	Verification Verification `json:"verification"`
}

// Applicant is the person as the sender describes them. All fields are optional.
type Applicant struct {
	ExternalID  string `json:"external_id,omitempty"`
	FullName    string `json:"full_name,omitempty"`
	GivenName   string `json:"given_name,omitempty"`
	MiddleName  string `json:"middle_name,omitempty"`
	FamilyName  string `json:"family_name,omitempty"`
	DateOfBirth string `json:"date_of_birth,omitempty"` // YYYY-MM-DD
	Sex         string `json:"sex,omitempty"`
	Nationality string `json:"nationality,omitempty"`
	IDNumber    string `json:"id_number,omitempty"`
	Address     string `json:"address,omitempty"`
}

// Verification is the outcome the sender reached.
type Verification struct {
	Reference string     `json:"reference"`
	Result    string     `json:"result"`
	RiskLevel string     `json:"risk_level,omitempty"`
	RiskScore *float64   `json:"risk_score,omitempty"`
	Checks    []Check    `json:"checks,omitempty"`
	Documents []Document `json:"documents,omitempty"`
}

// Check is one verification step as the sender reports it.
type Check struct {
	Kind    string          `json:"kind"`
	Result  string          `json:"result"`
	Score   *float64        `json:"score,omitempty"`
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Details json.RawMessage `json:"details,omitempty"`
}

// Document is an image sent inline (DataBase64) or by URL; exactly one of the two is set.
type Document struct {
	ID          string `json:"id,omitempty"`
	Kind        string `json:"kind"`
	ContentType string `json:"content_type,omitempty"`
	DataBase64  string `json:"data_base64,omitempty"`
	URL         string `json:"url,omitempty"`

	data []byte // DataBase64 decoded once by Parse
}

// wireEvent is Event as it arrives: occurred_at stays text so a bad time gets a clear reason.
type wireEvent struct {
	Type         *string       `json:"type"`
	OccurredAt   *string       `json:"occurred_at"`
	Applicant    *Applicant    `json:"applicant"`
	Verification *Verification `json:"verification"`
}

var (
	results    = set(cases.ResultPass, cases.ResultFail, cases.ResultReview)
	riskLevels = set(cases.RiskLow, cases.RiskMedium, cases.RiskHigh)
	checkKinds = set(cases.KindDocument, cases.KindLiveness, cases.KindFaceMatch, cases.KindAML,
		cases.KindPEP, cases.KindSanctions, cases.KindDatabase)
	checkResults = set(cases.CheckPass, cases.CheckFail, cases.CheckReview, cases.CheckHit, cases.CheckError)
	docKinds     = set(cases.DocIDFront, cases.DocIDBack, cases.DocPassport, cases.DocSelfie, cases.DocProofOfAddress)
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// Parse reads and validates a generic event. The format is ours and documented, so it is
// checked strictly: a wrong enum or a missing reference is a *provider.ShapeError (the
// webhook answers 400), while an odd applicant value (say, a date of birth that does not
// parse) is only flagged by Result. Unknown fields are ignored here and kept in the raw record.
func Parse(body []byte) (*Event, error) {
	if !provider.IsObject(body) {
		return nil, provider.Shapef("body must be a JSON object")
	}
	var w wireEvent
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, provider.JSONShapeError(err)
	}

	e := &Event{}
	switch {
	case w.Type == nil || *w.Type == "":
		return nil, provider.Shapef("type is missing")
	case *w.Type != TypeCompleted && *w.Type != TypeUpdated:
		return nil, provider.Shapef("type must be %s or %s", TypeCompleted, TypeUpdated)
	}
	e.Type = *w.Type

	if w.OccurredAt == nil || *w.OccurredAt == "" {
		return nil, provider.Shapef("occurred_at is missing")
	}
	t, err := time.Parse(time.RFC3339Nano, *w.OccurredAt)
	if err != nil {
		return nil, provider.Shapef("occurred_at must be an RFC 3339 time")
	}
	e.OccurredAt = t

	if w.Applicant != nil {
		e.Applicant = *w.Applicant
	}
	if w.Verification == nil {
		return nil, provider.Shapef("verification is missing")
	}
	e.Verification = *w.Verification
	if err := e.checkLimits(); err != nil {
		return nil, err
	}
	if err := e.Verification.validate(); err != nil {
		return nil, err
	}
	return e, nil
}

func (v *Verification) validate() error {
	ref := v.Reference
	switch {
	case strings.TrimSpace(ref) == "":
		return provider.Shapef("verification.reference is missing")
	case utf8.RuneCountInString(ref) > MaxReferenceLen:
		return provider.Shapef("verification.reference is longer than %d characters", MaxReferenceLen)
	case strings.IndexFunc(ref, unicode.IsControl) >= 0:
		return provider.Shapef("verification.reference contains control characters")
	}
	// A result is required on updates too: the case store needs one to route the case.
	switch {
	case v.Result == "":
		return provider.Shapef("verification.result is missing")
	case !results[v.Result]:
		return provider.Shapef("verification.result must be pass, fail or review")
	}
	if v.RiskLevel != "" && !riskLevels[v.RiskLevel] {
		return provider.Shapef("verification.risk_level must be low, medium or high")
	}
	for i := range v.Checks {
		c := &v.Checks[i]
		switch {
		case c.Kind == "":
			return provider.Shapef("verification.checks[%d].kind is missing", i)
		case !checkKinds[c.Kind]:
			return provider.Shapef("verification.checks[%d].kind is not a known check kind", i)
		case c.Result == "":
			return provider.Shapef("verification.checks[%d].result is missing", i)
		case !checkResults[c.Result]:
			return provider.Shapef("verification.checks[%d].result must be pass, fail, review, hit or error", i)
		}
		if provider.IsNull(c.Details) {
			c.Details = nil
		} else if !provider.IsObject(c.Details) {
			return provider.Shapef("verification.checks[%d].details must be an object", i)
		}
	}
	seen := make(map[string]bool, len(v.Documents))
	for i := range v.Documents {
		d := &v.Documents[i]
		switch {
		case d.Kind == "":
			return provider.Shapef("verification.documents[%d].kind is missing", i)
		case !docKinds[d.Kind]:
			return provider.Shapef("verification.documents[%d].kind is not a known document kind", i)
		case d.DataBase64 != "" && d.URL != "":
			return provider.Shapef("verification.documents[%d] has both data_base64 and url", i)
		case d.DataBase64 == "" && d.URL == "":
			return provider.Shapef("verification.documents[%d] needs data_base64 or url", i)
		}
		if d.ID != "" {
			if seen[d.ID] {
				return provider.Shapef("verification.documents[%d].id repeats an earlier id", i)
			}
			seen[d.ID] = true
		}
		if d.URL != "" {
			if err := provider.CheckHTTPURL(d.URL); err != nil {
				return provider.Shapef("verification.documents[%d].url must be an absolute http or https URL", i)
			}
			continue
		}
		data, err := provider.DecodeBase64(d.DataBase64)
		if err != nil {
			return provider.Shapef("verification.documents[%d].data_base64 is not valid base64", i)
		}
		d.data = data
	}
	return nil
}
