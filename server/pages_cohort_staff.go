package server

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// The cohort page's members: who is in the cohort, and for an administrator the forms that
// staff it (api_members.go does the work for the page and the API alike).

// staffRow is one member of the cohort's staff, as the page lists them.
type staffRow struct {
	User accounts.User
	Role accounts.Role
	// Trainees are the cohort's trainees, ticked where a supervisor supervises them.
	Trainees []traineeChoice
	// Supervises names the trainees a supervisor supervises.
	Supervises []string
}

// SupervisesText names the trainees a supervisor supervises, as a sentence lists them.
func (r staffRow) SupervisesText() string {
	if len(r.Supervises) < 2 {
		return strings.Join(r.Supervises, "")
	}
	return strings.Join(r.Supervises[:len(r.Supervises)-1], ", ") + " and " + r.Supervises[len(r.Supervises)-1]
}

// IsSupervisor reports whether the member is a supervisor of the cohort.
func (r staffRow) IsSupervisor() bool { return r.Role == accounts.RoleSupervisor }

// RoleDiffers reports whether the membership's role is not the account's, as after the
// account's role was changed: the page offers to bring it into line.
func (r staffRow) RoleDiffers() bool {
	return r.User.Role != r.Role && slices.Contains(courses.CohortRoles, r.User.Role)
}

// traineeChoice is one trainee of the cohort in a supervisor's form.
type traineeChoice struct {
	ID, Name string
	Checked  bool
}

// facilitatorWarning says why a cohort's rooms cannot open while it has fewer than two
// facilitators; empty when it has two.
func facilitatorWarning(n int) string {
	switch n {
	case 0:
		return "This cohort has no facilitators: its dialogue rooms cannot open until it has two."
	case 1:
		return "This cohort has one facilitator: its dialogue rooms cannot open until it has two."
	}
	return ""
}

// staffRows lists the staff with, for each supervisor, the trainees ticked.
func staffRows(members []courses.Membership, people map[string]accounts.User) []staffRow {
	var rows []staffRow
	for _, m := range members {
		u, ok := people[m.UserID]
		if !ok || m.Role == accounts.RoleTrainee {
			continue
		}
		row := staffRow{User: u, Role: m.Role}
		if m.Role == accounts.RoleSupervisor {
			for _, t := range members {
				if tu, ok := people[t.UserID]; ok && t.Role == accounts.RoleTrainee {
					ticked := slices.Contains(m.Supervises, t.UserID)
					row.Trainees = append(row.Trainees, traineeChoice{ID: t.UserID, Name: tu.Name, Checked: ticked})
					if ticked {
						row.Supervises = append(row.Supervises, tu.Name)
					}
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// staffFieldIDs links the store's fields to the add form's inputs.
var staffFieldIDs = map[string]string{"": "member-email", "userId": "member-email", "role": "member-email", "supervises": "member-supervises"}

// staffFormError shows the cohort page again with the form's problems, or returns the error
// when it is not about the input.
func (s *Server) staffFormError(c echo.Context, err error, fieldIDs map[string]string) error {
	errs, err := formErrors(err, fieldIDs)
	if err != nil {
		return err
	}
	return s.renderCohort(c, http.StatusBadRequest, errs)
}

// staffDone goes back to the cohort's members, saying what was done.
func staffDone(c echo.Context, cohortID, notice string) error {
	return c.Redirect(http.StatusSeeOther, "/cohorts/"+cohortID+"?done="+url.QueryEscape(notice)+"#members")
}

// pageAddMember adds the person with the email address to the cohort, in their account's
// role; a supervisor with the trainees ticked.
func (s *Server) pageAddMember(c echo.Context) error {
	ctx := c.Request().Context()
	co, err := s.deps.Courses.Cohort(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	email := strings.TrimSpace(c.FormValue("email"))
	if email == "" {
		return s.staffFormError(c, failure.Problem("userId", "Enter the email address of the person to add"), staffFieldIDs)
	}
	u, err := s.deps.Accounts.Users.ByEmail(ctx, email)
	if errors.Is(err, failure.ErrNotFound) {
		return s.staffFormError(c, failure.Problem("userId", "No account has this email address: add the person on the People and cohorts page first"), staffFieldIDs)
	}
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	var supervises []string
	if u.Role == accounts.RoleSupervisor {
		supervises = form["supervises"]
	}
	m, added, err := s.addMember(c, co.ID, u, "", supervises)
	if err != nil {
		return s.staffFormError(c, err, staffFieldIDs)
	}
	notice := u.Name + " is a " + string(m.Role) + " of this cohort already."
	if added {
		notice = "Added " + u.Name + " as a " + string(m.Role) + "."
	}
	return staffDone(c, co.ID, notice)
}

// pageChangeMember saves a supervisor's trainees, or brings a member's role into line with
// their account's (the form's role).
func (s *Server) pageChangeMember(c echo.Context) error {
	ctx := c.Request().Context()
	co, err := s.deps.Courses.Cohort(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	m, err := s.changeMember(c, co.ID, c.Param("userId"), c.FormValue("role"), form["supervises"])
	if err != nil {
		ids := map[string]string{"": "members", "role": "members", "supervises": "supervises-" + c.Param("userId")}
		return s.staffFormError(c, err, ids)
	}
	name := s.personName(c, m.UserID)
	notice := "Saved " + name + "'s role: " + string(m.Role) + "."
	if m.Role == accounts.RoleSupervisor {
		notice = "Saved the trainees " + name + " supervises."
	}
	return staffDone(c, co.ID, notice)
}

// pageRemoveMember takes the person out of the cohort.
func (s *Server) pageRemoveMember(c echo.Context) error {
	ctx := c.Request().Context()
	co, err := s.deps.Courses.Cohort(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	m, err := s.removeMember(c, co.ID, c.Param("userId"))
	if err != nil {
		return err
	}
	return staffDone(c, co.ID, "Removed "+s.personName(c, m.UserID)+" from the cohort.")
}
