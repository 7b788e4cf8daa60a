package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/assessment/marking"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
)

// The pages of assessed work. Like the API, every route is for anyone signed in, and the
// marking store decides from the Actor what each person may see and do.
func (s *Server) markingPageRoutes() {
	s.add(http.MethodGet, "/marking", SignedIn, s.markingIndex)
	s.add(http.MethodGet, "/marking/cohorts/:id/new", SignedIn, s.pieceNew)
	s.add(http.MethodPost, "/marking/cohorts/:id/pieces", SignedIn, s.pieceCreate)
	s.add(http.MethodGet, "/marking/pieces/:piece/edit", SignedIn, s.pieceEdit)
	s.add(http.MethodPost, "/marking/pieces/:piece", SignedIn, s.pieceUpdate)
	s.markingPiecePageRoutes()
	s.markingMarkPageRoutes()
	s.add(http.MethodGet, "/marking/cohorts/:id/agreement", SignedIn, s.agreementPage)
}

// pieceLine is a piece as the index lists it: for a trainee their own state, for staff how
// many submissions are in each state.
type pieceLine struct {
	marking.Piece
	State  marking.State
	Counts []stateCount
}

type stateCount struct {
	State marking.State
	N     int
}

type cohortPieces struct {
	Cohort courses.Cohort
	Staff  bool
	Pieces []pieceLine
}

type markingIndexData struct {
	Cohorts []cohortPieces
	Queue   []marking.QueueItem
	Staff   bool
	// QueueOf names the assessor whose queue an administrator is looking at ("" for one's
	// own); Assessors is every assessor's load, for administrators.
	QueueOf   string
	Assessors []assessorLoad
}

// assessorLoad is what waits for one assessor to mark, as administrators see it.
type assessorLoad struct {
	ID, Name string
	Waiting  int
	Soonest  time.Time
}

// markingCohorts is the cohorts whose assessed work the person sees: every cohort for an
// administrator, else their own.
func (s *Server) markingCohorts(ctx context.Context, u *accounts.User, a marking.Actor) ([]courses.Cohort, error) {
	if u.Role == accounts.RoleAdmin {
		return s.deps.Courses.Cohorts(ctx)
	}
	var out []courses.Cohort
	for _, id := range a.CohortIDs {
		co, err := s.deps.Courses.Cohort(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, co)
	}
	return out, nil
}

func (s *Server) markingIndex(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	cohorts, err := s.markingCohorts(ctx, u, a)
	if err != nil {
		return err
	}
	d := markingIndexData{Staff: u.Role == accounts.RoleAdmin || u.Role == accounts.RoleAssessor}
	for _, co := range cohorts {
		ps, err := st.Pieces(ctx, a, co.ID)
		if err != nil {
			return err
		}
		cp := cohortPieces{Cohort: co, Staff: d.Staff}
		for _, p := range ps {
			line := pieceLine{Piece: p}
			if d.Staff {
				rows, err := st.Overview(ctx, a, p.ID)
				if err != nil && !errors.Is(err, failure.ErrForbidden) {
					return err
				}
				line.Counts = countStates(rows)
			} else if u.Role == accounts.RoleTrainee {
				v, err := st.TraineeView(ctx, a, p.ID, a.UserID)
				if err != nil {
					return err
				}
				line.State = v.State
			}
			cp.Pieces = append(cp.Pieces, line)
		}
		if d.Staff || len(cp.Pieces) > 0 {
			d.Cohorts = append(d.Cohorts, cp)
		}
	}
	if d.Staff {
		marker := a.UserID
		if id := c.QueryParam("marker"); id != "" && id != a.UserID {
			who, err := s.assessorNamed(c, id)
			if err != nil {
				return err
			}
			marker, d.QueueOf = id, who
		}
		if d.Queue, err = st.Queue(ctx, a, marker); err != nil {
			return err
		}
	}
	if u.Role == accounts.RoleAdmin {
		if d.Assessors, err = s.assessorLoads(c, st, a, cohorts); err != nil {
			return err
		}
	}
	return s.render(c, "marking", pageData{Title: "Assessed work", Nav: "marking", Notice: c.QueryParam("done"), Data: d})
}

// countStates counts the submissions in each state, in the order of the workflow.
func countStates(rows []marking.SubmissionSummary) []stateCount {
	order := []marking.State{marking.NotSubmitted, marking.Submitted, marking.InMarking, marking.Marked, marking.SecondMarking, marking.InModeration, marking.Agreed, marking.Released}
	n := map[marking.State]int{}
	for _, r := range rows {
		n[r.State]++
	}
	var out []stateCount
	for _, st := range order {
		if n[st] > 0 {
			out = append(out, stateCount{st, n[st]})
		}
	}
	return out
}

