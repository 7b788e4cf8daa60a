package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

type scheduleData struct {
	View        cohortView
	Occasions   []scheduleRow
	CalendarURL string
	Trainee     bool
	Facilitator bool
}

type scheduleRow struct {
	Occasion courses.Occasion
	Mark     courses.Mark
	Note     string
	Past     bool
}

func (s *Server) calendarURL(c echo.Context, userID string) (string, error) {
	tok, err := s.deps.Courses.CalendarToken(c.Request().Context(), userID)
	if err != nil {
		return "", err
	}
	return s.cfg.PublicURL.String() + "/calendar/" + tok + ".ics", nil
}

func (s *Server) schedulePage(c echo.Context) error {
	v, p, err := s.programmeFor(c)
	if err != nil {
		return s.noProgramme(c, "Your schedule", err)
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	d := scheduleData{View: v, Trainee: v.Role == accounts.RoleTrainee, Facilitator: v.Role == accounts.RoleFacilitator}
	marks := map[string]courses.AttendanceRecord{}
	if d.Trainee {
		recs, err := s.deps.Courses.AttendanceOf(ctx, v.Cohort.ID, u.ID)
		if err != nil {
			return err
		}
		for _, r := range recs {
			marks[r.Occasion] = r
		}
	}
	now := time.Now()
	for _, o := range p.Occasions() {
		d.Occasions = append(d.Occasions, scheduleRow{Occasion: o, Mark: marks[o.ID].Mark, Note: marks[o.ID].Note, Past: o.Date.Before(now)})
	}
	if d.CalendarURL, err = s.calendarURL(c, u.ID); err != nil {
		return err
	}
	return s.render(c, "schedule", pageData{Title: "Your schedule", Nav: "schedule", Notice: c.QueryParam("done"), Data: d})
}

func (s *Server) rotateCalendar(c echo.Context) error {
	if _, err := s.deps.Courses.RotateCalendarToken(c.Request().Context(), currentUser(c).ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/schedule?done="+url.QueryEscape("Your calendar has a new address. The old one no longer works: subscribe again with the new one."))
}

// calendarFeed serves a person's iCalendar feed to whoever holds its private address.
func (s *Server) calendarFeed(c echo.Context) error {
	tok := strings.TrimSuffix(c.Param("token"), ".ics")
	ctx := c.Request().Context()
	userID, err := s.deps.Courses.CalendarUser(ctx, tok)
	if err != nil {
		return failure.ErrNotFound
	}
	u, err := s.deps.Accounts.Users.ByID(ctx, userID)
	if err != nil || u.Disabled {
		return failure.ErrNotFound
	}
	ms, err := s.deps.Courses.MembershipsOf(ctx, userID)
	if err != nil {
		return err
	}
	// One feed for every cohort the person belongs to, in the order they joined them; a
	// cohort without a programme yet has nothing to put in it.
	var feed []courses.CohortCalendar
	for _, m := range ms {
		co, err := s.deps.Courses.Cohort(ctx, m.CohortID)
		if err != nil {
			return err
		}
		p, err := s.deps.Courses.Programme(ctx, m.CohortID)
		if err != nil {
			continue
		}
		cal := courses.CohortCalendar{Cohort: co, Programme: p}
		if m.Role == accounts.RoleTrainee || m.Role == accounts.RoleFacilitator {
			cal.RoomURL = func(sessionID string) string { return s.cfg.PublicURL.String() + roomPath(co.ID, sessionID) }
		}
		feed = append(feed, cal)
	}
	out := courses.CalendarFeed(feed, time.Now())
	c.Response().Header().Set("Cache-Control", "private, max-age=900")
	return c.Blob(http.StatusOK, "text/calendar; charset=utf-8", out)
}

type cohortPageData struct {
	View      cohortView
	Programme *courses.Programme
	Trainees  []accounts.User
	Staff     []staffRow
	Occasions []courses.Occasion
	// Staffing says the reader may add, change and remove members: an administrator.
	Staffing bool
	// FacilitatorWarning says why the rooms cannot open yet; empty with two facilitators.
	FacilitatorWarning string
	// Choices are the cohort's trainees, for the add form's supervisor's trainees.
	Choices []traineeChoice
	// ModulesTyped says the module dates form was refused: its inputs show what was typed.
	ModulesTyped bool
}

func (s *Server) cohortPage(c echo.Context) error {
	return s.renderCohort(c, http.StatusOK, nil)
}

// renderCohort shows the cohort page, with the errors of a refused form when there are any.
func (s *Server) renderCohort(c echo.Context, status int, errs []fieldError) error {
	ctx := c.Request().Context()
	v, err := s.manageAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	d := cohortPageData{View: v}
	if p, err := s.deps.Courses.Programme(ctx, v.Cohort.ID); err == nil {
		d.Programme = &p
		d.Occasions = p.Occasions()
	}
	members, err := s.deps.Courses.Members(ctx, v.Cohort.ID)
	if err != nil {
		return err
	}
	people := map[string]accounts.User{}
	facilitators := 0
	for _, m := range members {
		u, err := s.deps.Accounts.Users.ByID(ctx, m.UserID)
		if err != nil {
			continue
		}
		people[u.ID] = u
		switch m.Role {
		case accounts.RoleTrainee:
			d.Trainees = append(d.Trainees, u)
			d.Choices = append(d.Choices, traineeChoice{ID: u.ID, Name: u.Name})
		case accounts.RoleFacilitator:
			facilitators++
		}
	}
	d.Staff = staffRows(members, people)
	d.FacilitatorWarning = facilitatorWarning(facilitators)
	d.Staffing = currentUser(c).Role == accounts.RoleAdmin
	var typed map[string]string
	if errs != nil {
		typed = map[string]string{"member-email": c.FormValue("email")}
		if d.ModulesTyped = strings.HasSuffix(c.Path(), "/modules"); d.ModulesTyped {
			for _, id := range moduleFieldIDs() {
				typed[id] = c.FormValue(id)
			}
		}
	}
	return s.renderStatus(c, status, "cohort", pageData{Title: v.Cohort.Name, Nav: "cohort", Notice: c.QueryParam("done"), Errors: errs, Values: typed, Data: d})
}

// saveModuleDates takes the four modules' dates and venues from the cohort page's form. A
// module whose first day changes while its last day is left as it was moves whole: the last
// day follows, keeping the module's length, as a person moving a module means.
func (s *Server) saveModuleDates(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.manageAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	p, err := s.deps.Courses.Programme(ctx, v.Cohort.ID)
	if err != nil {
		return err
	}
	base := p.Version
	var reading []error
	for i, m := range p.Modules {
		n := strconv.Itoa(i + 1)
		start, startErr := parseDate("modules["+strconv.Itoa(i)+"].start", "the first day of module "+n, c.FormValue("start"+n))
		end, endErr := parseDate("modules["+strconv.Itoa(i)+"].end", "the last day of module "+n, c.FormValue("end"+n))
		if startErr != nil || endErr != nil {
			reading = append(reading, startErr, endErr)
			continue
		}
		if !sameDay(start, m.Start) && sameDay(end, m.End) {
			end = start.Add(m.End.Sub(m.Start))
		}
		p.Modules[i] = m.Move(start, end)
		p.Modules[i].Venue = strings.TrimSpace(c.FormValue("venue" + n))
	}
	if reading != nil {
		return s.cohortFormError(c, joinProblems(reading, p.Validate()))
	}
	if _, err := s.deps.Courses.SaveProgramme(ctx, p, base, currentUser(c).ID); err != nil {
		return s.cohortFormError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/cohorts/"+v.Cohort.ID+"?done="+url.QueryEscape("Saved the module dates."))
}

// moduleFieldIDs links the programme's fields to the cohort page's inputs: modules[1].start
// is the first day of module 2 (start2); anything else is the module dates' fieldset.
func moduleFieldIDs() map[string]string {
	ids := map[string]string{"": "modules"}
	for i := range 4 {
		n := strconv.Itoa(i + 1)
		f := "modules[" + strconv.Itoa(i) + "]"
		ids[f+".start"], ids[f+".end"], ids[f+".venue"] = "start"+n, "end"+n, "venue"+n
	}
	return ids
}

func (s *Server) cohortFormError(c echo.Context, err error) error {
	errs, err := formErrors(err, moduleFieldIDs())
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, id := range moduleFieldIDs() {
		known[id] = true
	}
	for i := range errs {
		if !known[errs[i].Field] {
			errs[i].Field = "modules"
		}
	}
	return s.renderCohort(c, http.StatusBadRequest, errs)
}

type registerData struct {
	View     cohortView
	Occasion courses.Occasion
	Records  []registerRow
}

type registerRow struct {
	Record courses.AttendanceRecord
	Name   string
}

func (s *Server) registerPage(c echo.Context) error {
	return s.renderRegister(c, http.StatusOK, nil)
}

func (s *Server) renderRegister(c echo.Context, status int, errs []fieldError) error {
	ctx := c.Request().Context()
	v, err := s.manageAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	p, err := s.deps.Courses.Programme(ctx, v.Cohort.ID)
	if err != nil {
		return err
	}
	var occ *courses.Occasion
	for _, o := range p.Occasions() {
		if o.ID == c.Param("occasion") {
			o := o
			occ = &o
		}
	}
	if occ == nil {
		return failure.ErrNotFound
	}
	recs, err := s.deps.Courses.Register(ctx, v.Cohort.ID, occ.ID)
	if err != nil {
		return err
	}
	d := registerData{View: v, Occasion: *occ}
	for _, r := range recs {
		name := r.UserID
		if u, err := s.deps.Accounts.Users.ByID(ctx, r.UserID); err == nil {
			name = u.Name
		}
		d.Records = append(d.Records, registerRow{Record: r, Name: name})
	}
	return s.renderStatus(c, status, "register", pageData{Title: "Register: " + occ.Title, Nav: "cohort", Notice: c.QueryParam("done"), Errors: errs, Data: d})
}

func (s *Server) takeRegister(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.manageAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return failure.Invalid("", "the form could not be read")
	}
	var entries []courses.AttendanceEntry
	for _, id := range form["trainee"] {
		mark := courses.Mark(form.Get("mark-" + id))
		if mark == "" {
			continue // not marked yet: leave it
		}
		entries = append(entries, courses.AttendanceEntry{UserID: id, Mark: mark, Note: strings.TrimSpace(form.Get("note-" + id))})
	}
	if len(entries) == 0 {
		return s.renderRegister(c, http.StatusBadRequest, []fieldError{{Message: "Mark at least one trainee present, absent or excused."}})
	}
	if err := s.deps.Courses.TakeRegister(ctx, v.Cohort.ID, c.Param("occasion"), entries, currentUser(c).ID); err != nil {
		errs, err := formErrors(err, nil)
		if err != nil {
			return err
		}
		return s.renderRegister(c, http.StatusBadRequest, errs)
	}
	return c.Redirect(http.StatusSeeOther, "/cohorts/"+v.Cohort.ID+"/register/"+c.Param("occasion")+"?done="+url.QueryEscape("Saved the register ("+strconv.Itoa(len(entries))+" marked)."))
}

// sameDay reports whether two dates are the same calendar day.
func sameDay(a, b time.Time) bool { return a.Format(time.DateOnly) == b.UTC().Format(time.DateOnly) }
