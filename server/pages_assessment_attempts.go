package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/assessment"
	"polyphony/internal/failure"
)

// The trainee's attempt pages: the questions (one at a time or all), the summary before
// submitting and the review; staff read an attempt with everything in it.

type mcqNavItem struct {
	Index    int
	Number   int
	Answered bool
	Current  bool
}

type attemptPageData struct {
	View     assessment.AttemptView
	All      bool
	Current  int
	Shown    []assessment.QuestionView
	Answered int
	Total    int
	Nav      []mcqNavItem
	// Record is set when staff read a trainee's attempt.
	Record  *assessment.AttemptRecord
	Trainee string
}

func newAttemptData(v assessment.AttemptView, all bool, current int) attemptPageData {
	d := attemptPageData{View: v, All: all, Total: len(v.Questions)}
	d.Current = min(max(current, 0), max(len(v.Questions)-1, 0))
	for i, q := range v.Questions {
		if q.Chosen != nil {
			d.Answered++
		}
		d.Nav = append(d.Nav, mcqNavItem{Index: i, Number: i + 1, Answered: q.Chosen != nil, Current: !all && i == d.Current})
	}
	switch {
	case all:
		d.Shown = v.Questions
	case len(v.Questions) > 0:
		d.Shown = v.Questions[d.Current : d.Current+1]
	}
	return d
}

// shownQuestion reads ?q= (from 1) as an index.
func shownQuestion(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0
	}
	return n - 1
}

func (s *Server) attemptPage(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if isAssessmentStaff(u) {
		return s.attemptRecordPage(c)
	}
	v, err := s.deps.Assessments.AttemptView(ctx, actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	if v.State == assessment.StateClosed {
		d := newAttemptData(v, true, 0)
		return s.render(c, "attempt_review", pageData{Title: v.Title + ": your attempt", Nav: "assessments", Notice: c.QueryParam("done"), Data: d})
	}
	d := newAttemptData(v, c.QueryParam("view") == "all", shownQuestion(c.QueryParam("q")))
	title := v.Title
	if !d.All {
		title = fmt.Sprintf("%s: question %d of %d", v.Title, d.Current+1, d.Total)
	}
	return s.render(c, "attempt", pageData{Title: title, Nav: "assessments", Notice: c.QueryParam("done"), Data: d})
}

// attemptRecordPage shows staff a trainee's attempt with everything in it.
func (s *Server) attemptRecordPage(c echo.Context) error {
	ctx := c.Request().Context()
	rec, err := s.deps.Assessments.AttemptRecord(ctx, actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	d := newAttemptData(rec.AttemptView, true, 0)
	d.Record = &rec
	if u, err := s.deps.Accounts.Users.ByID(ctx, rec.UserID); err == nil {
		d.Trainee = u.Name
	}
	return s.render(c, "attempt_review", pageData{Title: fmt.Sprintf("%s: attempt %d by %s", rec.Title, rec.Number, d.Trainee), Nav: "assessments", Data: d})
}

// attemptSave takes the answers of the attempt form, for browsers without JavaScript (with
// it, each answer is saved through the API as it is chosen), then goes where the button
// pressed says.
func (s *Server) attemptSave(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	v, err := s.deps.Assessments.AttemptView(ctx, actor(c), id)
	if err != nil {
		return err
	}
	page := "/attempts/" + url.PathEscape(id)
	if v.State == assessment.StateClosed {
		return mcqRedirect(c, page, "This attempt is closed: the answers were not saved.")
	}
	for k, q := range v.Questions {
		raw := c.FormValue(fmt.Sprintf("answer-%d", k))
		if raw == "" {
			continue
		}
		o, err := strconv.Atoi(raw)
		if err != nil {
			return failure.Invalidf("answer", "%q is not an option", raw)
		}
		if q.Chosen != nil && *q.Chosen == o {
			continue
		}
		_, err = s.deps.Assessments.SaveAnswer(ctx, actor(c), id, k, o)
		if errors.Is(err, assessment.ErrAttemptClosed) {
			_, msg, _ := classify(err)
			return mcqRedirect(c, page, sentence(msg))
		}
		if err != nil {
			return err
		}
	}
	cur := shownQuestion(c.FormValue("q"))
	all := c.FormValue("view") == "all"
	at := func(i int) string { return fmt.Sprintf("%s?q=%d", page, min(max(i, 0), max(len(v.Questions)-1, 0))+1) }
	switch dest := c.FormValue("go"); {
	case dest == "summary":
		return c.Redirect(http.StatusSeeOther, page+"/summary")
	case dest == "all":
		return c.Redirect(http.StatusSeeOther, page+"?view=all")
	case dest == "one":
		return c.Redirect(http.StatusSeeOther, at(cur))
	case dest == "prev":
		return c.Redirect(http.StatusSeeOther, at(cur-1))
	case dest == "next":
		return c.Redirect(http.StatusSeeOther, at(cur+1))
	case strings.HasPrefix(dest, "q"):
		n, _ := strconv.Atoi(strings.TrimPrefix(dest, "q"))
		return c.Redirect(http.StatusSeeOther, at(n-1))
	case all:
		return mcqRedirect(c, page+"?view=all", "Your answers are saved.")
	}
	return mcqRedirect(c, at(cur), "Your answer is saved.")
}

func (s *Server) attemptSummaryPage(c echo.Context) error {
	v, err := s.deps.Assessments.AttemptView(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	if v.State == assessment.StateClosed {
		return c.Redirect(http.StatusSeeOther, "/attempts/"+url.PathEscape(v.ID))
	}
	d := newAttemptData(v, true, 0)
	return s.render(c, "attempt_summary", pageData{Title: v.Title + ": check your answers", Nav: "assessments", Data: d})
}

func (s *Server) attemptSubmit(c echo.Context) error {
	id := c.Param("id")
	page := "/attempts/" + url.PathEscape(id)
	_, err := s.deps.Assessments.Submit(c.Request().Context(), actor(c), id)
	if errors.Is(err, assessment.ErrAttemptClosed) {
		_, msg, _ := classify(err)
		return mcqRedirect(c, page, sentence(msg))
	}
	if err != nil {
		return err
	}
	return mcqRedirect(c, page, "Your answers have been submitted.")
}
