package server

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
)

type adminPerson struct {
	User    accounts.User
	Cohorts []string
}

type adminData struct {
	People  []adminPerson
	Cohorts []courses.Cohort
	Trusts  []courses.Trust
	Roles   []accounts.Role
	// Invitation is one just made that no email carries: its link, shown this once.
	Invitation  *invitation
	InvitedName string
	// Emails says whether email reaches people, so the page says what adding one does.
	Emails bool
	// FailedEmails counts the emails that could not be delivered and are not dismissed.
	FailedEmails int
}

func (s *Server) adminData(c echo.Context) (adminData, error) {
	ctx := c.Request().Context()
	users, err := s.deps.Accounts.Users.List(ctx)
	if err != nil {
		return adminData{}, err
	}
	cohorts, err := s.deps.Courses.Cohorts(ctx)
	if err != nil {
		return adminData{}, err
	}
	trusts, err := s.deps.Courses.Trusts(ctx)
	if err != nil {
		return adminData{}, err
	}
	names := map[string]string{}
	for _, co := range cohorts {
		names[co.ID] = co.Name
	}
	d := adminData{Cohorts: cohorts, Trusts: trusts, Roles: accounts.Roles, Emails: s.emailDelivers()}
	if s.deps.Email != nil {
		failed, err := s.deps.Email.Failed(ctx)
		if err != nil {
			return adminData{}, err
		}
		d.FailedEmails = len(failed)
	}
	for _, u := range users {
		ms, err := s.deps.Courses.MembershipsOf(ctx, u.ID)
		if err != nil {
			return adminData{}, err
		}
		p := adminPerson{User: u}
		for _, m := range ms {
			p.Cohorts = append(p.Cohorts, names[m.CohortID])
		}
		d.People = append(d.People, p)
	}
	return d, nil
}

// adminRender shows the admin page, with a form's errors and values when one was refused.
func (s *Server) adminRender(c echo.Context, status int, notice string, errs []fieldError, values map[string]string) error {
	d, err := s.adminData(c)
	if err != nil {
		return err
	}
	return s.renderStatus(c, status, "admin", pageData{Title: "People and cohorts", Nav: "admin", Notice: notice, Errors: errs, Values: values, Data: d})
}

func (s *Server) adminPage(c echo.Context) error {
	return s.adminRender(c, http.StatusOK, c.QueryParam("done"), nil, nil)
}

// adminDone redirects after a change, so a reload does not repeat it.
func adminDone(c echo.Context, notice string) error {
	return c.Redirect(http.StatusSeeOther, "/admin?done="+url.QueryEscape(notice))
}

func (s *Server) adminAddPerson(c echo.Context) error {
	req := createUserRequest{
		Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role"),
		Password: c.FormValue("password"), TrustID: c.FormValue("trustId"), CohortID: c.FormValue("cohortId"),
		PeerWorker: c.FormValue("peerWorker") == "yes",
	}
	u, err := s.createPerson(c, req)
	if err != nil {
		errs, err := formErrors(err, map[string]string{"email": "person-email", "name": "person-name", "role": "person-role",
			"password": "person-password", "trustId": "person-trust", "cohortId": "person-cohort", "": "person-email"})
		if err != nil {
			return err
		}
		values := map[string]string{"person-email": req.Email, "person-name": req.Name, "person-role": req.Role,
			"person-trust": req.TrustID, "person-cohort": req.CohortID}
		if req.PeerWorker {
			values["person-peer"] = "yes"
		}
		return s.adminRender(c, http.StatusBadRequest, "", errs, values)
	}
	if req.Password != "" {
		return adminDone(c, "Added "+u.Name+" ("+u.Role.Label()+"). They can sign in with "+u.Email+" and the password you set.")
	}
	inv, u, err := s.invite(c, u.ID)
	if err != nil {
		return err
	}
	return s.adminInvited(c, inv, u)
}

func (s *Server) adminAddCohort(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.FormValue("name")
	form, _ := c.FormParams()
	nc := courses.NewCohort{Name: name, TrustIDs: form["trustIds"]}
	start, err := parseDate("startDate", "the start date", c.FormValue("startDate"))
	if err != nil {
		err = joinProblems([]error{err}, nc.Validate())
	} else {
		nc.StartDate = start
		var co courses.Cohort
		if co, _, err = s.deps.Courses.CreateCohortFromTemplate(ctx, nc, currentUser(c).ID); err == nil {
			s.record(c, audit.Entry{Action: audit.CohortAdded, SubjectID: co.ID, SubjectName: co.Name,
				Changes: []audit.Change{{Field: "start", After: co.StartDate.Format("2006-01-02")}}})
		}
	}
	if err != nil {
		errs, err := formErrors(err, map[string]string{"name": "cohort-name", "startDate": "cohort-start", "trustIds": "cohort-trusts", "": "cohort-name"})
		if err != nil {
			return err
		}
		return s.adminRender(c, http.StatusBadRequest, "", errs, map[string]string{"cohort-name": name, "cohort-start": c.FormValue("startDate")})
	}
	return adminDone(c, "Set up the cohort "+name+".")
}

func (s *Server) adminAddTrust(c echo.Context) error {
	t, err := s.deps.Courses.CreateTrust(c.Request().Context(), c.FormValue("name"))
	if err == nil {
		s.record(c, audit.Entry{Action: audit.TrustAdded, SubjectID: t.ID, SubjectName: t.Name})
	}
	if err != nil {
		errs, err := formErrors(err, map[string]string{"name": "trust-name", "": "trust-name"})
		if err != nil {
			return err
		}
		return s.adminRender(c, http.StatusBadRequest, "", errs, map[string]string{"trust-name": c.FormValue("name")})
	}
	return adminDone(c, "Added the trust "+t.Name+".")
}

func (s *Server) adminDisablePerson(c echo.Context) error {
	reason := c.FormValue("reason")
	u, err := s.setDisabled(c, c.Param("id"), true, reason)
	if err != nil {
		errs, err := formErrors(err, map[string]string{"reason": "disable-reason", "disabled": "disable-reason"})
		if err != nil {
			return err
		}
		if c.FormValue("from") == "person" {
			return s.personRender(c, http.StatusBadRequest, c.Param("id"), "", errs, nil)
		}
		return s.adminRender(c, http.StatusBadRequest, "", errs, nil)
	}
	return s.adminBack(c, u, "Disabled "+u.Name+"'s account and ended their sessions.")
}

// adminBack redirects after a change to a person, to their page when the form was there.
func (s *Server) adminBack(c echo.Context, u accounts.User, notice string) error {
	if c.FormValue("from") == "person" {
		return c.Redirect(http.StatusSeeOther, "/admin/people/"+u.ID+"?done="+url.QueryEscape(notice))
	}
	return adminDone(c, notice)
}

func (s *Server) adminEnablePerson(c echo.Context) error {
	u, err := s.setDisabled(c, c.Param("id"), false, "")
	if err != nil {
		return err
	}
	return s.adminBack(c, u, "Enabled "+u.Name+"'s account.")
}
