package server

import (
	"context"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/assessment/agreement"
	"polyphony/assessment/marking"
)

// agreementScale is the ratings of one rubric's criteria that share a scale: agreement is
// worked out over items rated on the same levels only, so each rubric (and, within one, each
// number of levels) is a table of its own.
type agreementScale struct {
	RubricID    string                   `json:"rubricId"`
	RubricTitle string                   `json:"rubricTitle"`
	Levels      int                      `json:"levels"`
	Pairs       []agreement.Pair         `json:"pairs"`
	Transcripts []agreement.Transcript   `json:"transcripts"`
	criteria    map[string]string        // criterion id -> title
	pieces      map[string]marking.Piece // by id
	ratings     []agreement.Rating
}

// cohortAgreement works out the agreement of every pair of raters on the cohort's double-
// marked submissions, one scale at a time. The marking store decides who may read the
// ratings (the cohort's staff).
func (s *Server) cohortAgreement(ctx context.Context, st *marking.Store, a marking.Actor, cohortID string) ([]*agreementScale, error) {
	rs, err := st.Ratings(ctx, a, cohortID)
	if err != nil {
		return nil, err
	}
	pieces := map[string]marking.Piece{}
	rubrics := map[string]marking.Rubric{}
	scales := map[string]*agreementScale{}
	var order []string
	for _, r := range rs {
		p, ok := pieces[r.PieceID]
		if !ok {
			if p, err = st.Piece(ctx, a, r.PieceID); err != nil {
				return nil, err
			}
			pieces[p.ID] = p
		}
		rkey := p.RubricID + "/" + itoa(p.RubricVersion)
		rub, ok := rubrics[rkey]
		if !ok {
			if rub, err = st.Rubric(ctx, p.RubricID, p.RubricVersion); err != nil {
				return nil, err
			}
			rubrics[rkey] = rub
		}
		crit, _, ok := rub.Criterion(r.CriterionID)
		if !ok {
			continue
		}
		key := rub.ID + "/" + itoa(len(crit.Levels))
		sc, ok := scales[key]
		if !ok {
			sc = &agreementScale{RubricID: rub.ID, RubricTitle: rub.Title, Levels: len(crit.Levels), criteria: map[string]string{}, pieces: map[string]marking.Piece{}}
			scales[key] = sc
			order = append(order, key)
		}
		sc.criteria[crit.ID] = crit.Title
		sc.pieces[p.ID] = p
		sc.ratings = append(sc.ratings, agreement.Rating{PieceID: r.PieceID, SubmissionID: r.SubmissionID, CriterionID: r.CriterionID, RaterID: r.RaterID, Level: r.Level})
	}
	out := make([]*agreementScale, 0, len(order))
	for _, key := range order {
		sc := scales[key]
		if sc.Pairs, err = agreement.Pairs(sc.ratings, sc.Levels); err != nil {
			return nil, err
		}
		if sc.Transcripts, err = agreement.Transcripts(sc.ratings, sc.Levels); err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].RubricTitle < out[j].RubricTitle })
	return out, nil
}

// raterNames names every rater of the scales, by id.
func (s *Server) raterNames(c echo.Context, scales []*agreementScale) func(string) string {
	names := map[string]string{}
	for _, sc := range scales {
		for _, p := range sc.Pairs {
			for _, id := range []string{p.RaterA, p.RaterB} {
				if _, ok := names[id]; !ok {
					names[id] = s.personName(c, id)
				}
			}
		}
	}
	return func(id string) string { return names[id] }
}

// candidateOf is the part of a submission's reference after its piece: a candidate number
// under anonymous marking, else the trainee's id.
func candidateOf(ref string) string {
	_, who, _ := strings.Cut(ref, "/")
	return who
}
