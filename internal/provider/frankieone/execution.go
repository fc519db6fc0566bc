package frankieone

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/internal/provider"
)

// Execution is the answer of GET …/executions/{id}: the workflow's result and the
// individual it ran on. Fields not listed are not needed by kycdesk; the raw answer is not kept.
type Execution struct {
	RequestID      string         `json:"requestId"`
	WorkflowResult WorkflowResult `json:"workflowResult"`
	Individual     *Individual    `json:"individual,omitempty"`
}

// WorkflowResult is one execution's outcome. Status is final and includes manual overrides;
// Result is what the automated workflow decided.
type WorkflowResult struct {
	WorkflowExecutionID     string            `json:"workflowExecutionId"`
	WorkflowName            string            `json:"workflowName"`
	ServiceName             string            `json:"serviceName,omitempty"`
	EntityID                string            `json:"entityId"`
	WorkflowExecutionState  string            `json:"workflowExecutionState"`
	Status                  string            `json:"status"`
	Result                  string            `json:"result"`
	StatusOverrideAt        string            `json:"statusOverrideAt,omitempty"`
	StatusOverrideBy        string            `json:"statusOverrideBy,omitempty"`
	StatusOverrideRequestID string            `json:"statusOverrideRequestId,omitempty"`
	StartedAt               string            `json:"startedAt,omitempty"`
	EndedAt                 string            `json:"endedAt,omitempty"`
	Errors                  []json.RawMessage `json:"errors,omitempty"`
	RiskAssessment          *RiskAssessment   `json:"riskAssessment,omitempty"`
	WorkflowStepResults     []StepResult      `json:"workflowStepResults,omitempty"`
	Issues                  []Issue           `json:"issues,omitempty"`
}

// RiskAssessment is FrankieOne's risk verdict for the entity (riskScore/riskLevel) and for
// this workflow (workflowRisk*); kycdesk prefers the entity's.
type RiskAssessment struct {
	RiskScore         provider.Number `json:"riskScore"`
	RiskLevel         string          `json:"riskLevel"`
	WorkflowRiskScore provider.Number `json:"workflowRiskScore"`
	WorkflowRiskLevel string          `json:"workflowRiskLevel"`
	RiskFactors       []RiskFactor    `json:"riskFactors,omitempty"`
}

// RiskFactor is one contribution to the risk score.
type RiskFactor struct {
	Factor      string          `json:"factor"`
	Value       provider.Text   `json:"value"`
	Score       provider.Number `json:"score"`
	Description string          `json:"description,omitempty"`
	Status      string          `json:"status,omitempty"`
}

// StepResult is one workflow step (KYC, IDV, AML, ...) with the processes it ran.
type StepResult struct {
	StepName       string          `json:"stepName"`
	Result         string          `json:"result"`
	ObjectType     string          `json:"objectType,omitempty"`
	ObjectID       string          `json:"objectId,omitempty"`
	ProcessResults []ProcessResult `json:"processResults,omitempty"`
}

// ProcessResult is one check inside a step. ManualStatus is set when someone at FrankieOne
// resolved it by hand (a hit marked FALSE_POSITIVE, say) and then outranks Result.
type ProcessResult struct {
	Class             string          `json:"class"`
	Result            string          `json:"result"`
	ManualStatus      string          `json:"manualStatus,omitempty"`
	ObjectID          string          `json:"objectId,omitempty"`
	SupplementaryData json.RawMessage `json:"supplementaryData,omitempty"`
}

// Issue is a problem FrankieOne raised for attention.
type Issue struct {
	IssueID   string        `json:"issueId,omitempty"`
	Category  string        `json:"category,omitempty"`
	Issue     string        `json:"issue"`
	Severity  string        `json:"severity,omitempty"`
	IsCleared provider.Text `json:"isCleared,omitempty"`
}

