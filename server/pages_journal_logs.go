package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// The supervision log and the personal practice log. Both are the trainee's: a supervisor
// sees the sessions that name them (to confirm them) and, when the trainee allows it, the
// totals of their practice; nobody else sees anything.

var supervisionKindLabels = map[courses.SupervisionKind]string{
	courses.SupervisionIndividual: "Individual",
	courses.SupervisionGroup:      "Group",
	courses.SupervisionLocalTeam:  "Local team",
}

type supervisionData struct {
	Trainee     bool
	Supervisors []linkOption
	Kinds       []linkOption
	Key         string
	Today       string
	Sessions    []supervisionRow
	Totals      courses.SupervisionTotals
	Chart       monthChart
	// For a supervisor: sessions to confirm and each trainee's confirmed totals.
	Supervisor bool
	ToConfirm  []supervisionRow
	Trainees   []traineeSupervision
}

type supervisionRow struct {
	Session    courses.SupervisionSession
	Trainee    string
	Supervisor string
	Kind       string
}

type traineeSupervision struct {
	Name   string
	Totals courses.SupervisionTotal
}

// monthChart is a bar chart of supervision minutes by month, drawn as SVG on the server.
type monthChart struct {
	Width, Height int
	Bars          []monthBar
	Max           int
	Gridlines     []gridline
}

type monthBar struct {
	Label                string
	Long                 string
	Minutes, Confirmed   int
	X, Y, H, CY, CH, Mid int
	Sessions             int
}

type gridline struct {
	Y     int
	Label string
}

// Chart geometry: bars of barW with gaps, in a plot chartH high above the month labels.
const (
	svBarW   = 36
	svGap    = 20
	svLeft   = 56
	svTop    = 16
	svPlot   = 180
	svBottom = 40
)

// supervisionChart draws every month from the first with sessions to the last, empty ones
// included, so that gaps show.
func supervisionChart(t courses.SupervisionTotals) monthChart {
	ch := monthChart{Height: svTop + svPlot + svBottom}
	if len(t.Months) == 0 {
		return ch
	}
	byMonth := map[string]courses.SupervisionMonth{}
	for _, m := range t.Months {
		byMonth[m.Month] = m
		ch.Max = max(ch.Max, m.Minutes)
	}
	step := 60
	for ch.Max > step*4 {
		step *= 2
	}
	top := ((ch.Max + step - 1) / step) * step
	first, _ := time.Parse("2006-01", t.Months[0].Month)
	last, _ := time.Parse("2006-01", t.Months[len(t.Months)-1].Month)
	x := svLeft + svGap
	scale := func(min int) int { return min * svPlot / top }
	for d := first; !d.After(last); d = d.AddDate(0, 1, 0) {
		m := byMonth[d.Format("2006-01")]
		b := monthBar{Label: d.Format("Jan"), Long: d.Format("January 2006"), Minutes: m.Minutes, Confirmed: m.ConfirmedMinutes, Sessions: m.Sessions, X: x, Mid: x + svBarW/2}
		if d.Month() == time.January || d == first {
			b.Label = d.Format("Jan 06")
		}
		b.H = scale(m.Minutes)
		b.Y = svTop + svPlot - b.H
		b.CH = scale(m.ConfirmedMinutes)
		b.CY = svTop + svPlot - b.CH
		ch.Bars = append(ch.Bars, b)
		x += svBarW + svGap
	}
	ch.Width = x
	for v := 0; v <= top; v += step {
		ch.Gridlines = append(ch.Gridlines, gridline{Y: svTop + svPlot - scale(v), Label: hoursLabel(v)})
	}
	return ch
}

// hoursLabel writes minutes as hours for the chart's axis: "0", "1 h", "1.5 h".
func hoursLabel(min int) string {
	if min == 0 {
		return "0"
	}
	if min%60 == 0 {
		return strconv.Itoa(min/60) + " h"
	}
	return strconv.FormatFloat(float64(min)/60, 'f', 1, 64) + " h"
}