// pieceForm is the setup form of a piece.
type pieceForm struct {
	New      bool
	CohortID string
	Cohort   string
	PieceID  string
	Base     int
	Rubrics  []marking.Rubric
	In       marking.PieceInput
	DueDate  string
	DueTime  string
}

// pieceFieldIDs maps the store's fields to the form's.
var pieceFieldIDs = map[string]string{
	"title": "piece-title", "due": "piece-due-date", "accepts": "piece-accepts-entries", "scheme": "piece-scheme",
	"tolerance": "piece-tolerance", "agreed": "piece-agreed", "samplePercent": "piece-sample", "borderline": "piece-borderline",
	"rubricId": "piece-rubric", "": "piece-title",
}

func (s *Server) pieceNew(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := st.MaySetUp(a, c.Param("id")); err != nil {
		return err
	}
	co, err := s.deps.Courses.Cohort(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	rs, err := st.Rubrics(ctx, a)
	if err != nil {
		return err
	}
	f := pieceForm{New: true, CohortID: co.ID, Cohort: co.Name, Rubrics: rs, In: marking.PieceInput{Scheme: marking.SchemeSingle, RubricID: marking.SevenPrinciplesRubricID, Accepts: marking.Accepts{Entries: true}, Tolerance: 2, SamplePercent: 10, Borderline: 1}, DueTime: "17:00"}
	return s.renderPieceForm(c, http.StatusOK, f, nil)
}

func (s *Server) renderPieceForm(c echo.Context, status int, f pieceForm, errs []fieldError) error {
	title := "Set up an assessed piece"
	if !f.New {
		title = "Change the assessed piece"
	}
	return s.renderStatus(c, status, "marking_piece_edit", pageData{Title: title, Nav: "marking", Errors: errs, Data: f})
}

// pieceFromForm reads the setup form.
func pieceFromForm(c echo.Context) (marking.PieceInput, pieceForm, error) {
	num := func(name string) (int, error) {
		v := strings.TrimSpace(c.FormValue(name))
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, err
		}
		return n, nil
	}
	in := marking.PieceInput{
		Title: c.FormValue("title"), Guidance: c.FormValue("guidance"), RubricID: c.FormValue("rubric"), Scheme: c.FormValue("scheme"),
		Anonymous: c.FormValue("anonymous") == "yes", Agreed: c.FormValue("agreed"), ShowMarkers: c.FormValue("showMarkers") == "yes",
	}
	for _, v := range c.Request().Form["accepts"] {
		switch v {
		case "entries":
			in.Accepts.Entries = true
		case "files":
			in.Accepts.Files = true
		case "transcript":
			in.Accepts.Transcript = true
		}
	}
	f := pieceForm{In: in, DueDate: c.FormValue("dueDate"), DueTime: c.FormValue("dueTime")}
	var errs []error
	for _, x := range []struct {
		name, field, words string
		into               *int
	}{{"tolerance", "tolerance", "Enter the tolerance as a whole number of marks", &in.Tolerance},
		{"samplePercent", "samplePercent", "Enter the sample as a whole number per cent", &in.SamplePercent},
		{"borderline", "borderline", "Enter the borderline as a whole number of marks", &in.Borderline}} {
		n, err := num(x.name)
		if err != nil {
			errs = append(errs, failure.Problem(x.field, x.words))
		}
		*x.into = n
	}
	if due, err := marking.UKTime(f.DueDate, f.DueTime); err != nil {
		errs = append(errs, err)
	} else {
		in.Due = due
	}
	f.In = in
	return in, f, failure.Problems(errs...)
}

