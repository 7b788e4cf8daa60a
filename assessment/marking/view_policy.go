package marking

// MaySetUp says whether the actor may set up assessed work for the cohort (administrators
// and the cohort's assessors), for pages that offer the form before anything is saved: nil
// when they may, else the error the store's own calls give them.
func (s *Store) MaySetUp(a Actor, cohortID string) error {
	return mayAdminister(a, cohortID)
}
