package report

// Definitions shared by the CSV reports and the dashboard (internal/dashboard, whose rollups
// migrations 00011 and 00014 keep). A test builds cases through the real review actions and
// checks that every dashboard figure equals what the CSVs say for the same range
// (internal/report/agreement_test.go). Shown on /reports, /dashboard and in README.md.
//
//   - A decision step is one case_decisions row: a decision (approve, reject, request_info),
//     an escalation, a lead's decision or return of an escalated case, a second approval or
//     its return. "Decisions per person" counts every step the person took.
//   - A final decision is a step whose status_to is approved or rejected. A first approval
//     of a high-risk or four-eyes case (kind decision, decision approve, status_to
//     awaiting_second_approval) is a step, not a final decision; the second approval is.
//   - Time to decision of a step = at − the start of the case's round − the time the SLA
//     clock stood paused in that round (request_info until the next provider result), never
//     below 0. Medians are over final decisions only.
//   - Breached: a final decision taken after the case's SLA due time (at > sla_due), or an
//     open case past it now, its clock running. sla_due already includes every finished
//     pause of the round (internal/cases pushes it when the case resumes), so paused time is
//     never added to it again; a case still waiting for information counts as breached only
//     if it was late when paused, and the dashboard's overdue figure leaves such cases out.
//   - Days are UTC days: a case counts on the day it was created, a step on the day it was
//     taken.

// Final reports whether a step that led to status is a final decision.
func Final(status string) bool { return status == "approved" || status == "rejected" }

// TimeToDecision is a step's time to decision in milliseconds: from the start of the round,
// paused time left out, never below 0.
func TimeToDecision(at, roundStarted, pausedMS int64) int64 {
	return max(0, at-roundStarted-pausedMS)
}