func (s *Server) pieceCreate(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	co, err := s.deps.Courses.Cohort(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	in, f, ferr := pieceFromForm(c)
	f.New, f.CohortID, f.Cohort = true, co.ID, co.Name
	if ferr != nil {
		if err := st.MaySetUp(a, co.ID); err != nil {
			return err
		}
		return s.pieceFormError(c, st, a, f, pieceProblems(ctx, st, in, ferr))
	}
	p, err := st.CreatePiece(ctx, a, co.ID, in)
	if err != nil {
		return s.pieceFormError(c, st, a, f, err)
	}
	s.recordPiece(c, audit.PieceSetUp, p, nil)
	return mcqRedirect(c, "/marking/pieces/"+p.ID, "Set up "+p.Title+".")
}

// pieceProblems joins the form's own problems with those the store finds in the rest, each
// field named once.
func pieceProblems(ctx context.Context, st *marking.Store, in marking.PieceInput, ferr error) error {
	named := map[string]bool{}
	for _, inv := range failure.Invalids(ferr) {
		named[inv.Field] = true
	}
	if named["due"] {
		in.Due = time.Now() // a placeholder, so that the store reports only the other fields
	}
	errs := []error{ferr}
	for _, inv := range failure.Invalids(st.CheckPiece(ctx, in)) {
		if !named[inv.Field] {
			errs = append(errs, inv)
		}
	}
	return failure.Problems(errs...)
}

// pieceFormError shows the form again with what was typed and every problem, each linked to
// its field.
func (s *Server) pieceFormError(c echo.Context, st *marking.Store, a marking.Actor, f pieceForm, err error) error {
	status := http.StatusBadRequest
	if errors.Is(err, failure.ErrConflict) {
		status = http.StatusConflict // saved by someone else since the form was opened
	}
	errs, err := formErrors(err, pieceFieldIDs)
	if err != nil {
		return err
	}
	if f.Rubrics, err = st.Rubrics(c.Request().Context(), a); err != nil {
		return err
	}
	return s.renderPieceForm(c, status, f, errs)
}

func (s *Server) pieceEdit(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := st.Piece(ctx, a, c.Param("piece"))
	if err != nil {
		return err
	}
	if err := st.MaySetUp(a, p.CohortID); err != nil {
		return err
	}
	rs, err := st.Rubrics(ctx, a)
	if err != nil {
		return err
	}
	due := marking.InUK(p.Due)
	f := pieceForm{CohortID: p.CohortID, Cohort: s.cohortName(c, p.CohortID), PieceID: p.ID, Base: p.Version, Rubrics: rs, In: p.PieceInput,
		DueDate: due.Format("2006-01-02"), DueTime: due.Format("15:04")}
	return s.renderPieceForm(c, http.StatusOK, f, nil)
}

func (s *Server) pieceUpdate(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	before, err := st.Piece(ctx, a, c.Param("piece"))
	if err != nil {
		return err
	}
	in, f, ferr := pieceFromForm(c)
	f.CohortID, f.Cohort, f.PieceID = before.CohortID, s.cohortName(c, before.CohortID), before.ID
	f.Base, _ = strconv.Atoi(c.FormValue("baseVersion"))
	if in.RubricID == before.RubricID {
		in.RubricVersion = before.RubricVersion // a piece keeps the version it is marked with
	}
	if ferr != nil {
		if err := st.MaySetUp(a, before.CohortID); err != nil {
			return err
		}
		return s.pieceFormError(c, st, a, f, pieceProblems(ctx, st, in, ferr))
	}
	p, err := st.EditPiece(ctx, a, before.ID, f.Base, in)
	if err != nil {
		return s.pieceFormError(c, st, a, f, err)
	}
	s.recordPiece(c, audit.PieceEdited, p, &before)
	return mcqRedirect(c, "/marking/pieces/"+p.ID, "Saved "+p.Title+".")
}

// assessorNamed is the name of the assessor with the id, for looking at their marking
// queue; anyone who is not an assessor is not found.
func (s *Server) assessorNamed(c echo.Context, id string) (string, error) {
	u, err := s.deps.Accounts.Users.ByID(c.Request().Context(), id)
	if err != nil {
		return "", err
	}
	if u.Role != accounts.RoleAssessor {
		return "", fmt.Errorf("%w: %s is not an assessor", failure.ErrNotFound, id)
	}
	return u.Name, nil
}

// assessorLoads is what waits for each assessor of the cohorts to mark, by name.
func (s *Server) assessorLoads(c echo.Context, st *marking.Store, a marking.Actor, cohorts []courses.Cohort) ([]assessorLoad, error) {
	ctx := c.Request().Context()
	seen := map[string]bool{}
	var out []assessorLoad
	for _, co := range cohorts {
		members, err := s.deps.Courses.Members(ctx, co.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			if m.Role != accounts.RoleAssessor || seen[m.UserID] {
				continue
			}
			seen[m.UserID] = true
			q, err := st.Queue(ctx, a, m.UserID)
			if err != nil {
				return nil, err
			}
			load := assessorLoad{ID: m.UserID, Name: s.personName(c, m.UserID), Waiting: len(q)}
			if len(q) > 0 {
				load.Soonest = q[0].Due
			}
			out = append(out, load)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
