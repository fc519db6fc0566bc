package fptai

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider"
)

// DefaultLowConfidence is the OCR confidence (FPT.AI's 0–100 scale) under which a field, or
// a side's overall_score, sends the case to review.
const DefaultLowConfidence = 80.0

// Options are the integration's settings for mapping a callback.
type Options struct {
	LowConfidence float64   // 0 means DefaultLowConfidence
	ReceivedAt    time.Time // the callback carries no time of its own: the inbox's receipt time orders results
}

const codeOK = "200"

// noMatchCodes are face-match error codes that mean "a face, but not this one", which is a
// failed match rather than a failed check.
var noMatchCodes = map[string]bool{"303": true}

// dateFields are read as dd/mm/yyyy.
var dateFields = map[string]bool{"dob": true, "doe": true, "issue_date": true}

// fieldOrder is how a reviewer reads the card: identity first, then the back's details.
var fieldOrder = []string{"id", "name", "dob", "sex", "nationality", "home", "address", "address_entities",
	"doe", "ethnicity", "religion", "features", "issue_date", "issue_loc", "mrz", "QRcode"}

// Result maps the callback to a cases.Result. Case result, as the design fixes it: not live,
// deepfake or no face match → fail; a provider error, need_to_review, an OCR confidence
// under the threshold (or another reason to look: MRZ check digits, CCCD consistency, an
// unreadable key field) → review; else pass. Risk level is high on a spoof or deepfake
// signal, else left for the store to derive.
func (cb *Callback) Result(opts Options) cases.Result {
	threshold := opts.LowConfidence
	if threshold <= 0 {
		threshold = DefaultLowConfidence
	}
	r := cases.Result{
		Reference:  cb.Reference(),
		Round:      cb.UUID,
		OccurredAt: opts.ReceivedAt,
	}
	r.Flags = append(r.Flags, cb.notes...)
	review := false
	if cb.Code != "" && cb.Code != codeOK {
		r.Flags = append(r.Flags, fmt.Sprintf("callback code %s: %s", cb.Code, cb.Message))
		review = true
	}

	if cb.OCR != nil {
		o := ocrReader{threshold: threshold, result: &r}
		r.Checks = append(r.Checks, o.read(cb.OCR))
	}
	r.Applicant.ExternalID = cb.ClientUUID

	spoofed := false
	if cb.Liveness != nil {
		var c cases.Check
		c, spoofed = livenessCheck(cb.Liveness)
		r.Checks = append(r.Checks, c)
	}
	if cb.FaceMatch != nil {
		r.Checks = append(r.Checks, faceMatchCheck(cb.FaceMatch))
	}

	r.Result = cases.ResultPass
	for _, c := range r.Checks {
		switch c.Result {
		case cases.CheckFail:
			r.Result = cases.ResultFail
		case cases.CheckReview, cases.CheckError, cases.CheckHit:
			review = true
		}
	}
	if r.Result != cases.ResultFail && review {
		r.Result = cases.ResultReview
	}
	if spoofed {
		r.RiskLevel = cases.RiskHigh
		r.Flags = append(r.Flags, "risk level high: liveness shows a spoof or deepfake")
	}
	cb.documents(&r)
	return r
}

// ocrReader turns the OCR sides into Fields, the Applicant and the document check.
type ocrReader struct {
	threshold float64
	result    *cases.Result
	lowConf   []string // "front.id", ...: fields under the threshold
	reasons   []string // other reasons for review
}

type sideDetail struct {
	Group        string   `json:"group"`
	TypeNew      string   `json:"type_new,omitempty"`
	Type         string   `json:"type,omitempty"`
	OverallScore *float64 `json:"overall_score,omitempty"`
}

type ocrDetails struct {
	Sides         []sideDetail `json:"sides,omitempty"`
	ReviewReasons []string     `json:"review_reasons,omitempty"`
}

