package assessment_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"polyphony/assessment"
	"polyphony/internal/failure"
)

// handMatrix is ten trainees' answers to five questions of three options each (A=0, B=1,
// C=2, -1 unanswered). The right options are A, B, C, A, B.
//
//	      I1 I2 I3 I4 I5   right? (1/0)       total
//	P1     A  B  C  A  A   1  1  1  1  0        4
//	P2     A  B  C  B  B   1  1  1  0  1        4
//	P3     A  B  A  A  B   1  1  0  1  1        4
//	P4     A  B  C  C  C   1  1  1  0  0        3
//	P5     A  A  C  A  A   1  0  1  1  0        3
//	P6     A  B  B  B  C   1  1  0  0  0        2
//	P7     B  B  A  C  B   0  1  0  0  1        2
//	P8     A  C  B  B  A   1  0  0  0  0        1
//	P9     C  A  A  C  B   0  0  0  0  1        1
//	P10    -  -  -  -  -   0  0  0  0  0        0
var (
	handRight  = []int{0, 1, 2, 0, 1}
	handMatrix = [][]int{
		{0, 1, 2, 0, 0},
		{0, 1, 2, 1, 1},
		{0, 1, 0, 0, 1},
		{0, 1, 2, 2, 2},
		{0, 0, 2, 0, 0},
		{0, 1, 1, 1, 2},
		{1, 1, 0, 2, 1},
		{0, 2, 1, 1, 0},
		{2, 0, 0, 2, 1},
		{-1, -1, -1, -1, -1},
	}
)

func handResponses() []assessment.Response {
	var rs []assessment.Response
	for p, row := range handMatrix {
		r := assessment.Response{AttemptID: fmt.Sprintf("a%02d", p+1)}
		for i, chosen := range row {
			r.Items = append(r.Items, assessment.ItemResponse{QuestionID: fmt.Sprintf("I%d", i+1), Options: 3, Right: handRight[i], Chosen: chosen})
		}
		rs = append(rs, r)
	}
	return rs
}

