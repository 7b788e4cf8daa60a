package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
)

// Progress towards the award: a trainee's own page, the cohort's grid for its staff, a
// trainee's page as staff see it, and the administrators' page of the award rules.

func (s *Server) progressRoutes() {
	s.add(http.MethodGet, "/progress", SignedIn, s.progressPage)
	s.add(http.MethodGet, "/cohorts/:id/progress", SignedIn, s.cohortProgressPage)
	s.add(http.MethodGet, "/cohorts/:id/progress.csv", SignedIn, s.cohortProgressCSV)
	s.add(http.MethodGet, "/cohorts/:id/progress/:trainee", SignedIn, s.traineeProgressPage)
	s.add(http.MethodGet, "/cohorts/:id/award-rules", AdminOnly, s.awardRulesPage)
	s.add(http.MethodPost, "/cohorts/:id/award-rules", AdminOnly, s.awardRulesForm)
	s.add(http.MethodGet, "/api/v1/me/progress", SignedIn, s.apiMyProgress)
	s.add(http.MethodGet, "/api/v1/cohorts/:id/progress", SignedIn, s.apiCohortProgress)
	s.add(http.MethodGet, "/api/v1/cohorts/:id/progress/:trainee", SignedIn, s.apiTraineeProgress)
	s.add(http.MethodGet, "/api/v1/cohorts/:id/award-rules", SignedIn, s.apiGetAwardRules)
	s.add(http.MethodPut, "/api/v1/cohorts/:id/award-rules", AdminOnly, s.apiPutAwardRules)
}

// progressService is the award's rules and progress; without it, progress is not found.
func (s *Server) progressService() (*progress.Service, error) {
	if s.deps.Progress == nil {
		return nil, fmt.Errorf("progress: %w", failure.ErrNotFound)
	}
	return s.deps.Progress, nil
}

// resultView is one rule's result as a page shows it, to the trainee or to staff (whose
// links to the evidence lead to the registers and results, as far as they may open them).
type resultView struct {
	progress.Result
	Staff bool
	// Registers says the reader opens the cohort's registers (its facilitators and the
	// administrators); Results, the tests' results (administrators and assessors).
	Registers, Results bool
}

// Class is the tag's colour for the state; the state is always written beside it too.
func (r resultView) Class() string { return stateClass(r.State) }

func stateClass(s progress.State) string {
	switch s {
	case progress.Met:
		return "nhsuk-tag--green"
	case progress.AtRisk:
		return "nhsuk-tag--orange"
	case progress.NotMet:
		return "nhsuk-tag--red"
	}
	return "nhsuk-tag--grey"
}

// Label is the state in words, with a capital.
func (r resultView) Label() string { return stateLabel(r.State) }

func stateLabel(s progress.State) string {
	switch s {
	case progress.Met:
		return "Met"
	case progress.AtRisk:
		return "At risk"
	case progress.NotMet:
		return "Not met"
	}
	return "Not yet"
}

// Counted writes the count against the need: "16 of 18 days".
func (r resultView) Counted() string {
	return number(r.Count) + " of " + number(r.Need) + " " + r.Unit
}

func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Link is where the reader opens a piece of evidence; empty when there is no page they may
// open for it.
func (r resultView) Link(e progress.Evidence) string {
	if !r.Staff {
		return e.Path
	}
	switch {
	case strings.Contains(e.StaffPath, "/register/") && !r.Registers:
		return ""
	case strings.HasPrefix(e.StaffPath, "/assessments/") && !r.Results:
		return ""
	}
	return e.StaffPath
}

type progressPageData struct {
	View    cohortView
	Name    string
	Staff   bool
	Results []resultView
	Met     int
	Rules   progress.Rules
	// Cohorts are the grids a member of staff may open, on their /progress.
	Cohorts []courses.Cohort
	// NoCohort says a trainee belongs to no cohort with a programme yet.
	NoCohort bool
	Eligible bool
	AtRisk   bool
	// Next is what to do next for each rule not decided yet, soonest first.
	Next []progress.Result
	// Awards are the trainee's own awards, with their certificates.
	Awards []myAward
}