func (o *ocrReader) read(ocr *OCR) cases.Check {
	r := o.result
	groups := sideGroups(ocr.Sides)
	var details ocrDetails
	var minOverall *float64
	for i, side := range ocr.Sides {
		g := groups[i]
		for _, name := range fieldNames(side) {
			r.Fields = append(r.Fields, o.fields(g, name, side)...)
		}
		sd := sideDetail{Group: g, TypeNew: side.Text("type_new"), Type: side.Text("type")}
		if v, ok := provider.ParseNumber(side.Text("overall_score")); ok {
			sd.OverallScore = provider.Float(v)
			if v < o.threshold {
				o.lowConf = append(o.lowConf, g+".overall_score")
			}
			if minOverall == nil || v < *minOverall {
				minOverall = provider.Float(v)
			}
		}
		details.Sides = append(details.Sides, sd)
	}

	o.applicant()
	o.checkCCCD()
	o.checkMRZ()

	c := cases.Check{Kind: cases.KindDocument, Source: "ocr"}
	if minOverall != nil {
		c.Score = provider.Score(*minOverall / 100)
	}
	reasons := o.reasons
	if len(o.lowConf) > 0 {
		reasons = append([]string{"low confidence: " + strings.Join(o.lowConf, ", ")}, reasons...)
	}
	if len(ocr.Sides) == 0 {
		reasons = append(reasons, "no OCR data")
	}
	switch {
	case ocr.Code != "" && ocr.Code != codeOK:
		c.Result = cases.CheckError
		c.Code = ocr.Code
		c.Message = ocr.Message
	case len(reasons) > 0:
		c.Result = cases.CheckReview
		c.Message = strings.Join(reasons, "; ")
	default:
		c.Result = cases.CheckPass
	}
	details.ReviewReasons = reasons
	if len(details.Sides) > 0 || len(details.ReviewReasons) > 0 {
		c.Details, _ = json.Marshal(details)
	}
	return c
}

// sideGroups names each side "front" or "back" from type_new (falling back to type), and
// by position where neither tells: the first unnamed side takes the first free name.
func sideGroups(sides []Side) []string {
	groups := make([]string, len(sides))
	used := map[string]bool{}
	for i, s := range sides {
		t := strings.ToLower(s.Text("type_new") + " " + s.Text("type"))
		g := ""
		switch {
		case strings.Contains(t, "front"):
			g = "front"
		case strings.Contains(t, "back"):
			g = "back"
		}
		if g != "" && used[g] {
			g = fmt.Sprintf("%s-%d", g, i+1)
		}
		if g != "" {
			used[g] = true
		}
		groups[i] = g
	}
	for i := range groups {
		if groups[i] != "" {
			continue
		}
		for _, g := range []string{"front", "back"} {
			if !used[g] {
				groups[i], used[g] = g, true
				break
			}
		}
		if groups[i] == "" {
			groups[i] = fmt.Sprintf("side-%d", i+1)
		}
	}
	return groups
}

// fieldNames lists a side's value fields in reading order: the known ones first, then the
// rest alphabetically. Confidences, scores and the side's type are not fields of their own.
func fieldNames(side Side) []string {
	var names []string
	known := map[string]bool{}
	for _, n := range fieldOrder {
		known[n] = true
		if _, ok := side[n]; ok {
			names = append(names, n)
		}
	}
	var rest []string
	for n := range side {
		if known[n] || n == "type" || n == "type_new" || n == "overall_score" || strings.HasSuffix(n, "_prob") {
			continue
		}
		rest = append(rest, n)
	}
	sort.Strings(rest)
	return append(names, rest...)
}

// fields maps one OCR value to Fields: an object (address_entities) becomes one Field per
// entry, an array of lines (mrz) one Field with the lines joined by newlines.
func (o *ocrReader) fields(group, name string, side Side) []cases.Field {
	raw := side[name]
	if provider.IsObject(raw) {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []cases.Field
		for _, k := range keys {
			out = append(out, o.field(group, name+"."+k, provider.TextOf(m[k]), ""))
		}
		return out
	}
	value := provider.TextOf(raw)
	var lines []string
	if json.Unmarshal(raw, &lines) == nil {
		value = strings.Join(lines, "\n")
	}
	return []cases.Field{o.field(group, name, value, side.Text(name+"_prob"))}
}