// The expected figures, worked out by hand from the matrix above:
//
// Totals 4,4,4,3,3,2,2,1,1,0: sum 24, mean 2.4. Squared deviations 3×2.56 + 2×0.36 +
// 2×0.16 + 2×1.96 + 5.76 = 18.4; variance 18.4/10 = 1.84; SD √1.84.
//
// Facilities (right/10): I1 7, I2 6, I3 4, I4 3, I5 4 → .7 .6 .4 .3 .4.
// Σpq = .21 + .24 + .24 + .21 + .24 = 1.14. KR-20 = 5/4 × (1 − 1.14/1.84) = 175/368.
//
// Groups: 27% of 10 is 2.7, so 3. Upper: P1 P2 P3 (totals 4); lower: P8 P9 P10 (1, 1, 0).
// Discrimination = p(upper) − p(lower):
// I1 3/3 − 1/3 (P8) = 2/3; I2 3/3 − 0 = 1; I3 2/3 − 0 = 2/3; I4 2/3 − 0 = 2/3;
// I5 2/3 − 1/3 (P9) = 1/3.
//
// Point-biserial, item against rest (total less the item), r = Sxy / √(Sxx·Syy) with
// Sxy = Σxy − n·x̄·ȳ and so on:
// I1 rest 3,3,3,2,2,1,2,0,1,0: Σy 17, Σy² 41, Σxy 14 → Sxy 14−11.9 = 2.1, Sxx 7−4.9 = 2.1,
// Syy 41−28.9 = 12.1 → r = 2.1/√(2.1·12.1) = √21/11.
// I2 rest 3,3,3,2,3,1,1,1,1,0: Σy 18, Σy² 44, Σxy 13 → Sxy 13−10.8 = 2.2, Sxx 6−3.6 = 2.4,
// Syy 44−32.4 = 11.6 → r = 2.2/√27.84.
// I3 rest 3,3,4,2,2,2,2,1,1,0: Σy 20, Σy² 52, Σxy 10 → Sxy 10−8 = 2, Sxx 2.4, Syy 52−40 = 12
// → r = 2/√28.8.
// I4 rest 3,4,3,3,2,2,2,1,1,0: Σy 21, Σy² 57, Σxy 8 → Sxy 8−6.3 = 1.7, Sxx 3−0.9 = 2.1,
// Syy 57−44.1 = 12.9 → r = 1.7/√27.09.
// I5 rest 4,3,3,3,3,2,1,1,0,0: Σy 20, Σy² 58, Σxy 7 → Sxy 7−8 = −1, Sxx 2.4, Syy 18
// → r = −1/√43.2.
//
// Option counts of I1 (right A): A 7 (upper 3: P1–P3; lower 1: P8), B 1 (P7, in neither
// group), C 1 (P9, lower), omitted 1 (P10, lower). Of I5 (right B): A 3 (P1 upper; P5; P8
// lower), B 4 (P2 P3 upper; P7; P9 lower), C 2 (P4, P6), omitted 1 (P10, lower).
func TestAnalyseHandWorked(t *testing.T) {
	an := assessment.Analyse(handResponses())
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %.12f, want %.12f", what, got, want)
		}
	}
	nearPtr := func(what string, got *float64, want float64) {
		t.Helper()
		if got == nil {
			t.Errorf("%s is null, want %.12f", what, want)
			return
		}
		near(what, *got, want)
	}
	if an.N != 10 || an.GroupSize != 3 || len(an.Items) != 5 {
		t.Fatalf("n %d, group %d, items %d", an.N, an.GroupSize, len(an.Items))
	}
	near("mean", an.Mean, 2.4)
	near("sd", an.SD, math.Sqrt(1.84))
	nearPtr("kr20", an.KR20, 175.0/368)
	facility := []float64{.7, .6, .4, .3, .4}
	discrimination := []float64{2.0 / 3, 1, 2.0 / 3, 2.0 / 3, 1.0 / 3}
	pointBiserial := []float64{math.Sqrt(21) / 11, 2.2 / math.Sqrt(27.84), 2 / math.Sqrt(28.8), 1.7 / math.Sqrt(27.09), -1 / math.Sqrt(43.2)}
	for i, it := range an.Items {
		if it.QuestionID != fmt.Sprintf("I%d", i+1) || it.N != 10 {
			t.Errorf("item %d: %s seen by %d", i, it.QuestionID, it.N)
		}
		near(it.QuestionID+" facility", it.Facility, facility[i])
		nearPtr(it.QuestionID+" discrimination", it.Discrimination, discrimination[i])
		nearPtr(it.QuestionID+" point-biserial", it.PointBiserial, pointBiserial[i])
	}
	options := func(it assessment.ItemStats) string {
		var parts []string
		for _, o := range it.Options {
			r := ""
			if o.Right {
				r = "*"
			}
			parts = append(parts, fmt.Sprintf("%s%s %d/%g/%g", o.Label, r, o.Count, o.Upper, o.Lower))
		}
		return strings.Join(parts, ", ") + fmt.Sprintf(", omitted %d/%g/%g", it.Omitted.Count, it.Omitted.Upper, it.Omitted.Lower)
	}
	if got, want := options(an.Items[0]), "A* 7/3/1, B 1/0/0, C 1/0/1, omitted 1/0/1"; got != want {
		t.Errorf("I1 options %s, want %s", got, want)
	}
	if got, want := options(an.Items[4]), "A 3/1/1, B* 4/2/1, C 2/0/0, omitted 1/0/1"; got != want {
		t.Errorf("I5 options %s, want %s", got, want)
	}

	raw, _ := json.Marshal(an)
	for _, field := range []string{`"mean":`, `"sd":`, `"kr20":`, `"facility":`, `"discrimination":`, `"pointBiserial":`, `"options":`} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("JSON has no %s: %s", field, raw)
		}
	}
}

