package views

import (
	"fmt"
	"math"
	"strconv"

	"github.com/kycdesk/kycdesk/internal/dashboard"
)

// The dashboard's charts, built from its figures.

var dashOutcomeLabels = map[string]string{
	"approved": "Approved", "rejected": "Rejected", "pending_info": "Info requested", "escalated": "Escalated",
	"awaiting_second_approval": "To second approval", "in_review": "Returned to review",
}

var dashQueueLabels = map[string]string{
	"unassigned": "Unassigned", "assigned": "Assigned / in review", "escalated": "Escalated",
	"pending_info": "Waiting for information", "second_approval": "Second approval",
}

var dashOverdueLabels = map[string]string{
	"review": "New or in review", "escalated": "Escalated", "second_approval": "Second approval",
}

func dashDays(f *dashboard.Figures) []string {
	out := make([]string, len(f.Dates))
	for i, d := range f.Dates {
		out[i] = d.Format("2006-01-02")
	}
	return out
}

func dashReceivedChart(f *dashboard.Figures) BarChart {
	c := BarChart{ID: "chart-received", Title: "Cases received per day, by provider", Categories: dashDays(f)}
	for j, p := range f.Providers {
		s := Series{Label: p, Values: make([]int64, len(f.Dates))}
		for i := range f.Dates {
			s.Values[i] = f.Received[i][j]
		}
		c.Series = append(c.Series, s)
	}
	return c
}

func dashOutcomesChart(f *dashboard.Figures) BarChart {
	c := BarChart{ID: "chart-outcomes", Title: "Outcomes of decisions per day", Categories: dashDays(f)}
	for k, o := range dashboard.Outcomes {
		s := Series{Label: dashOutcomeLabels[o], Values: make([]int64, len(f.Dates))}
		var any bool
		for i := range f.Dates {
			s.Values[i] = f.Outcomes[i][k]
			any = any || s.Values[i] != 0
		}
		if any {
			c.Series = append(c.Series, s)
		}
	}
	return c
}

func dashBreachesChart(f *dashboard.Figures) BarChart {
	onTime := Series{Label: "Decided within SLA", Values: make([]int64, len(f.Dates))}
	late := Series{Label: "Decided after SLA due", Values: make([]int64, len(f.Dates))}
	for i := range f.Dates {
		onTime.Values[i] = f.Decided[i] - f.Breached[i]
		late.Values[i] = f.Breached[i]
	}
	return BarChart{ID: "chart-sla", Title: "Final decisions per day: within SLA and breached", Categories: dashDays(f),
		Series: []Series{onTime, late}}
}

func dashMedianChart(f *dashboard.Figures) PointChart {
	c := PointChart{ID: "chart-median", Title: "Median time to a final decision", Categories: dashDays(f),
		Values: make([]float64, len(f.Dates)), Has: make([]bool, len(f.Dates)), Labels: make([]string, len(f.Dates)), UnitName: "minutes"}
	var top float64
	for _, m := range f.Medians {
		top = math.Max(top, m.Minutes())
	}
	div := 1.0
	if top >= 24*60 {
		c.UnitName, div = "hours", 60
	}
	for i, m := range f.Medians {
		c.Labels[i] = m.String()
		if m.N > 0 {
			c.Has[i], c.Values[i] = true, m.Minutes()/div
		}
	}
	return c
}

func dashBacklogBars(f *dashboard.Figures) []HBar {
	out := make([]HBar, len(dashboard.Queues))
	for k, q := range dashboard.Queues {
		out[k] = HBar{Label: dashQueueLabels[q], Value: f.Backlog[k]}
	}
	return out
}

func dashOverdueBars(f *dashboard.Figures) []HBar {
	var out []HBar
	for _, g := range dashboard.OverdueGroups {
		out = append(out, HBar{Label: dashOverdueLabels[g.Key], Value: f.OverdueBy[g.Key]})
	}
	return out
}

func dashActorBars(f *dashboard.Figures) []HBar {
	out := make([]HBar, len(f.Actors))
	for i, a := range f.Actors {
		out[i] = HBar{Label: a.Actor, Value: a.N}
	}
	return out
}

func dashBreached(f *dashboard.Figures) (decided, breached int64) {
	for i := range f.Decided {
		decided += f.Decided[i]
		breached += f.Breached[i]
	}
	return decided, breached
}

func sharePercent(part, whole int64) string {
	if whole == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

func dashOpen(f *dashboard.Figures) int64 {
	var t int64
	for _, n := range f.Backlog {
		t += n
	}
	return t
}

func dashCount(n int64) string { return strconv.FormatInt(n, 10) }