func (o *ocrReader) field(group, name, value, prob string) cases.Field {
	f := cases.Field{Group: group, Name: name, Value: strings.TrimSpace(value)}
	var flags []string
	if v, ok := provider.ParseNumber(prob); ok {
		f.Confidence = provider.Float(v)
	}
	switch {
	case provider.IsMissing(f.Value):
		if f.Value == "" {
			flags = append(flags, "missing")
		} else {
			flags = append(flags, "N/A")
		}
		f.Value, f.Missing = "", true
	case strings.Contains(strings.ToUpper(f.Value), "N/A"):
		// A value FPT.AI could read only in part ("001099N/A") is unusable as data but worth showing.
		flags = append(flags, "partly unreadable: "+strings.NewReplacer("N/A", "…", "n/a", "…").Replace(f.Value))
		f.Value, f.Missing = "", true
	case dateFields[name]:
		if _, ok := parseDMY(f.Value); !ok {
			if name == "doe" && isNoExpiry(f.Value) {
				flags = append(flags, "no expiry date")
			} else {
				flags = append(flags, "unparsable date")
			}
		}
	}
	if f.Confidence != nil && *f.Confidence < o.threshold {
		flags = append(flags, "low confidence")
		o.lowConf = append(o.lowConf, group+"."+name)
	}
	f.Flag = strings.Join(flags, "; ")
	return f
}

// isNoExpiry recognises "KHÔNG THỜI HẠN" (no time limit), printed on cards of people over 60.
func isNoExpiry(s string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(s), " "), "KHÔNG THỜI HẠN")
}

// find returns the Field for a name, preferring the front side; the pointer lets checks add flags.
func (o *ocrReader) find(name string) (*cases.Field, bool) {
	fs := o.result.Fields
	for i := range fs {
		if fs[i].Name == name && fs[i].Group == "front" {
			return &fs[i], true
		}
	}
	for i := range fs {
		if fs[i].Name == name {
			return &fs[i], true
		}
	}
	return nil, false
}

func (o *ocrReader) value(name string) string {
	if f, ok := o.find(name); ok {
		return f.Value
	}
	return ""
}

func addFlag(f *cases.Field, flag string) {
	if f.Flag == "" {
		f.Flag = flag
	} else {
		f.Flag += "; " + flag
	}
}

// applicant fills the Applicant from the card. FPT.AI gives one name, so FullName is it and
// the parts stay empty; text keeps FPT.AI's spelling and case.
func (o *ocrReader) applicant() {
	a := &o.result.Applicant
	a.FullName = o.value("name")
	a.IDNumber = o.value("id")
	a.Sex = o.value("sex")
	a.Nationality = o.value("nationality")
	a.Address = o.value("address")

	for _, name := range []string{"id", "name", "dob", "sex", "nationality", "address"} {
		f, ok := o.find(name)
		switch {
		case !ok && (name == "id" || name == "name" || name == "dob"):
			o.result.Flags = append(o.result.Flags, name+": not read")
			o.reasons = append(o.reasons, name+" not read")
		case ok && f.Missing:
			o.result.Flags = append(o.result.Flags, name+": "+f.Flag)
			if name == "id" || name == "name" || name == "dob" {
				o.reasons = append(o.reasons, name+" not read")
			}
		}
	}

	if f, ok := o.find("dob"); ok && !f.Missing {
		if t, ok := parseDMY(f.Value); ok {
			a.DateOfBirth = t.Format(time.DateOnly)
		} else {
			a.DateOfBirthRaw = f.Value
			o.result.Flags = append(o.result.Flags, "dob: unparsable date")
			o.reasons = append(o.reasons, "dob unparsable")
		}
	}
}

