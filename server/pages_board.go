package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
)

// The exam boards: a cohort's boards and opening one, a board with its trainees and their
// decisions, its record as CSV and as the minutes' PDF, revoking an award, and a trainee's
// training record. Every board route is for administrators, and the domain decides so too.

func (s *Server) boardRoutes() {
	if s.deps.Boards == nil {
		return
	}
	s.add(http.MethodGet, "/cohorts/:id/boards", AdminOnly, s.boardsPage)
	s.add(http.MethodPost, "/cohorts/:id/boards", AdminOnly, s.openBoardForm)
	s.add(http.MethodGet, "/boards/:id", AdminOnly, s.boardPage)
	s.add(http.MethodPost, "/boards/:id/decisions", AdminOnly, s.decideForm)
	s.add(http.MethodGet, "/boards/:id/record.csv", AdminOnly, s.boardCSV)
	s.add(http.MethodGet, "/boards/:id/minutes.pdf", AdminOnly, s.boardMinutes)
	s.add(http.MethodPost, "/awards/:id/revoke", AdminOnly, s.revokeForm)
	s.add(http.MethodGet, "/account/training-record.pdf", SignedIn, s.trainingRecord)
	s.add(http.MethodGet, "/api/v1/cohorts/:id/boards", AdminOnly, s.apiBoards)
	s.add(http.MethodPost, "/api/v1/cohorts/:id/boards", AdminOnly, s.apiOpenBoard)
	s.add(http.MethodGet, "/api/v1/boards/:id", AdminOnly, s.apiBoard)
	s.add(http.MethodPost, "/api/v1/boards/:id/decisions", AdminOnly, s.apiDecide)
	s.add(http.MethodGet, "/api/v1/boards/:id/record.csv", AdminOnly, s.boardCSV)
	s.add(http.MethodGet, "/api/v1/boards/:id/minutes.pdf", AdminOnly, s.boardMinutes)
	s.add(http.MethodPost, "/api/v1/awards/:id/revoke", AdminOnly, s.apiRevoke)
	s.add(http.MethodGet, "/api/v1/me/training-record", SignedIn, s.trainingRecord)
}

// AccountNames gives a person's name on their account, or their id when there is none: the
// names an exam board's record shows.
func AccountNames(acc *accounts.Service) func(ctx context.Context, id string) string {
	return func(ctx context.Context, id string) string {
		if u, err := acc.Users.ByID(ctx, id); err == nil {
			return u.Name
		}
		return id
	}
}

type boardsPageData struct {
	View   cohortView
	Boards []award.Board
}

func (s *Server) boardsPage(c echo.Context) error {
	return s.renderBoards(c, http.StatusOK, nil)
}

func (s *Server) renderBoards(c echo.Context, status int, errs []fieldError) error {
	ctx := c.Request().Context()
	v, err := s.cohortAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	bs, err := s.deps.Boards.ForCohort(ctx, viewerFrom(c), v.Cohort.ID)
	if err != nil {
		return err
	}
	values := map[string]string{"board-date": c.FormValue("date")}
	if values["board-date"] == "" {
		values["board-date"] = time.Now().In(ukTime).Format(time.DateOnly)
	}
	return s.renderStatus(c, status, "boards", pageData{Title: "Exam boards: " + v.Cohort.Name, Nav: "progress", Errors: errs, Values: values,
		Data: boardsPageData{View: v, Boards: bs}})
}

// parseDay reads a date typed as YYYY-MM-DD (what a date input sends); the zero time for
// nothing typed, and a problem for the field otherwise.
func parseDay(field, typed, label string) (time.Time, error) {
	typed = strings.TrimSpace(typed)
	if typed == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, typed)
	if err != nil {
		return time.Time{}, failure.Problemf(field, "Enter %s as a real date, like 2027-07-01", label)
	}
	return t, nil
}

// openBoard opens a board and logs it.
func (s *Server) openBoard(c echo.Context, cohortID string, day time.Time) (award.Board, error) {
	ctx := c.Request().Context()
	co, err := s.deps.Courses.Cohort(ctx, cohortID)
	if err != nil {
		return award.Board{}, err
	}
	b, err := s.deps.Boards.Open(ctx, viewerFrom(c), co.ID, day)
	if err != nil {
		return award.Board{}, err
	}
	s.record(c, audit.Entry{Action: audit.BoardOpened, SubjectID: co.ID, SubjectName: co.Name, Changes: []audit.Change{
		{Field: "board", After: b.ID}, {Field: "date", After: b.Date.Format(time.DateOnly)}, {Field: "rulesVersion", After: fmt.Sprint(b.RulesVersion)}}})
	return b, nil
}

