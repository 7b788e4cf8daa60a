package marking

import (
	"context"
	"fmt"

	"polyphony/internal/failure"
)

// Rating is one rater's level on one criterion of a submission two markers rated, for the
// agreement statistics: Level is the level's place on the criterion's ordinal scale (0 for
// the lowest).
type Rating struct {
	PieceID      string
	SubmissionID string // the reference markers see: it names no trainee under anonymous marking
	CriterionID  string
	RaterID      string
	Level        int
}

// Ratings lists, for every submission of the cohort's pieces that two markers have
// submitted, each marker's level on each criterion they both rated. The cohort's staff read
// it.
func (s *Store) Ratings(ctx context.Context, a Actor, cohortID string) ([]Rating, error) {
	if !a.staff(cohortID) {
		return nil, fmt.Errorf("%w: ratings of the cohort", failure.ErrNotFound)
	}
	ids, err := s.listed(ctx, piecesList(cohortID))
	if err != nil {
		return nil, err
	}
	var out []Rating
	for _, id := range ids {
		p, err := s.piece(ctx, id)
		if err != nil {
			return nil, err
		}
		recs, err := s.records(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			done := rec.submitted()
			if !rec.sub.Active || len(done) < 2 {
				continue
			}
			for _, c := range rec.rubric.Criteria {
				var both []Rating
				for _, m := range done[:2] {
					l, ok := m.Level(c.ID)
					if !ok {
						break
					}
					_, at, ok := c.Level(l.LevelID)
					if !ok {
						break
					}
					both = append(both, Rating{PieceID: p.ID, SubmissionID: Ref(p, rec.sub), CriterionID: c.ID, RaterID: m.MarkerID, Level: at})
				}
				if len(both) == 2 {
					out = append(out, both...)
				}
			}
		}
	}
	return out, nil
}
