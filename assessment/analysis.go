package assessment

import (
	"context"
	"math"
	"sort"
	"strings"
	"time"

	"polyphony/internal/failure"
)

// Pick says which of a trainee's attempts stands for them in results and item analysis.
type Pick string

// The picks. PickFirst is the default: later attempts have seen the questions before.
const (
	PickFirst Pick = "first"
	PickBest  Pick = "best"
	PickLast  Pick = "last"
)

// ParsePick reads a pick; empty means PickFirst.
func ParsePick(s string) (Pick, error) {
	switch p := Pick(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return PickFirst, nil
	case PickFirst, PickBest, PickLast:
		return p, nil
	}
	return "", failure.Invalidf("use", "%q is not first, best or last", s)
}

// TraineeResult is the attempt that stands for a trainee, marked.
type TraineeResult struct {
	UserID    string    `json:"userId"`
	AttemptID string    `json:"attemptId"`
	Attempt   int       `json:"attempt"`
	Attempts  int       `json:"attempts"` // closed attempts the trainee has made
	StartedAt time.Time `json:"startedAt"`
	ClosedAt  time.Time `json:"closedAt"`
	ClosedBy  string    `json:"closedBy"`
	Marks     int       `json:"marks"`
	Max       int       `json:"max"`
	Percent   float64   `json:"percent"`
	// Passed is null while the assessment has no pass mark.
	Passed *bool `json:"passed"`
}

// Results lists each trainee's result at the assessment, by user id: the attempt pick
// chooses among their closed attempts, marked against the current pass mark. Attempts found
// past their deadline are closed and marked first.
func (s *Store) Results(ctx context.Context, actor Actor, assessmentID string, pick Pick) ([]TraineeResult, error) {
	if err := requireStaff(actor, "read results"); err != nil {
		return nil, err
	}
	a, picked, counts, err := s.picked(ctx, assessmentID, pick)
	if err != nil {
		return nil, err
	}
	out := make([]TraineeResult, 0, len(picked))
	for _, r := range picked {
		sc := score(&r, a.PassMark)
		out = append(out, TraineeResult{
			UserID: r.UserID, AttemptID: r.ID, Attempt: r.Number, Attempts: counts[r.UserID],
			StartedAt: r.StartedAt.UTC(), ClosedAt: r.ClosedAt.UTC(), ClosedBy: r.Reason,
			Marks: r.Marks, Max: r.Max, Percent: sc.Percent, Passed: sc.Passed,
		})
	}
	return out, nil
}

