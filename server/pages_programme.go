package server

import (
	"errors"
	"html/template"

	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/content"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// timelineBar is one stretch of the nine months as the timeline draws it, in per-mille of the
// whole so the SVG needs no styles.
type timelineBar struct {
	Label      string
	Kind       string // "module" or "period"
	Start, End time.Time
	X, Width   int
	Href       string
}

type programmeData struct {
	View      cohortView
	Programme courses.Programme
	Position  courses.Position
	Bars      []timelineBar
	NowX      int
	ShowNow   bool
	Current   *periodView
	Next      *periodView
	Manage    bool
}

// periodView is one inter-module period with its dates.
type periodView struct {
	// Rooms is where the period's dialogue sessions are held, the address of a session's
	// room without the session's id; empty for someone who takes no part in the rooms.
	Rooms      string
	Number     int
	Start, End time.Time
	Period     courses.Period
	// Locked holds the curriculum pages named by the period's activities that the reader
	// cannot open (yet): the page shows their titles as words, never a link to a 404.
	Locked map[string]*lockedPage
}

// lockedPage is a curriculum page that a reader cannot open, with when it opens to them.
type lockedPage struct {
	When string // such as "Available after module 2"; "" for a page the curriculum lacks
}

func (s *Server) programmeFor(c echo.Context) (cohortView, courses.Programme, error) {
	v, err := s.myCohort(c)
	if err != nil {
		return cohortView{}, courses.Programme{}, err
	}
	p, err := s.deps.Courses.Programme(c.Request().Context(), v.Cohort.ID)
	return v, p, err
}

// noProgramme answers a programme page for someone whose cohort has none yet.
func (s *Server) noProgramme(c echo.Context, title string, err error) error {
	switch {
	case errors.Is(err, errNoCohort):
		return s.render(c, "message", pageData{Title: title, Nav: "programme", Message: "You are not in a cohort yet. Your programme administrator adds you to one; your programme appears here then."})
	case errors.Is(err, failure.ErrNotFound):
		return s.render(c, "message", pageData{Title: title, Nav: "programme", Message: "Your cohort's programme has not been set up yet. Your facilitators will add the module dates."})
	}
	return err
}

func periodViews(p courses.Programme, locked map[string]*lockedPage) []periodView {
	var out []periodView
	for i, per := range p.Periods {
		start, end := p.PeriodDates(per.AfterModule)
		out = append(out, periodView{Number: i + 1, Start: start, End: end, Period: per, Locked: locked})
	}
	return out
}

// lockedPages finds the curriculum pages that the programme's activities name and the reader
// cannot open: pages not released to a trainee yet, and pages the curriculum does not have.
func (s *Server) lockedPages(c echo.Context, p courses.Programme) (map[string]*lockedPage, error) {
	pages, err := s.deps.Pages.List(c.Request().Context())
	if err != nil {
		return nil, err
	}
	bySlug := make(map[string]content.Page, len(pages))
	for _, pg := range pages {
		bySlug[pg.Slug] = pg
	}
	trainee := currentUser(c).Role == accounts.RoleTrainee
	now := time.Now()
	out := map[string]*lockedPage{}
	for _, per := range p.Periods {
		for _, a := range per.Activities {
			pg, ok := bySlug[a.CurriculumSlug]
			switch {
			case a.CurriculumSlug == "":
			case !ok:
				out[a.CurriculumSlug] = &lockedPage{}
			case trainee && !released(pg, &p, now):
				out[a.CurriculumSlug] = &lockedPage{When: availableWhen(pg.Release)}
			}
		}
	}
	return out, nil
}

// availableWhen says in words when a page's release rule opens it to trainees.
func availableWhen(r content.Release) string {
	switch {
	case r.AfterModule != 0:
		return "Available after module " + strconv.Itoa(r.AfterModule)
	case !r.From.IsZero():
		return "Available from " + r.From.Format("2 January 2006")
	}
	return "Not available yet"
}

func timeline(p courses.Programme, now time.Time) ([]timelineBar, int, bool) {
	if len(p.Modules) == 0 {
		return nil, 0, false
	}
	first, last := p.Modules[0].Start, p.Modules[len(p.Modules)-1].End.AddDate(0, 0, 1)
	span := last.Sub(first)
	pos := func(t time.Time) int { return int(1000 * float64(t.Sub(first)) / float64(span)) }
	var bars []timelineBar
	for i, m := range p.Modules {
		end := m.End.AddDate(0, 0, 1)
		bars = append(bars, timelineBar{Label: "Module " + strconv.Itoa(m.Number), Kind: "module", Start: m.Start, End: m.End,
			X: pos(m.Start), Width: max(pos(end)-pos(m.Start), 8), Href: "/modules/" + strconv.Itoa(m.Number)})
		if i < len(p.Modules)-1 {
			next := p.Modules[i+1].Start
			bars = append(bars, timelineBar{Label: "Between modules " + strconv.Itoa(m.Number) + " and " + strconv.Itoa(m.Number+1), Kind: "period",
				Start: end, End: next.AddDate(0, 0, -1), X: pos(end), Width: pos(next) - pos(end)})
		}
	}
	return bars, pos(now), !now.Before(first) && now.Before(last)
}

func (s *Server) programmePage(c echo.Context) error {
	v, p, err := s.programmeFor(c)
	if err != nil {
		return s.noProgramme(c, "Your programme", err)
	}
	now := time.Now()
	d := programmeData{View: v, Programme: p, Position: p.Now(now), Manage: v.CanManage(currentUser(c))}
	d.Bars, d.NowX, d.ShowNow = timeline(p, now)
	locked, err := s.lockedPages(c, p)
	if err != nil {
		return err
	}
	for _, pv := range periodViews(p, locked) {
		pv := pv
		pv.Rooms = roomsOf(v)
		switch {
		case !now.Before(pv.Start) && !now.After(pv.End.AddDate(0, 0, 1)):
			d.Current = &pv
		case now.Before(pv.Start) && d.Next == nil:
			d.Next = &pv
		}
	}
	return s.render(c, "programme", pageData{Title: "Your programme", Nav: "programme", Data: d})
}

type moduleData struct {
	View   cohortView
	Module courses.Module
	After  *periodView
	Pages  []curriculumItem
	Manage bool
}

func (s *Server) modulePage(c echo.Context) error {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 || n > 4 {
		return failure.ErrNotFound
	}
	v, p, err := s.programmeFor(c)
	if err != nil {
		return s.noProgramme(c, "Module "+c.Param("n"), err)
	}
	d := moduleData{View: v, Module: p.Modules[n-1], Manage: v.CanManage(currentUser(c))}
	locked, err := s.lockedPages(c, p)
	if err != nil {
		return err
	}
	for _, pv := range periodViews(p, locked) {
		if pv.Period.AfterModule == n {
			pv := pv
			pv.Rooms = roomsOf(v)
			d.After = &pv
		}
	}
	items, err := s.curriculumItems(c, &p)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.Page.Module == n {
			d.Pages = append(d.Pages, it)
		}
	}
	return s.render(c, "module", pageData{Title: "Module " + strconv.Itoa(n) + ": " + d.Module.Title, Nav: "programme", Data: d})
}

