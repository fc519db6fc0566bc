// Package fptai reads FPT.AI eKYC callbacks, which carry a whole session's result (OCR of
// the ID card's sides, liveness, face match), and maps them to a cases.Result.
package fptai

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kycdesk/kycdesk/internal/provider"
)

// MaxIDLen bounds uuid and client_uuid, which become the case's reference and round.
const MaxIDLen = 200

// Callback is one FPT.AI callback. Values stay as FPT.AI wrote them (strings, "N/A" for
// missing, Vietnamese upper case); Result interprets them.
type Callback struct {
	UUID       string // FPT.AI's session id: the delivery's identity and the case's round
	ClientUUID string // the customer's own id for the applicant, when its flow sets one
	Code       string
	Message    string

	OCR       *OCR       // nil when the session ran no OCR
	Liveness  *Liveness  // nil when the session ran no liveness check
	FaceMatch *FaceMatch // nil when the session ran no face match

	// Images holds what a customer's proxy added under "images" (FPT.AI's own callback has
	// none): "front", "back", "selfie" mapped to a URL, a data URI or bare base64.
	Images map[string]string

	notes []string // shape oddities found by Parse, reported as flags by Result
}

// OCR is the ID card reading. Sides come in the order FPT.AI sent them.
type OCR struct {
	Code    string
	Message string
	Sides   []Side
}

// Side is one side of the card as read: FPT.AI's field names ("id", "id_prob", "dob",
// "mrz", "type_new", ...) mapped to their raw JSON values.
type Side map[string]json.RawMessage

// Text returns one value of the side as text ("" when absent).
func (s Side) Text(name string) string { return provider.TextOf(s[name]) }

// Liveness is the selfie liveness and deepfake check.
type Liveness struct {
	Code         string
	Message      string
	IsLive       string
	SpoofProb    string
	NeedToReview string
	IsDeepfake   string
	DeepfakeProb string
	Warning      string
}

// FaceMatch compares the selfie with the card's portrait.
type FaceMatch struct {
	Code       string
	Message    string
	IsMatch    string
	Similarity string
	Warning    string
}

type wireCallback struct {
	UUID       json.RawMessage `json:"uuid"`
	ClientUUID json.RawMessage `json:"client_uuid"`
	Code       provider.Text   `json:"code"`
	Message    provider.Text   `json:"message"`
	OCR        json.RawMessage `json:"ocr"`
	Liveness   json.RawMessage `json:"liveness"`
	FaceMatch  json.RawMessage `json:"face_match"`
	Images     json.RawMessage `json:"images"`
}

type wireOCR struct {
	Code    provider.Text   `json:"code"`
	Message provider.Text   `json:"message"`
	Data    json.RawMessage `json:"data"`
}

type wireLiveness struct {
	Code         provider.Text `json:"code"`
	Message      provider.Text `json:"message"`
	IsLive       provider.Text `json:"is_live"`
	SpoofProb    provider.Text `json:"spoof_prob"`
	NeedToReview provider.Text `json:"need_to_review"`
	IsDeepfake   provider.Text `json:"is_deepfake"`
	DeepfakeProb provider.Text `json:"deepfake_prob"`
	Warning      provider.Text `json:"warning"`
}

type wireFaceMatch struct {
	Code       provider.Text `json:"code"`
	Message    provider.Text `json:"message"`
	IsMatch    provider.Text `json:"isMatch"`
	IsMatchAlt provider.Text `json:"is_match"`
	Similarity provider.Text `json:"similarity"`
	Warning    provider.Text `json:"warning"`
}

// Unwrap returns the callback result inside body. FPT.AI can be told to put the result
// under a customer-chosen "callback data key" and add request fields beside it; dataKey
// names that key, "" means the body is the result. A result sent as a JSON string (some
// proxies double-encode it) is unquoted.
func Unwrap(body []byte, dataKey string) (inner []byte, err error) {
	if !provider.IsObject(body) {
		return nil, provider.Shapef("body must be a JSON object")
	}
	if dataKey == "" {
		return body, nil
	}
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(body, &outer); err != nil {
		return nil, provider.JSONShapeError(err)
	}
	raw, ok := outer[dataKey]
	if !ok || provider.IsNull(raw) {
		return nil, provider.Shapef("callback data key %q is missing", dataKey)
	}
	var quoted string
	if json.Unmarshal(raw, &quoted) == nil {
		raw = json.RawMessage(quoted)
	}
	if !provider.IsObject(raw) {
		return nil, provider.Shapef("callback data key %q must hold an object", dataKey)
	}
	return raw, nil
}