func (s *Server) openBoardForm(c echo.Context) error {
	day, err := parseDay("date", c.FormValue("date"), "the date the board sits")
	if err == nil {
		var b award.Board
		if b, err = s.openBoard(c, c.Param("id"), day); err == nil {
			return c.Redirect(http.StatusSeeOther, "/boards/"+b.ID)
		}
	}
	errs, err := formErrors(err, map[string]string{"date": "board-date"})
	if err != nil {
		return err
	}
	return s.renderBoards(c, http.StatusBadRequest, errs)
}

// candidateView is a trainee before the board, as its page shows them.
type candidateView struct {
	award.Candidate
	Key string // the suffix of the ids of their form's fields
}

// CanDecide says the board may still decide for the trainee: not once it awarded.
func (c candidateView) CanDecide() bool {
	return c.Member && (c.Current == nil || c.Current.Outcome != award.Awarded)
}

type boardPageData struct {
	View         award.BoardView
	CohortName   string
	OpenedBy     string
	RulesChanged bool
	Eligible     []candidateView
	Others       []candidateView
	Names        map[string]string
}

// Outcome is an outcome in words.
func (boardPageData) Outcome(o string) string { return award.Outcome(o) }

// Decider is the name of who decided.
func (d boardPageData) Decider(id string) string {
	if n, ok := d.Names[id]; ok {
		return n
	}
	return id
}

func (s *Server) boardPage(c echo.Context) error {
	return s.renderBoard(c, http.StatusOK, nil, nil)
}

func (s *Server) renderBoard(c echo.Context, status int, errs []fieldError, values map[string]string) error {
	ctx := c.Request().Context()
	v, err := s.deps.Boards.View(ctx, viewerFrom(c), c.Param("id"))
	if err != nil {
		return err
	}
	co, err := s.deps.Courses.Cohort(ctx, v.Board.CohortID)
	if err != nil {
		return err
	}
	d := boardPageData{View: v, CohortName: co.Name, OpenedBy: s.deps.Boards.Name(ctx, v.Board.OpenedBy),
		RulesChanged: v.CurrentRules != v.Board.RulesVersion, Names: map[string]string{}}
	for _, cand := range v.Candidates {
		for _, h := range cand.History {
			d.Names[h.DecidedBy] = s.deps.Boards.Name(ctx, h.DecidedBy)
		}
		cv := candidateView{Candidate: cand, Key: cand.UserID}
		if cand.Eligible {
			d.Eligible = append(d.Eligible, cv)
		} else {
			d.Others = append(d.Others, cv)
		}
	}
	return s.renderStatus(c, status, "board", pageData{Title: "Exam board: " + co.Name, Nav: "progress", Errors: errs, Values: values,
		Notice: c.QueryParam("done"), Data: d})
}

// decide records a decision and logs it.
func (s *Server) decide(c echo.Context, in award.DecisionInput) (award.BoardDecision, error) {
	ctx := c.Request().Context()
	d, err := s.deps.Boards.Decide(ctx, viewerFrom(c), c.Param("id"), in)
	if err != nil {
		return award.BoardDecision{}, err
	}
	changes := []audit.Change{{Field: "board", After: d.BoardID}, {Field: "outcome", After: d.Outcome}}
	if d.Outcome == award.Deferred {
		changes = append(changes, audit.Change{Field: "outstanding", After: d.Outstanding}, audit.Change{Field: "until", After: d.Until.Format(time.DateOnly)})
	}
	if d.AwardID != "" {
		changes = append(changes, audit.Change{Field: "award", After: d.AwardID})
	}
	s.record(c, audit.Entry{Action: audit.BoardDecided, SubjectID: d.UserID, SubjectName: s.deps.Boards.Name(ctx, d.UserID), Changes: changes, Reason: d.Reason})
	return d, nil
}