type readingListData struct {
	Periods []periodView
	Page    *content.Page
	HTML    template.HTML
}

// readingListPage gathers the readings set between modules, with the full reading list page
// of the curriculum beneath them.
func (s *Server) readingListPage(c echo.Context) error {
	d := readingListData{}
	if _, p, err := s.programmeFor(c); err == nil {
		d.Periods = periodViews(p, nil)
	} else if !errors.Is(err, errNoCohort) && !errors.Is(err, failure.ErrNotFound) {
		return err
	}
	if pg, _, err := s.visiblePage(c, "reading-list"); err == nil {
		r, err := s.renderPage(c, pg)
		if err != nil {
			return err
		}
		d.Page, d.HTML = &pg, r.HTML
	} else if !errors.Is(err, failure.ErrNotFound) {
		return err
	}
	return s.render(c, "reading_list", pageData{Title: "Reading list", Nav: "reading", Data: d})
}

// roomPath is the address of a cohort's dialogue room: one for each dialogue session, named
// by the session's activity id, and the cohort's own room.
func roomPath(cohortID, roomID string) string {
	return "/rooms/" + url.PathEscape(cohortID) + "/" + url.PathEscape(roomID)
}

// roomsOf is the address under which the cohort's rooms are, for the cohort's trainees and
// facilitators; empty for anyone else, whom a room would not let in.
func roomsOf(v cohortView) string {
	if v.Role != accounts.RoleTrainee && v.Role != accounts.RoleFacilitator {
		return ""
	}
	return roomPath(v.Cohort.ID, "")
}
