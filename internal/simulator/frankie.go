package simulator

import (
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"time"

	"github.com/kycdesk/kycdesk/internal/simulator/persona"
)

func randFromBytes(b []byte) *rand.Rand {
	var s [8]byte
	copy(s[:], b)
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(s[:]), 0xf1))
}

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func frankieTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func documentType(p persona.Person) string {
	if p.Country == persona.Australia {
		return "DRIVERS_LICENSE"
	}
	return "NATIONAL_ID"
}

// frankieStatus is the (status, result) pair of an outcome before any manual override.
func frankieStatus(s Session) (status, result string) {
	switch s.Outcome {
	case "clean":
		if s.Variant%2 == 0 {
			return "PASS", "PASS"
		}
		return "CLEAR", "CLEAR"
	case "pep":
		return "REVIEW", "REVIEW"
	case "highrisk":
		return "NEEDS_APPROVAL", "REVIEW"
	case "unacceptable", "rejected":
		return "FAIL", "FAIL"
	default: // unknownrisk
		return "PASS", "PASS"
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// executionResult is the workflowResult of GET …/executions/{id}, in the shape of
// fixtures/frankieone/execution_result_review.json.
func executionResult(v *Verification, s Session, ov override) map[string]any {
	r := sessionRand(s)
	p := v.Person
	status, result := frankieStatus(s)
	var overrideAt any
	if ov.requestID != "" {
		status = ov.status
		overrideAt = frankieTime(ov.at)
	}
	factor := func(name, value string, score int, desc string) map[string]any {
		f := map[string]any{"factor": name, "value": value, "score": score, "status": "VALID"}
		if desc != "" {
			f["description"] = desc
		}
		return f
	}
	residence := factor("country_of_residence", p.Address.Country, 2, "")
	var riskScore any
	riskLevel := "LOW"
	factors := []map[string]any{residence}
	score := 0
	switch s.Outcome {
	case "clean":
		score = 5 + r.IntN(15)
	case "pep":
		riskLevel, score = "HIGH", 40+r.IntN(15)
		factors = append(factors, factor("pep_match", "POTENTIAL_MATCH", 30, "Potential PEP match"))
	case "highrisk":
		riskLevel, score = "HIGH", 45+r.IntN(20)
		factors = append(factors, factor("occupation", "GAMBLING_SERVICES", 25, "High-risk occupation"),
			factor("source_of_funds", "CASH", 15, "Cash-intensive source of funds"))
	case "unacceptable":
		riskLevel, score = "UNACCEPTABLE", 100+r.IntN(40)
		factors = append(factors, factor("sanctions_match", "CONFIRMED_MATCH", 100, "Sanctions list match"))
	case "rejected":
		riskLevel, score = "MEDIUM", 20+r.IntN(10)
		factors = append(factors, factor("idv_result", "FAIL", 20, "Document verification failed"))
	case "unknownrisk":
		riskLevel, factors = "UNKNOWN", []map[string]any{}
	}
	if riskLevel != "UNKNOWN" {
		riskScore = score
	}
	if p.Expiry.Sub(s.At) < 45*24*time.Hour {
		factors = append(factors, factor("document_age", "EXPIRES_IN_30_DAYS", 10, ""))
	}

	idvResult, idvClass := "PASS", "CLEAR"
	amlResult, amlClass := "PASS", "CLEAR"
	var amlData map[string]any
	issues := []map[string]any{}
	switch s.Outcome {
	case "pep":
		amlResult, amlClass = "FAIL", "HIT"
		amlData = map[string]any{"matchType": "PEP", "matchedName": persona.Upper(persona.Fold(p.FullName())),
			"pepLevel": []string{"TIER_1", "TIER_2", "TIER_3"}[r.IntN(3)], "countries": []string{p.Address.Country}, "score": 0.8 + float64(r.IntN(15))/100}
		issues = append(issues, map[string]any{"issueId": "iss-01", "category": "AML", "issue": "PEP", "severity": "REVIEW", "isCleared": false})
	case "unacceptable":
		amlResult, amlClass = "FAIL", "HIT"
		amlData = map[string]any{"matchType": "SANCTION", "matchedName": persona.Upper(persona.Fold(p.FullName())),
			"listName": []string{"DFAT Consolidated List", "UN Security Council", "OFAC SDN"}[r.IntN(3)], "countries": []string{p.Address.Country}, "score": 0.95}
		issues = append(issues, map[string]any{"issueId": "iss-01", "category": "AML", "issue": "SANCTION", "severity": "BLOCK", "isCleared": false})
	case "rejected":
		idvResult, idvClass = "FAIL", "FAIL"
		issue := "DOCUMENT_TAMPERED"
		if s.Variant%2 == 1 {
			issue = "FACE_MISMATCH"
		}
		issues = append(issues, map[string]any{"issueId": "iss-01", "category": "IDV", "issue": issue, "severity": "FAIL", "isCleared": false})
	case "highrisk":
		issues = append(issues, map[string]any{"issueId": "iss-01", "category": "RISK", "issue": "HIGH_RISK", "severity": "REVIEW", "isCleared": false})
	}
	faceScore := 0.85 + float64(r.IntN(14))/100
	liveness := "PASS"
	if s.Outcome == "rejected" && s.Variant%2 == 1 {
		faceScore = 0.2 + float64(r.IntN(25))/100
	}
	amlProcess := map[string]any{"class": "AML", "result": amlClass, "manualStatus": nil, "objectId": "aml-1"}
	if amlData != nil {
		amlProcess["supplementaryData"] = amlData
	}
	steps := map[string]any{"order": []string{"KYC", "IDV", "AML"}, "passed": []string{"KYC"}, "failed": []string{},
		"incomplete": []string{}, "notApplicable": []string{}}
	passed, failed := []string{"KYC"}, []string{}
	for _, st := range [][2]string{{"IDV", idvResult}, {"AML", amlResult}} {
		if st[1] == "PASS" {
			passed = append(passed, st[0])
		} else {
			failed = append(failed, st[0])
		}
	}
	steps["passed"], steps["failed"] = passed, failed

	return map[string]any{
		"workflowExecutionId":     s.ID,
		"workflowName":            frankieWorkflow(p),
		"entityId":                v.Reference,
		"workflowExecutionState":  "COMPLETED",
		"status":                  status,
		"result":                  result,
		"statusOverrideAt":        overrideAt,
		"statusOverrideBy":        nullable(ov.by),
		"statusOverrideRequestId": nullable(ov.requestID),
		"startedAt":               frankieTime(s.At.Add(-38 * time.Second)),
		"endedAt":                 frankieTime(s.At),
		"errors":                  []any{},
		"riskAssessment": map[string]any{
			"riskScore": riskScore, "riskLevel": riskLevel,
			"workflowRiskScore": riskScore, "workflowRiskLevel": riskLevel,
			"riskFactors": factors,
		},
		"steps": steps,
		"workflowStepResults": []map[string]any{
			{"stepName": "IDV", "result": idvResult, "objectType": "DOCUMENT", "objectId": v.DocumentID, "summary": map[string]any{},
				"processResults": []map[string]any{{"class": "IDV", "result": idvClass, "manualStatus": nil, "objectId": v.DocumentID,
					"supplementaryData": map[string]any{"type": documentType(p), "faceMatchScore": faceScore, "livenessResult": liveness}}}},
			{"stepName": "AML", "result": amlResult, "objectType": "INDIVIDUAL", "objectId": v.Reference,
				"processResults": []map[string]any{amlProcess}},
			{"stepName": "KYC", "result": "PASS", "objectType": "INDIVIDUAL",
				"processResults": []map[string]any{{"class": "KYC", "result": "MATCH", "manualStatus": nil,
					"supplementaryData": map[string]any{"matchedSources": 2, "sources": kycSources(p)}}}},
		},
		"issues": issues,
	}
}

func kycSources(p persona.Person) []string {
	if p.Country == persona.Australia {
		return []string{"AUS_ELECTORAL_ROLL", "AUS_CREDIT_HEADER"}
	}
	return []string{"VNM_NATIONAL_POPULATION_DB", "VNM_TELCO"}
}

// individual is the entity as FrankieOne returns it beside an execution result.
func individual(v *Verification) map[string]any {
	p := v.Person
	addr := map[string]any{"type": "RESIDENTIAL", "unstructuredLongForm": p.Address.Line(), "country": p.Address.Country}
	return map[string]any{
		"entityId":    v.Reference,
		"name":        map[string]any{"givenName": p.GivenName, "middleName": p.MiddleName, "familyName": p.FamilyName},
		"dateOfBirth": map[string]any{"normalized": p.DOB.Format("2006-01-02")},
		"addresses":   []any{addr},
		"documents": map[string]any{
			"IDENTITY":   []any{identityDocument(v)},
			"SUPPORTING": []any{selfieDocument(v)},
		},
	}
}

func identityDocument(v *Verification) map[string]any {
	p := v.Person
	return map[string]any{
		"documentId":        v.DocumentID,
		"type":              documentType(p),
		"country":           p.Country,
		"primaryIdentifier": p.IDNumber,
		"expiryDate":        map[string]any{"normalized": p.Expiry.Format("2006-01-02")},
		"attachments": []map[string]any{
			{"attachmentId": v.DocumentID + "-front", "side": "FRONT", "mimeType": "image/jpeg", "filename": "front.jpg", "retrievalStatus": "NORMAL"},
			{"attachmentId": v.DocumentID + "-back", "side": "BACK", "mimeType": "image/jpeg", "filename": "back.jpg", "retrievalStatus": "NORMAL"},
		},
	}
}

func selfieDocument(v *Verification) map[string]any {
	return map[string]any{
		"documentId": v.SelfieDocumentID,
		"type":       "SELF_IMAGE",
		"attachments": []map[string]any{
			{"attachmentId": v.SelfieDocumentID + "-1", "mimeType": "image/png", "filename": "selfie.png", "retrievalStatus": "NORMAL"},
		},
	}
}

// serviceProfiles lists the entity's workflow executions, oldest first, with overrides applied.
func serviceProfiles(v *Verification, overrides map[string]override) []map[string]any {
	sums := make([]map[string]any, 0, len(v.Sessions))
	for _, s := range v.Sessions {
		status, result := frankieStatus(s)
		if ov, ok := overrides[s.ID]; ok {
			status = ov.status
		}
		sums = append(sums, map[string]any{
			"workflowName": frankieWorkflow(v.Person), "workflowExecutionId": s.ID,
			"status": status, "result": result, "endedAt": frankieTime(s.At),
		})
	}
	return []map[string]any{{"serviceName": frankieService, "workflowSummaries": sums}}
}
