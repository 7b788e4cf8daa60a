package agreement_test

import (
	"errors"
	"reflect"
	"testing"

	"polyphony/assessment/agreement"
	"polyphony/internal/failure"
)

// twelve are two raters' levels for the twelve key elements of one transcript, on the scale
// 0 not present, 1 partly, 2 clearly, 3 exemplary.
var (
	twelveA = []int{2, 1, 3, 2, 0, 1, 2, 2, 1, 3, 0, 2}
	twelveB = []int{2, 2, 3, 1, 0, 1, 2, 3, 1, 2, 1, 2}
)

func transcript(piece, sub, rater string, levels []int) []agreement.Rating {
	var out []agreement.Rating
	for i, l := range levels {
		out = append(out, agreement.Rating{PieceID: piece, SubmissionID: sub, CriterionID: elementID(i), RaterID: rater, Level: l})
	}
	return out
}

func elementID(i int) string { return string(rune('a' + i)) }

// TestTranscriptByHand checks one double-rated transcript, overall, against the arithmetic
// done on paper. Rater "ana" in the rows, "ben" in the columns, k = 4, N = 12:
//
//	      B=0 B=1 B=2 B=3 | r_i
//	A=0    1   1   0   0  |  2
//	A=1    0   2   1   0  |  3
//	A=2    0   1   3   1  |  5
//	A=3    0   0   1   1  |  2
//	c_j    1   4   5   2  | 12
//
// Unweighted:
//
//	p_o = (1 + 2 + 3 + 1) / 12 = 7/12
//	p_e = (2·1 + 3·4 + 5·5 + 2·2) / 144 = 43/144
//	κ   = (7/12 - 43/144) / (1 - 43/144) = (84 - 43) / (144 - 43) = 41/101 ≈ 0.405941
//
// Quadratic weights, (k-1)² = 9: w = 1, 8/9, 5/9, 0 at distance 0, 1, 2, 3.
//
//	observed by distance: 7 items at 0, 5 at 1, none at 2 or 3
//	p_o(w) = (7 + 5·8/9) / 12 = (103/9) / 12 = 103/108
//	Σ r_i c_j by distance: 0 → 43; 1 → 66; 2 → 29; 3 → 6 (together 144 = N²)
//	p_e(w) = (43 + 66·8/9 + 29·5/9 + 6·0) / 144 = (1060/9) / 144 = 265/324
//	κ_w    = (103/108 - 265/324) / (1 - 265/324) = (309 - 265) / (324 - 265) = 44/59 ≈ 0.745763
//
// Percent agreement: 7 of 12, 58.33%. The near misses (five items one level apart) are
// why the weighted figure is so much higher.
func TestTranscriptByHand(t *testing.T) {
	ratings := append(transcript("p1", "s1", "ben", twelveB), transcript("p1", "s1", "ana", twelveA)...)
	ts, err := agreement.Transcripts(ratings, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 {
		t.Fatalf("got %d transcripts, want 1", len(ts))
	}
	tr := ts[0]
	if tr.RaterA != "ana" || tr.RaterB != "ben" || tr.PieceID != "p1" || tr.SubmissionID != "s1" {
		t.Errorf("got %s/%s rated by %s and %s, want p1/s1 by ana and ben", tr.PieceID, tr.SubmissionID, tr.RaterA, tr.RaterB)
	}
	want := [][]int{{1, 1, 0, 0}, {0, 2, 1, 0}, {0, 1, 3, 1}, {0, 0, 1, 1}}
	if !reflect.DeepEqual(tr.Overall.Matrix, want) {
		t.Errorf("matrix: got %v, want %v", tr.Overall.Matrix, want)
	}
	near(t, "percent agreement", tr.Overall.PercentAgreement, 700.0/12)
	near(t, "p_e", tr.Overall.Expected, 43.0/144)
	near(t, "kappa", tr.Overall.Kappa, 41.0/101)
	near(t, "weighted p_o", tr.Overall.WeightedObserved, 103.0/108)
	near(t, "weighted p_e", tr.Overall.WeightedExpected, 265.0/324)
	near(t, "weighted kappa", tr.Overall.WeightedKappa, 44.0/59)

	// Per element: the levels in the order the criteria were met, each a single item.
	if len(tr.Elements) != 12 {
		t.Fatalf("got %d elements, want 12", len(tr.Elements))
	}
	for i, e := range tr.Elements {
		if e.CriterionID != elementID(i) || e.LevelA != twelveA[i] || e.LevelB != twelveB[i] {
			t.Errorf("element %d: got %s at %d and %d, want %s at %d and %d", i, e.CriterionID, e.LevelA, e.LevelB, elementID(i), twelveA[i], twelveB[i])
		}
		if e.Agreement.N != 1 {
			t.Errorf("element %d: got %d items, want 1", i, e.Agreement.N)
		}
	}
	// Element a: both at 2, so 100% and no kappa (one level, chance is certain).
	near(t, "element a percent", tr.Elements[0].Agreement.PercentAgreement, 100)
	if tr.Elements[0].Agreement.Kappa != nil {
		t.Errorf("element a: got kappa %v, want none", *tr.Elements[0].Agreement.Kappa)
	}
	// Element b: 1 against 2. r = (0,1,0,0), c = (0,0,1,0): p_o = 0, p_e = 0, κ = 0; and
	// the distance 1 is all the distance chance gives too, so κ_w = 1 - 1/1 = 0.
	near(t, "element b percent", tr.Elements[1].Agreement.PercentAgreement, 0)
	near(t, "element b kappa", tr.Elements[1].Agreement.Kappa, 0)
	near(t, "element b weighted kappa", tr.Elements[1].Agreement.WeightedKappa, 0)
}

// TestPairsAcrossCohort: three raters over three submissions of two pieces. Ana and ben
// both rated s1 (the twelve above) and s2 (where they agree on all four elements at
// 0, 1, 2, 3); ana and cat both rated s3; ben rated s4 alone, which counts for no pair.
func TestPairsAcrossCohort(t *testing.T) {
	var rs []agreement.Rating
	rs = append(rs, transcript("p1", "s1", "ana", twelveA)...)
	rs = append(rs, transcript("p1", "s1", "ben", twelveB)...)
	rs = append(rs, transcript("p2", "s2", "ben", []int{0, 1, 2, 3})...)
	rs = append(rs, transcript("p2", "s2", "ana", []int{0, 1, 2, 3})...)
	rs = append(rs, transcript("p2", "s3", "cat", []int{3, 3, 0})...)
	rs = append(rs, transcript("p2", "s3", "ana", []int{3, 2, 0})...)
	rs = append(rs, transcript("p2", "s4", "ben", []int{1, 1})...)
	pairs, err := agreement.Pairs(rs, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 2 {
		t.Fatalf("got %d pairs, want 2: %+v", len(pairs), pairs)
	}
	ab, ac := pairs[0], pairs[1]
	if ab.RaterA != "ana" || ab.RaterB != "ben" || ac.RaterA != "ana" || ac.RaterB != "cat" {
		t.Fatalf("pairs: got %s-%s and %s-%s, want ana-ben and ana-cat", ab.RaterA, ab.RaterB, ac.RaterA, ac.RaterB)
	}
	if ab.Agreement.N != 16 || ab.Submissions != 2 || ac.Agreement.N != 3 || ac.Submissions != 1 {
		t.Errorf("counts: ana-ben %d items of %d submissions, ana-cat %d of %d; want 16 of 2, 3 of 1", ab.Agreement.N, ab.Submissions, ac.Agreement.N, ac.Submissions)
	}
	// Ana and ben over 16 items: the matrix above plus one more on each diagonal cell.
	//
	//	        B=0 B=1 B=2 B=3 | r_i
	//	  A=0    2   1   0   0  |  3
	//	  A=1    0   3   1   0  |  4
	//	  A=2    0   1   4   1  |  6
	//	  A=3    0   0   1   2  |  3
	//	  c_j    2   5   6   3  | 16
	//
	//	p_o = 11/16; p_e = (3·2 + 4·5 + 6·6 + 3·3)/256 = 71/256
	//	κ = (16·11 - 71)/(256 - 71) = 105/185 = 21/37 ≈ 0.567568
	//	Σ(i-j)² O_ij = 5 (five misses by one); Σ(i-j)² r_i c_j =
	//	  distance 1: r0c1 + r1c0 + r1c2 + r2c1 + r2c3 + r3c2 = 15 + 8 + 24 + 30 + 18 + 18 = 113
	//	  distance 2: r0c2 + r2c0 + r1c3 + r3c1 = 18 + 12 + 12 + 15 = 57, × 4 = 228
	//	  distance 3: r0c3 + r3c0 = 9 + 6 = 15, × 9 = 135;  together 476
	//	κ_w = 1 - N·Σ(i-j)²O_ij / Σ(i-j)²r_i c_j = 1 - 16·5/476 = 1 - 80/476 = 99/119 ≈ 0.831933
	near(t, "ana-ben kappa", ab.Agreement.Kappa, 21.0/37)
	near(t, "ana-ben weighted kappa", ab.Agreement.WeightedKappa, 99.0/119)
	// Ana and cat: (3,3), (2,3), (0,0). r = (1,0,1,1), c = (1,0,0,2).
	//	p_o = 2/3; p_e = (1 + 0 + 0 + 2)/9 = 1/3; κ = (3·2 - 3)/(9 - 3) = 1/2
	//	Σ(i-j)²O = 1; Σ(i-j)²r_i c_j = r0c3·9 + r2c0·4 + r2c3·1 + r3c0·9 = 18 + 4 + 2 + 9 = 33
	//	κ_w = 1 - 3·1/33 = 10/11 ≈ 0.909091
	near(t, "ana-cat kappa", ac.Agreement.Kappa, 0.5)
	near(t, "ana-cat weighted kappa", ac.Agreement.WeightedKappa, 10.0/11)
}

func TestTranscriptsSeveralPairs(t *testing.T) {
	// Three raters on one submission give three pairs, in order; a single rater none.
	var rs []agreement.Rating
	rs = append(rs, transcript("p", "solo", "ana", []int{1, 2})...)
	for _, r := range []string{"cat", "ana", "ben"} {
		rs = append(rs, transcript("p", "s", r, []int{1, 2})...)
	}
	ts, err := agreement.Transcripts(rs, 4)
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]string
	for _, tr := range ts {
		got = append(got, [2]string{tr.RaterA, tr.RaterB})
		if tr.SubmissionID != "s" {
			t.Errorf("got submission %s, want only s", tr.SubmissionID)
		}
		near(t, "kappa", tr.Overall.Kappa, 1)
	}
	want := [][2]string{{"ana", "ben"}, {"ana", "cat"}, {"ben", "cat"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pairs: got %v, want %v", got, want)
	}
}

func TestRatingsRefused(t *testing.T) {
	twice := append(transcript("p", "s", "ana", []int{1}), transcript("p", "s", "ana", []int{2})...)
	twice = append(twice, transcript("p", "s", "ben", []int{2})...)
	outside := append(transcript("p", "s", "ana", []int{4}), transcript("p", "s", "ben", []int{2})...)
	for name, c := range map[string]struct {
		ratings []agreement.Rating
		field   string
	}{
		"rated twice":   {twice, "ratings"},
		"off the scale": {outside, "level"},
	} {
		t.Run(name, func(t *testing.T) {
			for fn, call := range map[string]func() error{
				"Transcripts": func() error { _, err := agreement.Transcripts(c.ratings, 4); return err },
				"Pairs":       func() error { _, err := agreement.Pairs(c.ratings, 4); return err },
			} {
				var inv *failure.InvalidError
				if err := call(); !errors.As(err, &inv) || inv.Field != c.field {
					t.Errorf("%s: got %v, want a problem with %s", fn, err, c.field)
				}
			}
		})
	}
}
