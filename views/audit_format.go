package views

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// auditDetail is one line of an entry's details as the page shows it.
type auditDetail struct{ Key, Value string }

// auditDetails turns an entry's details into key: value lines, keys sorted; text as it is,
// numbers without exponent, nested values as compact JSON.
func auditDetails(d map[string]any) []auditDetail {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]auditDetail, len(keys))
	for i, k := range keys {
		out[i] = auditDetail{Key: strings.ReplaceAll(k, "_", " "), Value: auditDetailValue(d[k])}
	}
	return out
}

func auditDetailValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "—"
	case string:
		return v
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case float64:
		if v == float64(int64(v)) {
			return fmt.Sprintf("%d", int64(v))
		}
		return fmt.Sprintf("%g", v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// actionAreas is the filter's choices: each area ("case.") and each action.
func actionAreas(actions []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range actions {
		if i := strings.Index(a, "."); i > 0 && !seen[a[:i+1]] {
			seen[a[:i+1]] = true
			out = append(out, a[:i+1])
		}
	}
	return append(out, actions...)
}

// checkpointHeld says whether the verification found the checkpoint in the chain.
func checkpointHeld(intact bool, brokenSeq, seq int64) string {
	switch {
	case intact:
		return "yes"
	case seq < brokenSeq:
		return "yes (before the break)"
	}
	return "not proven: the chain breaks at or before it"
}