// checkCCCD checks a 12-digit number against the card's own date of birth and sex. Nine
// digits is the old CMND, which encodes nothing to check.
func (o *ocrReader) checkCCCD() {
	f, ok := o.find("id")
	if !ok || f.Missing {
		return
	}
	var problems []string
	switch {
	case isDigits(f.Value, 12):
		problems = CheckCCCD(f.Value, o.result.Applicant.DateOfBirth, o.value("sex"))
	case isDigits(f.Value, 9):
	default:
		problems = []string{"not a 12-digit CCCD number"}
	}
	for _, p := range problems {
		addFlag(f, p)
		o.result.Flags = append(o.result.Flags, "id: "+p)
		o.reasons = append(o.reasons, "id: "+p)
	}
}

// checkMRZ verifies the back's MRZ check digits and compares it with the front.
func (o *ocrReader) checkMRZ() {
	f, ok := o.find("mrz")
	if !ok || f.Missing {
		return
	}
	m, problems := ParseMRZ(mrzLines(f.Value))
	if len(problems) == 0 {
		if id := o.value("id"); m.IDNumber != "" && id != "" && m.IDNumber != id {
			problems = append(problems, "MRZ id number differs from the front")
		}
		if t, ok := parseDMY(o.value("dob")); ok && m.BirthDate != t.Format("060102") {
			problems = append(problems, "MRZ birth date differs from the front")
		}
		if t, ok := parseDMY(o.value("doe")); ok && m.ExpiryDate != t.Format("060102") {
			problems = append(problems, "MRZ expiry date differs from the front")
		}
		if s := sexCode(o.value("sex")); s != 0 && (m.Sex == "M" || m.Sex == "F") && m.Sex[0] != s {
			problems = append(problems, "MRZ sex differs from the front")
		}
	}
	for _, p := range problems {
		addFlag(f, p)
		o.result.Flags = append(o.result.Flags, "mrz: "+p)
		o.reasons = append(o.reasons, p)
	}
}

// parseDMY reads FPT.AI's dates, dd/mm/yyyy (also with - or . and single-digit day or month),
// and refuses impossible ones (31/02/1990).
func parseDMY(s string) (time.Time, bool) {
	parts := strings.FieldsFunc(strings.TrimSpace(s), func(r rune) bool { return r == '/' || r == '-' || r == '.' })
	if len(parts) != 3 || len(parts[0]) > 2 || len(parts[1]) > 2 || len(parts[2]) != 4 {
		return time.Time{}, false
	}
	var n [3]int
	for i, p := range parts {
		if !isDigits(p, len(p)) {
			return time.Time{}, false
		}
		n[i], _ = strconv.Atoi(p)
	}
	t := time.Date(n[2], time.Month(n[1]), n[0], 0, 0, 0, 0, time.UTC)
	if t.Day() != n[0] || int(t.Month()) != n[1] || t.Year() != n[2] || n[2] < 1800 {
		return time.Time{}, false
	}
	return t, true
}

type livenessDetails struct {
	IsLive       *bool    `json:"is_live,omitempty"`
	SpoofProb    *float64 `json:"spoof_prob,omitempty"`
	IsDeepfake   *bool    `json:"is_deepfake,omitempty"`
	DeepfakeProb *float64 `json:"deepfake_prob,omitempty"`
	NeedToReview *bool    `json:"need_to_review,omitempty"`
	Warning      string   `json:"warning,omitempty"`
}