func (s *Server) decideForm(c echo.Context) error {
	user := c.FormValue("userId")
	in := award.DecisionInput{UserID: user, Outcome: c.FormValue("outcome"), Reason: c.FormValue("reason"), Outstanding: c.FormValue("outstanding")}
	until, err := parseDay("until", c.FormValue("until"), "the date it is due")
	if err == nil {
		in.Until = until
		var d award.BoardDecision
		if d, err = s.decide(c, in); err == nil {
			done := award.Outcome(d.Outcome) + ": the decision for " + s.deps.Boards.Name(c.Request().Context(), d.UserID) + " is recorded."
			return c.Redirect(http.StatusSeeOther, "/boards/"+d.BoardID+"?done="+url.QueryEscape(done)+"#trainee-"+d.UserID)
		}
	}
	// An outcome's problem points at the radio every trainee's form has.
	outcome := "outcome-" + user + "-deferred"
	ids := map[string]string{"": outcome, "userId": outcome, "outcome": outcome}
	for _, f := range []string{"reason", "outstanding", "until"} {
		ids[f] = f + "-" + user
	}
	errs, err := formErrors(err, ids)
	if err != nil {
		return err
	}
	values := map[string]string{"outcome-" + user: in.Outcome, "reason-" + user: in.Reason, "outstanding-" + user: in.Outstanding, "until-" + user: c.FormValue("until")}
	return s.renderBoard(c, http.StatusBadRequest, errs, values)
}

// boardExport reads the board and its cohort's name for an export.
func (s *Server) boardExport(c echo.Context) (award.BoardView, courses.Cohort, error) {
	ctx := c.Request().Context()
	v, err := s.deps.Boards.View(ctx, viewerFrom(c), c.Param("id"))
	if err != nil {
		return award.BoardView{}, courses.Cohort{}, err
	}
	co, err := s.deps.Courses.Cohort(ctx, v.Board.CohortID)
	return v, co, err
}

func (s *Server) boardCSV(c echo.Context) error {
	v, _, err := s.boardExport(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.deps.Boards.WriteBoardCSV(c.Request().Context(), &buf, v); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="exam-board-`+v.Board.Date.Format(time.DateOnly)+`.csv"`)
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func (s *Server) boardMinutes(c echo.Context) error {
	v, co, err := s.boardExport(c)
	if err != nil {
		return err
	}
	pdf, err := s.deps.Boards.BoardMinutes(c.Request().Context(), v, co.Name)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="exam-board-minutes-`+v.Board.Date.Format(time.DateOnly)+`.pdf"`)
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}

// revoke revokes an award and logs it, with the reason.
func (s *Server) revoke(c echo.Context, reason string) (award.Award, error) {
	ctx := c.Request().Context()
	a, err := s.deps.Boards.Revoke(ctx, viewerFrom(c), c.Param("id"), reason)
	if err != nil {
		return award.Award{}, err
	}
	s.record(c, audit.Entry{Action: audit.AwardRevoked, SubjectID: a.UserID, SubjectName: a.ShownName, Reason: a.Revoked.Reason,
		Changes: []audit.Change{{Field: "award", Before: award.Valid, After: award.Revoked}, {Field: "board", After: a.BoardID}}})
	return a, nil
}

func (s *Server) revokeForm(c echo.Context) error {
	ctx := c.Request().Context()
	held, err := s.deps.Awards.ByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	a, err := s.revoke(c, c.FormValue("reason"))
	if err != nil {
		c.SetParamNames("id")
		c.SetParamValues(held.BoardID)
		field := "revoke-reason-" + held.UserID
		errs, err := formErrors(err, map[string]string{"reason": field, "": field})
		if err != nil {
			return err
		}
		return s.renderBoard(c, http.StatusBadRequest, errs, map[string]string{field: c.FormValue("reason")})
	}
	done := "The award to " + a.ShownName + " is revoked."
	return c.Redirect(http.StatusSeeOther, "/boards/"+a.BoardID+"?done="+url.QueryEscape(done)+"#trainee-"+a.UserID)
}

// trainingRecord is the signed-in trainee's training record as a PDF: only their own, from
// their cohort's progress; anyone without a cohort as a trainee is told there is none.
func (s *Server) trainingRecord(c echo.Context) error {
	svc, err := s.progressService()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	if u.Role != accounts.RoleTrainee {
		return fmt.Errorf("training record: %w", failure.ErrNotFound)
	}
	v, err := s.myCohort(c)
	if errors.Is(err, errNoCohort) {
		return fmt.Errorf("training record: %w", failure.ErrNotFound)
	}
	if err != nil {
		return err
	}
	p, err := svc.Trainee(ctx, viewerFrom(c), v.Cohort.ID, u.ID)
	if err != nil {
		return err
	}
	var held []award.Award
	if s.deps.Awards != nil {
		if held, err = s.deps.Awards.ForUser(ctx, u.ID); err != nil {
			return err
		}
	}
	pdf, err := award.TrainingRecord(u.Name, v.Cohort.Name, p, held)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="training-record.pdf"`)
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}
