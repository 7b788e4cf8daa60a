package agreement

import (
	"polyphony/internal/failure"
)

// Agreement is what two raters' levels on the same items come to.
type Agreement struct {
	// Scale is k, the number of levels (0..k-1).
	Scale int `json:"scale"`
	// N is how many items both raters rated.
	N int `json:"n"`
	// Matrix is the confusion matrix: Matrix[i][j] counts the items the first rater put at
	// level i and the second at level j. Its diagonal is where they agree.
	Matrix [][]int `json:"matrix"`
	// Agreed is how many items both put at the same level (the diagonal's sum).
	Agreed int `json:"agreed"`
	// PercentAgreement is 100 × Agreed / N.
	PercentAgreement *float64 `json:"percentAgreement"`
	// Observed and Expected are p_o and p_e, unweighted: the proportion of items on the
	// diagonal, and the proportion chance would put there given each rater's own spread.
	Observed *float64 `json:"observed"`
	Expected *float64 `json:"expected"`
	// Kappa is Cohen's kappa, (p_o - p_e) / (1 - p_e).
	Kappa *float64 `json:"kappa"`
	// WeightedObserved and WeightedExpected are p_o and p_e with the quadratic weights
	// w_ij = 1 - (i-j)²/(k-1)², which give part credit to a near miss.
	WeightedObserved *float64 `json:"weightedObserved"`
	WeightedExpected *float64 `json:"weightedExpected"`
	// WeightedKappa is (p_o - p_e) / (1 - p_e) with those weights.
	WeightedKappa *float64 `json:"weightedKappa"`
	// Undefined says, in words, why a figure is missing; empty when all are there.
	Undefined string `json:"undefined,omitempty"`
}

// Why figures can be missing.
const (
	NoItems     = "No item was rated by both raters."
	NoVariation = "Both raters put every item at the same level, so agreement by chance is certain and kappa has no value."
)

// Compare works out the agreement of two raters: a[n] and b[n] are the levels the first and
// the second gave item n, on the scale 0..scale-1. A level outside the scale, a scale of
// fewer than two levels or lists of different lengths are refused.
func Compare(a, b []int, scale int) (Agreement, error) {
	if scale < 2 {
		return Agreement{}, failure.Problemf("scale", "A rating scale needs at least two levels, not %d", scale)
	}
	if len(a) != len(b) {
		return Agreement{}, failure.Problemf("levels", "The two raters have %d and %d levels; they must rate the same items", len(a), len(b))
	}
	ag := Agreement{Scale: scale, N: len(a), Matrix: make([][]int, scale)}
	for i := range ag.Matrix {
		ag.Matrix[i] = make([]int, scale)
	}
	for n := range a {
		for _, l := range []int{a[n], b[n]} {
			if l < 0 || l >= scale {
				return Agreement{}, failure.Problemf("level", "Level %d is not on the scale 0 to %d", l, scale-1)
			}
		}
		ag.Matrix[a[n]][b[n]]++
	}
	ag.work()
	return ag, nil
}

// work fills in the figures from the matrix.
func (ag *Agreement) work() {
	if ag.N == 0 {
		ag.Undefined = NoItems
		return
	}
	k, n := ag.Scale, int64(ag.N)
	rows, cols := make([]int64, k), make([]int64, k)
	var observedDistance int64 // Σ (i-j)² O_ij
	for i := range k {
		for j := range k {
			o := int64(ag.Matrix[i][j])
			rows[i] += o
			cols[j] += o
			observedDistance += sq(i-j) * o
		}
		ag.Agreed += ag.Matrix[i][i]
	}
	var chance, expectedDistance int64 // Σ r_i c_i and Σ (i-j)² r_i c_j, each N² times a proportion
	for i := range k {
		chance += rows[i] * cols[i]
		for j := range k {
			expectedDistance += sq(i-j) * rows[i] * cols[j]
		}
	}
	nn, top := float64(n*n), float64(sq(k-1))
	ag.PercentAgreement = ptr(100 * float64(ag.Agreed) / float64(n))
	ag.Observed = ptr(float64(ag.Agreed) / float64(n))
	ag.Expected = ptr(float64(chance) / nn)
	ag.WeightedObserved = ptr(1 - float64(observedDistance)/float64(n)/top)
	ag.WeightedExpected = ptr(1 - float64(expectedDistance)/nn/top)
	// p_e = 1 exactly when Σ r_i c_i = N², and then Σ (i-j)² r_i c_j = 0 too: both raters
	// used one level, the same one, for everything.
	if chance == n*n || expectedDistance == 0 {
		ag.Undefined = NoVariation
		return
	}
	// (p_o - p_e) / (1 - p_e), with both proportions over N²: (N·A - Σ r_i c_i) / (N² - Σ r_i c_i).
	ag.Kappa = ptr(float64(n*int64(ag.Agreed)-chance) / float64(n*n-chance))
	// With w_ij = 1 - (i-j)²/(k-1)², 1 - p_o and 1 - p_e are the mean squared distances
	// over (k-1)², so kappa_w = 1 - D_o/D_e = 1 - N·Σ(i-j)²O_ij / Σ(i-j)²r_i c_j.
	ag.WeightedKappa = ptr(1 - float64(n*observedDistance)/float64(expectedDistance))
}

func sq(d int) int64 { return int64(d) * int64(d) }

func ptr(f float64) *float64 { return &f }
