package server

import (
	"strconv"
	"strings"

	"polyphony/assessment/agreement"
	"polyphony/assessment/marking"
)

// agreementChart is the chart of the pairs of raters on a cohort's agreement page, drawn on
// the server as SVG: one bar per pair for its weighted kappa, with the pair's name above the
// bar and the figure and item count after it, and dashed lines at 0.4, 0.6 and 0.8, the
// edges of the moderate, substantial and almost perfect bands. The page puts the same
// figures in a table beside it, which is the text alternative in full.
type agreementChart struct {
	ID     string
	Title  string
	Desc   string
	Width  int
	Height int
	// ZeroX is where a kappa of 0 is; PlotTop and PlotBottom bound the lines.
	ZeroX, PlotTop, PlotBottom float64
	Ticks                      []agreementTick
	Bars                       []agreementBar
}

// agreementTick is a vertical line across the bars: an axis line or a reference line.
type agreementTick struct {
	Label     string
	X, TY     float64
	Reference bool
}

// agreementBar is one pair's bar. A pair with no kappa has no bar, only its words.
type agreementBar struct {
	Label             string
	Value             string
	LabelX, LabelY    float64
	X, Y, W, H        float64
	ValueX, ValueY    float64
	Negative, NoValue bool
}

// agreementChartRow is what the chart needs of a pair: its name, kappa and item count.
type agreementChartRow struct {
	Label string
	Kappa *float64
	Items int
}

// The chart's geometry: the bars run from the left edge of the plot to its right, leaving
// room after a full bar for its figure.
const (
	agreementChartWidth = 640
	agreementPlotLeft   = 12
	agreementPlotRight  = 470
	agreementChartTop   = 34
	agreementRowHeight  = 50
)

// agreementReferences are the band edges drawn as dashed lines.
var agreementReferences = []float64{0.4, 0.6, 0.8}

// pairChart draws the weighted kappa of each pair of raters on a scale from 0 to 1, or
// from -1 to 1 when any pair agrees less than chance.
func pairChart(id string, rows []agreementChartRow) agreementChart {
	lo := 0.0
	for _, r := range rows {
		if r.Kappa != nil && *r.Kappa < 0 {
			lo = -1
		}
	}
	ch := agreementChart{
		ID: id, Title: "Weighted kappa of each pair of raters",
		Desc:  "One bar for each pair of raters: their quadratic-weighted kappa over every element both rated, from " + strconv.FormatFloat(lo, 'f', -1, 64) + " to 1, with the number of items after it. Dashed lines mark 0.4, 0.6 and 0.8. The same figures are in the table beside the chart.",
		Width: agreementChartWidth, Height: agreementChartTop + agreementRowHeight*max(len(rows), 1) + 8,
		PlotTop: agreementChartTop - 8,
	}
	ch.PlotBottom = float64(ch.Height - 4)
	scale := func(v float64) float64 {
		return agreementPlotLeft + (v-lo)/(1-lo)*(agreementPlotRight-agreementPlotLeft)
	}
	ch.ZeroX = scale(0)
	ticks := []float64{lo, 1}
	if lo < 0 {
		ticks = []float64{-1, 0, 1}
	}
	for _, t := range ticks {
		ch.Ticks = append(ch.Ticks, agreementTick{Label: strconv.FormatFloat(t, 'f', -1, 64), X: scale(t), TY: agreementChartTop - 14})
	}
	for _, t := range agreementReferences {
		ch.Ticks = append(ch.Ticks, agreementTick{Label: strconv.FormatFloat(t, 'f', 1, 64), X: scale(t), TY: agreementChartTop - 14, Reference: true})
	}
	for i, r := range rows {
		y := float64(agreementChartTop + agreementRowHeight*i)
		b := agreementBar{Label: r.Label, LabelX: agreementPlotLeft, LabelY: y + 16, Y: y + 24, H: 18, ValueY: y + 38}
		items := strconv.Itoa(r.Items) + " items"
		if r.Items == 1 {
			items = "1 item"
		}
		if r.Kappa == nil {
			b.NoValue, b.X, b.ValueX = true, ch.ZeroX, ch.ZeroX+6
			b.Value = "no value (" + items + ")"
		} else {
			x := scale(*r.Kappa)
			b.X, b.W = min(x, ch.ZeroX), max(x, ch.ZeroX)-min(x, ch.ZeroX)
			b.Negative = *r.Kappa < 0
			b.ValueX = max(x, ch.ZeroX) + 6
			b.Value = strconv.FormatFloat(*r.Kappa, 'f', 2, 64) + " (" + items + ")"
		}
		ch.Bars = append(ch.Bars, b)
	}
	return ch
}

func init() {
	viewFuncs["submissionPath"] = submissionPath
	viewFuncs["splitRef"] = func(ref string) []string {
		piece, who, _ := strings.Cut(ref, "/")
		return []string{piece, who}
	}
	viewFuncs["stateColour"] = func(st marking.State) string {
		switch st {
		case marking.Released:
			return "green"
		case marking.Agreed:
			return "blue"
		case marking.InModeration:
			return "orange"
		case marking.NotSubmitted:
			return "grey"
		}
		return "white"
	}
	viewFuncs["agreementPercent"] = func(p *float64) string {
		if p == nil {
			return "no value"
		}
		return strconv.FormatFloat(*p, 'f', 0, 64) + "%"
	}
	viewFuncs["agreementKappa"] = func(k *float64) string {
		if k == nil {
			return "no value"
		}
		return strconv.FormatFloat(*k, 'f', 2, 64)
	}
	viewFuncs["agreementGap"] = func(a, b int) string {
		if d := max(a-b, b-a); d != 1 {
			return strconv.Itoa(d) + " levels"
		}
		return "1 level"
	}
}

// pairChartRows turns the pairs into the chart's rows, naming each rater with names.
func pairChartRows(pairs []agreement.Pair, name func(id string) string) []agreementChartRow {
	rows := make([]agreementChartRow, len(pairs))
	for i, p := range pairs {
		rows[i] = agreementChartRow{Label: name(p.RaterA) + " and " + name(p.RaterB), Kappa: p.Agreement.WeightedKappa, Items: p.Agreement.N}
	}
	return rows
}

// agreementPairLine is a row of the pairs' table: the pair, with names and the band its
// weighted kappa falls in.
type agreementPairLine struct {
	agreement.Pair
	NameA, NameB string
	Band         string
}

// agreementElementLine is one element of a double-rated transcript, named.
type agreementElementLine struct {
	agreement.Element
	Name string
}

// agreementTranscriptLine is one double-rated submission: what it is, who rated it, the
// levels per element and the figures overall.
type agreementTranscriptLine struct {
	agreement.Transcript
	Title        string
	NameA, NameB string
	Elements     []agreementElementLine
	KappaBand    string
}

// agreementPageData is the cohort's agreement page: for each scale, the pairs as a table and
// a chart, then each double-rated transcript.
type agreementPageData struct {
	CohortID   string
	CohortName string
	Scales     []agreementScaleView
}
