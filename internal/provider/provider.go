// Package provider holds what the provider adapters share: the two errors the ingest worker
// tells apart (a payload never processable, a provider API that failed) and tolerant value readers.
package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// ShapeError says a payload can never be processed as it is: retrying will not help, so the
// worker dead-letters it and a webhook handler may answer 400. Reason is short, names the
// field and never quotes the payload, so it is safe to log and to show.
type ShapeError struct {
	Reason string
}

func (e *ShapeError) Error() string { return e.Reason }

// Shapef builds a ShapeError. Callers pass field names and enum words, never payload values.
func Shapef(format string, args ...any) *ShapeError {
	return &ShapeError{Reason: fmt.Sprintf(format, args...)}
}

// JSONShapeError turns an encoding/json error into a ShapeError that names the field
// without quoting the payload (json's own messages can carry fragments of the input).
func JSONShapeError(err error) *ShapeError {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return Shapef("body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return Shapef("body must be a JSON object")
		}
		return Shapef("%s must be %s", typ.Field, jsonKindName(typ.Type))
	}
	var shape *ShapeError
	if errors.As(err, &shape) {
		return shape
	}
	return Shapef("body is not valid JSON")
}

func jsonKindName(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "of another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "of another type"
}

// IsObject reports whether b holds a JSON object (leading white space allowed). The adapters
// check this before decoding because json.Unmarshal quietly accepts null for a struct.
func IsObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// IsNull reports whether b is absent or the JSON literal null.
func IsNull(b []byte) bool {
	s := strings.TrimSpace(string(b))
	return s == "" || s == "null"
}

// IsMissing reports whether a provider value means "no value": empty, or FPT.AI's "N/A".
func IsMissing(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || strings.EqualFold(s, "N/A") || strings.EqualFold(s, "null")
}

// ParseNumber reads a number that a provider sent as text ("99.41", " 97,5 ", "42%").
// ok is false for missing values ("N/A") and for anything that is not a finite number.
func ParseNumber(s string) (v float64, ok bool) {
	s = strings.TrimSpace(s)
	if IsMissing(s) {
		return 0, false
	}
	s = strings.TrimSuffix(s, "%")
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1) // decimal comma, as some locales write it
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// ParseBool reads a boolean that a provider sent as text ("true", "False", "1").
// ok is false for missing values ("N/A") and unknown words.
func ParseBool(s string) (v bool, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "y":
		return true, true
	case "false", "0", "no", "n":
		return false, true
	}
	return false, false
}

// Float returns a pointer to v, for the optional scores of cases.Result.
func Float(v float64) *float64 { return &v }

// Score is a 0..1 score derived from a provider's percentage or probability, rounded to
// four decimals: "72.40" / 100 is 0.724 for a reviewer and an API client, not 0.7240000000000001.
func Score(v float64) *float64 { return Float(math.Round(v*1e4) / 1e4) }

// Text is a JSON value read as text, for providers that send numbers and booleans as
// strings and sometimes the other way round. A string is taken as is, null as "", a
// number or boolean as its literal, an object or array as compact JSON. Decoding never fails.
type Text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *Text) UnmarshalJSON(b []byte) error {
	*t = Text(TextOf(b))
	return nil
}

// TextOf reads one raw JSON value as text, with the same rules as Text.
func TextOf(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return ""
	}
	if s[0] == '"' {
		var v string
		if json.Unmarshal(raw, &v) == nil {
			return v
		}
		return ""
	}
	if s[0] == '{' || s[0] == '[' {
		var buf bytes.Buffer
		if json.Compact(&buf, raw) != nil {
			return ""
		}
		return buf.String()
	}
	return s
}

// Number is a JSON number that may arrive as a string ("0.93") or not at all ("N/A", null).
// Decoding never fails: anything that is not a finite number leaves Valid false.
type Number struct {
	Value float64
	Valid bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Number) UnmarshalJSON(b []byte) error {
	n.Value, n.Valid = ParseNumber(TextOf(b))
	return nil
}

// MarshalJSON writes the number, or null when it is not valid.
func (n Number) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(n.Value)
}

// Ptr returns the value as an optional score, nil when it is not valid.
func (n Number) Ptr() *float64 {
	if !n.Valid {
		return nil
	}
	return Float(n.Value)
}
