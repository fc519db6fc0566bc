package frankieone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider"
)

// Result maps the execution (and x.Individual, when the answer carried it; the worker may
// set it from GetIndividual when not) to a cases.Result.
//
// The case result follows workflowResult.status, which includes manual overrides:
// PASS/CLEAR/APPROVED → pass, FAIL/REJECTED/BLOCKED → fail, anything else → review.
// Documents come back as refs without bytes; Client.FetchDocuments fills them.
func (x *Execution) Result() cases.Result {
	wr := &x.WorkflowResult
	r := cases.Result{
		Reference:         wr.EntityID,
		Round:             wr.WorkflowExecutionID,
		ProviderStatus:    wr.Status,
		OverrideRequestID: wr.StatusOverrideRequestID,
	}

	// A status override made after the workflow ended is newer news than the workflow:
	// dating the result by it keeps "an older result never overwrites a newer one" true
	// when someone overrides in FrankieOne's portal.
	r.OccurredAt = latest(wr.EndedAt, wr.StatusOverrideAt)
	if r.OccurredAt.IsZero() {
		r.OccurredAt = latest(wr.StartedAt)
	}
	if r.OccurredAt.IsZero() {
		r.Flags = append(r.Flags, "execution has no usable endedAt or startedAt")
	}

	status := wr.Status
	if status == "" {
		status = wr.Result
		r.ProviderStatus = wr.Result
		r.Flags = append(r.Flags, "workflowResult.status missing: result used")
	}
	r.Result = caseResult(status)

	x.risk(&r)
	for _, e := range wr.Errors {
		r.Flags = append(r.Flags, "workflow error: "+errorText(e))
	}
	r.Checks = checks(wr.WorkflowStepResults, &r.Flags)
	for _, is := range wr.Issues {
		cleared, _ := provider.ParseBool(string(is.IsCleared))
		r.Issues = append(r.Issues, cases.Issue{Category: is.Category, Issue: is.Issue, Severity: is.Severity, Cleared: cleared})
	}
	if x.Individual != nil {
		r.Applicant = x.Individual.applicant(idvDocumentIDs(wr.WorkflowStepResults), &r.Flags)
		r.Documents = x.Individual.documentRefs(&r.Flags)
	}
	return r
}

func caseResult(status string) string {
	switch strings.ToUpper(strings.TrimSpace(status)) {
	case "PASS", "CLEAR", "APPROVED":
		return cases.ResultPass
	case "FAIL", "REJECTED", "BLOCKED":
		return cases.ResultFail
	}
	return cases.ResultReview
}

var riskLevels = map[string]string{
	"LOW":          cases.RiskLow,
	"MEDIUM":       cases.RiskMedium,
	"HIGH":         cases.RiskHigh,
	"UNACCEPTABLE": cases.RiskHigh,
}

func (x *Execution) risk(r *cases.Result) {
	ra := x.WorkflowResult.RiskAssessment
	if ra == nil {
		r.Flags = append(r.Flags, "risk level missing: derived")
		return
	}
	level := ra.RiskLevel
	if level == "" {
		level = ra.WorkflowRiskLevel
	}
	if l, ok := riskLevels[strings.ToUpper(strings.TrimSpace(level))]; ok {
		r.RiskLevel = l
	} else if level == "" {
		r.Flags = append(r.Flags, "risk level missing: derived")
	} else {
		r.Flags = append(r.Flags, "risk level "+level+": derived")
	}
	score := ra.RiskScore
	if !score.Valid {
		score = ra.WorkflowRiskScore
	}
	r.RiskScore = score.Ptr()
	for _, f := range ra.RiskFactors {
		desc := f.Description
		if f.Status != "" && !strings.EqualFold(f.Status, "VALID") {
			// A factor FrankieOne no longer counts is still worth seeing, marked as such.
			desc = strings.TrimSpace(desc + " (" + f.Status + ")")
		}
		r.RiskFactors = append(r.RiskFactors, cases.RiskFactor{
			Factor: f.Factor, Value: string(f.Value), Score: f.Score.Ptr(), Description: desc,
		})
	}
}