// livenessCheck maps the liveness section; spoofed reports a not-live or deepfake verdict.
func livenessCheck(l *Liveness) (c cases.Check, spoofed bool) {
	c = cases.Check{Kind: cases.KindLiveness, Source: "liveness"}
	var d livenessDetails
	live, liveOK := provider.ParseBool(l.IsLive)
	deepfake, deepOK := provider.ParseBool(l.IsDeepfake)
	needReview, reviewOK := provider.ParseBool(l.NeedToReview)
	if liveOK {
		d.IsLive = &live
	}
	if deepOK {
		d.IsDeepfake = &deepfake
	}
	if reviewOK {
		d.NeedToReview = &needReview
	}
	if v, ok := provider.ParseNumber(l.SpoofProb); ok {
		d.SpoofProb = provider.Float(v)
		c.Score = provider.Score(clamp01(1 - v))
	}
	if v, ok := provider.ParseNumber(l.DeepfakeProb); ok {
		d.DeepfakeProb = provider.Float(v)
	}
	if !provider.IsMissing(l.Warning) {
		d.Warning = l.Warning
	}
	failed := l.Code != "" && l.Code != codeOK
	if failed {
		c.Code = l.Code
	}

	var why []string
	if liveOK && !live {
		why = append(why, "not live")
	}
	if deepOK && deepfake {
		why = append(why, "deepfake suspected")
	}
	switch {
	case len(why) > 0:
		c.Result = cases.CheckFail
		spoofed = true
	case failed:
		c.Result = cases.CheckError
		why = append(why, l.Message)
	case reviewOK && needReview:
		c.Result = cases.CheckReview
		why = append(why, "FPT.AI asks for review")
	case !liveOK:
		c.Result = cases.CheckReview
		why = append(why, "is_live missing")
	default:
		c.Result = cases.CheckPass
	}
	c.Message = strings.Join(why, "; ")
	c.Details, _ = json.Marshal(d)
	return c, spoofed
}

type faceMatchDetails struct {
	IsMatch    *bool    `json:"is_match,omitempty"`
	Similarity *float64 `json:"similarity,omitempty"`
	Warning    string   `json:"warning,omitempty"`
}

func faceMatchCheck(fm *FaceMatch) cases.Check {
	c := cases.Check{Kind: cases.KindFaceMatch, Source: "face_match"}
	var d faceMatchDetails
	match, ok := provider.ParseBool(fm.IsMatch)
	if ok {
		d.IsMatch = &match
	}
	if v, ok := provider.ParseNumber(fm.Similarity); ok {
		d.Similarity = provider.Float(v)
		c.Score = provider.Score(clamp01(v / 100))
	}
	if !provider.IsMissing(fm.Warning) {
		d.Warning = fm.Warning
	}
	failed := fm.Code != "" && fm.Code != codeOK
	if failed {
		c.Code = fm.Code
	}
	switch {
	case (ok && !match) || noMatchCodes[fm.Code]:
		c.Result = cases.CheckFail
		c.Message = "face does not match the document"
		if failed {
			c.Message = fm.Message
		}
	case failed:
		c.Result = cases.CheckError
		c.Message = fm.Message
	case ok && match:
		c.Result = cases.CheckPass
	default:
		c.Result = cases.CheckReview
		c.Message = "isMatch missing"
	}
	c.Details, _ = json.Marshal(d)
	return c
}

func clamp01(v float64) float64 {
	return min(max(v, 0), 1)
}

// imageKinds maps the keys a customer's proxy uses under "images" to document kinds.
var imageKinds = []struct{ key, kind string }{
	{"front", cases.DocIDFront},
	{"back", cases.DocIDBack},
	{"selfie", cases.DocSelfie},
	{"face", cases.DocSelfie},
	{"portrait", cases.DocSelfie},
}

// documents turns "images" into DocumentRefs: a URL for the worker to fetch, or the bytes of
// a data URI or bare base64. ProviderID carries the session uuid so a new round's images
// never replace the previous round's.
func (cb *Callback) documents(r *cases.Result) {
	known := map[string]bool{}
	for _, ik := range imageKinds {
		known[ik.key] = true
		v, ok := cb.Images[ik.key]
		if !ok {
			continue
		}
		ref := cases.DocumentRef{ProviderID: cb.UUID + "/" + ik.key, Kind: ik.kind}
		v = strings.TrimSpace(v)
		var err error
		switch {
		case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
			err = provider.CheckHTTPURL(v)
			ref.URL = v
		case strings.HasPrefix(v, "data:"):
			ref.Data, ref.ContentType, err = provider.DecodeDataURI(v)
		default:
			ref.Data, err = provider.DecodeBase64(v)
		}
		if err != nil {
			r.Flags = append(r.Flags, "images."+ik.key+": neither an http(s) URL nor base64: ignored")
			continue
		}
		r.Documents = append(r.Documents, ref)
	}
	var unknown []string
	for k := range cb.Images {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		r.Flags = append(r.Flags, "images."+k+": unknown image name: ignored")
	}
}