// nextSteps lists the results with a next step, those with a date soonest first.
func nextSteps(p progress.Progress) []progress.Result {
	var out []progress.Result
	for _, r := range p.Results {
		if r.Next != "" {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].NextBy, out[j].NextBy
		return !a.IsZero() && (b.IsZero() || a.Before(b))
	})
	return out
}

// resultViews are the results as the person reads them, in the cohort as v.
func resultViews(p progress.Progress, u *accounts.User, v cohortView) []resultView {
	out := make([]resultView, len(p.Results))
	for i, r := range p.Results {
		out[i] = resultView{Result: r, Staff: u.ID != p.TraineeID, Registers: v.CanManage(u),
			Results: u.Role == accounts.RoleAdmin || u.Role == accounts.RoleAssessor}
	}
	return out
}

// progressPage is a trainee's progress towards the award; for staff, the cohorts whose
// progress they may see.
func (s *Server) progressPage(c echo.Context) error {
	svc, err := s.progressService()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	if u.Role != accounts.RoleTrainee {
		d := progressPageData{Staff: true}
		var cohorts []courses.Cohort
		if u.Role == accounts.RoleAdmin {
			if cohorts, err = s.deps.Courses.Cohorts(ctx); err != nil {
				return err
			}
		} else {
			ms, err := s.deps.Courses.MembershipsOf(ctx, u.ID)
			if err != nil {
				return err
			}
			for _, m := range ms {
				co, err := s.deps.Courses.Cohort(ctx, m.CohortID)
				if err != nil {
					return err
				}
				cohorts = append(cohorts, co)
			}
		}
		for _, co := range cohorts {
			if _, err := svc.Seen(ctx, viewerFrom(c), co.ID); err == nil {
				d.Cohorts = append(d.Cohorts, co)
			}
		}
		return s.render(c, "progress", pageData{Title: "Progress towards the award", Nav: "progress", Data: d})
	}
	v, err := s.myCohort(c)
	if errors.Is(err, errNoCohort) {
		return s.render(c, "progress", pageData{Title: "Your progress", Nav: "progress", Data: progressPageData{NoCohort: true}})
	}
	if err != nil {
		return err
	}
	p, err := svc.Trainee(ctx, viewerFrom(c), v.Cohort.ID, u.ID)
	if errors.Is(err, failure.ErrNotFound) {
		return s.render(c, "progress", pageData{Title: "Your progress", Nav: "progress", Data: progressPageData{View: v, NoCohort: true}})
	}
	if err != nil {
		return err
	}
	d := progressPageData{View: v, Name: u.Name, Results: resultViews(p, u, v), Met: p.Met, Eligible: p.Eligible(), AtRisk: p.AtRisk, Next: nextSteps(p)}
	if s.deps.Awards != nil {
		if d.Awards, err = s.myAwards(c); err != nil {
			return err
		}
	}
	return s.render(c, "progress", pageData{Title: "Your progress", Nav: "progress", Data: d})
}

// traineeProgressPage is one trainee's progress as the cohort's staff see it.
func (s *Server) traineeProgressPage(c echo.Context) error {
	svc, err := s.progressService()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	if u.Role == accounts.RoleTrainee {
		return failure.ErrNotFound // a trainee's own page is /progress
	}
	v, err := s.cohortAccess(ctx, u, c.Param("id"))
	if err != nil {
		return err
	}
	p, err := svc.Trainee(ctx, viewerFrom(c), v.Cohort.ID, c.Param("trainee"))
	if err != nil {
		return err
	}
	name := p.TraineeID
	if t, err := s.deps.Accounts.Users.ByID(ctx, p.TraineeID); err == nil {
		name = t.Name
	}
	return s.render(c, "progress", pageData{Title: "Progress: " + name, Nav: "progress", Data: progressPageData{
		View: v, Name: name, Staff: true, Results: resultViews(p, u, v), Met: p.Met, Eligible: p.Eligible(), AtRisk: p.AtRisk, Next: nextSteps(p),
	}})
}

