package server

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
)

// Staffing a cohort, from its page (pages_cohort_staff.go) and the API: adding a person in
// their account's role, changing a member's role or a supervisor's trainees, removing a
// member. Each change goes into the audit log under the cohort. The rules of who may be a
// member in which role are courses.CheckMemberRole's.

type addMemberRequest struct {
	UserID     string   `json:"userId"`
	Role       string   `json:"role"`
	Supervises []string `json:"supervises"`
}

type changeMemberRequest struct {
	Role       string   `json:"role"`
	Supervises []string `json:"supervises"`
}

// addMember enrols the person in the cohort in role (their account's role when empty) and,
// for a supervisor, gives them the trainees named. Adding a member again in the role they
// have changes nothing; in another role it is a conflict, for changeMember to settle. added
// says whether the person was not a member before.
func (s *Server) addMember(c echo.Context, cohortID string, u accounts.User, role string, supervises []string) (m courses.Membership, added bool, err error) {
	ctx := c.Request().Context()
	co, err := s.deps.Courses.Cohort(ctx, cohortID)
	if err != nil {
		return courses.Membership{}, false, err
	}
	r := u.Role
	if role != "" {
		if r, err = accounts.ParseRole(role); err != nil {
			return courses.Membership{}, false, err
		}
	}
	if err := courses.CheckMemberRole(u.Role, r); err != nil {
		return courses.Membership{}, false, err
	}
	existing, err := s.deps.Courses.Member(ctx, co.ID, u.ID)
	switch {
	case err == nil && existing.Role != r:
		return courses.Membership{}, false, failure.Conflict(u.Name + " is a " + string(existing.Role) + " of " + co.Name + " already: change their role instead")
	case err == nil:
		return existing, false, nil
	case !errors.Is(err, failure.ErrNotFound):
		return courses.Membership{}, false, err
	}
	members, err := s.deps.Courses.Members(ctx, co.ID)
	if err != nil {
		return courses.Membership{}, false, err
	}
	if _, err := courses.CheckSupervises(members, courses.MemberChange{Role: r, Supervises: supervises}, u.ID); err != nil {
		return courses.Membership{}, false, err
	}
	if m, err = s.deps.Courses.Enrol(ctx, co.ID, u.ID, r); err != nil {
		return courses.Membership{}, false, err
	}
	if len(supervises) > 0 {
		if _, m, err = s.deps.Courses.ChangeMember(ctx, co.ID, u.ID, courses.MemberChange{Role: r, Supervises: supervises}); err != nil {
			return courses.Membership{}, false, err
		}
	}
	changes := []audit.Change{{Field: "member", After: u.Name + " (" + string(m.Role) + ")"}}
	if len(m.Supervises) > 0 {
		changes = append(changes, audit.Change{Field: "supervises", After: s.peopleNames(c, m.Supervises)})
	}
	s.record(c, audit.Entry{Action: audit.MemberAdded, SubjectID: co.ID, SubjectName: co.Name, Changes: changes})
	return m, true, nil
}

// changeMember gives the member a new role (the one they have when empty: a role other than
// their account's is refused, except the one they already have) and, for a supervisor, the
// trainees they supervise.
func (s *Server) changeMember(c echo.Context, cohortID, userID, role string, supervises []string) (courses.Membership, error) {
	ctx := c.Request().Context()
	co, err := s.deps.Courses.Cohort(ctx, cohortID)
	if err != nil {
		return courses.Membership{}, err
	}
	before, err := s.deps.Courses.Member(ctx, co.ID, userID)
	if err != nil {
		return courses.Membership{}, err
	}
	u, err := s.deps.Accounts.Users.ByID(ctx, userID)
	if err != nil {
		return courses.Membership{}, err
	}
	r := before.Role
	if role != "" {
		if r, err = accounts.ParseRole(role); err != nil {
			return courses.Membership{}, err
		}
	}
	if r != before.Role {
		if err := courses.CheckMemberRole(u.Role, r); err != nil {
			return courses.Membership{}, err
		}
	}
	_, after, err := s.deps.Courses.ChangeMember(ctx, co.ID, userID, courses.MemberChange{Role: r, Supervises: supervises})
	if err != nil {
		return courses.Membership{}, err
	}
	var changes []audit.Change
	if before.Role != after.Role {
		changes = append(changes, audit.Change{Field: "role", Before: string(before.Role), After: string(after.Role)})
	}
	if !slices.Equal(before.Supervises, after.Supervises) {
		changes = append(changes, audit.Change{Field: "supervises", Before: s.peopleNames(c, before.Supervises), After: s.peopleNames(c, after.Supervises)})
	}
	if len(changes) > 0 {
		changes = append([]audit.Change{{Field: "member", Before: u.Name, After: u.Name}}, changes...)
		s.record(c, audit.Entry{Action: audit.MemberChanged, SubjectID: co.ID, SubjectName: co.Name, Changes: changes})
	}
	return after, nil
}

// removeMember takes the person out of the cohort.
func (s *Server) removeMember(c echo.Context, cohortID, userID string) (courses.Membership, error) {
	ctx := c.Request().Context()
	co, err := s.deps.Courses.Cohort(ctx, cohortID)
	if err != nil {
		return courses.Membership{}, err
	}
	m, err := s.deps.Courses.RemoveMember(ctx, co.ID, userID)
	if err != nil {
		return courses.Membership{}, err
	}
	changes := []audit.Change{{Field: "member", Before: s.personName(c, userID) + " (" + string(m.Role) + ")"}}
	if len(m.Supervises) > 0 {
		changes = append(changes, audit.Change{Field: "supervises", Before: s.peopleNames(c, m.Supervises)})
	}
	s.record(c, audit.Entry{Action: audit.MemberRemoved, SubjectID: co.ID, SubjectName: co.Name, Changes: changes})
	return m, nil
}

// personName is the person's name for the log, or their id when the account cannot be read.
func (s *Server) personName(c echo.Context, id string) string {
	u, err := s.deps.Accounts.Users.ByID(c.Request().Context(), id)
	if err != nil {
		return id
	}
	return u.Name
}

// peopleNames writes the people's names for the log, in the order given.
func (s *Server) peopleNames(c echo.Context, ids []string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = s.personName(c, id)
	}
	return strings.Join(names, ", ")
}

func (s *Server) apiAddMember(c echo.Context) error {
	var req addMemberRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.deps.Courses.Cohort(ctx, c.Param("id")); err != nil {
		return err
	}
	u, err := s.deps.Accounts.Users.ByID(ctx, req.UserID)
	if err != nil {
		return failure.Invalidf("userId", "no account has the id %q", req.UserID)
	}
	m, _, err := s.addMember(c, c.Param("id"), u, req.Role, req.Supervises)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, m)
}

func (s *Server) apiChangeMember(c echo.Context) error {
	var req changeMemberRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	m, err := s.changeMember(c, c.Param("id"), c.Param("userId"), req.Role, req.Supervises)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

func (s *Server) apiRemoveMember(c echo.Context) error {
	if _, err := s.removeMember(c, c.Param("id"), c.Param("userId")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
