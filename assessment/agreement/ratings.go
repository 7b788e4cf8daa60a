package agreement

import (
	"sort"

	"polyphony/internal/failure"
)

// Rating is one rater's level for one criterion (element) of one submission to an assessed
// piece. The marking package has a type with the same fields; the HTTP layer converts.
type Rating struct {
	PieceID      string `json:"pieceId"`
	SubmissionID string `json:"submissionId"`
	CriterionID  string `json:"criterionId"`
	RaterID      string `json:"raterId"`
	Level        int    `json:"level"`
}

// Element is one criterion of one double-rated submission: the two levels, and the figures
// over that single item (so percent agreement is 0 or 100, and kappa mostly has no value).
type Element struct {
	CriterionID string    `json:"criterionId"`
	LevelA      int       `json:"levelA"`
	LevelB      int       `json:"levelB"`
	Agreement   Agreement `json:"agreement"`
}

// Transcript is the agreement of two raters on one submission: per element, and overall
// over every element both rated. RaterA sorts before RaterB, and LevelA and the matrix's
// rows are RaterA's.
type Transcript struct {
	PieceID      string    `json:"pieceId"`
	SubmissionID string    `json:"submissionId"`
	RaterA       string    `json:"raterA"`
	RaterB       string    `json:"raterB"`
	Elements     []Element `json:"elements"`
	Overall      Agreement `json:"overall"`
}

// Pair is the agreement of two raters over every item (a criterion of a submission) that
// both rated, across all the pieces given. Agreement.N is the count of those items.
type Pair struct {
	RaterA      string    `json:"raterA"`
	RaterB      string    `json:"raterB"`
	Submissions int       `json:"submissions"`
	Agreement   Agreement `json:"agreement"`
}

// item is what two raters rate alike: one criterion of one submission.
type item struct{ piece, submission, criterion string }

// submission is one piece's submission.
type submission struct{ piece, submission string }

// rated is every item with the level each rater gave it, items in the order first met.
type rated struct {
	items  []item
	levels map[item]map[string]int
}

// index groups the ratings by item, refusing a rater who rated one item twice.
func index(ratings []Rating) (rated, error) {
	r := rated{levels: map[item]map[string]int{}}
	for _, x := range ratings {
		it := item{x.PieceID, x.SubmissionID, x.CriterionID}
		byRater, ok := r.levels[it]
		if !ok {
			byRater = map[string]int{}
			r.levels[it] = byRater
			r.items = append(r.items, it)
		}
		if _, twice := byRater[x.RaterID]; twice {
			return rated{}, failure.Problemf("ratings", "Rater %s rated criterion %s of submission %s twice", x.RaterID, x.CriterionID, x.SubmissionID)
		}
		byRater[x.RaterID] = x.Level
	}
	return r, nil
}

// pairs lists the pairs of raters who both rated it, each pair once and in order.
func (r rated) pairs(it item) [][2]string {
	ids := make([]string, 0, len(r.levels[it]))
	for id := range r.levels[it] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out [][2]string
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			out = append(out, [2]string{ids[i], ids[j]})
		}
	}
	return out
}

// Transcripts gives, for each submission rated by two raters (or more: then each pair of
// them), the agreement per element and overall. Submissions come in the order their first
// rating is met, elements in the order their criteria are met, pairs in order of rater id.
func Transcripts(ratings []Rating, scale int) ([]Transcript, error) {
	r, err := index(ratings)
	if err != nil {
		return nil, err
	}
	var subs []submission
	found := map[submission]map[[2]string]*Transcript{}
	for _, it := range r.items {
		sub := submission{it.piece, it.submission}
		byPair, ok := found[sub]
		if !ok {
			byPair = map[[2]string]*Transcript{}
			found[sub] = byPair
			subs = append(subs, sub)
		}
		for _, p := range r.pairs(it) {
			t, ok := byPair[p]
			if !ok {
				t = &Transcript{PieceID: it.piece, SubmissionID: it.submission, RaterA: p[0], RaterB: p[1]}
				byPair[p] = t
			}
			a, b := r.levels[it][p[0]], r.levels[it][p[1]]
			one, err := Compare([]int{a}, []int{b}, scale)
			if err != nil {
				return nil, err
			}
			t.Elements = append(t.Elements, Element{CriterionID: it.criterion, LevelA: a, LevelB: b, Agreement: one})
		}
	}
	var order []*Transcript
	for _, sub := range subs {
		pairs := make([][2]string, 0, len(found[sub]))
		for p := range found[sub] {
			pairs = append(pairs, p)
		}
		sortPairs(pairs)
		for _, p := range pairs {
			order = append(order, found[sub][p])
		}
	}
	out := make([]Transcript, 0, len(order))
	for _, t := range order {
		a, b := make([]int, len(t.Elements)), make([]int, len(t.Elements))
		for i, e := range t.Elements {
			a[i], b[i] = e.LevelA, e.LevelB
		}
		if t.Overall, err = Compare(a, b, scale); err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, nil
}

// Pairs gives, for each pair of raters who rated any item in common, their agreement over
// every such item across all the pieces and submissions given, with how many submissions
// those items came from. Pairs come in order of rater id.
func Pairs(ratings []Rating, scale int) ([]Pair, error) {
	r, err := index(ratings)
	if err != nil {
		return nil, err
	}
	type levels struct {
		a, b []int
		subs map[submission]bool
	}
	found := map[[2]string]*levels{}
	var order [][2]string
	for _, it := range r.items {
		for _, p := range r.pairs(it) {
			l, ok := found[p]
			if !ok {
				l = &levels{subs: map[submission]bool{}}
				found[p] = l
				order = append(order, p)
			}
			l.a = append(l.a, r.levels[it][p[0]])
			l.b = append(l.b, r.levels[it][p[1]])
			l.subs[submission{it.piece, it.submission}] = true
		}
	}
	sortPairs(order)
	out := make([]Pair, 0, len(order))
	for _, p := range order {
		l := found[p]
		ag, err := Compare(l.a, l.b, scale)
		if err != nil {
			return nil, err
		}
		out = append(out, Pair{RaterA: p[0], RaterB: p[1], Submissions: len(l.subs), Agreement: ag})
	}
	return out, nil
}

// sortPairs orders pairs of rater ids by the first id, then the second.
func sortPairs(ps [][2]string) {
	sort.Slice(ps, func(i, j int) bool {
		return ps[i][0] < ps[j][0] || ps[i][0] == ps[j][0] && ps[i][1] < ps[j][1]
	})
}
