package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
)

func (s *Server) peopleRoutes() {
	s.add(http.MethodGet, "/admin/people/:id", AdminOnly, s.personPage)
	s.add(http.MethodPost, "/admin/people/:id", AdminOnly, s.personSave)
	s.add(http.MethodGet, "/admin/audit", AdminOnly, s.auditPage)
	s.add(http.MethodGet, "/api/v1/audit", AdminOnly, s.apiAudit)
}

// personCohort is one of a person's cohorts as their page lists it.
type personCohort struct {
	ID, Name string
	Role     accounts.Role
}

type personData struct {
	Person  accounts.User
	Cohorts []personCohort
	Trusts  []courses.Trust
	Roles   []accounts.Role
	Changes []audit.Entry
	Emails  bool
	// TrustName is the person's trust's name, "" for none.
	TrustName string
}

// personRender shows a person's page, with a refused form's errors and values.
func (s *Server) personRender(c echo.Context, status int, id, notice string, errs []fieldError, values map[string]string) error {
	ctx := c.Request().Context()
	u, err := s.deps.Accounts.Users.ByID(ctx, id)
	if err != nil {
		return err
	}
	ms, err := s.deps.Courses.MembershipsOf(ctx, u.ID)
	if err != nil {
		return err
	}
	d := personData{Person: u, Roles: accounts.Roles, Emails: s.emailDelivers()}
	for _, m := range ms {
		d.Cohorts = append(d.Cohorts, personCohort{ID: m.CohortID, Name: s.cohortName(c, m.CohortID), Role: m.Role})
	}
	if d.Trusts, err = s.deps.Courses.Trusts(ctx); err != nil {
		return err
	}
	for _, t := range d.Trusts {
		if t.ID == u.TrustID {
			d.TrustName = t.Name
		}
	}
	if s.deps.Audit != nil {
		page, err := s.deps.Audit.List(ctx, audit.Filter{SubjectID: u.ID})
		if err != nil {
			return err
		}
		d.Changes = page.Entries[:min(len(page.Entries), 10)]
	}
	if values == nil {
		values = map[string]string{"person-name": u.Name, "person-email": u.Email, "person-role": string(u.Role), "person-trust": u.TrustID}
		if u.PeerWorker {
			values["person-peer"] = "yes"
		}
	}
	return s.renderStatus(c, status, "person", pageData{Title: u.Name, Nav: "admin", Notice: notice, Errors: errs, Values: values, Data: d})
}

func (s *Server) personPage(c echo.Context) error {
	return s.personRender(c, http.StatusOK, c.Param("id"), c.QueryParam("done"), nil, nil)
}

// editPerson applies an administrator's edit, checks the trust named, and logs the change.
func (s *Server) editPerson(c echo.Context, id string, version int64, e accounts.Edit) (accounts.User, error) {
	ctx := c.Request().Context()
	if e.TrustID != nil && *e.TrustID != "" {
		if _, err := s.deps.Courses.Trust(ctx, *e.TrustID); err != nil {
			return accounts.User{}, failure.Problem("trustId", "Select a trust from the list")
		}
	}
	if e.Role != nil && id == currentUser(c).ID && *e.Role != accounts.RoleAdmin {
		return accounts.User{}, failure.Problem("role", "You cannot take away your own administrator role: ask another administrator")
	}
	before, after, err := s.deps.Accounts.Users.Edit(ctx, id, version, e)
	if err != nil {
		return accounts.User{}, err
	}
	if changes := audit.Diff(accounts.FieldNames, before.Fields(), after.Fields()); len(changes) > 0 {
		s.record(c, audit.Entry{Action: audit.PersonEdited, SubjectID: after.ID, SubjectName: after.Name, Changes: changes})
	}
	return after, nil
}

func (s *Server) personSave(c echo.Context) error {
	id := c.Param("id")
	name, email, role, trust := c.FormValue("name"), c.FormValue("email"), accounts.Role(c.FormValue("role")), c.FormValue("trustId")
	peer := c.FormValue("peerWorker") == "yes"
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	u, err := s.editPerson(c, id, version, accounts.Edit{Name: &name, Email: &email, Role: &role, TrustID: &trust, PeerWorker: &peer})
	if err != nil {
		errs, err := formErrors(err, map[string]string{"name": "person-name", "email": "person-email", "role": "person-role",
			"trustId": "person-trust", "": "person-name"})
		if err != nil {
			return err
		}
		values := map[string]string{"person-name": name, "person-email": email, "person-role": string(role), "person-trust": trust}
		if peer {
			values["person-peer"] = "yes"
		}
		return s.personRender(c, http.StatusBadRequest, id, "", errs, values)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/people/"+u.ID+"?done="+url.QueryEscape("Saved "+u.Name+"'s details."))
}

type auditData struct {
	Page    audit.Page
	People  []accounts.User
	Cohorts []courses.Cohort
	Actions []struct{ Name, Label string }
	Filter  audit.Filter
	// NextURL is the link to the older entries, "" for none.
	NextURL string
}

// auditFilter reads the log's filter from the query.
func auditFilter(c echo.Context) audit.Filter {
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	return audit.Filter{SubjectID: strings.TrimSpace(c.QueryParam("subject")), ActorID: strings.TrimSpace(c.QueryParam("actor")),
		Action: strings.TrimSpace(c.QueryParam("action")), Before: before}
}

func (s *Server) auditPage(c echo.Context) error {
	ctx := c.Request().Context()
	f := auditFilter(c)
	d := auditData{Actions: audit.Actions, Filter: f}
	var err error
	if s.deps.Audit != nil {
		if d.Page, err = s.deps.Audit.List(ctx, f); err != nil {
			return err
		}
	}
	if d.People, err = s.deps.Accounts.Users.List(ctx); err != nil {
		return err
	}
	if d.Cohorts, err = s.deps.Courses.Cohorts(ctx); err != nil {
		return err
	}
	if d.Page.Next > 0 {
		q := url.Values{"before": {strconv.FormatInt(d.Page.Next, 10)}}
		for k, v := range map[string]string{"subject": f.SubjectID, "actor": f.ActorID, "action": f.Action} {
			if v != "" {
				q.Set(k, v)
			}
		}
		d.NextURL = "/admin/audit?" + q.Encode()
	}
	return s.render(c, "audit", pageData{Title: "Changes made by administrators", Nav: "admin", Data: d})
}

func (s *Server) apiAudit(c echo.Context) error {
	if s.deps.Audit == nil {
		return c.JSON(http.StatusOK, audit.Page{Entries: []audit.Entry{}})
	}
	page, err := s.deps.Audit.List(c.Request().Context(), auditFilter(c))
	if err != nil {
		return err
	}
	if page.Entries == nil {
		page.Entries = []audit.Entry{}
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": page.Entries, "next": page.Next})
}
