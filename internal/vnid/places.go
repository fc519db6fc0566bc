package vnid

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold is a place name reduced to what survives every way Vietnamese text reaches us:
// decomposed (NFD) or composed (NFC) Unicode, old and new tone-mark placement ("Hoà"/"Hòa"),
// upper or lower case, punctuation, and plain ASCII typed without diacritics. "TP. Hồ Chí Minh"
// folds to "tp ho chi minh".
func Fold(s string) string {
	var b strings.Builder
	space := true
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			r = unicode.ToLower(r)
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		b.WriteRune(r)
		space = false
	}
	return strings.TrimSpace(b.String())
}

// byName maps folded province names (without "tinh"/"thanh pho"/"tp") and aliases to codes.
var byName = func() map[string]string {
	m := map[string]string{}
	for code, name := range provinces {
		m[stripPrefix(Fold(name))] = code
	}
	for alias, code := range aliases {
		m[alias] = code
	}
	return m
}()

var prefixes = []string{"thanh pho ", "tp ", "tinh ", "t p "}

func stripPrefix(f string) string {
	for {
		trimmed := f
		for _, p := range prefixes {
			trimmed = strings.TrimPrefix(trimmed, p)
		}
		if trimmed == f {
			return f
		}
		f = trimmed
	}
}

// ProvinceIn finds the province a place of origin or address names, reading its parts from
// the last (the province comes last in Vietnamese addresses: "Xã Hoằng Lộc, Hoằng Hóa, Thanh
// Hóa"). It returns the province's code and the part that named it; ok is false when no part
// names a province this package knows.
func ProvinceIn(place string) (code, part string, ok bool) {
	parts := strings.FieldsFunc(place, func(r rune) bool { return r == ',' || r == ';' || r == '\n' })
	for i := len(parts) - 1; i >= 0; i-- {
		f := stripPrefix(Fold(parts[i]))
		if f == "" {
			continue
		}
		if c, ok := byName[f]; ok {
			return c, strings.TrimSpace(parts[i]), true
		}
		// A last part without commas before it ("Phường 5 Quận 3 TP Hồ Chí Minh"): the
		// longest province name it ends with.
		best := ""
		for name := range byName {
			if len(name) > len(best) && (f == name || strings.HasSuffix(f, " "+name)) {
				best = name
			}
		}
		if best != "" {
			return byName[best], strings.TrimSpace(parts[i]), true
		}
	}
	return "", "", false
}

// SameProvince reports whether a place that names the province of code other is consistent
// with a number of code: the same province, or the province code's was merged into on
// 1 July 2025. merged says it took the merger to agree.
func SameProvince(code, other string) (same, merged bool) {
	if code == other {
		return true, false
	}
	if into := mergedInto[code]; into != "" && byName[stripPrefix(Fold(into))] == other {
		return true, true
	}
	return false, false
}