// Parse unwraps (see Unwrap) and reads a callback. Only what makes it unusable is an error
// (a *provider.ShapeError): not an object, no uuid, none of ocr, liveness, face_match.
// Anything odd inside a section is kept and flagged by Result, so one strange field never
// loses a whole session.
func Parse(body []byte, dataKey string) (*Callback, error) {
	inner, err := Unwrap(body, dataKey)
	if err != nil {
		return nil, err
	}
	var w wireCallback
	if err := json.Unmarshal(inner, &w); err != nil {
		return nil, provider.JSONShapeError(err)
	}
	cb := &Callback{Code: string(w.Code), Message: string(w.Message)}

	if cb.UUID, err = identifier(w.UUID, "uuid"); err != nil {
		return nil, err
	}
	if cb.UUID == "" {
		return nil, provider.Shapef("uuid is missing")
	}
	if cb.ClientUUID, err = identifier(w.ClientUUID, "client_uuid"); err != nil {
		return nil, err
	}

	var ocr wireOCR
	if ok, err := section(w.OCR, "ocr", &ocr); err != nil {
		return nil, err
	} else if ok {
		cb.OCR = &OCR{Code: string(ocr.Code), Message: string(ocr.Message)}
		cb.OCR.Sides = cb.sides(ocr.Data)
	}
	var lv wireLiveness
	if ok, err := section(w.Liveness, "liveness", &lv); err != nil {
		return nil, err
	} else if ok {
		cb.Liveness = &Liveness{
			Code: string(lv.Code), Message: string(lv.Message), IsLive: string(lv.IsLive),
			SpoofProb: string(lv.SpoofProb), NeedToReview: string(lv.NeedToReview),
			IsDeepfake: string(lv.IsDeepfake), DeepfakeProb: string(lv.DeepfakeProb), Warning: string(lv.Warning),
		}
	}
	var fm wireFaceMatch
	if ok, err := section(w.FaceMatch, "face_match", &fm); err != nil {
		return nil, err
	} else if ok {
		cb.FaceMatch = &FaceMatch{
			Code: string(fm.Code), Message: string(fm.Message), IsMatch: string(fm.IsMatch),
			Similarity: string(fm.Similarity), Warning: string(fm.Warning),
		}
		if cb.FaceMatch.IsMatch == "" {
			cb.FaceMatch.IsMatch = string(fm.IsMatchAlt)
		}
	}
	if cb.OCR == nil && cb.Liveness == nil && cb.FaceMatch == nil {
		return nil, provider.Shapef("callback has none of ocr, liveness, face_match")
	}
	cb.images(w.Images)
	return cb, nil
}

// identifier reads uuid or client_uuid: a string (a number is tolerated as its digits),
// short and printable, since it becomes the case's reference.
func identifier(raw json.RawMessage, name string) (string, error) {
	if provider.IsNull(raw) {
		return "", nil
	}
	s := strings.TrimSpace(string(raw))
	if s[0] == '{' || s[0] == '[' || s == "true" || s == "false" {
		return "", provider.Shapef("%s must be a string", name)
	}
	v := strings.TrimSpace(provider.TextOf(raw))
	switch {
	case utf8.RuneCountInString(v) > MaxIDLen:
		return "", provider.Shapef("%s is longer than %d characters", name, MaxIDLen)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return "", provider.Shapef("%s contains control characters", name)
	case provider.IsMissing(v):
		return "", nil
	}
	return v, nil
}

func section(raw json.RawMessage, name string, into any) (present bool, err error) {
	if provider.IsNull(raw) {
		return false, nil
	}
	if !provider.IsObject(raw) {
		return false, provider.Shapef("%s must be an object", name)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return false, provider.Shapef("%s is not a valid object", name)
	}
	return true, nil
}

// sides reads ocr.data: FPT.AI sends an array of sides; a single object is taken as one side.
func (cb *Callback) sides(raw json.RawMessage) []Side {
	if provider.IsNull(raw) {
		return nil
	}
	if provider.IsObject(raw) {
		var s Side
		if json.Unmarshal(raw, &s) == nil {
			return []Side{s}
		}
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		cb.notes = append(cb.notes, "ocr.data is neither an array nor an object: ignored")
		return nil
	}
	var out []Side
	for i, it := range items {
		var s Side
		if !provider.IsObject(it) || json.Unmarshal(it, &s) != nil {
			cb.notes = append(cb.notes, "ocr.data["+strconv.Itoa(i)+"] is not an object: ignored")
			continue
		}
		out = append(out, s)
	}
	return out
}

func (cb *Callback) images(raw json.RawMessage) {
	if provider.IsNull(raw) {
		return
	}
	var m map[string]json.RawMessage
	if !provider.IsObject(raw) || json.Unmarshal(raw, &m) != nil {
		cb.notes = append(cb.notes, "images is not an object: ignored")
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(string(m[k]))
		if v == "null" || v == `""` {
			continue
		}
		var s string
		if json.Unmarshal(m[k], &s) != nil {
			cb.notes = append(cb.notes, "images."+k+" is not a string: ignored")
			continue
		}
		if cb.Images == nil {
			cb.Images = make(map[string]string)
		}
		cb.Images[k] = s
	}
}

// DeliveryID is the delivery's identity for deduplication: FPT.AI's session uuid.
func (cb *Callback) DeliveryID() string { return cb.UUID }

// Reference is the case's identity: the customer's client_uuid when its flow sets one (a
// new session for the same client_uuid is a new round of that case), else the session uuid.
func (cb *Callback) Reference() string {
	if cb.ClientUUID != "" {
		return cb.ClientUUID
	}
	return cb.UUID
}