// gridRow is one trainee's line of the grid.
type gridRow struct {
	ID      string
	Name    string
	Met     int
	AtRisk  bool
	Results []resultView
}

type gridPageData struct {
	View     cohortView
	Rules    progress.Rules
	Titles   []string
	Rows     []gridRow
	Total    int
	Sort     string
	AtRisk   bool
	Whole    bool
	Admin    bool
	Chart    mcqChart
	Months   []monthRow
	Filtered string // the query of the current sort and filter, for the CSV link
}

type monthRow struct {
	Label   string
	Marked  int
	Present int
	Percent string
}

// cohortGrid reads the grid of the cohort for the person and puts names to its trainees.
func (s *Server) cohortGrid(c echo.Context) (cohortView, progress.Grid, map[string]string, error) {
	svc, err := s.progressService()
	if err != nil {
		return cohortView{}, progress.Grid{}, nil, err
	}
	ctx := c.Request().Context()
	v, err := s.cohortAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return cohortView{}, progress.Grid{}, nil, err
	}
	g, err := svc.Cohort(ctx, viewerFrom(c), v.Cohort.ID)
	if err != nil {
		return cohortView{}, progress.Grid{}, nil, err
	}
	names := map[string]string{}
	for _, p := range g.Trainees {
		names[p.TraineeID] = p.TraineeID
		if t, err := s.deps.Accounts.Users.ByID(ctx, p.TraineeID); err == nil {
			names[p.TraineeID] = t.Name
		}
	}
	return v, g, names, nil
}

// arrange sorts the grid's trainees by name (the default) or by the rules met, most first,
// and keeps only those at risk when atRisk says so.
func arrange(g progress.Grid, names map[string]string, by string, atRisk bool) []progress.Progress {
	var out []progress.Progress
	for _, p := range g.Trainees {
		if !atRisk || p.AtRisk {
			out = append(out, p)
		}
	}
	byName := func(a, b progress.Progress) bool {
		na, nb := strings.ToLower(names[a.TraineeID]), strings.ToLower(names[b.TraineeID])
		if na != nb {
			return na < nb
		}
		return a.TraineeID < b.TraineeID
	}
	sort.SliceStable(out, func(i, j int) bool {
		if by == "met" && out[i].Met != out[j].Met {
			return out[i].Met > out[j].Met
		}
		return byName(out[i], out[j])
	})
	return out
}

func gridQuery(c echo.Context) (by string, atRisk bool) {
	by = c.QueryParam("sort")
	if by != "met" {
		by = "name"
	}
	return by, c.QueryParam("show") == "at-risk"
}

func (s *Server) cohortProgressPage(c echo.Context) error {
	v, g, names, err := s.cohortGrid(c)
	if err != nil {
		return err
	}
	by, atRisk := gridQuery(c)
	d := gridPageData{View: v, Rules: g.Rules, Sort: by, AtRisk: atRisk, Whole: g.Whole, Total: len(g.Trainees), Admin: currentUser(c).Role == accounts.RoleAdmin}
	q := url.Values{"sort": {by}}
	if atRisk {
		q.Set("show", "at-risk")
	}
	d.Filtered = q.Encode()
	for _, r := range g.Rules.Rules {
		d.Titles = append(d.Titles, r.Kind.Title())
	}
	for _, p := range arrange(g, names, by, atRisk) {
		d.Rows = append(d.Rows, gridRow{ID: p.TraineeID, Name: names[p.TraineeID], Met: p.Met, AtRisk: p.AtRisk, Results: resultViews(p, currentUser(c), v)})
	}
	d.Chart, d.Months = attendanceChart(g.Attendance)
	return s.render(c, "progress_cohort", pageData{Title: "Progress: " + v.Cohort.Name, Nav: "progress", Notice: c.QueryParam("done"), Data: d})
}

