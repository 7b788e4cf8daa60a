package marking

import "context"

// MaySetUp says whether the actor may set up assessed work for the cohort (administrators
// and the cohort's assessors), for pages that offer the form before anything is saved: nil
// when they may, else the error the store's own calls give them.
func (s *Store) MaySetUp(a Actor, cohortID string) error {
	return mayAdminister(a, cohortID)
}

// CheckPiece reports every problem with a piece's settings, as CreatePiece would, without
// saving anything: for a form that has found problems of its own (a date it cannot read)
// and lists them all at once.
func (s *Store) CheckPiece(ctx context.Context, in PieceInput) error {
	return s.validatePiece(ctx, &in)
}