// picked returns the assessment, the result standing for each trainee (ordered by user id)
// and how many closed attempts each trainee has.
func (s *Store) picked(ctx context.Context, assessmentID string, pick Pick) (Assessment, []resultDoc, map[string]int, error) {
	if pick == "" {
		pick = PickFirst
	}
	if _, err := ParsePick(string(pick)); err != nil {
		return Assessment{}, nil, nil, err
	}
	a, err := s.assessment(ctx, assessmentID)
	if err != nil {
		return Assessment{}, nil, nil, err
	}
	all, err := s.resultsOf(ctx, a.ID, s.clock())
	if err != nil {
		return Assessment{}, nil, nil, err
	}
	best := map[string]resultDoc{}
	counts := map[string]int{}
	for _, r := range all {
		counts[r.UserID]++
		cur, seen := best[r.UserID]
		switch {
		case !seen,
			pick == PickFirst && r.Number < cur.Number,
			pick == PickLast && r.Number > cur.Number,
			pick == PickBest && (r.Marks > cur.Marks || r.Marks == cur.Marks && r.Number < cur.Number):
			best[r.UserID] = r
		}
	}
	out := make([]resultDoc, 0, len(best))
	for _, r := range best {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return a, out, counts, nil
}

// resultsOf is the result of every closed attempt at the assessment, found through the
// assessment's list of attempts; an attempt found past its deadline at now is closed and
// marked first. Results never change once stored, so each is read once and then kept in
// memory (resultCache): what this costs is one read of the list and one read by _id for each
// result not seen before. In this order, for each attempt: a result known or stored; an
// attempt this instance knows to be open (as the only writer) and within its time, which is
// read no further; otherwise the attempt, brought up to date.
func (s *Store) resultsOf(ctx context.Context, assessmentID string, now time.Time) ([]resultDoc, error) {
	ids, err := s.listed(ctx, attemptsList(assessmentID))
	if err != nil {
		return nil, err
	}
	if err := s.readResults(ctx, ids); err != nil {
		return nil, err
	}
	out := make([]resultDoc, 0, len(ids))
	for _, id := range ids {
		if r, ok := s.resultCache.Get(id); ok {
			out = append(out, *r)
			continue
		}
		if s.sole {
			if _, open := s.live.Get(id); open {
				if at, ok := s.attemptCache.Get(id); ok && !at.pastDeadline(now) {
					continue
				}
			}
		}
		r, err := s.result(ctx, id)
		if err == nil {
			out = append(out, *r)
			continue
		}
		if !isNotFound(err) {
			return nil, err
		}
		at, err := s.attempt(ctx, id)
		if isNotFound(err) {
			continue // listed by a start that stopped before inserting the attempt
		}
		if err != nil {
			return nil, err
		}
		if r, err = s.settle(ctx, at, now); err != nil {
			return nil, err
		}
		if r != nil {
			out = append(out, *r)
		}
	}
	return out, nil
}

// resultReaders is how many results not yet in memory readResults reads at once.
const resultReaders = 4

// readResults brings the stored results of the attempts named into memory, a few reads by
// _id at a time: the database spends most of such a read turning the result's marked items
// from its storage form into BSON, which several connections do side by side. Attempts
// without a result are left for the caller.
func (s *Store) readResults(ctx context.Context, ids []string) error {
	var missing []string
	for _, id := range ids {
		if _, ok := s.resultCache.Get(id); !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) < 2 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan string)
	errs := make(chan error, resultReaders)
	for range min(resultReaders, len(missing)) {
		go func() {
			for id := range next {
				if _, err := s.result(ctx, id); err != nil && !isNotFound(err) {
					errs <- err
					cancel()
					return
				}
			}
			errs <- nil
		}()
	}
	var err error
feed:
	for _, id := range missing {
		select {
		case next <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	for range min(resultReaders, len(missing)) {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return err
}

// Response is one marked attempt as item analysis reads it.
type Response struct {
	AttemptID string
	Items     []ItemResponse
}

// ItemResponse is the answer to one question: Chosen and Right are indexes of options as
// written (Chosen -1 when unanswered), Options how many the question has.
type ItemResponse struct {
	QuestionID string
	Options    int
	Right      int
	Chosen     int
}

// Counts is how many chose something: in all, in the upper group and in the lower group.
// Upper and Lower are weighted: an attempt tied at a group's boundary counts as the share of
// it that falls in the group (see Analyse), so they need not be whole numbers.
type Counts struct {
	Count int     `json:"count"`
	Upper float64 `json:"upper"`
	Lower float64 `json:"lower"`
}

// OptionStats counts the choices of one option (in the order written).
type OptionStats struct {
	Label string `json:"label"`
	Right bool   `json:"right"`
	Counts
}

// ItemStats is the analysis of one question.
type ItemStats struct {
	QuestionID string `json:"questionId"`
	Name       string `json:"name,omitempty"`
	// N is how many of the attempts analysed had the question.
	N int `json:"n"`
	// Facility is the proportion who answered it right.
	Facility float64 `json:"facility"`
	// Discrimination is the proportion right in the upper group less that in the lower
	// group, each weighted as the groups are; null when a group did not have the question.
	Discrimination *float64 `json:"discrimination"`
	// PointBiserial is the correlation of the question's mark (0 or 1) with the rest of the
	// score (the total less this question); null when either does not vary.
	PointBiserial *float64      `json:"pointBiserial"`
	Options       []OptionStats `json:"options"`
	Omitted       Counts        `json:"omitted"`
}

// Analysis is the item analysis of an assessment.
type Analysis struct {
	AssessmentID string `json:"assessmentId,omitempty"`
	Use          Pick   `json:"use,omitempty"`
	// N is the number of attempts analysed, one for each trainee.
	N int `json:"n"`
	// Mean and SD are of the total marks; SD is the population standard deviation (divided
	// by N), the one KR-20 is defined with.
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	// KR20 is Kuder–Richardson 20 reliability, with the population variance of the totals
	// and each question's p(1−p); null unless every attempt had the same questions (at
	// least two) and the totals vary.
	KR20 *float64 `json:"kr20"`
	// FewAttempts is true when fewer than ReliableAttempts attempts were analysed: KR-20
	// from so few says little about the test (it can even fall below 0), and the other
	// figures are rough.
	FewAttempts bool `json:"fewAttempts"`
	// GroupSize is the number of attempts in each of the upper and lower groups: 27% of N,
	// rounded.
	GroupSize int         `json:"groupSize"`
	Items     []ItemStats `json:"items"`
}

// ReliableAttempts is the fewest attempts from which the analysis reads KR-20 as telling
// something about the test.
const ReliableAttempts = 30

// Analyse computes the item analysis of a set of marked attempts. The upper and lower
// groups hold GroupSize attempts each, those with the highest and the lowest totals. When
// attempts with the same total straddle a group's boundary, each of them counts in the
// group with an equal share of the places left (three tied for two places count 2/3 each),
// so the figures do not depend on ids or on the order attempts come in. Items are ordered
// by question id.
func Analyse(rs []Response) Analysis {
	n := len(rs)
	an := Analysis{N: n, Items: []ItemStats{}}
	if n == 0 {
		return an
	}
	totals := make([]float64, n)
	for j, r := range rs {
		for _, it := range r.Items {
			if it.Chosen == it.Right {
				totals[j]++
			}
		}
	}
	an.Mean, an.SD = meanSD(totals)
	an.FewAttempts = n < ReliableAttempts
	if n >= 2 {
		an.GroupSize = max(1, int(math.Round(0.27*float64(n))))
	}
	upper, lower := groupWeights(totals, an.GroupSize)
	byQuestion := map[string][]respondent{}
	for j, r := range rs {
		for _, it := range r.Items {
			byQuestion[it.QuestionID] = append(byQuestion[it.QuestionID], respondent{it, totals[j], upper[j], lower[j]})
		}
	}
	ids := make([]string, 0, len(byQuestion))
	for id := range byQuestion {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		an.Items = append(an.Items, itemStats(id, byQuestion[id]))
	}
	an.KR20 = kr20(rs, an.Items, an.SD)
	return an
}

// respondent is one attempt's answer to a question, with the attempt's total and its
// weights in the upper and lower groups.
type respondent struct {
	ItemResponse
	total        float64
	upper, lower float64
}

// groupWeights is each attempt's weight in the upper and in the lower group of size
// attempts: 1 for a total beyond the group's boundary, an equal share of the places left for
// a total on it, 0 otherwise.
func groupWeights(totals []float64, size int) (upper, lower []float64) {
	n := len(totals)
	if size == 0 {
		return make([]float64, n), make([]float64, n)
	}
	sorted := append([]float64(nil), totals...)
	sort.Float64s(sorted)
	upper = shares(totals, sorted[n-size], size, func(t float64) bool { return t > sorted[n-size] })
	lower = shares(totals, sorted[size-1], size, func(t float64) bool { return t < sorted[size-1] })
	return upper, lower
}

// shares gives weight 1 to the totals beyond the boundary and divides what is left of size
// equally among the totals on it.
func shares(totals []float64, boundary float64, size int, beyond func(float64) bool) []float64 {
	var in, tied float64
	for _, t := range totals {
		switch {
		case beyond(t):
			in++
		case t == boundary:
			tied++
		}
	}
	share := (float64(size) - in) / tied
	w := make([]float64, len(totals))
	for i, t := range totals {
		switch {
		case beyond(t):
			w[i] = 1
		case t == boundary:
			w[i] = share
		}
	}
	return w
}

func itemStats(id string, rs []respondent) ItemStats {
	st := ItemStats{QuestionID: id, N: len(rs)}
	options := 0
	for _, r := range rs {
		options = max(options, r.Options)
	}
	st.Options = make([]OptionStats, options)
	for i := range st.Options {
		st.Options[i].Label = Label(i)
	}
	var right, upperN, upperRight, lowerN, lowerRight float64
	x, y := make([]float64, len(rs)), make([]float64, len(rs))
	for i, r := range rs {
		if r.Right >= 0 && r.Right < options {
			st.Options[r.Right].Right = true
		}
		c := &st.Omitted
		if r.Chosen >= 0 && r.Chosen < options {
			c = &st.Options[r.Chosen].Counts
		}
		c.Count++
		correct := 0.0
		if r.Chosen == r.Right {
			correct = 1
		}
		right += correct
		c.Upper, c.Lower = c.Upper+r.upper, c.Lower+r.lower
		upperN, upperRight = upperN+r.upper, upperRight+r.upper*correct
		lowerN, lowerRight = lowerN+r.lower, lowerRight+r.lower*correct
		x[i], y[i] = correct, r.total-correct
	}
	st.Facility = right / float64(len(rs))
	if upperN > 0 && lowerN > 0 {
		d := upperRight/upperN - lowerRight/lowerN
		st.Discrimination = &d
	}
	st.PointBiserial = correlation(x, y)
	return st
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)))
}