// attendanceChart draws the share of marks that were "present" in each month of the
// programme, with the same figures as a table.
func attendanceChart(months []progress.MonthAttendance) (mcqChart, []monthRow) {
	var labels []string
	var values []*float64
	var rows []monthRow
	for _, m := range months {
		t, _ := time.Parse("2006-01", m.Month)
		label := t.Format("Jan 06")
		labels = append(labels, label)
		row := monthRow{Label: t.Format("January 2006"), Marked: m.Marked, Present: m.Present, Percent: "no registers"}
		if m.Marked > 0 {
			p := m.Percent()
			values = append(values, &p)
			row.Percent = strconv.FormatFloat(p, 'f', 0, 64) + "%"
		} else {
			values = append(values, nil)
		}
		rows = append(rows, row)
	}
	ch := mcqBars("chart-attendance", "Attendance in each month", "The share of the registers' marks in each month of the programme that were present, from 0 to 100%; months without a register show n/a. The same figures are in the table beside the chart.", labels, values, 0, 100)
	for i := range ch.Bars {
		if values[i] != nil {
			ch.Bars[i].Value = rows[i].Percent
		}
	}
	for i := range ch.Axis {
		ch.Axis[i].Label += "%"
	}
	return ch, rows
}

func (s *Server) cohortProgressCSV(c echo.Context) error {
	v, g, names, err := s.cohortGrid(c)
	if err != nil {
		return err
	}
	by, atRisk := gridQuery(c)
	g.Trainees = arrange(g, names, by, atRisk)
	var b bytes.Buffer
	if err := progress.WriteCSV(&b, g, names); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s progress.csv"`, strings.ReplaceAll(v.Cohort.Name, `"`, "")))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}

type rulesPageData struct {
	View  cohortView
	Rules progress.Rules
	// Has says which kinds the rules include.
	Has map[string]bool
	// Rule is the parameters of each kind, as saved or as typed.
	Rule map[string]progress.Rule
	// Tests is the tests named, as typed.
	Tests string
}

func (s *Server) awardRulesPage(c echo.Context) error {
	_, v, r, err := s.cohortRules(c)
	if err != nil {
		return err
	}
	return s.renderRules(c, http.StatusOK, v, r, nil)
}

func (s *Server) renderRules(c echo.Context, status int, v cohortView, r progress.Rules, errs []fieldError) error {
	d := rulesPageData{View: v, Rules: r, Has: map[string]bool{}, Rule: map[string]progress.Rule{}}
	for _, x := range r.Rules {
		d.Has[string(x.Kind)], d.Rule[string(x.Kind)] = true, x
		if x.Kind == progress.KindTests {
			d.Tests = strings.Join(x.AssessmentIDs, ", ")
		}
	}
	return s.renderStatus(c, status, "progress_rules", pageData{Title: "Award rules: " + v.Cohort.Name, Nav: "progress", Errors: errs, Data: d})
}

// rulesFromForm reads the award rules' form: a box for each kind of rule to include, and its
// parameters.
func rulesFromForm(c echo.Context, cohortID string) (progress.Rules, int, []error) {
	var problems []error
	num := func(field string) int {
		raw := strings.TrimSpace(c.FormValue(field))
		if raw == "" {
			return 0
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			problems = append(problems, failure.Problemf(field, "Enter a whole number, like 18"))
		}
		return n
	}
	r := progress.Rules{CohortID: cohortID}
	on := func(k progress.Kind) bool { return c.FormValue("include-"+string(k)) == "on" }
	for _, k := range progress.Kinds {
		if !on(k) {
			continue
		}
		x := progress.Rule{Kind: k}
		switch k {
		case progress.KindResidential:
			x.Days, x.EveryModule = num("residential-days"), c.FormValue("residential-every-module") == "on"
		case progress.KindDialogue:
			x.Sessions = num("dialogue-sessions")
		case progress.KindTests:
			for _, id := range strings.Split(c.FormValue("tests"), ",") {
				if id = strings.TrimSpace(id); id != "" {
					x.AssessmentIDs = append(x.AssessmentIDs, id)
				}
			}
		case progress.KindSupervision:
			x.Hours = num("supervision-hours")
		case progress.KindPractice:
			x.Weeks = num("practice-weeks")
		}
		r.Rules = append(r.Rules, x)
	}
	version, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		problems = append(problems, failure.Invalid("version", "the form's version is missing; reload the page"))
	}
	return r, version, problems
}

// ruleField is the form's input for a field of the rules the domain names ("rules[0].days").
func ruleField(r progress.Rules, field string) string {
	var i int
	if _, err := fmt.Sscanf(field, "rules[%d]", &i); err != nil || i < 0 || i >= len(r.Rules) {
		return field
	}
	switch r.Rules[i].Kind {
	case progress.KindResidential:
		return "residential-days"
	case progress.KindDialogue:
		return "dialogue-sessions"
	case progress.KindTests:
		return "tests"
	case progress.KindSupervision:
		return "supervision-hours"
	case progress.KindPractice:
		return "practice-weeks"
	}
	return "include-" + string(r.Rules[i].Kind)
}

func (s *Server) awardRulesForm(c echo.Context) error {
	svc, v, before, err := s.cohortRules(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, base, reading := rulesFromForm(c, v.Cohort.ID)
	var saved progress.Rules
	if len(reading) == 0 {
		saved, err = svc.SaveRules(ctx, r, base, currentUser(c).ID)
	}
	if err = joinProblems(reading, err); err != nil {
		var conflict *failure.ConflictError
		if asConflict(err, &conflict) {
			return s.renderRules(c, http.StatusConflict, v, before, []fieldError{{Field: "version", Message: conflict.Message}})
		}
		invalids := failure.Invalids(err)
		if len(invalids) == 0 {
			return err
		}
		var errs []fieldError
		for _, in := range invalids {
			errs = append(errs, fieldError{Field: ruleField(r, in.Field), Message: invalidMessage(in)})
		}
		r.Version = base
		return s.renderRules(c, http.StatusBadRequest, v, r, errs)
	}
	s.recordRules(c, v.Cohort, before, saved)
	return c.Redirect(http.StatusSeeOther, "/cohorts/"+v.Cohort.ID+"/progress?done="+url.QueryEscape(fmt.Sprintf("The award rules are saved as version %d.", saved.Version)))
}

// recordRules puts a change of the award rules into the audit log.
func (s *Server) recordRules(c echo.Context, co courses.Cohort, before, after progress.Rules) {
	changes := append(audit.Diff(progress.FieldNames, before.Fields(), after.Fields()),
		audit.Change{Field: "version", Before: strconv.Itoa(before.Version), After: strconv.Itoa(after.Version)})
	s.record(c, audit.Entry{Action: audit.AwardRulesChanged, SubjectID: co.ID, SubjectName: co.Name, Changes: changes})
}

// cohortRules reads the cohort of the request (as the caller may see it) and its award
// rules.
func (s *Server) cohortRules(c echo.Context) (*progress.Service, cohortView, progress.Rules, error) {
	svc, err := s.progressService()
	if err != nil {
		return nil, cohortView{}, progress.Rules{}, err
	}
	ctx := c.Request().Context()
	v, err := s.cohortAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return nil, cohortView{}, progress.Rules{}, err
	}
	r, err := svc.Rules(ctx, v.Cohort.ID)
	if err != nil {
		return nil, cohortView{}, progress.Rules{}, err
	}
	return svc, v, r, nil
}
