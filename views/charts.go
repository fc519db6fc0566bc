package views

import (
	"fmt"
	"math"
	"strconv"
)

// Server-rendered SVG charts (charts.templ draws what these functions lay out). Colour is
// never the only cue: each series also has its own fill pattern and a legend label, bars
// carry their value where there is room, and every chart is followed by a table of its
// numbers. Colours are the Okabe-Ito palette, which colour-blind readers can tell apart.

// Series is one named row of values, one value per category.
type Series struct {
	Label  string
	Values []int64
}

// BarChart is a chart of stacked vertical bars, one bar per category (usually a day).
type BarChart struct {
	ID         string // unique on the page: prefixes the patterns' ids
	Title      string
	Categories []string // x-axis labels
	Series     []Series
}

// HBar is one bar of a horizontal bar chart.
type HBar struct {
	Label string
	Value int64
	Note  string // shown after the value, e.g. "4 past due"
}

// PointChart is a line of points, one per category; a point is missing where Has is false.
type PointChart struct {
	ID         string
	Title      string
	Categories []string
	Values     []float64 // in Unit
	Has        []bool
	Labels     []string // each point's value as text
	UnitName   string   // what the y axis counts: "minutes", "hours"
}

var chartPalette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// chartPattern is an SVG <pattern>: the series' colour with a mark of its own over it.
type chartPattern struct {
	ID, Color, Mark string // Mark: an SVG path over a 8×8 tile, "" for a plain fill
	Dark            bool   // draw the mark in black (light colours) rather than white
}

var chartMarks = []string{
	"",                                   // plain
	"M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4", // diagonal lines
	"M2,2 h1 v1 h-1 z M6,6 h1 v1 h-1 z",  // dots
	"M0,4 h8",                            // horizontal lines
	"M0,0 l8,8 M8,0 l-8,8",               // cross-hatch
	"M4,0 v8",                            // vertical lines
	"M0,2 h8 M0,6 h8 M2,0 v8 M6,0 v8",    // grid
	"M0,8 l8,-8",                         // single diagonal
}

func chartPatterns(id string, n int) []chartPattern {
	out := make([]chartPattern, n)
	for i := range out {
		c := chartPalette[i%len(chartPalette)]
		out[i] = chartPattern{ID: fmt.Sprintf("%s-p%d", id, i), Color: c, Mark: chartMarks[i%len(chartMarks)], Dark: c == "#F0E442" || c == "#E69F00" || c == "#56B4E9"}
	}
	return out
}

func (p chartPattern) Fill() string { return "url(#" + p.ID + ")" }
func (p chartPattern) Stroke() string {
	if p.Dark {
		return "#000"
	}
	return "#fff"
}

// chartPlot is a laid-out chart: plain shapes with coordinates, ready to draw.
type chartPlot struct {
	Width, Height int
	Patterns      []chartPattern
	Rects         []chartShape
	Lines         []chartShape
	Texts         []chartText
	Points        []chartShape
	Path          string // polyline points of a PointChart
}

type chartShape struct {
	X, Y, W, H     float64 // rects; lines use X,Y → W,H as x2,y2; points use X,Y and W as radius
	Fill, Title    string
	Class, Pattern string
}

type chartText struct {
	X, Y   float64
	Anchor string // start, middle, end
	Text   string
	Size   string
	Weight string
}

