package marking

import (
	"fmt"
	"slices"

	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// Actor is the person a call is made for: who they are, their role, and the cohorts they
// are a member of. The server builds it from the session and the cohort memberships; the
// store decides from it alone what the person may do.
type Actor struct {
	UserID    string
	Role      accounts.Role
	CohortIDs []string
}

// member reports whether the actor belongs to the cohort.
func (a Actor) member(cohortID string) bool {
	return a.UserID != "" && slices.Contains(a.CohortIDs, cohortID)
}

func (a Actor) admin() bool { return a.UserID != "" && a.Role == accounts.RoleAdmin }

// cohortAssessor reports whether the actor is an assessor who is a member of the cohort.
func (a Actor) cohortAssessor(cohortID string) bool {
	return a.Role == accounts.RoleAssessor && a.member(cohortID)
}

// staff reports whether the actor may set up and oversee the cohort's assessed work: an
// administrator, or an assessor of the cohort.
func (a Actor) staff(cohortID string) bool { return a.admin() || a.cohortAssessor(cohortID) }

// refuse is the answer to a person who may not do something. Those who may not even know
// that the thing exists (trainees, and staff of other cohorts) find nothing, the same answer
// as for an id that names nothing; the others are forbidden.
func refuse(a Actor, cohortID, doing string) error {
	if a.staff(cohortID) || a.member(cohortID) && a.Role != accounts.RoleTrainee {
		return fmt.Errorf("%w: you may not %s", failure.ErrForbidden, doing)
	}
	return fmt.Errorf("%w: you may not %s", failure.ErrNotFound, doing)
}

// mayAdminister reports whether the actor may set up pieces for the cohort and allocate
// its marking.
func mayAdminister(a Actor, cohortID string) error {
	if a.staff(cohortID) {
		return nil
	}
	return refuse(a, cohortID, "set up assessed work for this cohort")
}

// mayAdmin refuses anyone but administrators (extensions, release, exports).
func mayAdmin(a Actor, cohortID, doing string) error {
	if a.admin() {
		return nil
	}
	return refuse(a, cohortID, doing)
}

// maySubmit refuses anyone but a trainee of the cohort acting for themselves.
func maySubmit(a Actor, cohortID, traineeID string) error {
	if a.Role == accounts.RoleTrainee && a.member(cohortID) && a.UserID == traineeID {
		return nil
	}
	if a.Role == accounts.RoleTrainee {
		return fmt.Errorf("%w: not your submission", failure.ErrNotFound)
	}
	return refuse(a, cohortID, "submit work for a trainee")
}

// mayModerate refuses anyone but an assessor of the cohort who marks none of the
// submission: a moderator is a third assessor.
func mayModerate(a Actor, cohortID string, markers []string) error {
	if a.cohortAssessor(cohortID) && !slices.Contains(markers, a.UserID) {
		return nil
	}
	if slices.Contains(markers, a.UserID) {
		return fmt.Errorf("%w: a marker of this submission may not moderate it", failure.ErrForbidden)
	}
	return refuse(a, cohortID, "moderate this submission")
}

// mayReadTrail lets administrators and moderators (assessors of the cohort who do not mark
// the submission) read its trail: a marker reading it would see the other's marks.
func mayReadTrail(a Actor, cohortID string, markers []string) error {
	if a.admin() {
		return nil
	}
	return mayModerate(a, cohortID, markers)
}
