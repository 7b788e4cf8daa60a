// Package accounts holds the people who use Polyphony: their accounts and roles, passwords,
// sign-in sessions, personal API tokens and the throttle on sign-in attempts.
package accounts

import (
	"strings"

	"polyphony/internal/failure"
)

// Role is what a person does on the programme; it decides what they may see and do.
type Role string

// The roles. A trainee may be a clinician or a peer support worker.
const (
	RoleAdmin       Role = "admin"
	RoleFacilitator Role = "facilitator"
	RoleAssessor    Role = "assessor"
	RoleSupervisor  Role = "supervisor"
	RoleTrainee     Role = "trainee"
)

// Roles lists every role, in the order pages show them.
var Roles = []Role{RoleTrainee, RoleFacilitator, RoleSupervisor, RoleAssessor, RoleAdmin}

// ParseRole reads a role name, refusing anything that is not one of Roles.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Roles {
		if r == known {
			return r, nil
		}
	}
	return "", failure.Problem("role", "Select a role: trainee, facilitator, supervisor, assessor or admin")
}

// Label is the role's name as pages show it.
func (r Role) Label() string {
	switch r {
	case RoleAdmin:
		return "Administrator"
	case RoleFacilitator:
		return "Facilitator"
	case RoleAssessor:
		return "Assessor"
	case RoleSupervisor:
		return "Supervisor"
	case RoleTrainee:
		return "Trainee"
	}
	return string(r)
}
