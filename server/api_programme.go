package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/content"
	"polyphony/courses"
	"polyphony/internal/failure"
)

// ifMatch reads the version a change is based on from the If-Match header ("3" or W/"3"):
// versions are never taken from a request body.
func ifMatch(c echo.Context) (int, error) {
	h := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if h == "" {
		return 0, failure.Invalid("If-Match", "send the version your change is based on, as the ETag you read (If-Match: \"3\"); use \"0\" for something new")
	}
	h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 {
		return 0, failure.Invalidf("If-Match", "%q is not a version number", h)
	}
	return n, nil
}

func setETag(c echo.Context, version int) {
	c.Response().Header().Set("ETag", `"`+strconv.Itoa(version)+`"`)
}

type programmeResponse struct {
	Cohort    courses.Cohort    `json:"cohort"`
	Programme courses.Programme `json:"programme"`
	Position  courses.Position  `json:"position"`
}

func (s *Server) apiGetProgramme(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.cohortAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	p, err := s.deps.Courses.Programme(ctx, v.Cohort.ID)
	if err != nil {
		return err
	}
	setETag(c, p.Version)
	return c.JSON(http.StatusOK, programmeResponse{Cohort: v.Cohort, Programme: p, Position: p.Now(time.Now())})
}

// programmeRequest is the part of a programme a client may change.
type programmeRequest struct {
	Modules []courses.Module `json:"modules"`
	Periods []courses.Period `json:"periods"`
}

func (s *Server) apiPutProgramme(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.manageAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	base, err := ifMatch(c)
	if err != nil {
		return err
	}
	var req programmeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := s.deps.Courses.SaveProgramme(ctx, courses.Programme{CohortID: v.Cohort.ID, Modules: req.Modules, Periods: req.Periods}, base, currentUser(c).ID)
	if err != nil {
		return err
	}
	setETag(c, p.Version)
	return c.JSON(http.StatusOK, programmeResponse{Cohort: v.Cohort, Programme: p, Position: p.Now(time.Now())})
}

type registerRequest struct {
	Entries []courses.AttendanceEntry `json:"entries"`
}

