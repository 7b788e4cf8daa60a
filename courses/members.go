package courses

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Staffing a cohort: who is in it, in which role, and which trainees each supervisor
// supervises. A membership is stored three times, all read by _id: its own record, the
// person's list and the cohort's list (layout.go). A change rewrites the record, then each
// list under that list's lock, one at a time; the lists are what the pages read.
//
// The role a person has in a cohort is their account's role. People take part in several
// cohorts in the same role (a facilitator running two cohorts, a supervisor or an assessor
// working with trainees of two), but never in another role than their account's: the
// menus and pages each person sees follow their account's role, so a facilitator listed as
// a cohort's supervisor would have no page to read what its trainees share. An
// administrator runs every cohort and is a member of none. A trainee belongs to one
// cohort at a time (traineeElsewhere): their journal, schedule and rooms are that cohort's.

// CohortRoles are the roles a person can have in a cohort, in the order pages show them.
var CohortRoles = []accounts.Role{accounts.RoleTrainee, accounts.RoleFacilitator, accounts.RoleSupervisor, accounts.RoleAssessor}

// checkCohortRole refuses a role nobody has in a cohort.
func checkCohortRole(role accounts.Role) error {
	if !slices.Contains(CohortRoles, role) {
		return failure.Problem("role", "Select a role in the cohort: trainee, facilitator, supervisor or assessor")
	}
	return nil
}

// CheckMemberRole says whether a person whose account has the role account may be a member
// in role: only in their account's role, and an administrator not at all.
func CheckMemberRole(account, role accounts.Role) error {
	if account == accounts.RoleAdmin {
		return failure.Problem("userId", "An administrator runs every cohort and is not a member of one")
	}
	if err := checkCohortRole(role); err != nil {
		return err
	}
	if role != account {
		return failure.Problem("role", fmt.Sprintf("This person's account is a %s's: they can be a %s in a cohort, not a %s",
			account, account, role))
	}
	return nil
}

// traineeElsewhere refuses a trainee of another cohort, as bad input in field, and otherwise
// claims the person's trainee seat for cohortID (see trainee_seat.go), which settles two
// enrolments into two cohorts at the same moment. The person's list is read first because
// trainees enrolled before seats were kept hold none.
func (s *Store) traineeElsewhere(ctx context.Context, field, cohortID, userID string) error {
	ms, err := s.listedMemberships(ctx, userList(userID))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Role == accounts.RoleTrainee && m.CohortID != cohortID {
			return s.seatTaken(ctx, field, m.CohortID)
		}
	}
	return s.claimTraineeSeat(ctx, field, cohortID, userID)
}

// Member is the membership of the person in the cohort; failure.ErrNotFound when they are
// not a member.
func (s *Store) Member(ctx context.Context, cohortID, userID string) (Membership, error) {
	members, err := s.Members(ctx, cohortID)
	if err != nil {
		return Membership{}, err
	}
	for _, m := range members {
		if m.UserID == userID {
			return m, nil
		}
	}
	// Stored, but not yet listed by an enrolment that stopped in between: found by id.
	return s.existingMembership(ctx, cohortID, userID)
}

// MemberChange is what ChangeMember sets: the role, and for a supervisor the trainees of
// the cohort they supervise (any other role supervises nobody).
type MemberChange struct {
	Role       accounts.Role
	Supervises []string
}

// ChangeMember gives the member of the cohort a new role and, for a supervisor, the
// trainees they supervise, each a trainee of the cohort. It returns the membership before
// and after. A trainee who stops being one leaves the lists of the cohort's supervisors.
func (s *Store) ChangeMember(ctx context.Context, cohortID, userID string, ch MemberChange) (before, after Membership, err error) {
	before, err = s.Member(ctx, cohortID, userID)
	if err != nil {
		return Membership{}, Membership{}, err
	}
	members, err := s.Members(ctx, cohortID)
	if err != nil {
		return Membership{}, Membership{}, err
	}
	roleErr := checkCohortRole(ch.Role)
	supervises, supErr := CheckSupervises(members, ch, userID)
	becomesTrainee := ch.Role == accounts.RoleTrainee && before.Role != accounts.RoleTrainee
	if roleErr == nil && supErr == nil && becomesTrainee {
		// The seat is claimed last, once nothing else can refuse the change.
		roleErr = s.traineeElsewhere(ctx, "role", cohortID, userID)
	}
	if err := failure.Problems(roleErr, supErr); err != nil {
		return Membership{}, Membership{}, err
	}
	after = before
	after.Role, after.Supervises = ch.Role, supervises
	if err := s.putMembership(ctx, after); err != nil {
		if becomesTrainee {
			err = errors.Join(err, s.releaseTraineeSeat(ctx, cohortID, userID))
		}
		return Membership{}, Membership{}, err
	}
	if before.Role == accounts.RoleTrainee && after.Role != accounts.RoleTrainee {
		if err := s.unsupervise(ctx, cohortID, userID); err != nil {
			return Membership{}, Membership{}, err
		}
		if err := s.releaseTraineeSeat(ctx, cohortID, userID); err != nil {
			return Membership{}, Membership{}, err
		}
	}
	return before, after.normal(), nil
}