// Individual is the entity a workflow ran on, as FrankieOne stores it.
type Individual struct {
	EntityID           string              `json:"entityId"`
	Name               *Name               `json:"name,omitempty"`
	DateOfBirth        *DateOfBirth        `json:"dateOfBirth,omitempty"`
	Gender             json.RawMessage     `json:"gender,omitempty"`      // a string or {"gender": "FEMALE"}
	Nationality        json.RawMessage     `json:"nationality,omitempty"` // a string or {"country": "AUS"}
	Addresses          []Address           `json:"addresses,omitempty"`
	Documents          DocumentSet         `json:"documents,omitempty"`
	CustomerReference  provider.Text       `json:"customerReference,omitempty"`
	ExternalReferences []ExternalReference `json:"externalReferences,omitempty"`
	ServiceProfiles    []ServiceProfile    `json:"serviceProfiles,omitempty"`
}

// Name is the individual's name in parts.
type Name struct {
	GivenName   string `json:"givenName,omitempty"`
	MiddleName  string `json:"middleName,omitempty"`
	FamilyName  string `json:"familyName,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// DateOfBirth is FrankieOne's date: normalized (YYYY-MM-DD) when it could, else parts or text.
type DateOfBirth struct {
	Normalized   string        `json:"normalized,omitempty"`
	Year         provider.Text `json:"year,omitempty"`
	Month        provider.Text `json:"month,omitempty"`
	Day          provider.Text `json:"day,omitempty"`
	Unstructured string        `json:"unstructured,omitempty"`
}

// Address is one of the individual's addresses.
type Address struct {
	Type                 string `json:"type,omitempty"`
	UnstructuredLongForm string `json:"unstructuredLongForm,omitempty"`
	UnitNumber           string `json:"unitNumber,omitempty"`
	StreetNumber         string `json:"streetNumber,omitempty"`
	StreetName           string `json:"streetName,omitempty"`
	StreetType           string `json:"streetType,omitempty"`
	Locality             string `json:"locality,omitempty"`
	Subdivision          string `json:"subdivision,omitempty"`
	PostalCode           string `json:"postalCode,omitempty"`
	Country              string `json:"country,omitempty"`
}

// ExternalReference is a customer-side identifier attached to the entity.
type ExternalReference struct {
	Name  string `json:"name,omitempty"`
	Type  string `json:"type,omitempty"`
	Value string `json:"value,omitempty"`
}

// Document is an ID document, selfie or supporting document of the individual.
type Document struct {
	DocumentID        string       `json:"documentId"`
	Type              string       `json:"type,omitempty"`
	Category          string       `json:"-"` // IDENTITY, SUPPORTING, ...: the group it was listed under
	Country           string       `json:"country,omitempty"`
	PrimaryIdentifier string       `json:"primaryIdentifier,omitempty"`
	Attachments       []Attachment `json:"attachments,omitempty"`
}

// Attachment is one image (a side, a page) of a document. Data is only filled when the
// document was fetched with level=base64.
type Attachment struct {
	AttachmentID    string         `json:"attachmentId"`
	Side            string         `json:"side,omitempty"`
	MimeType        string         `json:"mimeType,omitempty"`
	Filename        string         `json:"filename,omitempty"`
	RetrievalStatus string         `json:"retrievalStatus,omitempty"`
	Data            AttachmentData `json:"data,omitzero"`
}

// AttachmentData holds the image: base64, or a URI (a data URI, or a link to fetch).
type AttachmentData struct {
	Base64 string `json:"base64,omitempty"`
	URI    string `json:"uri,omitempty"`
}

// Image returns the attachment's bytes when they are inline. A URI that is a link comes back
// as url for the caller to fetch (without FrankieOne's credentials: such links are pre-signed).
func (a *Attachment) Image() (data []byte, contentType, url string, err error) {
	contentType = a.MimeType
	switch uri := strings.TrimSpace(a.Data.URI); {
	case a.Data.Base64 != "":
		data, err = provider.DecodeBase64(a.Data.Base64)
	case strings.HasPrefix(uri, "data:"):
		var ct string
		data, ct, err = provider.DecodeDataURI(uri)
		if contentType == "" {
			contentType = ct
		}
	case uri != "":
		if err = provider.CheckHTTPURL(uri); err == nil {
			url = uri
		}
	}
	return data, contentType, url, err
}

// DocumentSet is the individual's documents. FrankieOne groups them by category
// ({"IDENTITY": [...], "SUPPORTING": [...]}); a plain array is accepted too. Identity
// documents come first, then the other groups by name, so the order is stable.
type DocumentSet []Document

// UnmarshalJSON implements json.Unmarshaler.
func (ds *DocumentSet) UnmarshalJSON(b []byte) error {
	*ds = nil
	if provider.IsNull(b) {
		return nil
	}
	if !provider.IsObject(b) {
		var list []Document
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*ds = list
		return nil
	}
	var groups map[string][]Document
	if err := json.Unmarshal(b, &groups); err != nil {
		return err
	}
	cats := make([]string, 0, len(groups))
	for c := range groups {
		cats = append(cats, c)
	}
	sortCategories(cats)
	for _, c := range cats {
		for _, d := range groups[c] {
			d.Category = c
			*ds = append(*ds, d)
		}
	}
	return nil
}

// MarshalJSON writes the grouped form FrankieOne uses, so a simulator can serve what it built.
func (ds DocumentSet) MarshalJSON() ([]byte, error) {
	if ds == nil {
		return []byte("null"), nil
	}
	groups := map[string][]Document{}
	for _, d := range ds {
		c := d.Category
		if c == "" {
			c = "IDENTITY"
		}
		groups[c] = append(groups[c], d)
	}
	return json.Marshal(groups)
}

// sortCategories puts IDENTITY first and the other groups after it by name.
func sortCategories(cats []string) {
	rank := func(c string) string {
		if strings.EqualFold(c, "IDENTITY") {
			return "0"
		}
		return "1" + c
	}
	slices.SortFunc(cats, func(a, b string) int { return strings.Compare(rank(a), rank(b)) })
}

// ServiceProfile is one service (KYC, ...) the entity is enrolled in, with its workflows'
// executions. FrankieOne lists them as workflowSummaries; workflows is accepted too.
type ServiceProfile struct {
	ServiceName       string            `json:"serviceName"`
	WorkflowSummaries []WorkflowSummary `json:"workflowSummaries,omitempty"`
	Workflows         []WorkflowSummary `json:"workflows,omitempty"`
}

// WorkflowSummary is one execution of a workflow, or a workflow with its executions nested.
type WorkflowSummary struct {
	WorkflowName           string            `json:"workflowName,omitempty"`
	WorkflowExecutionID    string            `json:"workflowExecutionId,omitempty"`
	WorkflowExecutionState string            `json:"workflowExecutionState,omitempty"`
	Status                 string            `json:"status,omitempty"`
	Result                 string            `json:"result,omitempty"`
	StartedAt              string            `json:"startedAt,omitempty"`
	EndedAt                string            `json:"endedAt,omitempty"`
	UpdatedAt              string            `json:"updatedAt,omitempty"`
	LastUpdatedAt          string            `json:"lastUpdatedAt,omitempty"`
	CreatedAt              string            `json:"createdAt,omitempty"`
	StatusOverrideAt       string            `json:"statusOverrideAt,omitempty"`
	Executions             []WorkflowSummary `json:"executions,omitempty"`
	WorkflowExecutions     []WorkflowSummary `json:"workflowExecutions,omitempty"`
}

// Profile is the answer of GET /individuals/{entityId}: the individual and its service
// profiles. Some answers nest serviceProfiles inside the individual; Parse lifts them.
type Profile struct {
	RequestID       string           `json:"requestId"`
	Individual      Individual       `json:"individual"`
	ServiceProfiles []ServiceProfile `json:"serviceProfiles,omitempty"`
}

// LatestExecution picks the execution to re-fetch after an entity notification: the most
// recent by its latest timestamp; executions without any time lose to timed ones, and among
// equals the one listed last wins (FrankieOne lists oldest first).
func (p *Profile) LatestExecution() (ExecutionRef, bool) {
	var best ExecutionRef
	var bestAt time.Time
	found := false
	var visit func(service, workflow string, s WorkflowSummary)
	visit = func(service, workflow string, s WorkflowSummary) {
		if s.WorkflowName != "" {
			workflow = s.WorkflowName
		}
		if s.WorkflowExecutionID != "" && workflow != "" && service != "" {
			at := latest(s.EndedAt, s.UpdatedAt, s.LastUpdatedAt, s.StatusOverrideAt, s.StartedAt, s.CreatedAt)
			if !found || !at.Before(bestAt) {
				best, bestAt, found = ExecutionRef{ServiceName: service, WorkflowName: workflow, ExecutionID: s.WorkflowExecutionID}, at, true
			}
		}
		for _, e := range s.Executions {
			visit(service, workflow, e)
		}
		for _, e := range s.WorkflowExecutions {
			visit(service, workflow, e)
		}
	}
	profiles := p.ServiceProfiles
	if len(profiles) == 0 {
		profiles = p.Individual.ServiceProfiles
	}
	for _, sp := range profiles {
		for _, s := range sp.WorkflowSummaries {
			visit(sp.ServiceName, "", s)
		}
		for _, s := range sp.Workflows {
			visit(sp.ServiceName, "", s)
		}
	}
	return best, found
}

// parseTime reads FrankieOne's timestamps (RFC 3339 with milliseconds; a missing zone is UTC).
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// latest returns the latest of the timestamps that parse, zero when none does.
func latest(stamps ...string) time.Time {
	var best time.Time
	for _, s := range stamps {
		if t, ok := parseTime(s); ok && t.After(best) {
			best = t
		}
	}
	return best
}

// ParseExecution reads an execution answer. It needs a workflowResult with its execution id
// and an entity id (from workflowResult or individual); anything else may be missing.
// Errors are *provider.ShapeError.
func ParseExecution(body []byte) (*Execution, error) {
	if !provider.IsObject(body) {
		return nil, provider.Shapef("execution: body must be a JSON object")
	}
	var probe struct {
		WorkflowResult json.RawMessage `json:"workflowResult"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, prefixed("execution", provider.JSONShapeError(err))
	}
	if !provider.IsObject(probe.WorkflowResult) {
		return nil, provider.Shapef("execution: workflowResult is missing")
	}
	var x Execution
	if err := json.Unmarshal(body, &x); err != nil {
		return nil, prefixed("execution", provider.JSONShapeError(err))
	}
	wr := &x.WorkflowResult
	if wr.EntityID == "" && x.Individual != nil {
		wr.EntityID = x.Individual.EntityID
	}
	switch {
	case strings.TrimSpace(wr.WorkflowExecutionID) == "":
		return nil, provider.Shapef("execution: workflowResult.workflowExecutionId is missing")
	case strings.TrimSpace(wr.EntityID) == "":
		return nil, provider.Shapef("execution: workflowResult.entityId is missing")
	}
	return &x, nil
}

