package agreement_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"polyphony/assessment/agreement"
	"polyphony/internal/failure"
)

// near reports whether a figure is there and within 1e-9 of want.
func near(t *testing.T, name string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got no value, want %.6f", name, want)
		return
	}
	if math.Abs(*got-want) > 1e-9 {
		t.Errorf("%s: got %.9f, want %.9f", name, *got, want)
	}
}

// levels spreads a confusion matrix back into two raters' lists of levels.
func levels(m [][]int) (a, b []int) {
	for i, row := range m {
		for j, n := range row {
			for range n {
				a, b = append(a, i), append(b, j)
			}
		}
	}
	return a, b
}

// TestCompareByHand checks every figure against a case worked on paper: ten items on a
// three-level scale (0, 1, 2), rater A's levels in the rows and rater B's in the columns.
//
//	       B=0  B=1  B=2 | row r_i
//	A=0     2    1    0  |   3
//	A=1     1    3    1  |   5
//	A=2     0    0    2  |   2
//	col c_j 3    4    3  |  N = 10
//
// Unweighted:
//
//	p_o = (2 + 3 + 2) / 10 = 0.7
//	p_e = Σ r_i c_i / N² = (3·3 + 5·4 + 2·3) / 100 = 35/100 = 0.35
//	κ   = (p_o - p_e) / (1 - p_e) = 0.35 / 0.65 = 7/13 ≈ 0.538462
//
// Quadratic weights, k = 3, so (k-1)² = 4: w = 1 at distance 0, 1 - 1/4 = 0.75 at
// distance 1, 1 - 4/4 = 0 at distance 2.
//
//	p_o(w) = (7 items at distance 0 × 1 + 3 at distance 1 × 0.75) / 10 = 9.25/10 = 0.925
//	Σ r_i c_j by distance: 0 → 9 + 20 + 6 = 35;
//	                       1 → r0c1 + r1c0 + r1c2 + r2c1 = 12 + 15 + 15 + 8 = 50;
//	                       2 → r0c2 + r2c0 = 9 + 6 = 15
//	p_e(w) = (35 × 1 + 50 × 0.75 + 15 × 0) / 100 = 72.5/100 = 0.725
//	κ_w    = (0.925 - 0.725) / (1 - 0.725) = 0.2 / 0.275 = 8/11 ≈ 0.727273
//
// Percent agreement is 7 of 10, 70%.
func TestCompareByHand(t *testing.T) {
	m := [][]int{{2, 1, 0}, {1, 3, 1}, {0, 0, 2}}
	a, b := levels(m)
	ag, err := agreement.Compare(a, b, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ag.Matrix, m) {
		t.Errorf("matrix: got %v, want %v", ag.Matrix, m)
	}
	if ag.N != 10 || ag.Agreed != 7 || ag.Scale != 3 {
		t.Errorf("counts: got N %d, agreed %d, scale %d; want 10, 7, 3", ag.N, ag.Agreed, ag.Scale)
	}
	near(t, "percent agreement", ag.PercentAgreement, 70)
	near(t, "p_o", ag.Observed, 0.7)
	near(t, "p_e", ag.Expected, 0.35)
	near(t, "kappa", ag.Kappa, 7.0/13)
	near(t, "weighted p_o", ag.WeightedObserved, 0.925)
	near(t, "weighted p_e", ag.WeightedExpected, 0.725)
	near(t, "weighted kappa", ag.WeightedKappa, 8.0/11)
	if ag.Undefined != "" {
		t.Errorf("undefined: got %q, want none", ag.Undefined)
	}
}

// TestCompareNegative: two raters who always disagree, across the whole of a two-level
// scale, agree less than chance.
//
//	      B=0 B=1
//	A=0    0   2      r = (2, 2), c = (2, 2), N = 4
//	A=1    2   0
//
//	p_o = 0, p_e = (2·2 + 2·2)/16 = 0.5, κ = (0 - 0.5)/(1 - 0.5) = -1.
//	k = 2, so (k-1)² = 1 and the weights are 1 and 0: κ_w = κ = -1.
func TestCompareNegative(t *testing.T) {
	ag, err := agreement.Compare([]int{0, 0, 1, 1}, []int{1, 1, 0, 0}, 2)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "p_e", ag.Expected, 0.5)
	near(t, "kappa", ag.Kappa, -1)
	near(t, "weighted kappa", ag.WeightedKappa, -1)
	if got := agreement.Band(ag.Kappa); got != "poor" {
		t.Errorf("band: got %q, want poor", got)
	}
}

func TestCompareUndefined(t *testing.T) {
	t.Run("no items", func(t *testing.T) {
		ag, err := agreement.Compare(nil, nil, 4)
		if err != nil {
			t.Fatal(err)
		}
		if ag.PercentAgreement != nil || ag.Kappa != nil || ag.WeightedKappa != nil || ag.Expected != nil {
			t.Errorf("got figures %+v, want none", ag)
		}
		if ag.Undefined != agreement.NoItems {
			t.Errorf("undefined: got %q, want %q", ag.Undefined, agreement.NoItems)
		}
	})
	t.Run("everything at one level", func(t *testing.T) {
		// Both put all five items at 2: p_o = 1 and p_e = 25/25 = 1, so κ is 0/0.
		ag, err := agreement.Compare([]int{2, 2, 2, 2, 2}, []int{2, 2, 2, 2, 2}, 4)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "percent agreement", ag.PercentAgreement, 100)
		near(t, "p_e", ag.Expected, 1)
		if ag.Kappa != nil || ag.WeightedKappa != nil {
			t.Errorf("got kappa %v and weighted kappa %v, want neither", ag.Kappa, ag.WeightedKappa)
		}
		if ag.Undefined != agreement.NoVariation {
			t.Errorf("undefined: got %q, want %q", ag.Undefined, agreement.NoVariation)
		}
		// JSON carries a missing figure as null, never NaN (which it cannot encode).
		js, err := json.Marshal(ag)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(js), `"kappa":null`) || !strings.Contains(string(js), `"weightedKappa":null`) {
			t.Errorf("JSON: got %s, want kappa and weightedKappa null", js)
		}
	})
	t.Run("one rater constant, the other not", func(t *testing.T) {
		// A puts everything at 1, B at 0, 1 and 2: r = (0, 3, 0), c = (1, 1, 1), N = 3.
		// p_o = 1/3, p_e = 3·1/9 = 1/3, κ = 0. Weighted (k = 3): p_o(w) = (1 + 2·0.75)/3 = 5/6,
		// p_e(w) = (3·1 + 6·0.75)/9 = 7.5/9 = 5/6, κ_w = 0. Defined, and no better than chance.
		ag, err := agreement.Compare([]int{1, 1, 1}, []int{0, 1, 2}, 3)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "kappa", ag.Kappa, 0)
		near(t, "weighted p_o", ag.WeightedObserved, 5.0/6)
		near(t, "weighted kappa", ag.WeightedKappa, 0)
	})
}

func TestCompareRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		a, b  []int
		scale int
		field string
	}{
		"level above the scale": {[]int{0, 4}, []int{0, 1}, 4, "level"},
		"negative level":        {[]int{0, 1}, []int{-1, 1}, 4, "level"},
		"one-level scale":       {[]int{0}, []int{0}, 1, "scale"},
		"different lengths":     {[]int{0, 1}, []int{0}, 4, "levels"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := agreement.Compare(c.a, c.b, c.scale)
			var inv *failure.InvalidError
			if !errors.As(err, &inv) || inv.Field != c.field {
				t.Errorf("got %v, want a problem with %s", err, c.field)
			}
		})
	}
}

// TestCompareProperties: perfect agreement is 1, swapping the raters changes nothing but
// the matrix's orientation, and independent ratings come out near 0.
func TestCompareProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 10))
	random := func(n, k int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = rng.IntN(k)
		}
		return out
	}
	t.Run("perfect agreement", func(t *testing.T) {
		for range 20 {
			a := random(1+rng.IntN(30), 4)
			a = append(a, 0, 3) // at least two levels used, so kappa exists
			ag, err := agreement.Compare(a, a, 4)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "kappa", ag.Kappa, 1)
			near(t, "weighted kappa", ag.WeightedKappa, 1)
			near(t, "percent agreement", ag.PercentAgreement, 100)
		}
	})
	t.Run("symmetric in the raters", func(t *testing.T) {
		for range 50 {
			n := 2 + rng.IntN(40)
			a, b := random(n, 4), random(n, 4)
			ab, err := agreement.Compare(a, b, 4)
			if err != nil {
				t.Fatal(err)
			}
			ba, err := agreement.Compare(b, a, 4)
			if err != nil {
				t.Fatal(err)
			}
			same := func(name string, x, y *float64) {
				if (x == nil) != (y == nil) || x != nil && math.Abs(*x-*y) > 1e-12 {
					t.Errorf("%s: A against B %v, B against A %v", name, x, y)
				}
			}
			same("kappa", ab.Kappa, ba.Kappa)
			same("weighted kappa", ab.WeightedKappa, ba.WeightedKappa)
			same("percent agreement", ab.PercentAgreement, ba.PercentAgreement)
			for i := range 4 {
				for j := range 4 {
					if ab.Matrix[i][j] != ba.Matrix[j][i] {
						t.Fatalf("matrix: A against B %v is not the transpose of B against A %v", ab.Matrix, ba.Matrix)
					}
				}
			}
		}
	})
	t.Run("independent ratings", func(t *testing.T) {
		a, b := random(20000, 4), random(20000, 4)
		ag, err := agreement.Compare(a, b, 4)
		if err != nil {
			t.Fatal(err)
		}
		for name, k := range map[string]*float64{"kappa": ag.Kappa, "weighted kappa": ag.WeightedKappa} {
			if k == nil || math.Abs(*k) > 0.03 {
				t.Errorf("%s of independent ratings: got %v, want within 0.03 of 0", name, k)
			}
		}
	})
	t.Run("weights credit a near miss", func(t *testing.T) {
		// Both pairs disagree on every item, so neither has any unweighted agreement; but
		// misses by one level keep a weighted kappa far above misses by three.
		nearMiss, err := agreement.Compare([]int{0, 1, 2, 3, 0, 1, 2, 3}, []int{1, 2, 3, 2, 1, 0, 1, 2}, 4)
		if err != nil {
			t.Fatal(err)
		}
		farMiss, err := agreement.Compare([]int{0, 3, 0, 3, 0, 3, 0, 3}, []int{3, 0, 3, 0, 3, 0, 3, 0}, 4)
		if err != nil {
			t.Fatal(err)
		}
		if *nearMiss.WeightedKappa <= *farMiss.WeightedKappa {
			t.Errorf("weighted kappa: near misses %.3f, far misses %.3f; want the near higher", *nearMiss.WeightedKappa, *farMiss.WeightedKappa)
		}
	})
}

func TestBand(t *testing.T) {
	for k, want := range map[float64]string{-0.1: "poor", 0: "slight", 0.2: "slight", 0.35: "fair", 0.41: "moderate", 0.6: "moderate", 0.75: "substantial", 0.81: "almost perfect", 1: "almost perfect"} {
		if got := agreement.Band(&k); got != want {
			t.Errorf("Band(%v): got %q, want %q", k, got, want)
		}
	}
	if got := agreement.Band(nil); got != "" {
		t.Errorf("Band(nil): got %q, want none", got)
	}
}