// CheckSupervises is the list of trainees the change gives a supervisor among the cohort's
// members (self being the supervisor), once each in the order given, or the problem with it.
func CheckSupervises(members []Membership, ch MemberChange, self string) ([]string, error) {
	if len(ch.Supervises) == 0 {
		return nil, nil
	}
	if ch.Role != accounts.RoleSupervisor {
		return nil, failure.Problem("supervises", "Only a supervisor supervises trainees")
	}
	trainees := map[string]bool{}
	for _, m := range members {
		if m.Role == accounts.RoleTrainee && m.UserID != self {
			trainees[m.UserID] = true
		}
	}
	out := []string{}
	for _, id := range ch.Supervises {
		if !trainees[id] {
			return nil, failure.Problem("supervises", "Select trainees of this cohort")
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// RemoveMember takes the person out of the cohort and returns the membership they had;
// failure.ErrNotFound when they are not a member. A trainee removed also leaves the lists
// of the cohort's supervisors. The lists go first, so that the pages stop showing the
// membership at once; a removal that stops before deleting the record is finished by
// running it again.
func (s *Store) RemoveMember(ctx context.Context, cohortID, userID string) (Membership, error) {
	m, err := s.Member(ctx, cohortID, userID)
	if err != nil {
		return Membership{}, err
	}
	defer s.membershipCache.Forget(userID)
	if err := s.relist(ctx, userList(userID), m.ID, nil); err != nil {
		return Membership{}, err
	}
	if err := s.relist(ctx, cohortList(cohortID), m.ID, nil); err != nil {
		return Membership{}, err
	}
	if err := database.DeleteByID(ctx, s.memberships, m.ID); err != nil {
		return Membership{}, err
	}
	if m.Role == accounts.RoleTrainee {
		if err := s.unsupervise(ctx, cohortID, userID); err != nil {
			return Membership{}, err
		}
		if err := s.releaseTraineeSeat(ctx, cohortID, userID); err != nil {
			return Membership{}, err
		}
	}
	return m, nil
}

// unsupervise takes the trainee out of the lists of every supervisor of the cohort.
func (s *Store) unsupervise(ctx context.Context, cohortID, traineeID string) error {
	members, err := s.Members(ctx, cohortID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.Role != accounts.RoleSupervisor || !slices.Contains(m.Supervises, traineeID) {
			continue
		}
		m.Supervises = slices.DeleteFunc(slices.Clone(m.Supervises), func(id string) bool { return id == traineeID })
		if err := s.putMembership(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// putMembership stores a changed membership: its record, then its place in the person's
// list and in the cohort's.
func (s *Store) putMembership(ctx context.Context, m Membership) error {
	m = m.normal()
	defer s.membershipCache.Forget(m.UserID)
	if err := s.memberships.Put(ctx, m.ID, m); err != nil {
		return fmt.Errorf("store membership: %w", err)
	}
	if err := s.relist(ctx, userList(m.UserID), m.ID, &m); err != nil {
		return err
	}
	return s.relist(ctx, cohortList(m.CohortID), m.ID, &m)
}

// relist replaces the membership with the id in the list document listID by m, or takes it
// out when m is nil, holding the list's lock across the read and the write (AddToList takes
// the same lock, so no add is lost).
func (s *Store) relist(ctx context.Context, listID, id string, m *Membership) error {
	defer s.db.Serialize(s.lists.Name(), listID)()
	d, err := database.FindByID[membersDoc](ctx, s.lists, listID)
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return err
	}
	keep := func(in []Membership) []Membership {
		out := []Membership{}
		for _, x := range in {
			if x.ID != id {
				out = append(out, x.normal())
			}
		}
		return out
	}
	members, memberships := keep(d.Members), keep(d.Memberships)
	if m != nil {
		if listID == cohortList(m.CohortID) {
			members = append(members, m.normal())
		} else {
			memberships = append(memberships, m.normal())
		}
	}
	set := bson.M{}
	if len(d.Members) > 0 || len(members) > 0 {
		set["members"] = members
	}
	if len(d.Memberships) > 0 || len(memberships) > 0 {
		set["memberships"] = memberships
	}
	if len(set) == 0 {
		return nil
	}
	if err := s.lists.Upsert(ctx, listID, bson.M{"$set": set}); err != nil {
		return fmt.Errorf("list memberships %s: %w", listID, err)
	}
	return nil
}