// tiedRight is seven trainees' marks (1 right, 0 wrong) on three questions of two options
// (A right, B wrong), with ties at both groups' boundaries:
//
//	      I1 I2 I3  total
//	P1     1  1  1    3
//	P2     1  1  0    2
//	P3     1  0  1    2
//	P4     0  1  1    2
//	P5     1  0  0    1
//	P6     0  1  0    1
//	P7     0  0  0    0
//
// 27% of 7 is 1.89, so groups of 2. Upper: P1 (weight 1), and P2 P3 P4 tied for the one
// place left, 1/3 each. Lower: P7 (weight 1), and P5 P6 tied for one place, 1/2 each.
// I1 upper right 1 + 1/3 + 1/3 = 5/3 of 2 = 5/6; lower right 1/2 (P5) of 2 = 1/4; D = 7/12.
// I2 the same: upper P1 P2 P4 → 5/6, lower P6 → 1/4; D = 7/12.
// I3 upper P1 P3 P4 → 5/6, lower nobody → 0; D = 5/6.
// Option counts of I1: A (P1 P2 P3 P5) 4, upper 5/3, lower 1/2; B (P4 P6 P7) 3, upper 1/3,
// lower 3/2.
var tiedRight = [][]int{{1, 1, 1}, {1, 1, 0}, {1, 0, 1}, {0, 1, 1}, {1, 0, 0}, {0, 1, 0}, {0, 0, 0}}

// figure prints a figure that may be null.
func figure(f *float64) string {
	if f == nil {
		return "null"
	}
	return fmt.Sprintf("%.6f", *f)
}

// tiedResponses gives trainee p the attempt id ids[p], in the order given by order.
func tiedResponses(ids []string, order []int) []assessment.Response {
	var rs []assessment.Response
	for _, p := range order {
		r := assessment.Response{AttemptID: ids[p]}
		for i, right := range tiedRight[p] {
			r.Items = append(r.Items, assessment.ItemResponse{QuestionID: fmt.Sprintf("I%d", i+1), Options: 2, Right: 0, Chosen: 1 - right})
		}
		rs = append(rs, r)
	}
	return rs
}

func TestAnalyseTiesAtTheBoundaryHandWorked(t *testing.T) {
	an := assessment.Analyse(tiedResponses([]string{"a1", "a2", "a3", "a4", "a5", "a6", "a7"}, []int{0, 1, 2, 3, 4, 5, 6}))
	if an.GroupSize != 2 || len(an.Items) != 3 {
		t.Fatalf("group %d, items %d", an.GroupSize, len(an.Items))
	}
	for i, want := range []float64{7.0 / 12, 7.0 / 12, 5.0 / 6} {
		if got := an.Items[i].Discrimination; got == nil || math.Abs(*got-want) > 1e-9 {
			t.Errorf("I%d discrimination %s, want %.6f", i+1, figure(got), want)
		}
	}
	a, b := an.Items[0].Options[0], an.Items[0].Options[1]
	for _, c := range []struct {
		what      string
		got, want float64
	}{{"A upper", a.Upper, 5.0 / 3}, {"A lower", a.Lower, 0.5}, {"B upper", b.Upper, 1.0 / 3}, {"B lower", b.Lower, 1.5}} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("I1 option %s = %.6f, want %.6f", c.what, c.got, c.want)
		}
	}
	if a.Count != 4 || b.Count != 3 {
		t.Errorf("I1 counts A %d, B %d; want 4 and 3", a.Count, b.Count)
	}
	if !an.FewAttempts {
		t.Error("7 attempts are not flagged as too few to read reliability")
	}
}

