package views

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
)

// TestBarChartLayout: one bar segment per non-zero value, heights in proportion to the
// values on a rounded axis, each day's total written over its bar, and the table holds
// every number, zeros included.
func TestBarChartLayout(t *testing.T) {
	c := BarChart{ID: "t", Title: "Cases", Categories: []string{"2026-11-01", "2026-11-02", "2026-11-03"},
		Series: []Series{{Label: "fptai", Values: []int64{3, 0, 7}}, {Label: "generic", Values: []int64{1, 0, 2}}}}
	p := c.layout()
	var bars []chartShape
	for _, r := range p.Rects {
		if r.Class == "bar" {
			bars = append(bars, r)
		}
	}
	if len(bars) != 4 {
		t.Fatalf("%d bar segments, want 4 (zeros draw nothing)", len(bars))
	}
	unit := float64(plotBottom-plotTop) / chartNiceMax(9) // the tallest day is 9: the axis goes to 10
	for i, want := range []int64{3, 1, 7, 2} {
		if got := bars[i].H; math.Abs(got-float64(want)*unit) > 0.01 {
			t.Errorf("segment %d is %.2f high, want %.2f", i, got, float64(want)*unit)
		}
	}
	if bars[1].Y+bars[1].H != bars[0].Y { // stacked: the second series sits on the first
		t.Errorf("second segment does not sit on the first: %+v %+v", bars[0], bars[1])
	}
	var texts []string
	for _, l := range p.Texts {
		texts = append(texts, l.Text)
	}
	joined := strings.Join(texts, "|")
	for _, want := range []string{"|4|", "|9|", "fptai", "generic", "11-01"} {
		if !strings.Contains("|"+joined+"|", want) {
			t.Errorf("texts %q lack %q", joined, want)
		}
	}
	var buf bytes.Buffer
	if err := BarChartFigure(c).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{`<pattern id="t-p0"`, `<pattern id="t-p1"`, `<th scope="row">2026-11-02</th><td>0</td><td>0</td><td>0</td>`,
		`<th scope="row">2026-11-03</th><td>7</td><td>2</td><td>9</td>`, `<title>2026-11-03, fptai: 7</title>`} {
		if !strings.Contains(html, want) {
			t.Errorf("figure lacks %s", want)
		}
	}
}

func TestNiceMax(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{{0, 1}, {1, 1}, {3, 5}, {9, 10}, {11, 20}, {250, 500}, {12000, 20000}} {
		if got := chartNiceMax(tt.in); got != tt.want {
			t.Errorf("niceMax(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
