// Package demo seeds a trust, a cohort and one account per role, so that someone trying
// Polyphony can sign in as each kind of user.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// Login is one demo account and the password it was given.
type Login struct {
	Role     accounts.Role
	Name     string
	Email    string
	Password string
}

// TrustName and CohortName name what Seed creates.
const (
	TrustName  = "Demo Moor NHS Foundation Trust"
	CohortName = "Demo cohort"
)

type person struct {
	role  accounts.Role
	name  string
	email string
	peer  bool
}

// The demo cohort has two facilitators, as every network meeting has at least two.
var people = []person{
	{accounts.RoleAdmin, "Alex Admin", "admin@polyphony.example", false},
	{accounts.RoleFacilitator, "Fran Facilitator", "facilitator@polyphony.example", false},
	{accounts.RoleFacilitator, "Femi Facilitator", "facilitator2@polyphony.example", false},
	{accounts.RoleSupervisor, "Sam Supervisor", "supervisor@polyphony.example", false},
	{accounts.RoleAssessor, "Ash Assessor", "assessor@polyphony.example", false},
	{accounts.RoleTrainee, "Tara Trainee", "trainee@polyphony.example", false},
	{accounts.RoleTrainee, "Pat Peer", "peer@polyphony.example", true},
}

// Seed creates what is missing of the demo and gives every demo account a new random
// password, returned in the logins. Running it again is safe.
func Seed(ctx context.Context, users *accounts.Users, store *courses.Store, now time.Time) ([]Login, error) {
	trust, err := store.TrustByName(ctx, TrustName)
	if errors.Is(err, failure.ErrNotFound) {
		trust, err = store.CreateTrust(ctx, TrustName)
	}
	if err != nil {
		return nil, fmt.Errorf("demo trust: %w", err)
	}
	cohort, err := store.CohortByName(ctx, CohortName)
	if errors.Is(err, failure.ErrNotFound) {
		cohort, _, err = store.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: CohortName, StartDate: demoStart(now), TrustIDs: []string{trust.ID}}, "polyphony demo")
	}
	if err != nil {
		return nil, fmt.Errorf("demo cohort: %w", err)
	}
	var logins []Login
	var trainees, supervisors []string
	for _, p := range people {
		password := NewPassword()
		u, err := users.ByEmail(ctx, p.email)
		switch {
		case errors.Is(err, failure.ErrNotFound):
			u, err = users.Create(ctx, accounts.NewUser{Email: p.email, Name: p.name, Role: p.role, TrustID: trust.ID, PeerWorker: p.peer, Password: password})
		case err == nil:
			err = users.SetPassword(ctx, u.ID, password)
		}
		if err != nil {
			return nil, fmt.Errorf("demo account %s: %w", p.email, err)
		}
		if p.role != accounts.RoleAdmin {
			if _, err := store.Enrol(ctx, cohort.ID, u.ID, p.role); err != nil {
				return nil, fmt.Errorf("enrol %s: %w", p.email, err)
			}
		}
		switch p.role {
		case accounts.RoleTrainee:
			trainees = append(trainees, u.ID)
		case accounts.RoleSupervisor:
			supervisors = append(supervisors, u.ID)
		}
		logins = append(logins, Login{Role: p.role, Name: p.name, Email: p.email, Password: password})
	}
	// The demo supervisor supervises both demo trainees, so that what they share with "my
	// supervisor" reaches someone.
	for _, id := range supervisors {
		if _, _, err := store.ChangeMember(ctx, cohort.ID, id, courses.MemberChange{Role: accounts.RoleSupervisor, Supervises: trainees}); err != nil {
			return nil, fmt.Errorf("demo supervisor's trainees: %w", err)
		}
	}
	return logins, nil
}

// demoStart is the demo cohort's first day: a Monday about four months ago, so that module 1
// is over, the cohort is between modules 2 and 3 and there is something in every part of
// the programme to look at.
func demoStart(now time.Time) time.Time {
	d := now.AddDate(0, 0, -7*14)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, -1)
	}
	y, m, day := d.Date()
	return time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
}

// NewPassword returns a random password of 16 letters and digits (about 82 bits), grouped in
// fours so it can be read out.
func NewPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 16)
	rand.Read(b)
	out := make([]byte, 0, 19)
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}