func (s *Server) apiGetRegister(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.manageAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	recs, err := s.deps.Courses.Register(ctx, v.Cohort.ID, c.Param("occasion"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recs)
}

func (s *Server) apiPutRegister(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.manageAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	var req registerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.deps.Courses.TakeRegister(ctx, v.Cohort.ID, c.Param("occasion"), req.Entries, currentUser(c).ID); err != nil {
		return err
	}
	recs, err := s.deps.Courses.Register(ctx, v.Cohort.ID, c.Param("occasion"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recs)
}

func (s *Server) apiMyAttendance(c echo.Context) error {
	v, err := s.myCohort(c)
	if err != nil {
		if errors.Is(err, errNoCohort) {
			return c.JSON(http.StatusOK, []courses.AttendanceRecord{})
		}
		return err
	}
	recs, err := s.deps.Courses.AttendanceOf(c.Request().Context(), v.Cohort.ID, currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recs)
}

type calendarResponse struct {
	URL string `json:"url"`
}

func (s *Server) apiMyCalendar(c echo.Context) error {
	u, err := s.calendarURL(c, currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, calendarResponse{URL: u})
}

func (s *Server) apiRotateCalendar(c echo.Context) error {
	if _, err := s.deps.Courses.RotateCalendarToken(c.Request().Context(), currentUser(c).ID); err != nil {
		return err
	}
	return s.apiMyCalendar(c)
}

// curriculumSummary is a page in the API's list.
type curriculumSummary struct {
	Slug           string `json:"slug"`
	Title          string `json:"title"`
	Module         int    `json:"module"`
	Order          int    `json:"order"`
	ReadingMinutes int    `json:"readingMinutes"`
	Release        string `json:"release"`
	Released       bool   `json:"released"`
	Revision       int    `json:"revision"`
}

func summary(it curriculumItem) curriculumSummary {
	p := it.Page
	return curriculumSummary{Slug: p.Slug, Title: p.Title, Module: p.Module, Order: p.Order, ReadingMinutes: p.ReadingMinutes,
		Release: p.Release.String(), Released: it.Released, Revision: p.Revision}
}

func (s *Server) apiListCurriculum(c echo.Context) error {
	p, err := s.releaseProgramme(c)
	if err != nil {
		return err
	}
	items, err := s.curriculumItems(c, p)
	if err != nil {
		return err
	}
	out := []curriculumSummary{}
	for _, it := range items {
		out = append(out, summary(it))
	}
	return c.JSON(http.StatusOK, out)
}

type curriculumPageResponse struct {
	curriculumSummary
	Markdown string            `json:"markdown"`
	HTML     string            `json:"html"`
	Contents []content.Heading `json:"contents"`
	SavedAt  time.Time         `json:"savedAt"`
}

func (s *Server) apiGetCurriculum(c echo.Context) error {
	pg, rel, err := s.visiblePage(c, c.Param("slug"))
	if err != nil {
		return err
	}
	r, err := s.renderPage(c, pg)
	if err != nil {
		return err
	}
	setETag(c, pg.Revision)
	return c.JSON(http.StatusOK, curriculumPageResponse{curriculumSummary: summary(curriculumItem{Page: pg, Released: rel}),
		Markdown: pg.Body, HTML: string(r.HTML), Contents: r.Contents, SavedAt: pg.SavedAt})
}

// curriculumRequest is what a client may set on a page.
type curriculumRequest struct {
	Title          string `json:"title"`
	Module         int    `json:"module"`
	Order          int    `json:"order"`
	Release        string `json:"release"`
	ReadingMinutes int    `json:"readingMinutes"`
	Markdown       string `json:"markdown"`
}

func (s *Server) apiPutCurriculum(c echo.Context) error {
	base, err := ifMatch(c)
	if err != nil {
		return err
	}
	var req curriculumRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	rel, err := content.ParseRelease(req.Release)
	if err != nil {
		return failure.Invalidf("release", "%v", err)
	}
	pg, err := s.deps.Pages.Save(c.Request().Context(), content.Page{Slug: c.Param("slug"), Title: req.Title, Module: req.Module, Order: req.Order,
		Release: rel, ReadingMinutes: req.ReadingMinutes, Body: req.Markdown}, base, currentUser(c).ID)
	var conflict *content.ConflictError
	if errors.As(err, &conflict) {
		// Nothing was overwritten; the client gets the newer text to merge with its own.
		cur := conflict.Current
		return c.JSON(http.StatusConflict, map[string]any{
			"error":   "the page was saved by someone else since revision " + strconv.Itoa(base) + "; merge with the current text and send If-Match: \"" + strconv.Itoa(cur.Revision) + "\"",
			"current": curriculumPageResponse{curriculumSummary: summary(curriculumItem{Page: cur}), Markdown: cur.Body, SavedAt: cur.SavedAt},
		})
	}
	if err != nil {
		return err
	}
	setETag(c, pg.Revision)
	status := http.StatusOK
	if base == 0 {
		status = http.StatusCreated
	}
	return c.JSON(status, summary(curriculumItem{Page: pg}))
}

type revisionSummary struct {
	Revision int       `json:"revision"`
	SavedAt  time.Time `json:"savedAt"`
	SavedBy  string    `json:"savedBy"`
	Title    string    `json:"title"`
}

func (s *Server) apiCurriculumRevisions(c echo.Context) error {
	revs, err := s.deps.Pages.Revisions(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	if len(revs) == 0 {
		return failure.ErrNotFound
	}
	out := []revisionSummary{}
	for _, r := range revs {
		out = append(out, revisionSummary{Revision: r.Revision, SavedAt: r.SavedAt, SavedBy: r.SavedBy, Title: r.Title})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiRestoreCurriculum(c echo.Context) error {
	base, err := ifMatch(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return failure.ErrNotFound
	}
	pg, err := s.deps.Pages.Restore(c.Request().Context(), c.Param("slug"), n, base, currentUser(c).ID)
	if err != nil {
		return err
	}
	setETag(c, pg.Revision)
	return c.JSON(http.StatusOK, summary(curriculumItem{Page: pg}))
}