func svgNum(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// Plot area of the vertical charts, in viewBox units.
const (
	chartW      = 760
	chartH      = 280
	plotLeft    = 52
	plotRight   = 750
	plotTop     = 44 // room for the legend
	plotBottom  = 248
	legendY     = 16
	maxBarValue = 45 // label bars with their totals when there are at most this many
)

// chartNiceMax rounds v up to 1, 2 or 5 times a power of ten, so the axis reads well.
func chartNiceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// chartLabelEvery is how many categories lie between two x-axis labels, so that at most ~12 show.
func chartLabelEvery(n int) int { return max(1, (n+11)/12) }

func (c BarChart) layout() chartPlot {
	p := chartPlot{Width: chartW, Height: chartH, Patterns: chartPatterns(c.ID, len(c.Series))}
	n := len(c.Categories)
	totals := make([]int64, n)
	var top int64
	for i := range n {
		for _, s := range c.Series {
			totals[i] += s.Values[i]
		}
		top = max(top, totals[i])
	}
	ymax := chartNiceMax(float64(top))
	chartAxes(&p, ymax, "")
	chartLegend(&p, c.Series, p.Patterns)
	band := float64(plotRight-plotLeft) / float64(max(n, 1))
	barW := math.Max(1, band*0.72)
	scale := float64(plotBottom-plotTop) / ymax
	every := chartLabelEvery(n)
	for i := range n {
		x := plotLeft + band*float64(i) + (band-barW)/2
		y := float64(plotBottom)
		for k, s := range c.Series {
			v := s.Values[i]
			if v == 0 {
				continue
			}
			h := float64(v) * scale
			y -= h
			p.Rects = append(p.Rects, chartShape{X: x, Y: y, W: barW, H: h, Fill: p.Patterns[k].Fill(), Class: "bar",
				Title: fmt.Sprintf("%s, %s: %d", c.Categories[i], s.Label, v)})
		}
		if totals[i] > 0 && n <= maxBarValue {
			p.Texts = append(p.Texts, chartText{X: x + barW/2, Y: y - 3, Anchor: "middle", Text: strconv.FormatInt(totals[i], 10), Size: chartValueFont(n)})
		}
		if i%every == 0 {
			p.Texts = append(p.Texts, chartText{X: x + barW/2, Y: plotBottom + 16, Anchor: "middle", Text: chartAxisDay(c.Categories[i]), Size: "11"})
		}
	}
	return p
}

func chartValueFont(n int) string {
	if n > 20 {
		return "9"
	}
	return "11"
}

// chartAxes draws the y axis with three gridlines, labelled in unit.
func chartAxes(p *chartPlot, ymax float64, unit string) {
	for _, frac := range []float64{0, 0.5, 1} {
		y := plotBottom - frac*float64(plotBottom-plotTop)
		p.Lines = append(p.Lines, chartShape{X: plotLeft, Y: y, W: plotRight, H: y, Class: "grid"})
		v := ymax * frac
		text := strconv.FormatFloat(v, 'f', -1, 64)
		if v != math.Trunc(v) {
			text = svgNum(v)
		}
		p.Texts = append(p.Texts, chartText{X: plotLeft - 6, Y: y + 4, Anchor: "end", Text: text + unit, Size: "11"})
	}
}

func chartLegend(p *chartPlot, series []Series, pats []chartPattern) {
	x := float64(plotLeft)
	for k, s := range series {
		p.Rects = append(p.Rects, chartShape{X: x, Y: legendY - 10, W: 14, H: 14, Fill: pats[k].Fill(), Class: "swatch"})
		p.Texts = append(p.Texts, chartText{X: x + 19, Y: legendY + 1, Anchor: "start", Text: s.Label, Size: "12"})
		x += 19 + float64(len([]rune(s.Label)))*6.6 + 16
	}
}

func (c PointChart) layout() chartPlot {
	p := chartPlot{Width: chartW, Height: chartH}
	n := len(c.Categories)
	var top float64
	for i, v := range c.Values {
		if c.Has[i] {
			top = math.Max(top, v)
		}
	}
	ymax := chartNiceMax(top)
	chartAxes(&p, ymax, "")
	p.Texts = append(p.Texts, chartText{X: plotLeft, Y: plotTop - 14, Anchor: "start", Text: "in " + c.UnitName, Size: "12"})
	band := float64(plotRight-plotLeft) / float64(max(n, 1))
	scale := float64(plotBottom-plotTop) / ymax
	every := chartLabelEvery(n)
	path := ""
	for i := range n {
		x := plotLeft + band*float64(i) + band/2
		if i%every == 0 {
			p.Texts = append(p.Texts, chartText{X: x, Y: plotBottom + 16, Anchor: "middle", Text: chartAxisDay(c.Categories[i]), Size: "11"})
		}
		if !c.Has[i] {
			continue
		}
		y := plotBottom - c.Values[i]*scale
		p.Points = append(p.Points, chartShape{X: x, Y: y, W: 4, Class: "point", Title: c.Categories[i] + ": " + c.Labels[i]})
		path += svgNum(x) + "," + svgNum(y) + " "
		if n <= 14 { // beyond, the labels would overlap: the points' titles and the table carry them
			p.Texts = append(p.Texts, chartText{X: x, Y: y - 8, Anchor: "middle", Text: c.Labels[i], Size: chartValueFont(n)})
		}
	}
	p.Path = path
	return p
}

// hbarChartLayout lays out horizontal bars: label, bar, value (and note) on one line each.
func hbarChartLayout(id string, bars []HBar) chartPlot {
	const rowH, labelW, valueW = 30, 210, 150
	h := max(1, len(bars))*rowH + 10
	p := chartPlot{Width: chartW, Height: h, Patterns: chartPatterns(id, 1)}
	var top int64
	for _, b := range bars {
		top = max(top, b.Value)
	}
	span := float64(chartW - labelW - valueW)
	for i, b := range bars {
		y := float64(i*rowH + 6)
		w := 0.0
		if top > 0 {
			w = float64(b.Value) / float64(top) * span
		}
		p.Texts = append(p.Texts, chartText{X: labelW - 8, Y: y + 15, Anchor: "end", Text: b.Label, Size: "12"})
		if b.Value > 0 {
			p.Rects = append(p.Rects, chartShape{X: labelW, Y: y, W: math.Max(w, 1), H: rowH - 10, Fill: p.Patterns[0].Fill(), Class: "bar",
				Title: fmt.Sprintf("%s: %d", b.Label, b.Value)})
		}
		text := strconv.FormatInt(b.Value, 10)
		if b.Note != "" {
			text += " · " + b.Note
		}
		p.Texts = append(p.Texts, chartText{X: labelW + w + 6, Y: y + 15, Anchor: "start", Text: text, Size: "12", Weight: "600"})
	}
	return p
}

// chartAxisDay shortens a YYYY-MM-DD category to MM-DD for the x axis (the tables keep the year).
func chartAxisDay(cat string) string {
	if len(cat) == 10 && cat[4] == '-' {
		return cat[5:]
	}
	return cat
}
