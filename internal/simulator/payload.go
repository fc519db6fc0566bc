package simulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/internal/simulator/persona"
)

// imageSource hands out picture bytes for a verification's session (the Server's cache).
type imageSource interface {
	image(kind, imageID string) ([]byte, string, error)
	imageURL(kind, imageID string) string
}

// sessionRand gives the jitter (scores, error variants) of one session, reproducibly.
func sessionRand(s Session) *rand.Rand { return rand.New(rand.NewPCG(s.Variant, 0xb0d1)) }

func between(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

// --- generic ---------------------------------------------------------------------------------

// genericEvent builds the documented kycdesk event for session s of v.
func genericEvent(v *Verification, s Session, eventType string, imgs imageSource) ([]byte, error) {
	r := sessionRand(s)
	p := v.Person
	type check struct {
		Kind    string         `json:"kind"`
		Result  string         `json:"result"`
		Score   *float64       `json:"score,omitempty"`
		Details map[string]any `json:"details,omitempty"`
	}
	score := func(lo, hi float64) *float64 {
		x := float64(int(between(r, lo, hi)*100+0.5)) / 100
		return &x
	}
	checks := []check{
		{Kind: "document", Result: "pass", Score: score(0.93, 0.995)},
		{Kind: "liveness", Result: "pass", Score: score(0.95, 0.999)},
		{Kind: "face_match", Result: "pass", Score: score(0.86, 0.98)},
		{Kind: "pep", Result: "pass"},
		{Kind: "sanctions", Result: "pass"},
	}
	result, risk := "pass", "low"
	riskScore := int(between(r, 3, 25))
	screeningName := strings.ToUpper(persona.Fold(p.FullName()))
	switch s.Outcome {
	case "manual":
		result, risk, riskScore = "review", "medium", int(between(r, 35, 55))
		checks[0] = check{Kind: "document", Result: "review", Score: score(0.52, 0.7), Details: map[string]any{"reason": "glare on document, expiry date unreadable"}}
	case "rejected":
		result, risk, riskScore = "fail", "medium", int(between(r, 40, 65))
		if !livenessRejected(s) {
			checks[2] = check{Kind: "face_match", Result: "fail", Score: score(0.12, 0.45)}
		} else {
			checks[1] = check{Kind: "liveness", Result: "fail", Score: score(0.05, 0.3), Details: map[string]any{"reason": "screen replay detected"}}
		}
	case "pep":
		result, risk, riskScore = "review", "high", int(between(r, 65, 85))
		checks[3] = check{Kind: "pep", Result: "hit", Details: map[string]any{"matched_name": screeningName, "level": fmt.Sprintf("tier %d", 1+r.IntN(3))}}
	case "sanctions":
		result, risk, riskScore = "fail", "high", int(between(r, 88, 100))
		checks[4] = check{Kind: "sanctions", Result: "hit", Details: map[string]any{"matched_name": screeningName,
			"list": []string{"UN Consolidated", "OFAC SDN", "DFAT Consolidated"}[r.IntN(3)], "score": 0.9 + float64(r.IntN(10))/100}}
	case "highrisk":
		result, risk, riskScore = "review", "high", int(between(r, 70, 95))
		checks = append(checks, check{Kind: "database", Result: "review", Details: map[string]any{"reason": "address not found in electoral roll", "sources_matched": 0}})
	}

	docKind := func(side string) string { return "id_" + side }
	docs := make([]map[string]any, 0, 3)
	for _, kind := range []string{"front", "back", "selfie"} {
		d := map[string]any{"id": kind, "kind": docKind(kind), "content_type": "image/jpeg"}
		if kind == "selfie" {
			d["kind"] = "selfie"
			d["content_type"] = "image/png"
			if spoofed(v.Provider, s) {
				d["content_type"] = "image/jpeg"
			}
		}
		if kind == "front" && v.InlineFront {
			b, ct, err := imgs.image(kind, v.ImageID(s))
			if err != nil {
				return nil, err
			}
			d["content_type"] = ct
			d["data_base64"] = base64.StdEncoding.EncodeToString(b)
		} else {
			d["url"] = imgs.imageURL(kind, v.ImageID(s))
		}
		docs = append(docs, d)
	}
	nationality := persona.Vietnam
	if p.Country == persona.Australia {
		nationality = persona.Australia
	}
	ev := map[string]any{
		"type":        eventType,
		"occurred_at": s.At.UTC().Format(time.RFC3339),
		"applicant": map[string]any{
			"external_id":   p.ExternalID,
			"given_name":    p.GivenNames(),
			"family_name":   p.FamilyName,
			"date_of_birth": p.DOB.Format("2006-01-02"),
			"nationality":   nationality,
			"id_number":     p.IDNumber,
			"address":       p.Address.Line(),
		},
		"verification": map[string]any{
			"reference":  v.Reference,
			"result":     result,
			"risk_level": risk,
			"risk_score": riskScore,
			"checks":     checks,
			"documents":  docs,
		},
	}
	return json.Marshal(ev)
}

// spoofed tells whether a session's selfie is a re-captured screen.
func spoofed(provider string, s Session) bool {
	switch {
	case provider == FPTAI && s.Outcome == "spoof":
		return true
	case provider == Generic && s.Outcome == "rejected":
		return livenessRejected(s)
	}
	return false
}

// livenessRejected splits the generic "rejected" outcome: half fail liveness (a spoofed selfie),
// half fail the face match.
func livenessRejected(s Session) bool { return s.Variant%2 == 1 }

// --- FPT.AI ----------------------------------------------------------------------------------

func prob(r *rand.Rand, lo, hi float64) string { return fmt.Sprintf("%.2f", between(r, lo, hi)) }

// fptaiCallback builds an FPT.AI eKYC callback for session s, as a customer proxy forwards it
// (with the images object). With dataKey set, the result is wrapped under that key with an
// extra request field beside it.
func fptaiCallback(v *Verification, s Session, imgs imageSource, dataKey string) ([]byte, error) {
	r := sessionRand(s)
	p := v.Person
	front := map[string]any{
		"id": p.IDNumber, "id_prob": prob(r, 98, 99.9),
		"name": persona.Upper(p.FullName()), "name_prob": prob(r, 96, 99.8),
		"dob": p.DOB.Format("02/01/2006"), "dob_prob": prob(r, 97, 99.9),
		"sex": persona.Upper(p.SexVi()), "sex_prob": prob(r, 98, 99.9),
		"nationality": "VIỆT NAM", "nationality_prob": prob(r, 99, 99.95),
		"home": persona.Upper(p.Origin.Line()), "home_prob": prob(r, 92, 98),
		"address": persona.Upper(p.Address.Line()), "address_prob": prob(r, 90, 97),
		"address_entities": map[string]any{
			"province": persona.Upper(p.Address.ProvinceName()),
			"district": persona.Upper(p.Address.District),
			"ward":     persona.Upper(p.Address.Ward),
			"street":   persona.Upper(p.Address.Street),
		},
		"doe": p.Expiry.Format("02/01/2006"), "doe_prob": prob(r, 97, 99.8),
		"overall_score": prob(r, 96, 99.5),
		"type_new":      "cccd_12_front", "type": "new",
		"QRcode": strings.Join([]string{p.IDNumber, "", p.FullName(), p.DOB.Format("02012006"), p.SexVi(),
			p.Address.Line(), p.IssueDate.Format("02012006")}, "|"),
	}
	mrz := persona.MRZ(p)
	back := map[string]any{
		"ethnicity": persona.Upper(p.Ethnicity), "ethnicity_prob": prob(r, 97, 99.5),
		"religion": persona.Upper(p.Religion), "religion_prob": prob(r, 96, 99.5),
		"features": persona.Upper(p.Features), "features_prob": prob(r, 85, 95),
		"issue_date": p.IssueDate.Format("02/01/2006"), "issue_date_prob": prob(r, 96, 99.5),
		"issue_loc":      "CỤC TRƯỞNG CỤC CẢNH SÁT QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI",
		"issue_loc_prob": prob(r, 95, 99),
		"mrz":            mrz[:], "mrz_prob": prob(r, 94, 99),
		"overall_score": prob(r, 95, 99),
		"type_new":      "new_back", "type": "new_back",
	}
	ocr := map[string]any{"code": "200", "message": "request successful.", "data": []any{front, back}}
	liveness := map[string]any{
		"code": "200", "message": "liveness check successful.",
		"is_live": "true", "spoof_prob": fmt.Sprintf("%.4f", between(r, 0.001, 0.05)),
		"need_to_review": "false", "is_deepfake": "false",
		"deepfake_prob": fmt.Sprintf("%.4f", between(r, 0.0005, 0.01)), "warning": "",
	}
	face := map[string]any{"code": "200", "message": "request successful.", "isMatch": "true",
		"similarity": prob(r, 88, 99), "warning": ""}

	switch s.Outcome {
	case "spoof":
		liveness["is_live"] = "false"
		liveness["spoof_prob"] = fmt.Sprintf("%.4f", between(r, 0.82, 0.99))
		liveness["need_to_review"] = "true"
		liveness["warning"] = "N/A"
		if r.IntN(2) == 0 {
			liveness["is_deepfake"] = "true"
			liveness["deepfake_prob"] = fmt.Sprintf("%.4f", between(r, 0.7, 0.95))
		}
		if r.IntN(2) == 0 {
			face["isMatch"] = "false"
			face["similarity"] = prob(r, 35, 60)
		}
	case "lowconf":
		front["id"] = p.IDNumber[:6] + "N/A"
		front["id_prob"] = prob(r, 55, 70)
		front["name_prob"] = prob(r, 80, 90)
		front["home_prob"] = prob(r, 60, 75)
		front["overall_score"] = prob(r, 65, 78)
		delete(front, "QRcode")
		for _, k := range []string{"dob", "address"} {
			front[k], front[k+"_prob"] = "N/A", "N/A"
		}
		delete(front, "address_entities")
		// A blurred back often does not come through at all.
		if r.IntN(2) == 0 {
			ocr["data"] = []any{front}
		} else {
			back["mrz"] = []string{mrz[0], "N/A", mrz[2]}
			back["mrz_prob"] = prob(r, 40, 60)
			back["overall_score"] = prob(r, 60, 75)
		}
		liveness["need_to_review"] = "true"
		face["similarity"] = prob(r, 75, 86)
	case "error":
		switch r.IntN(4) {
		case 0: // as in fixtures/fptai/callback_error.json: unsupported document, so no verdicts at all
			ocr = map[string]any{"code": "E102", "message": "Document type is not supported", "data": []any{}}
			liveness = map[string]any{"code": "-1", "message": "unknown error", "is_live": "N/A", "spoof_prob": "N/A", "is_deepfake": "N/A"}
			face = map[string]any{"code": "303", "message": "face is not matching with document", "isMatch": "false", "similarity": "N/A"}
		case 1: // no usable face in the selfie
			liveness = map[string]any{"code": "FC", "message": "no face or more than one face in the selfie", "is_live": "N/A", "spoof_prob": "N/A", "is_deepfake": "N/A"}
			face = map[string]any{"code": "-1", "message": "unknown error", "isMatch": "N/A", "similarity": "N/A"}
		case 2: // unsupported document: nothing to compare the face with
			ocr = map[string]any{"code": "E102", "message": "Document type is not supported", "data": []any{}}
			face = map[string]any{"code": "-1", "message": "unknown error", "isMatch": "N/A", "similarity": "N/A"}
		default: // liveness service failed
			liveness = map[string]any{"code": "-1", "message": "unknown error", "is_live": "N/A", "spoof_prob": "N/A", "is_deepfake": "N/A"}
		}
	case "mismatch":
		face["isMatch"] = "false"
		face["similarity"] = prob(r, 18, 55)
	}
	cb := map[string]any{
		"uuid": s.ID, "code": "200", "message": "request successful.",
		"ocr": ocr, "liveness": liveness, "face_match": face,
		"images": map[string]string{
			"front":  imgs.imageURL("front", v.ImageID(s)),
			"back":   imgs.imageURL("back", v.ImageID(s)),
			"selfie": imgs.imageURL("selfie", v.ImageID(s)),
		},
	}
	if v.Reference != "" {
		cb["client_uuid"] = v.Reference
	}
	if dataKey != "" {
		return json.Marshal(map[string]any{dataKey: cb, "customer_ref": v.CustomerRef})
	}
	return json.Marshal(cb)
}

// --- FrankieOne ------------------------------------------------------------------------------

const (
	frankieService = "KYC"
	frankieVersion = "2.0.0"
)

func frankieWorkflow(p persona.Person) string {
	if p.Country == persona.Australia {
		return "AUS-Basic3-IDV"
	}
	return "VNM-IDV-AML"
}

// frankieWorkflowNotice is the WorkflowComplete notification for session s: a signal only.
func frankieWorkflowNotice(v *Verification, s Session) ([]byte, error) {
	return json.Marshal(map[string]any{
		"workflowExecutionId": s.ID,
		"entityId":            v.Reference,
		"entityType":          "INDIVIDUAL",
		"workflowName":        frankieWorkflow(v.Person),
		"serviceName":         frankieService,
		"function":            "WorkflowComplete",
		"functionResult":      "SUCCESS",
		"notificationType":    "EVENT",
		"message":             "Workflow execution completed",
		"requestId":           s.RequestID,
		"version":             frankieVersion,
	})
}

// frankieEntityNotice is an entity-level notification (no workflow ids), e.g. EntityStatusChanged.
func frankieEntityNotice(entityID, function, message, requestID string) ([]byte, error) {
	return json.Marshal(map[string]any{
		"entityId":         entityID,
		"entityType":       "INDIVIDUAL",
		"function":         function,
		"functionResult":   "SUCCESS",
		"notificationType": "EVENT",
		"message":          message,
		"requestId":        requestID,
		"version":          frankieVersion,
	})
}
