package server

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"polyphony/assessment/agreement"
)

func kappaOf(f float64) *float64 { return &f }

// TestPairChart checks the chart's geometry: bars in proportion from 0, a negative kappa
// widening the scale to -1, no bar for a pair without a kappa, and the reference lines.
func TestPairChart(t *testing.T) {
	t.Run("from 0 to 1", func(t *testing.T) {
		ch := pairChart("c", []agreementChartRow{{"Ana and Ben", kappaOf(0.8), 16}, {"Ana and Cat", kappaOf(0.4), 3}, {"Ben and Cat", nil, 1}})
		span := float64(agreementPlotRight - agreementPlotLeft)
		if ch.ZeroX != agreementPlotLeft {
			t.Errorf("zero at %v, want the plot's left edge %d", ch.ZeroX, agreementPlotLeft)
		}
		if got, want := ch.Bars[0].W, 0.8*span; math.Abs(got-want) > 1e-9 {
			t.Errorf("bar of 0.8: width %v, want %v", got, want)
		}
		if got, want := ch.Bars[1].W, 0.4*span; math.Abs(got-want) > 1e-9 {
			t.Errorf("bar of 0.4: width %v, want %v", got, want)
		}
		if !ch.Bars[2].NoValue || ch.Bars[2].Value != "no value (1 item)" {
			t.Errorf("pair without kappa: got %+v, want no bar and the words", ch.Bars[2])
		}
		if ch.Bars[0].Value != "0.80 (16 items)" {
			t.Errorf("value: got %q, want 0.80 (16 items)", ch.Bars[0].Value)
		}
		var refs []string
		for _, tk := range ch.Ticks {
			if tk.Reference {
				refs = append(refs, tk.Label)
				if want := agreementPlotLeft + mustParse(t, tk.Label)*span; math.Abs(tk.X-want) > 1e-9 {
					t.Errorf("reference %s at %v, want %v", tk.Label, tk.X, want)
				}
			}
		}
		if strings.Join(refs, " ") != "0.4 0.6 0.8" {
			t.Errorf("reference lines: got %v, want 0.4 0.6 0.8", refs)
		}
	})
	t.Run("a negative kappa", func(t *testing.T) {
		ch := pairChart("c", []agreementChartRow{{"Ana and Ben", kappaOf(-0.5), 4}, {"Ana and Cat", kappaOf(0.5), 4}})
		mid := float64(agreementPlotLeft+agreementPlotRight) / 2
		if math.Abs(ch.ZeroX-mid) > 1e-9 {
			t.Errorf("zero at %v, want the middle %v", ch.ZeroX, mid)
		}
		neg, pos := ch.Bars[0], ch.Bars[1]
		if !neg.Negative || math.Abs(neg.X+neg.W-ch.ZeroX) > 1e-9 || math.Abs(pos.X-ch.ZeroX) > 1e-9 || math.Abs(neg.W-pos.W) > 1e-9 {
			t.Errorf("bars of -0.5 and 0.5: got %+v and %+v, want equal widths either side of %v", neg, pos, ch.ZeroX)
		}
		if !strings.Contains(ch.Desc, "from -1 to 1") {
			t.Errorf("description %q does not give the scale", ch.Desc)
		}
	})
}

func mustParse(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestPairChartRenders draws the chart through the page's template, from pairs worked out
// by the agreement package, and reads it back as XML: a title and a description named by
// aria-labelledby, one bar per pair with a kappa, and the names and figures as text.
func TestPairChartRenders(t *testing.T) {
	pairs, err := agreement.Pairs([]agreement.Rating{
		{PieceID: "p", SubmissionID: "s", CriterionID: "a", RaterID: "u1", Level: 0},
		{PieceID: "p", SubmissionID: "s", CriterionID: "a", RaterID: "u2", Level: 0},
		{PieceID: "p", SubmissionID: "s", CriterionID: "b", RaterID: "u1", Level: 3},
		{PieceID: "p", SubmissionID: "s", CriterionID: "b", RaterID: "u2", Level: 2},
		{PieceID: "p", SubmissionID: "t", CriterionID: "a", RaterID: "u1", Level: 2},
		{PieceID: "p", SubmissionID: "t", CriterionID: "a", RaterID: "u3", Level: 2},
	}, 4)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{"u1": "Ana <Lead>", "u2": "Ben", "u3": "Cat"}
	ch := pairChart("chart-pairs", pairChartRows(pairs, func(id string) string { return names[id] }))
	v, err := loadViews()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := v.pages["marking_agreement"].ExecuteTemplate(&out, "agreement-chart", ch); err != nil {
		t.Fatal(err)
	}
	svg := out.String()[:strings.Index(out.String(), "</svg>")+len("</svg>")]
	dec := xml.NewDecoder(strings.NewReader(svg))
	var rects int
	var texts []string
	var title, desc, labelledBy string
	var in string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed: %v\n%s", err, svg)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			in = e.Name.Local
			if in == "rect" {
				rects++
			}
			for _, a := range e.Attr {
				if e.Name.Local == "svg" && a.Name.Local == "aria-labelledby" {
					labelledBy = a.Value
				}
			}
		case xml.CharData:
			switch in {
			case "title":
				title += string(e)
			case "desc":
				desc += string(e)
			case "text":
				texts = append(texts, strings.TrimSpace(string(e)))
			}
		case xml.EndElement:
			in = ""
		}
	}
	if labelledBy != "chart-pairs-title chart-pairs-desc" || title == "" || desc == "" {
		t.Errorf("accessible name: labelledby %q, title %q, desc %q", labelledBy, title, desc)
	}
	// u1-u2: (0,0), (3,2); r = (1,0,0,1), c = (1,0,1,0); Σ(i-j)²O = 1,
	// Σ(i-j)²r_i c_j = 0 + 4 + 9 + 1 = 14, so κ_w = 1 - 2·1/14 = 6/7 ≈ 0.86.
	// u1-u3: one item, both at 2: no value.
	if rects != 1 {
		t.Errorf("got %d bars, want 1 (the other pair has no kappa)", rects)
	}
	joined := strings.Join(texts, "|")
	for _, want := range []string{"Ana <Lead> and Ben", "0.86 (2 items)", "Ana <Lead> and Cat", "no value (1 item)", "0.4", "0.6", "0.8"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the chart's text %q lacks %q", joined, want)
		}
	}
}