// ParseProfile reads the answer of GET /individuals/{entityId}. An answer that is the
// individual itself (no "individual" wrapper) is accepted.
func ParseProfile(body []byte) (*Profile, error) {
	if !provider.IsObject(body) {
		return nil, provider.Shapef("individual: body must be a JSON object")
	}
	var p Profile
	var probe struct {
		Individual json.RawMessage `json:"individual"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, prefixed("individual", provider.JSONShapeError(err))
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, prefixed("individual", provider.JSONShapeError(err))
	}
	if provider.IsNull(probe.Individual) {
		if err := json.Unmarshal(body, &p.Individual); err != nil {
			return nil, prefixed("individual", provider.JSONShapeError(err))
		}
	}
	if len(p.ServiceProfiles) == 0 {
		p.ServiceProfiles = p.Individual.ServiceProfiles
	}
	return &p, nil
}

// ParseDocument reads the answer of GET /individuals/{entityId}/documents/{documentId}.
func ParseDocument(body []byte) (*Document, error) {
	if !provider.IsObject(body) {
		return nil, provider.Shapef("document: body must be a JSON object")
	}
	var w struct {
		Document *Document `json:"document"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, prefixed("document", provider.JSONShapeError(err))
	}
	d := w.Document
	if d == nil {
		d = &Document{}
		if err := json.Unmarshal(body, d); err != nil {
			return nil, prefixed("document", provider.JSONShapeError(err))
		}
	}
	if d.DocumentID == "" && len(d.Attachments) == 0 {
		return nil, provider.Shapef("document: document is missing")
	}
	return d, nil
}

func prefixed(what string, e *provider.ShapeError) *provider.ShapeError {
	return &provider.ShapeError{Reason: what + ": " + e.Reason}
}