// correlation is Pearson's r of x and y, or nil when either does not vary.
func correlation(x, y []float64) *float64 {
	if len(x) < 2 {
		return nil
	}
	mx, sx := meanSD(x)
	my, sy := meanSD(y)
	if sx == 0 || sy == 0 {
		return nil
	}
	var cov float64
	for i := range x {
		cov += (x[i] - mx) * (y[i] - my)
	}
	r := cov / float64(len(x)) / (sx * sy)
	return &r
}

// kr20 is k/(k−1) × (1 − Σpq / σ²) when every attempt had the same k ≥ 2 questions.
func kr20(rs []Response, items []ItemStats, sd float64) *float64 {
	k := len(items)
	if k < 2 || sd == 0 {
		return nil
	}
	for _, r := range rs {
		if len(r.Items) != k {
			return nil
		}
	}
	for _, it := range items {
		if it.N != len(rs) {
			return nil
		}
	}
	var pq float64
	for _, it := range items {
		pq += it.Facility * (1 - it.Facility)
	}
	v := float64(k) / float64(k-1) * (1 - pq/(sd*sd))
	return &v
}

// Analysis computes the item analysis of the assessment from one attempt per trainee (the
// first unless pick says otherwise). Items come in the assessment's order of fixed
// questions, then the drawn ones by name, each named as in the bank now.
func (s *Store) Analysis(ctx context.Context, actor Actor, assessmentID string, pick Pick) (Analysis, error) {
	if err := requireStaff(actor, "read item analysis"); err != nil {
		return Analysis{}, err
	}
	if pick == "" {
		pick = PickFirst
	}
	a, picked, _, err := s.picked(ctx, assessmentID, pick)
	if err != nil {
		return Analysis{}, err
	}
	rs := make([]Response, len(picked))
	for i, r := range picked {
		rs[i] = Response{AttemptID: r.ID, Items: make([]ItemResponse, len(r.Items))}
		for j, m := range r.Items {
			rs[i].Items[j] = ItemResponse{QuestionID: m.QuestionID, Options: m.Options, Right: m.Right, Chosen: m.Chosen}
		}
	}
	an := Analyse(rs)
	an.AssessmentID, an.Use = a.ID, pick
	qs, err := s.questionsOf(ctx, a.BankID)
	if err != nil {
		return Analysis{}, err
	}
	names := map[string]string{}
	for _, q := range qs {
		names[q.ID] = q.Name
	}
	rank := map[string]int{}
	for i, id := range a.Questions {
		rank[id] = i + 1
	}
	for i := range an.Items {
		an.Items[i].Name = names[an.Items[i].QuestionID]
	}
	sort.SliceStable(an.Items, func(i, j int) bool {
		ri, rj := rank[an.Items[i].QuestionID], rank[an.Items[j].QuestionID]
		switch {
		case ri > 0 && rj > 0:
			return ri < rj
		case ri > 0 || rj > 0:
			return ri > 0
		}
		return an.Items[i].Name < an.Items[j].Name
	})
	return an, nil
}
