package marking

import (
	"context"
	"errors"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// PieceStanding is where a trainee stands in one assessed piece of their cohort, as the
// award reads it: the piece, when it is due for them, whether they submitted it, and once
// its result is released, the outcome (OutcomePass or OutcomeRefer). It carries nothing of
// the marking itself: no marks, no markers, no feedback.
type PieceStanding struct {
	PieceID string
	Title   string
	// Deadline is the trainee's: the piece's due date, or their extension.
	Deadline  time.Time
	Submitted bool
	Released  bool
	// Outcome is set only when Released.
	Outcome string
}

// Standings lists each assessed piece set for the cohort, in the order they were set up,
// with the trainee's standing in it. It takes no Actor: it is a read the platform makes for
// itself, for the progress rules and the exam board, which decide who may see a trainee's
// progress. That is why it gives the released outcome alone, and nothing a trainee may not
// see of their own work once it is released (no marks, markers or feedback), nor anything
// before release but whether the work was submitted.
func (s *Store) Standings(ctx context.Context, cohortID, traineeID string) ([]PieceStanding, error) {
	ids, err := s.listed(ctx, piecesList(cohortID))
	if err != nil {
		return nil, err
	}
	pieces, err := database.FindEachByID[Piece](ctx, s.pieces, ids)
	if err != nil {
		return nil, err
	}
	out := make([]PieceStanding, 0, len(pieces))
	for _, p := range pieces {
		st := PieceStanding{PieceID: p.ID, Title: p.Title, Deadline: p.Due}
		sub, err := s.submission(ctx, SubmissionID(p.ID, traineeID))
		switch {
		case errors.Is(err, failure.ErrNotFound):
			out = append(out, st)
			continue
		case err != nil:
			return nil, err
		}
		st.Deadline, st.Submitted = sub.Deadline(p), sub.Active
		rel, err := database.FindByID[releaseDoc](ctx, s.releases, sub.ID)
		switch {
		case err == nil && sub.Active:
			st.Released, st.Outcome = true, rel.Result.Outcome
		case err != nil && !errors.Is(err, failure.ErrNotFound):
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}
