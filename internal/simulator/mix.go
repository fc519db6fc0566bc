package simulator

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Providers the simulator can play.
const (
	Generic    = "generic"
	FPTAI      = "fptai"
	FrankieOne = "frankieone"
)

// Outcome classes: the case result kycdesk should arrive at for an outcome.
const (
	ClassPass   = "pass"
	ClassReview = "review"
	ClassFail   = "fail"
)

// OutcomeInfo describes one scripted verification outcome of a provider.
type OutcomeInfo struct {
	Name  string
	Class string // ClassPass, ClassReview or ClassFail
	About string
}

// outcomeTable lists each provider's outcomes. Outcome names never equal a class name, so a
// mix item is unambiguous.
var outcomeTable = map[string][]OutcomeInfo{
	Generic: {
		{"clean", ClassPass, "all checks pass, low risk"},
		{"manual", ClassReview, "document check needs review (poor image), medium risk"},
		{"rejected", ClassFail, "document or face match failed"},
		{"pep", ClassReview, "PEP hit, high risk"},
		{"sanctions", ClassFail, "sanctions hit, high risk"},
		{"highrisk", ClassReview, "checks pass but risk score is high"},
	},
	FPTAI: {
		{"clean", ClassPass, "clean CCCD session: OCR, live, face match"},
		{"spoof", ClassFail, "liveness fails: spoof (screen re-capture), sometimes deepfake"},
		{"lowconf", ClassReview, "low-confidence OCR with N/A values"},
		{"error", ClassReview, "provider error codes (E102, -1, FC); a quarter as in the fixture, with 303, which kycdesk fails"},
		{"mismatch", ClassFail, "selfie does not match the document portrait"},
	},
	FrankieOne: {
		{"clean", ClassPass, "status PASS or CLEAR, risk LOW"},
		{"pep", ClassReview, "status REVIEW with a PEP hit, risk HIGH"},
		{"highrisk", ClassReview, "status NEEDS_APPROVAL, risk HIGH"},
		{"unacceptable", ClassFail, "status FAIL, risk UNACCEPTABLE, sanctions hit"},
		{"rejected", ClassFail, "status FAIL: document verification failed"},
		{"unknownrisk", ClassPass, "status PASS, risk UNKNOWN (kycdesk derives it)"},
	},
}

// mixPresets are named mixes, per provider, in the same syntax as --mix.
var mixPresets = map[string]map[string]string{
	"demo": {
		Generic:    "clean=55,manual=12,rejected=8,pep=10,sanctions=5,highrisk=10",
		FPTAI:      "clean=60,spoof=10,lowconf=12,error=8,mismatch=10",
		FrankieOne: "clean=55,pep=15,highrisk=10,unacceptable=5,rejected=10,unknownrisk=5",
	},
	"clean": {Generic: "clean=100", FPTAI: "clean=100", FrankieOne: "clean=100"},
	"risky": {
		Generic:    "clean=10,manual=15,rejected=20,pep=20,sanctions=15,highrisk=20",
		FPTAI:      "clean=10,spoof=30,lowconf=20,error=20,mismatch=20",
		FrankieOne: "clean=10,pep=25,highrisk=20,unacceptable=20,rejected=20,unknownrisk=5",
	},
}

// Outcomes lists a provider's outcome names with their classes, for help text.
func Outcomes(provider string) []OutcomeInfo {
	return append([]OutcomeInfo(nil), outcomeTable[provider]...)
}

// Mix is a parsed outcome mix: weights per outcome name.
type Mix struct {
	names   []string
	weights []float64
	total   float64
}

// ParseMix reads the --mix syntax for provider:
//
//	""                        the demo preset
//	demo | clean | risky      a named preset
//	name=weight[,name=weight] weights (non-negative numbers, relative: they need not add up to 100)
//
// A name is one of the provider's outcomes (see Outcomes) or a class, pass, review or fail,
// whose weight is split evenly across the provider's outcomes of that class; a name given twice
// adds up. Example: "pass=60,review=25,fail=15", or for fptai "clean=70,spoof=30".
func ParseMix(provider, s string) (Mix, error) {
	table, ok := outcomeTable[provider]
	if !ok {
		return Mix{}, fmt.Errorf("unknown provider %q (want generic, fptai or frankieone)", provider)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		s = "demo"
	}
	if presets, ok := mixPresets[s]; ok {
		s = presets[provider]
	}
	weights := map[string]float64{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		if !ok {
			return Mix{}, fmt.Errorf("mix item %q: want name=weight or one of the presets demo, clean, risky", item)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		w, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || w < 0 {
			return Mix{}, fmt.Errorf("mix item %q: weight must be a non-negative number", item)
		}
		var members []string
		for _, o := range table {
			if o.Name == name {
				members = []string{o.Name}
				break
			}
		}
		if members == nil && (name == ClassPass || name == ClassReview || name == ClassFail) {
			for _, o := range table {
				if o.Class == name {
					members = append(members, o.Name)
				}
			}
		}
		if members == nil {
			return Mix{}, fmt.Errorf("mix item %q: %s has no outcome %q (have %s, or pass, review, fail)", item, provider, name, outcomeNames(table))
		}
		for _, m := range members {
			weights[m] += w / float64(len(members))
		}
	}
	var m Mix
	for _, o := range table { // table order keeps picks deterministic
		if w := weights[o.Name]; w > 0 {
			m.names = append(m.names, o.Name)
			m.weights = append(m.weights, w)
			m.total += w
		}
	}
	if m.total == 0 {
		return Mix{}, fmt.Errorf("mix %q gives every outcome weight 0", s)
	}
	return m, nil
}

func outcomeNames(table []OutcomeInfo) string {
	names := make([]string, len(table))
	for i, o := range table {
		names[i] = o.Name
	}
	return strings.Join(names, ", ")
}

func (m Mix) pick(r *rand.Rand) string {
	x := r.Float64() * m.total
	for i, w := range m.weights {
		if x < w {
			return m.names[i]
		}
		x -= w
	}
	return m.names[len(m.names)-1]
}

// String renders the mix as percentages, for the progress header.
func (m Mix) String() string {
	parts := make([]string, len(m.names))
	for i, n := range m.names {
		parts[i] = fmt.Sprintf("%s=%.0f%%", n, 100*m.weights[i]/m.total)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
