package assessment

import (
	"fmt"

	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// Actor is the person a call is made for: the signed-in user's id and role.
type Actor struct {
	ID   string
	Role accounts.Role
}

// staff reports whether the actor keeps banks and assessments: admins and assessors.
func (a Actor) staff() bool {
	return a.ID != "" && (a.Role == accounts.RoleAdmin || a.Role == accounts.RoleAssessor)
}

// requireStaff refuses anyone but admins and assessors. To everyone else banks, questions,
// settings and reports do not exist, so the refusal is ErrNotFound, the same answer as for
// an id that names nothing; doing says what was refused.
func requireStaff(a Actor, doing string) error {
	if !a.staff() {
		return fmt.Errorf("%w: only administrators and assessors may %s", failure.ErrNotFound, doing)
	}
	return nil
}

// requireAdmin refuses anyone but admins: an assessor, who sees the assessment, is
// forbidden; anyone else finds nothing, as with requireStaff.
func requireAdmin(a Actor, doing string) error {
	if err := requireStaff(a, doing); err != nil {
		return err
	}
	if a.Role != accounts.RoleAdmin {
		return fmt.Errorf("%w: only administrators may %s", failure.ErrForbidden, doing)
	}
	return nil
}

// requireTrainee refuses anyone but trainees: attempts count in the results, so staff do not
// make them.
func requireTrainee(a Actor) error {
	if a.ID == "" || a.Role != accounts.RoleTrainee {
		return fmt.Errorf("%w: only trainees sit assessments", failure.ErrForbidden)
	}
	return nil
}
