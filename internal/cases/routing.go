package cases

import (
	"fmt"
	"time"
)

// DefaultSLA is how long a case of each risk level may wait for a decision, measured from
// its creation or reopening, when the configuration names no other.
var DefaultSLA = map[string]time.Duration{
	RiskHigh:   4 * time.Hour,
	RiskMedium: 24 * time.Hour,
	RiskLow:    72 * time.Hour,
}

// DefaultQueue is the queue of an integration that names none.
const DefaultQueue = "default"

// Routing holds the rules that place a case when it is created, updated or reopened.
type Routing struct {
	SLA map[string]time.Duration // per risk level (cfg.SLA); a missing level uses DefaultSLA
}

// Route is where the rules put a case.
type Route struct {
	Queue       string
	RiskLevel   string
	RiskDerived bool // the provider gave no usable risk level
	FourEyes    bool
	SLADue      time.Time
	AutoApprove bool     // the integration's auto-approve rule applies
	Flags       []string // notes for the reviewer (derived risk level)
}

// Route applies the rules to a result. roundStart is when the review round began (case
// creation or reopen): the SLA is measured from it.
//
// Risk level: the provider's, else derived: fail → high; any PEP, sanctions or AML hit → high
// (a hit beside a review is the design's rule; beside a pass it is contradictory, and a
// contradiction is treated as the riskier reading); review → medium; pass → low.
// Four-eyes: high risk, or any PEP or sanctions hit. Auto-approve (when the integration has
// it on): result pass, risk low, no hit at all.
func (rt Routing) Route(src Source, r *Result, roundStart time.Time) Route {
	route := Route{Queue: src.Queue, RiskLevel: r.RiskLevel}
	if route.Queue == "" {
		route.Queue = DefaultQueue
	}
	hit := hasHit(r.Checks, KindPEP, KindSanctions, KindAML)
	switch route.RiskLevel {
	case RiskLow, RiskMedium, RiskHigh:
	default:
		switch {
		case r.Result == ResultFail, hit:
			route.RiskLevel = RiskHigh
		case r.Result == ResultPass:
			route.RiskLevel = RiskLow
		default:
			route.RiskLevel = RiskMedium
		}
		route.RiskDerived = true
		route.Flags = append(route.Flags, fmt.Sprintf("risk level derived by kycdesk: %s (the provider gave none)", route.RiskLevel))
	}
	route.FourEyes = route.RiskLevel == RiskHigh || hasHit(r.Checks, KindPEP, KindSanctions)
	route.SLADue = roundStart.Add(rt.sla(route.RiskLevel))
	route.AutoApprove = src.AutoApprove && r.Result == ResultPass && route.RiskLevel == RiskLow && !hit
	return route
}

func (rt Routing) sla(risk string) time.Duration {
	if d, ok := rt.SLA[risk]; ok && d > 0 {
		return d
	}
	return DefaultSLA[risk]
}

// hasHit reports whether any check of the given kinds came back as a hit.
func hasHit(checks []Check, kinds ...string) bool {
	for _, c := range checks {
		if c.Result != CheckHit {
			continue
		}
		for _, k := range kinds {
			if c.Kind == k {
				return true
			}
		}
	}
	return false
}