// Who is tied at a boundary must not decide the figures: giving the same trainees other ids,
// or listing them in another order, changes nothing.
func TestAnalyseTiesDoNotDependOnIDs(t *testing.T) {
	base := assessment.Analyse(tiedResponses([]string{"a1", "a2", "a3", "a4", "a5", "a6", "a7"}, []int{0, 1, 2, 3, 4, 5, 6}))
	perms := [][]string{
		{"a7", "a6", "a5", "a4", "a3", "a2", "a1"},
		{"a1", "a4", "a2", "a3", "a6", "a5", "a7"},
		{"a3", "a1", "a4", "a2", "a5", "a7", "a6"},
		{"z", "c", "b", "a", "y", "x", "m"},
	}
	orders := [][]int{{0, 1, 2, 3, 4, 5, 6}, {6, 5, 4, 3, 2, 1, 0}, {3, 0, 5, 1, 6, 2, 4}}
	for _, ids := range perms {
		for _, order := range orders {
			an := assessment.Analyse(tiedResponses(ids, order))
			for i, it := range an.Items {
				want := base.Items[i]
				if it.Discrimination == nil || math.Abs(*it.Discrimination-*want.Discrimination) > 1e-9 {
					t.Errorf("ids %v, order %v: %s discrimination %s, want %.6f", ids, order, it.QuestionID, figure(it.Discrimination), *want.Discrimination)
				}
				for k, o := range it.Options {
					w := want.Options[k]
					if math.Abs(o.Upper-w.Upper) > 1e-9 || math.Abs(o.Lower-w.Lower) > 1e-9 {
						t.Errorf("ids %v, order %v: %s option %s upper/lower %g/%g, want %g/%g", ids, order, it.QuestionID, o.Label, o.Upper, o.Lower, w.Upper, w.Lower)
					}
				}
			}
		}
	}
}

// With different questions in different attempts (random draws) KR-20 is undefined, and
// a question nobody in a group saw has no discrimination.
func TestAnalyseUnevenItems(t *testing.T) {
	rs := []assessment.Response{
		{AttemptID: "a", Items: []assessment.ItemResponse{{QuestionID: "x", Options: 2, Right: 0, Chosen: 0}, {QuestionID: "y", Options: 2, Right: 0, Chosen: 0}}},
		{AttemptID: "b", Items: []assessment.ItemResponse{{QuestionID: "x", Options: 2, Right: 0, Chosen: 1}, {QuestionID: "z", Options: 2, Right: 0, Chosen: 1}}},
	}
	an := assessment.Analyse(rs)
	if an.KR20 != nil {
		t.Errorf("kr20 %v with uneven items, want null", *an.KR20)
	}
	for _, it := range an.Items {
		if it.QuestionID == "y" && (it.Discrimination != nil || it.PointBiserial != nil || it.N != 1) {
			t.Errorf("y, seen by the upper group only: %+v", it)
		}
	}
	if empty := assessment.Analyse(nil); empty.N != 0 || empty.Items == nil {
		t.Errorf("no attempts: %+v", empty)
	}
}