// errorText summarises one entry of workflowResult.errors ({"code": ..., "description": ...}
// or anything else) without quoting an arbitrary payload.
func errorText(raw json.RawMessage) string {
	var e struct {
		Code        provider.Text `json:"code"`
		ErrorCode   provider.Text `json:"errorCode"`
		Description provider.Text `json:"description"`
		Message     provider.Text `json:"message"`
	}
	if provider.IsObject(raw) && json.Unmarshal(raw, &e) == nil {
		code, msg := firstOf(string(e.Code), string(e.ErrorCode)), firstOf(string(e.Description), string(e.Message))
		if s := strings.TrimSpace(code + " " + msg); s != "" {
			return truncate(s, 200)
		}
	}
	return truncate(provider.TextOf(raw), 200)
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// checkResult maps FrankieOne's result words to kycdesk's check results. A word kycdesk does
// not know becomes review: someone should look, and nothing passes by accident.
func checkResult(word string) string {
	switch strings.ToUpper(strings.TrimSpace(word)) {
	case "PASS", "PASSED", "CLEAR", "MATCH", "APPROVED", "VALID", "FALSE_POSITIVE", "SUCCESS":
		return cases.CheckPass
	case "FAIL", "FAILED", "NO_MATCH", "REJECTED", "BLOCKED", "INVALID":
		return cases.CheckFail
	case "HIT", "POTENTIAL_MATCH", "TRUE_POSITIVE", "TRUE_POSITIVE_ACCEPT", "TRUE_POSITIVE_REJECT":
		return cases.CheckHit
	case "ERROR", "ERRORED", "TIMEOUT", "UNAVAILABLE", "SYSTEM_ERROR":
		return cases.CheckError
	}
	return cases.CheckReview
}

// classKind maps a process class to a check kind. AML is split by matchType; classes
// kycdesk does not know are kept as database checks (most FrankieOne processes beyond IDV
// and AML look the person up in a data source) with the class in Source and a flag.
func classKind(class string, supplementary json.RawMessage) (kind string, known bool) {
	switch c := strings.ToUpper(strings.TrimSpace(class)); c {
	case "IDV", "OCR", "DOCUMENT":
		return cases.KindDocument, true
	case "KYC", "GOVID", "DATABASE":
		return cases.KindDatabase, true
	case "AML", "PEP", "SANCTION", "SANCTIONS", "WATCHLIST", "MEDIA":
		switch mt := strings.ToUpper(supplementaryString(supplementary, "matchType")); {
		case strings.Contains(mt, "PEP") || c == "PEP":
			return cases.KindPEP, true
		case strings.Contains(mt, "SANCTION") || strings.HasPrefix(c, "SANCTION"):
			return cases.KindSanctions, true
		}
		return cases.KindAML, true
	}
	return cases.KindDatabase, false
}

func supplementary(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if provider.IsObject(raw) {
		_ = json.Unmarshal(raw, &m)
	}
	return m
}

func supplementaryString(raw json.RawMessage, key string) string {
	return provider.TextOf(supplementary(raw)[key])
}

// checks turns step results into checks: one per process result, plus face_match and
// liveness where an IDV process reports them. A step without process results stands for itself.
func checks(steps []StepResult, flags *[]string) []cases.Check {
	var out []cases.Check
	for _, st := range steps {
		prs := st.ProcessResults
		if len(prs) == 0 {
			prs = []ProcessResult{{Class: st.StepName, Result: st.Result, ObjectID: st.ObjectID}}
		}
		for _, pr := range prs {
			kind, known := classKind(pr.Class, pr.SupplementaryData)
			if !known {
				*flags = append(*flags, fmt.Sprintf("process class %q kept as a %s check", pr.Class, kind))
			}
			c := cases.Check{Kind: kind, Result: checkResult(pr.Result), Source: pr.Class}
			if pr.ManualStatus != "" {
				c.Result = checkResult(pr.ManualStatus)
				c.Message = "manual status " + pr.ManualStatus
			}
			sd := supplementary(pr.SupplementaryData)
			if v, ok := provider.ParseNumber(provider.TextOf(sd["score"])); ok {
				c.Score = provider.Float(v)
			}
			if len(sd) > 0 {
				var buf bytes.Buffer
				if json.Compact(&buf, pr.SupplementaryData) == nil {
					c.Details = buf.Bytes()
				}
			}
			out = append(out, c)
			if kind == cases.KindDocument {
				out = append(out, biometricChecks(pr, sd, c.Result)...)
			}
		}
	}
	return out
}

// biometricChecks splits an IDV process's face match and liveness into their own checks, so
// the reviewer sees them beside the selfie. The face match has no verdict of its own in
// FrankieOne's answer (faceMatchResult when present): it shares the process's.
func biometricChecks(pr ProcessResult, sd map[string]json.RawMessage, processResult string) []cases.Check {
	var out []cases.Check
	if raw, ok := sd["faceMatchScore"]; ok {
		c := cases.Check{Kind: cases.KindFaceMatch, Result: processResult, Source: pr.Class}
		if v, ok := provider.ParseNumber(provider.TextOf(raw)); ok {
			if v > 1 { // some accounts report 0–100
				v /= 100
			}
			c.Score = provider.Float(v)
		}
		if word := provider.TextOf(sd["faceMatchResult"]); word != "" {
			c.Result = checkResult(word)
		}
		c.Details, _ = json.Marshal(map[string]json.RawMessage{"faceMatchScore": raw})
		out = append(out, c)
	}
	if raw, ok := sd["livenessResult"]; ok {
		word := provider.TextOf(raw)
		c := cases.Check{Kind: cases.KindLiveness, Result: checkResult(word), Source: pr.Class}
		if v, ok := provider.ParseNumber(provider.TextOf(sd["livenessScore"])); ok {
			c.Score = provider.Float(v)
		}
		c.Details, _ = json.Marshal(map[string]json.RawMessage{"livenessResult": raw})
		out = append(out, c)
	}
	return out
}

// idvDocumentIDs lists the documents the IDV processes looked at, to pick the ID number
// from the document that was actually verified.
func idvDocumentIDs(steps []StepResult) map[string]bool {
	ids := map[string]bool{}
	for _, st := range steps {
		for _, pr := range st.ProcessResults {
			if kind, _ := classKind(pr.Class, nil); kind == cases.KindDocument && pr.ObjectID != "" {
				ids[pr.ObjectID] = true
			}
		}
	}
	return ids
}

func (ind *Individual) applicant(verified map[string]bool, flags *[]string) cases.Applicant {
	a := cases.Applicant{ExternalID: ind.externalID()}
	if n := ind.Name; n != nil {
		a.GivenName, a.MiddleName, a.FamilyName = n.GivenName, n.MiddleName, n.FamilyName
		var parts []string
		for _, p := range []string{n.GivenName, n.MiddleName, n.FamilyName} {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		a.FullName = strings.Join(parts, " ")
		if a.FullName == "" {
			a.FullName = strings.TrimSpace(n.DisplayName)
		}
	}
	if d := ind.DateOfBirth; d != nil {
		switch iso := dateOfBirth(d); {
		case iso != "":
			a.DateOfBirth = iso
		default:
			a.DateOfBirthRaw = firstOf(d.Normalized, d.Unstructured, strings.Trim(string(d.Year)+"-"+string(d.Month)+"-"+string(d.Day), "-"))
			if a.DateOfBirthRaw != "" {
				*flags = append(*flags, "dateOfBirth: unparsable date")
			}
		}
	}
	a.Sex = pick(ind.Gender, "gender", "value")
	a.Nationality = pick(ind.Nationality, "country", "code", "value")
	a.Address = ind.address()

	// The ID number is the verified identity document's; else the first identity document's.
	for _, pass := range []bool{true, false} {
		for _, d := range ind.Documents {
			if a.IDNumber == "" && strings.EqualFold(d.Category, "IDENTITY") && d.PrimaryIdentifier != "" && (!pass || verified[d.DocumentID]) {
				a.IDNumber = d.PrimaryIdentifier
			}
		}
	}
	return a
}

// dateOfBirth returns the date as YYYY-MM-DD, or "" when FrankieOne's parts do not make one.
func dateOfBirth(d *DateOfBirth) string {
	if t, err := time.Parse(time.DateOnly, strings.TrimSpace(d.Normalized)); err == nil {
		return t.Format(time.DateOnly)
	}
	y, okY := provider.ParseNumber(string(d.Year))
	m, okM := provider.ParseNumber(string(d.Month))
	day, okD := provider.ParseNumber(string(d.Day))
	if !okY || !okM || !okD || y < 1000 || y > 9999 || m < 1 || m > 12 || day < 1 || day > 31 {
		return ""
	}
	t := time.Date(int(y), time.Month(m), int(day), 0, 0, 0, 0, time.UTC)
	if t.Day() != int(day) || float64(t.Year()) != y {
		return ""
	}
	return t.Format(time.DateOnly)
}

// pick reads a value that FrankieOne sends either as a string or as an object holding it.
func pick(raw json.RawMessage, keys ...string) string {
	if provider.IsNull(raw) {
		return ""
	}
	if !provider.IsObject(raw) {
		s := strings.TrimSpace(string(raw))
		if strings.HasPrefix(s, `"`) {
			return provider.TextOf(raw)
		}
		return ""
	}
	m := supplementary(raw)
	for _, k := range keys {
		if v := provider.TextOf(m[k]); v != "" && !strings.HasPrefix(v, "{") && !strings.HasPrefix(v, "[") {
			return v
		}
	}
	return ""
}

func (ind *Individual) externalID() string {
	if v := strings.TrimSpace(string(ind.CustomerReference)); v != "" {
		return v
	}
	for _, ref := range ind.ExternalReferences {
		key := strings.ToUpper(strings.NewReplacer("-", "", "_", "", " ", "").Replace(ref.Name + ref.Type))
		if strings.Contains(key, "CUSTOMER") && ref.Value != "" {
			return ref.Value
		}
	}
	return ""
}

// address picks the residential address (else the first) in its long form, or joins its parts.
func (ind *Individual) address() string {
	if len(ind.Addresses) == 0 {
		return ""
	}
	a := ind.Addresses[0]
	for _, cand := range ind.Addresses {
		if strings.Contains(strings.ToUpper(cand.Type), "RESIDENTIAL") {
			a = cand
			break
		}
	}
	if a.UnstructuredLongForm != "" {
		return a.UnstructuredLongForm
	}
	street := strings.Join(nonEmpty(a.UnitNumber, a.StreetNumber, a.StreetName, a.StreetType), " ")
	return strings.Join(nonEmpty(street, a.Locality, strings.Join(nonEmpty(a.Subdivision, a.PostalCode), " "), a.Country), ", ")
}

func nonEmpty(vals ...string) []string {
	var out []string
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// documentRefs lists one ref per attachment, ProviderID "documentId/attachmentId", for
// Client.FetchDocuments to fill. Inline image data (rare in an execution) is used at once.
// At most cases.MaxDocuments are listed, so the worker never fetches more than a case keeps;
// the rest are flagged.
func (ind *Individual) documentRefs(flags *[]string) []cases.DocumentRef {
	var out []cases.DocumentRef
	left := 0
	defer func() {
		if left > 0 {
			*flags = append(*flags, fmt.Sprintf("%d documents beyond the limit of %d left out", left, cases.MaxDocuments))
		}
	}()
	for _, d := range ind.Documents {
		if d.DocumentID == "" {
			continue
		}
		for _, a := range d.Attachments {
			if a.AttachmentID == "" {
				continue
			}
			if rs := strings.ToUpper(a.RetrievalStatus); rs != "" && rs != "NORMAL" {
				*flags = append(*flags, fmt.Sprintf("document %s/%s not retrievable (%s)", d.DocumentID, a.AttachmentID, a.RetrievalStatus))
				continue
			}
			if len(out) == cases.MaxDocuments {
				left++
				continue
			}
			ref := cases.DocumentRef{
				ProviderID:  d.DocumentID + "/" + a.AttachmentID,
				Kind:        documentKind(d, a),
				ContentType: a.MimeType,
			}
			if a.Data != (AttachmentData{}) {
				if data, ct, link, err := a.Image(); err == nil {
					ref.Data, ref.ContentType, ref.URL = data, ct, link
				}
			}
			out = append(out, ref)
		}
	}
	return out
}

// documentKind: selfies and passports by type, ID cards by side; an identity document with
// no side is taken as the front, anything else as proof of address.
func documentKind(d Document, a Attachment) string {
	t := strings.ToUpper(d.Type)
	switch {
	case t == "SELF_IMAGE" || t == "SELFIE" || t == "FACE_IMAGE":
		return cases.DocSelfie
	case t == "PASSPORT":
		return cases.DocPassport
	}
	switch strings.ToUpper(a.Side) {
	case "FRONT":
		return cases.DocIDFront
	case "BACK":
		return cases.DocIDBack
	}
	if strings.EqualFold(d.Category, "IDENTITY") {
		return cases.DocIDFront
	}
	return cases.DocProofOfAddress
}
