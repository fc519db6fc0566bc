package cases

import (
	"encoding/json"
	"time"
)

// Result is one provider's verification outcome, normalised to kycdesk's vocabulary.
// Provider adapters (internal/provider/...) build it from webhooks and API responses;
// the ingest worker hands it to the case store, which opens or updates the case.
type Result struct {
	// Reference identifies the verification within its integration: the generic event's
	// verification.reference, FPT.AI's client_uuid (else uuid), FrankieOne's entityId.
	// One case per (integration, Reference).
	Reference string
	// Round identifies the provider session within the case (FPT.AI uuid, FrankieOne
	// workflowExecutionId, generic reference). A new Round on a decided case reopens it.
	Round string
	// OccurredAt orders results: an older one arriving late never overwrites a newer one.
	OccurredAt time.Time

	Result         string // ResultPass, ResultFail or ResultReview
	ProviderStatus string // the provider's own word (FrankieOne status, e.g. "REVIEW"), for display

	RiskLevel   string   // RiskLow, RiskMedium, RiskHigh, or "" when the provider gave none (derived later)
	RiskScore   *float64 // provider's score where given
	RiskFactors []RiskFactor

	Applicant Applicant
	Checks    []Check
	Fields    []Field // OCR / extracted fields with their confidences
	Issues    []Issue
	Documents []DocumentRef

	// OverrideRequestID is FrankieOne's statusOverrideRequestId: when it equals a requestId
	// kycdesk's own outbox received, the result is our echo and must not reopen the case.
	OverrideRequestID string

	// Flags are mapping notes shown to the reviewer ("risk level UNKNOWN: derived",
	// "dob: N/A", "unparsable date ..."). The mapping never fails a case for one odd field.
	Flags []string
}

// Case-level results.
const (
	ResultPass   = "pass"
	ResultFail   = "fail"
	ResultReview = "review"
)

// Check results (a superset of case results).
const (
	CheckPass   = "pass"
	CheckFail   = "fail"
	CheckReview = "review"
	CheckHit    = "hit"
	CheckError  = "error"
)

// Check kinds, the generic event's vocabulary, used for every provider.
const (
	KindDocument  = "document"
	KindLiveness  = "liveness"
	KindFaceMatch = "face_match"
	KindAML       = "aml"
	KindPEP       = "pep"
	KindSanctions = "sanctions"
	KindDatabase  = "database"
)

// Risk levels.
const (
	RiskLow    = "low"
	RiskMedium = "medium"
	RiskHigh   = "high"
)

// Document kinds.
const (
	DocIDFront        = "id_front"
	DocIDBack         = "id_back"
	DocPassport       = "passport"
	DocSelfie         = "selfie"
	DocProofOfAddress = "proof_of_address"
)

// Applicant is the person as the provider described them. Empty strings are missing values
// ("N/A" is mapped to empty, with a flag). DateOfBirth is ISO 8601 (YYYY-MM-DD) when it
// parsed, else empty with the raw text in DateOfBirthRaw.
type Applicant struct {
	ExternalID     string `json:"external_id,omitempty"`
	FullName       string `json:"full_name,omitempty"`
	GivenName      string `json:"given_name,omitempty"`
	MiddleName     string `json:"middle_name,omitempty"`
	FamilyName     string `json:"family_name,omitempty"`
	DateOfBirth    string `json:"date_of_birth,omitempty"`
	DateOfBirthRaw string `json:"date_of_birth_raw,omitempty"`
	Sex            string `json:"sex,omitempty"`
	Nationality    string `json:"nationality,omitempty"`
	IDNumber       string `json:"id_number,omitempty"`
	Address        string `json:"address,omitempty"`
}

// Check is one verification step's outcome.
type Check struct {
	Kind    string          `json:"kind"`              // Kind* constants
	Result  string          `json:"result"`            // Check* constants
	Score   *float64        `json:"score,omitempty"`   // provider score/confidence where given
	Code    string          `json:"code,omitempty"`    // provider error code ("303", "E102", ...)
	Message string          `json:"message,omitempty"` // provider message, shown to reviewers
	Source  string          `json:"source,omitempty"`  // provider's step/class name ("IDV", "AML", "liveness")
	Details json.RawMessage `json:"details,omitempty"` // provider details (matched name, PEP level, ...)
}

// Field is one extracted value (OCR) with its confidence.
type Field struct {
	Group      string   `json:"group"` // "front", "back", "document", ...
	Name       string   `json:"name"`  // provider field name ("id", "name", "dob", "mrz", ...)
	Value      string   `json:"value"` // as given, "" when missing ("N/A")
	Confidence *float64 `json:"confidence,omitempty"`
	Missing    bool     `json:"missing,omitempty"` // provider said N/A or left it out
	Flag       string   `json:"flag,omitempty"`    // "low confidence", "unparsable date", "MRZ check digit mismatch"
}

// RiskFactor is one contribution to the provider's risk assessment.
type RiskFactor struct {
	Factor      string   `json:"factor"`
	Value       string   `json:"value,omitempty"`
	Score       *float64 `json:"score,omitempty"`
	Description string   `json:"description,omitempty"`
}

// Issue is a provider-raised problem needing attention (FrankieOne issues[]).
type Issue struct {
	Category string `json:"category,omitempty"`
	Issue    string `json:"issue"`
	Severity string `json:"severity,omitempty"`
	Cleared  bool   `json:"cleared,omitempty"`
}

// DocumentRef is an image the worker must store with the case: inline bytes, or a URL to
// fetch (with the integration's credentials where the provider needs them).
type DocumentRef struct {
	ProviderID  string // provider's id for the document/attachment, stable across redeliveries
	Kind        string // Doc* constants
	ContentType string // as declared; the store sniffs the real type
	Data        []byte // inline bytes, or nil
	URL         string // where to fetch the bytes when Data is nil
}
