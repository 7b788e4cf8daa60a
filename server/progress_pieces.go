package server

import (
	"context"

	"polyphony/assessment/marking"
	"polyphony/courses/progress"
)

// ProgressPieces gives the progress rules the assessed pieces of a cohort with a trainee's
// standing in each, from the marking store: the released outcome only, never a mark, a
// marker or feedback. Each piece links to its page, which the trainee and the cohort's staff
// open alike.
func ProgressPieces(st *marking.Store) progress.PieceResults { return progressPieces{st} }

type progressPieces struct{ st *marking.Store }

// Released reads the standings as the platform itself: the progress rules decide who sees them.
func (p progressPieces) Released(ctx context.Context, cohortID, traineeID string) ([]progress.PieceResult, error) {
	standings, err := p.st.Standings(ctx, cohortID, traineeID)
	if err != nil || len(standings) == 0 {
		return nil, err
	}
	out := make([]progress.PieceResult, 0, len(standings))
	for _, s := range standings {
		path := "/marking/pieces/" + s.PieceID
		r := progress.PieceResult{PieceID: s.PieceID, Title: s.Title, Due: s.Deadline, Released: s.Released,
			Submitted: s.Submitted, Path: path, StaffPath: path}
		switch s.Outcome {
		case marking.OutcomePass:
			r.Outcome = progress.OutcomePass
		case marking.OutcomeRefer:
			r.Outcome = progress.OutcomeRefer
		}
		out = append(out, r)
	}
	return out, nil
}