// Results and analysis through the store: one attempt per trainee, first unless asked.
func TestResultsPickAttempts(t *testing.T) {
	ctx := context.Background()
	s, clock := openStore(t)
	b, qs := fillBank(t, s, 2)
	a := createAssessment(t, s, settings(b.ID, ids(qs)))
	// trainee 1: first attempt 0 right, second 2 right; trainee 2: one attempt, 1 right.
	sit := func(who assessment.Actor, rightCount int) {
		v := mustStart(t, s, who, a.ID)
		right := rightOptions(t, s, v.ID)
		for q := range 2 {
			o := (right[q] + 1) % 5
			if q < rightCount {
				o = right[q]
			}
			mustSave(t, s, who, v.ID, q, o)
		}
		clock.Advance(60e9)
		if _, err := s.Submit(ctx, who, v.ID); err != nil {
			t.Fatal(err)
		}
	}
	sit(trainee(1), 0)
	sit(trainee(1), 2)
	sit(trainee(2), 1)
	open := mustStart(t, s, trainee(3), a.ID) // still open: not in the results
	_ = open
	for _, tc := range []struct {
		pick    assessment.Pick
		attempt int
		marks   int
	}{{assessment.PickFirst, 1, 0}, {assessment.PickLast, 2, 2}, {assessment.PickBest, 2, 2}} {
		res, err := s.Results(ctx, assessor, a.ID, tc.pick)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || res[0].UserID != trainee(1).ID || res[0].Attempt != tc.attempt || res[0].Marks != tc.marks || res[0].Attempts != 2 {
			t.Errorf("%s: %+v", tc.pick, res)
		}
		if res[1].Marks != 1 || res[1].Percent != 50 || res[1].Passed == nil || *res[1].Passed {
			t.Errorf("%s: trainee 2 %+v, want 1 of 2, 50%%, not passed at 60", tc.pick, res[1])
		}
		an, err := s.Analysis(ctx, assessor, a.ID, tc.pick)
		if err != nil {
			t.Fatal(err)
		}
		// Question 0: trainee 2 right, trainee 1 right only on the second attempt.
		wantQ0 := 0.5
		if tc.attempt == 2 {
			wantQ0 = 1
		}
		if an.N != 2 || an.Items[0].QuestionID != qs[0].ID || an.Items[0].Name != "Q00" || an.Items[0].Facility != wantQ0 {
			t.Errorf("%s analysis: n %d, first item %+v", tc.pick, an.N, an.Items[0])
		}
	}
	if _, err := s.Results(ctx, trainee(1), a.ID, assessment.PickFirst); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("a trainee reading results: %v", err)
	}
	if _, err := s.Analysis(ctx, trainee(1), a.ID, assessment.PickFirst); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("a trainee reading the analysis: %v", err)
	}
	if _, err := assessment.ParsePick("worst"); err == nil {
		t.Error("pick worst accepted")
	}
}

func TestCSV(t *testing.T) {
	var buf bytes.Buffer
	yes := true
	results := []assessment.TraineeResult{{UserID: "u1", Attempt: 1, Attempts: 2, Marks: 3, Max: 5, Percent: 60, Passed: &yes, ClosedBy: "submitted"}, {UserID: "u2", Attempt: 1, Attempts: 1, Marks: 0, Max: 5, ClosedBy: "submitted"}}
	if err := assessment.WriteResultsCSV(&buf, results, func(string) string { return "=HYPERLINK(\"x\")" }); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, buf.String())
	if len(rows) != 3 || rows[1][0] != "u1" || rows[1][1] != `'=HYPERLINK("x")` || rows[1][7] != "3" || rows[1][9] != "60.0000" || rows[1][10] != "true" {
		t.Errorf("results CSV: %q", rows)
	}
	if len(rows) == 3 && rows[2][10] != "" {
		t.Errorf("with no pass mark, passed is %q, want empty", rows[2][10])
	}
	buf.Reset()
	if err := assessment.WriteAnalysisCSV(&buf, assessment.Analyse(handResponses())); err != nil {
		t.Fatal(err)
	}
	rows = readCSV(t, buf.String())
	// Header, five items, a blank line (skipped by the reader), the summary header and row.
	if len(rows) != 8 {
		t.Fatalf("%d rows:\n%s", len(rows), buf.String())
	}
	if got := strings.Join(rows[1], ","); got != "I1,,10,0.7000,0.6667,0.4166,7*,3,1,1,0,0,1,0,1,1,0,1" {
		t.Errorf("I1 row: %s", got)
	}
	if got := strings.Join(rows[7], ","); got != "10,2.4000,1.3565,0.4755,3" {
		t.Errorf("summary: %s", got)
	}
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// An assessment without a pass mark passes and fails nobody: the result says there is none.
func TestResultsWithoutPassMark(t *testing.T) {
	ctx := context.Background()
	s, clock := openStore(t)
	b, qs := fillBank(t, s, 2)
	in := settings(b.ID, ids(qs))
	in.PassMark = 0
	a := createAssessment(t, s, in)
	v := mustStart(t, s, trainee(1), a.ID)
	clock.Advance(60e9)
	if _, err := s.Submit(ctx, trainee(1), v.ID); err != nil {
		t.Fatal(err)
	}
	res, err := s.Results(ctx, assessor, a.ID, assessment.PickFirst)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Passed != nil {
		t.Errorf("results with no pass mark: %+v, want passed null", res)
	}
}