// ukToday is today's date in the UK, as a date value (midnight UTC).
func ukToday() time.Time {
	y, m, d := time.Now().In(ukTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// cohortSupervisors lists the person's own supervisors in the cohorts in which they are a
// trainee: those whose memberships list them.
func (s *Server) cohortSupervisors(ctx context.Context, userID string) ([]linkOption, bool, error) {
	ms, err := s.deps.Courses.MembershipsOf(ctx, userID)
	if err != nil {
		return nil, false, err
	}
	trainee := false
	seen := map[string]bool{}
	var out []linkOption
	for _, m := range ms {
		if m.Role != accounts.RoleTrainee {
			continue
		}
		trainee = true
		members, err := s.deps.Courses.Members(ctx, m.CohortID)
		if err != nil {
			return nil, false, err
		}
		for _, mm := range members {
			if mm.Role == accounts.RoleSupervisor && slices.Contains(mm.Supervises, userID) && !seen[mm.UserID] {
				seen[mm.UserID] = true
				if u, err := s.deps.Accounts.Users.ByID(ctx, mm.UserID); err == nil && !u.Disabled {
					out = append(out, linkOption{Value: u.ID, Label: u.Name})
				}
			}
		}
	}
	return out, trainee, nil
}

func (s *Server) supervisionData(c echo.Context) (supervisionData, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	v := viewerFrom(c)
	names := s.names(ctx)
	d := supervisionData{Key: formKey(), Today: ukToday().Format(time.DateOnly)}
	for _, k := range []courses.SupervisionKind{courses.SupervisionIndividual, courses.SupervisionGroup, courses.SupervisionLocalTeam} {
		d.Kinds = append(d.Kinds, linkOption{Value: string(k), Label: supervisionKindLabels[k]})
	}
	var err error
	if d.Supervisors, d.Trainee, err = s.cohortSupervisors(ctx, u.ID); err != nil {
		return d, err
	}
	if d.Trainee {
		sessions, err := s.deps.Journals.SupervisionLog(ctx, v, u.ID)
		if err != nil {
			return d, err
		}
		for i := len(sessions) - 1; i >= 0; i-- { // newest first
			ss := sessions[i]
			d.Sessions = append(d.Sessions, supervisionRow{Session: ss, Supervisor: names.of(ss.SupervisorID), Kind: supervisionKindLabels[ss.Kind]})
		}
		d.Totals = courses.TotalSupervision(sessions)
		d.Chart = supervisionChart(d.Totals)
	}
	if u.Role == accounts.RoleSupervisor {
		d.Supervisor = true
		todo, err := s.deps.Journals.SupervisionToConfirm(ctx, v)
		if err != nil {
			return d, err
		}
		for _, ss := range todo {
			d.ToConfirm = append(d.ToConfirm, supervisionRow{Session: ss, Trainee: names.of(ss.TraineeID), Kind: supervisionKindLabels[ss.Kind]})
		}
		trainees, err := s.traineesOf(ctx, u.ID, accounts.RoleSupervisor)
		if err != nil {
			return d, err
		}
		for _, t := range trainees {
			totals, err := s.deps.Journals.SupervisionTotals(ctx, v, t.ID)
			if err != nil {
				return d, err
			}
			if totals.Overall.Sessions > 0 {
				d.Trainees = append(d.Trainees, traineeSupervision{Name: t.Name, Totals: totals.Overall})
			}
		}
	}
	return d, nil
}

func (s *Server) supervisionPage(c echo.Context) error {
	d, err := s.supervisionData(c)
	if err != nil {
		return err
	}
	return s.render(c, "supervision", pageData{Title: "Supervision", Nav: "supervision", Notice: c.QueryParam("done"), Data: d})
}

var supervisionFieldIDs = map[string]string{"date": "sv-date", "minutes": "sv-minutes", "supervisorId": "sv-supervisor",
	"peerWorker": "sv-peer", "kind": "sv-kind-individual", "reflection": "sv-reflection", "key": "sv-date", "": "sv-date"}

func (s *Server) supervisionLogForm(c echo.Context) error {
	ns := courses.NewSupervision{
		SupervisorID: c.FormValue("supervisorId"), PeerWorker: c.FormValue("peerWorker"),
		Kind: courses.SupervisionKind(c.FormValue("kind")), Reflection: c.FormValue("reflection"), Key: c.FormValue("key"),
	}
	// A date or length that cannot be read is left zero, which the log refuses, so the
	// other fields' problems are listed with it and nothing is logged.
	var dateErr, minutesErr error
	ns.Date, dateErr = parseDate("date", "the date of the session", c.FormValue("date"))
	ns.Minutes, minutesErr = formMinutes(c.FormValue("minutes"), "The session's length")
	_, err := s.deps.Journals.LogSupervision(c.Request().Context(), viewerFrom(c), ns)
	err = joinProblems([]error{dateErr, minutesErr}, err)
	if err == nil {
		return journalDone(c, "/supervision", "Logged the session of "+ns.Date.Format("2 January 2006")+". Your supervisor can now confirm it.")
	}
	errs, err := formErrors(err, supervisionFieldIDs)
	if err != nil {
		return err
	}
	d, err := s.supervisionData(c)
	if err != nil {
		return err
	}
	d.Key = ns.Key
	vals := map[string]string{"sv-date": c.FormValue("date"), "sv-minutes": c.FormValue("minutes"), "sv-supervisor": ns.SupervisorID,
		"sv-peer": ns.PeerWorker, "sv-kind": string(ns.Kind), "sv-reflection": ns.Reflection}
	return s.renderStatus(c, http.StatusBadRequest, "supervision", pageData{Title: "Supervision", Nav: "supervision", Errors: errs, Values: vals, Data: d})
}

// formMinutes reads a whole number of minutes from a form.
// formMinutes reads a whole number of minutes; what begins the message when it is not one.
func formMinutes(s, what string) (int, error) {
	if strings.TrimSpace(s) == "" {
		return 0, failure.Problem("minutes", "Enter how many minutes")
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, failure.Problem("minutes", what+" must be a whole number of minutes, like 45")
	}
	return n, nil
}

func (s *Server) supervisionConfirmForm(c echo.Context) error {
	ss, err := s.deps.Journals.ConfirmSupervision(c.Request().Context(), viewerFrom(c), c.Param("id"))
	if err != nil {
		return err
	}
	name := s.names(c.Request().Context()).of(ss.TraineeID)
	return journalDone(c, "/supervision", fmt.Sprintf("Confirmed %s's session of %s.", name, ss.Date.Format("2 January 2006")))
}

// Practice.

// heatWeeks is how many weeks the practice calendar shows.
const heatWeeks = 26

type practiceData struct {
	Weeks      int
	Trainee    bool
	Key        string
	Today      string
	Kinds      []linkOption
	Visibility courses.PracticeVisibility
	Summary    courses.PracticeSummary
	ByKind     []kindTotal
	Heat       heatMap
	Recent     []courses.PracticeSession
	// For a supervisor: what each trainee lets them see.
	Supervisor bool
	Trainees   []traineePractice
}

type kindTotal struct {
	Label   string
	Minutes int
}

type traineePractice struct {
	Name     string
	Shared   bool
	Minutes  int
	Sessions int
}

// heatMap is the practice calendar: a column for each week, a row for each day of the week.
type heatMap struct {
	From, To time.Time
	Weeks    []heatWeek
	Days     []heatDayRow
	Legend   []heatStep
}

type heatWeek struct {
	Label string // the month, on the first week that starts in it
	Start time.Time
}

type heatDayRow struct {
	Name  string
	Short string
	Cells []heatCell
}

type heatCell struct {
	Date    time.Time
	Minutes int
	Level   int
	Future  bool
}

type heatStep struct {
	Level int
	Label string
}

// heatLevels are the colour steps of the calendar, by minutes on the day.
var heatLevels = []struct {
	min   int
	label string
}{{0, "No practice"}, {1, "1 to 14 minutes"}, {15, "15 to 29 minutes"}, {30, "30 to 59 minutes"}, {60, "60 minutes or more"}}

func heatLevel(minutes int) int {
	level := 0
	for i, l := range heatLevels {
		if minutes >= l.min {
			level = i
		}
	}
	return level
}

// heatStart is the Monday heatWeeks-1 weeks before the week of today.
func heatStart(today time.Time) time.Time {
	offset := (int(today.Weekday()) + 6) % 7 // days since Monday
	return today.AddDate(0, 0, -offset-7*(heatWeeks-1))
}

func buildHeatMap(from, today time.Time, days []courses.PracticeDay) heatMap {
	h := heatMap{From: from, To: today}
	minutes := map[time.Time]int{}
	for _, d := range days {
		minutes[d.Date.UTC()] = d.Minutes
	}
	names := []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	for i, n := range names {
		h.Days = append(h.Days, heatDayRow{Name: n, Short: n[:3]})
		for w := range heatWeeks {
			d := from.AddDate(0, 0, 7*w+i)
			cell := heatCell{Date: d, Future: d.After(today)}
			if !cell.Future {
				cell.Minutes = minutes[d]
				cell.Level = heatLevel(cell.Minutes)
			}
			h.Days[i].Cells = append(h.Days[i].Cells, cell)
		}
	}
	for w := range heatWeeks {
		start := from.AddDate(0, 0, 7*w)
		label := ""
		if w == 0 || start.Day() <= 7 {
			label = start.Format("Jan")
		}
		h.Weeks = append(h.Weeks, heatWeek{Label: label, Start: start})
	}
	for i, l := range heatLevels {
		h.Legend = append(h.Legend, heatStep{Level: i, Label: l.label})
	}
	return h
}

var practiceKindLabels = map[courses.PracticeKind]string{
	courses.PracticeSitting: "Sitting",
	courses.PracticeWalking: "Walking",
	courses.PracticeOther:   "Other",
}

func init() {
	viewFuncs["practiceKind"] = func(k courses.PracticeKind) string { return practiceKindLabels[k] }
}

func (s *Server) practiceData(c echo.Context) (practiceData, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	v := viewerFrom(c)
	today := ukToday()
	from := heatStart(today)
	d := practiceData{Weeks: heatWeeks, Key: formKey(), Today: today.Format(time.DateOnly), Trainee: u.Role == accounts.RoleTrainee}
	for _, k := range []courses.PracticeKind{courses.PracticeSitting, courses.PracticeWalking, courses.PracticeOther} {
		d.Kinds = append(d.Kinds, linkOption{Value: string(k), Label: practiceKindLabels[k]})
	}
	if d.Trainee {
		var err error
		if d.Visibility, err = s.deps.Journals.PracticeVisibility(ctx, v); err != nil {
			return d, err
		}
		if d.Summary, err = s.deps.Journals.PracticeSummary(ctx, v, u.ID, from, today); err != nil {
			return d, err
		}
		for _, k := range []courses.PracticeKind{courses.PracticeSitting, courses.PracticeWalking, courses.PracticeOther} {
			d.ByKind = append(d.ByKind, kindTotal{Label: practiceKindLabels[k], Minutes: d.Summary.ByKind[k]})
		}
		d.Heat = buildHeatMap(from, today, d.Summary.Days)
		recent, err := s.deps.Journals.PracticeSessions(ctx, v, today.AddDate(0, 0, -30), today)
		if err != nil {
			return d, err
		}
		for i := len(recent) - 1; i >= 0; i-- {
			d.Recent = append(d.Recent, recent[i])
		}
	}
	if u.Role == accounts.RoleSupervisor {
		d.Supervisor = true
		trainees, err := s.traineesOf(ctx, u.ID, accounts.RoleSupervisor)
		if err != nil {
			return d, err
		}
		for _, t := range trainees {
			tp := traineePractice{Name: t.Name}
			sum, err := s.deps.Journals.PracticeSummary(ctx, v, t.ID, from, today)
			switch {
			case errors.Is(err, failure.ErrNotFound):
			case err != nil:
				return d, err
			default:
				tp.Shared, tp.Minutes, tp.Sessions = true, sum.Minutes, sum.Sessions
			}
			d.Trainees = append(d.Trainees, tp)
		}
	}
	return d, nil
}

func (s *Server) practicePage(c echo.Context) error {
	d, err := s.practiceData(c)
	if err != nil {
		return err
	}
	return s.render(c, "practice", pageData{Title: "Personal practice", Nav: "practice", Notice: c.QueryParam("done"), Data: d})
}

var practiceFieldIDs = map[string]string{"date": "pr-date", "minutes": "pr-minutes", "kind": "pr-kind-sitting", "key": "pr-date", "": "pr-date"}

func (s *Server) practiceLogForm(c echo.Context) error {
	np := courses.NewPractice{Kind: courses.PracticeKind(c.FormValue("kind")), Key: c.FormValue("key")}
	// As for supervision: what cannot be read is left zero, which the log refuses.
	var dateErr, minutesErr error
	np.Date, dateErr = parseDate("date", "the date", c.FormValue("date"))
	np.Minutes, minutesErr = formMinutes(c.FormValue("minutes"), "Minutes")
	_, err := s.deps.Journals.LogPractice(c.Request().Context(), viewerFrom(c), np)
	err = joinProblems([]error{dateErr, minutesErr}, err)
	if err == nil {
		return journalDone(c, "/practice", fmt.Sprintf("Logged %d minutes of %s practice on %s.", np.Minutes, strings.ToLower(practiceKindLabels[np.Kind]), np.Date.Format("2 January 2006")))
	}
	errs, err := formErrors(err, practiceFieldIDs)
	if err != nil {
		return err
	}
	d, err := s.practiceData(c)
	if err != nil {
		return err
	}
	d.Key = np.Key
	vals := map[string]string{"pr-date": c.FormValue("date"), "pr-minutes": c.FormValue("minutes"), "pr-kind": string(np.Kind)}
	return s.renderStatus(c, http.StatusBadRequest, "practice", pageData{Title: "Personal practice", Nav: "practice", Errors: errs, Values: vals, Data: d})
}

func (s *Server) practiceVisibilityForm(c echo.Context) error {
	vis := courses.PracticeVisibility(c.FormValue("visibility"))
	if err := s.deps.Journals.SetPracticeVisibility(c.Request().Context(), viewerFrom(c), vis); err != nil {
		return err
	}
	notice := "Your supervisor sees nothing of your practice log."
	if vis == courses.PracticeTotalsOnly {
		notice = "Your supervisor sees the total minutes and sessions of your practice, and nothing else."
	}
	return journalDone(c, "/practice#visibility", notice)
}
