package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/assessment"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// actor is the signed-in person as the assessment store knows them.
func actor(c echo.Context) assessment.Actor {
	u := currentUser(c)
	if u == nil {
		return assessment.Actor{}
	}
	return assessment.Actor{ID: u.ID, Role: u.Role}
}

type bankRequest struct {
	Name string `json:"name"`
}

type idResponse struct {
	ID string `json:"id"`
}

func (s *Server) apiListBanks(c echo.Context) error {
	bs, err := s.deps.Assessments.Banks(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	if bs == nil {
		bs = []assessment.Bank{}
	}
	return c.JSON(http.StatusOK, bs)
}

func (s *Server) apiCreateBank(c echo.Context) error {
	var req bankRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	b, err := s.deps.Assessments.CreateBank(c.Request().Context(), actor(c), req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, idResponse{ID: b.ID})
}

func (s *Server) apiListQuestions(c echo.Context) error {
	qs, err := s.deps.Assessments.Questions(c.Request().Context(), actor(c), c.Param("bank"))
	if err != nil {
		return err
	}
	if qs == nil {
		qs = []assessment.Question{}
	}
	return c.JSON(http.StatusOK, qs)
}

func (s *Server) apiAddQuestion(c echo.Context) error {
	var in assessment.QuestionInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	q, err := s.deps.Assessments.AddQuestion(c.Request().Context(), actor(c), c.Param("bank"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, q)
}

// questionFormat reads ?format=, which is required.
func questionFormat(c echo.Context) (assessment.Format, error) {
	f := c.QueryParam("format")
	if f == "" {
		return "", failure.Invalid("format", "say which format the questions are in: ?format=aiken, gift or md")
	}
	return assessment.ParseFormat(f)
}

func (s *Server) apiImportQuestions(c echo.Context) error {
	format, err := questionFormat(c)
	if err != nil {
		return err
	}
	skip := false
	if v := c.QueryParam("skipInvalid"); v != "" {
		if skip, err = strconv.ParseBool(v); err != nil {
			return failure.Invalidf("skipInvalid", "%q is not true or false", v)
		}
	}
	ct, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if ct != "" && !strings.HasPrefix(ct, "text/") && ct != "application/octet-stream" {
		return &echo.HTTPError{Code: http.StatusUnsupportedMediaType, Message: "send the file as text/plain"}
	}
	src, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return jsonError(err)
	}
	res, err := s.deps.Assessments.Import(c.Request().Context(), actor(c), c.Param("bank"), format, src, assessment.ImportOptions{SkipInvalid: skip})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Imported == 0 && len(res.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return c.JSON(status, res)
}

func (s *Server) apiExportQuestions(c echo.Context) error {
	format, err := questionFormat(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.deps.Assessments.Export(c.Request().Context(), actor(c), c.Param("bank"), format, &buf); err != nil {
		return err
	}
	ctype, ext := "text/plain; charset=utf-8", ".txt"
	switch format {
	case assessment.FormatGIFT:
		ext = ".gift"
	case assessment.FormatMarkdown:
		ctype, ext = "text/markdown; charset=utf-8", ".md"
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="questions`+ext+`"`)
	return c.Blob(http.StatusOK, ctype, buf.Bytes())
}

func (s *Server) apiCreateAssessment(c echo.Context) error {
	var in assessment.AssessmentInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.deps.Assessments.CreateAssessment(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	s.notifyAssessment(c.Request().Context(), a)
	setETag(c, a.Version)
	return c.JSON(http.StatusCreated, a)
}

func (s *Server) apiGetAssessment(c echo.Context) error {
	a, err := s.deps.Assessments.Assessment(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	setETag(c, a.Version)
	return c.JSON(http.StatusOK, a)
}

// reportQuery reads a results or analysis request's ?format= (json, the default, or csv) and
// ?use= (which attempts count: first, best or last; first when absent).
func reportQuery(c echo.Context) (csv bool, use assessment.Pick, err error) {
	switch f := c.QueryParam("format"); f {
	case "", "json":
	case "csv":
		csv = true
	default:
		return false, use, failure.Invalidf("format", "%q is not json or csv", f)
	}
	use, err = assessment.ParsePick(c.QueryParam("use"))
	return csv, use, err
}

func sendCSV(c echo.Context, name string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func (s *Server) apiAssessmentResults(c echo.Context) error {
	csv, p, err := reportQuery(c)
	if err != nil {
		return err
	}
	rs, err := s.deps.Assessments.Results(c.Request().Context(), actor(c), c.Param("id"), p)
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []assessment.TraineeResult{}
	}
	if csv {
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.UserID)
		}
		names, err := s.deps.Accounts.Users.Names(c.Request().Context(), ids)
		if err != nil {
			return err
		}
		return sendCSV(c, "results.csv", func(w io.Writer) error {
			return assessment.WriteResultsCSV(w, rs, func(id string) string { return names[id] })
		})
	}
	return c.JSON(http.StatusOK, rs)
}

func (s *Server) apiAssessmentAnalysis(c echo.Context) error {
	csv, p, err := reportQuery(c)
	if err != nil {
		return err
	}
	an, err := s.deps.Assessments.Analysis(c.Request().Context(), actor(c), c.Param("id"), p)
	if err != nil {
		return err
	}
	if csv {
		return sendCSV(c, "analysis.csv", func(w io.Writer) error { return assessment.WriteAnalysisCSV(w, an) })
	}
	return c.JSON(http.StatusOK, an)
}

// angoffRequest is one assessor's estimates: for each question id, the probability (0 to 1)
// that a borderline trainee answers it right.
type angoffRequest struct {
	Estimates map[string]float64 `json:"estimates"`
}

func (s *Server) apiPutAngoff(c echo.Context) error {
	var req angoffRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	j, err := s.deps.Assessments.SaveEstimates(c.Request().Context(), actor(c), c.Param("id"), req.Estimates)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

func (s *Server) apiGetAngoff(c echo.Context) error {
	p, err := s.deps.Assessments.StandardSetting(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) apiAdoptAngoff(c echo.Context) error {
	a, err := s.deps.Assessments.AdoptPassMark(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	setETag(c, a.Version)
	return c.JSON(http.StatusOK, a)
}

// apiStartAttempt starts the trainee's attempt, or returns the one they have open (200
// rather than 201). Only members of the assessment's cohort may start.
func (s *Server) apiStartAttempt(c echo.Context) error {
	ctx := c.Request().Context()
	who := actor(c)
	info, err := s.deps.Assessments.AssessmentInfo(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.checkSitter(ctx, currentUser(c), info); err != nil {
		return err
	}
	// Of starts racing each other one begins the attempt (201); the others get it (200).
	v, began, err := s.deps.Assessments.StartOrResume(ctx, who, info.ID)
	if err != nil {
		return err
	}
	if !began {
		return c.JSON(http.StatusOK, v)
	}
	return c.JSON(http.StatusCreated, v)
}

func (s *Server) apiGetAttempt(c echo.Context) error {
	v, err := s.deps.Assessments.AttemptView(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// answerRequest is one answer: the option's index as shown, or -1 to clear the answer.
type answerRequest struct {
	Option *int `json:"option"`
}

func (s *Server) apiSaveAnswer(c echo.Context) error {
	q, err := strconv.Atoi(c.Param("q"))
	if err != nil {
		return failure.Invalidf("question", "%q is not a question number", c.Param("q"))
	}
	var req answerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Option == nil {
		return failure.Invalid("option", "say which option is chosen (from 0), or -1 to clear the answer")
	}
	saved, err := s.deps.Assessments.SaveAnswer(c.Request().Context(), actor(c), c.Param("id"), q, *req.Option)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, saved)
}

func (s *Server) apiSubmitAttempt(c echo.Context) error {
	v, err := s.deps.Assessments.Submit(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// traineeAssessment is an assessment as a trainee who may sit it sees it in a list: what
// anyone may know of it, with their own attempts as they may see them now (scores only as
// the review options allow, and never the questions).
type traineeAssessment struct {
	assessment.AssessmentInfo
	// Status is "upcoming" before it opens, "open" while attempts may start, "closed" after.
	Status       string           `json:"status"`
	AttemptsMade int              `json:"attemptsMade"`
	AttemptsLeft *int             `json:"attemptsLeft"` // null: no limit
	OpenAttempt  string           `json:"openAttempt,omitempty"`
	Attempts     []attemptSummary `json:"attempts"`
}

// attemptSummary is an AttemptView without its questions, for lists.
type attemptSummary struct {
	ID           string                  `json:"id"`
	AssessmentID string                  `json:"assessmentId"`
	Title        string                  `json:"title"`
	Number       int                     `json:"number"`
	State        assessment.AttemptState `json:"state"`
	StartedAt    time.Time               `json:"startedAt"`
	EndsAt       *time.Time              `json:"endsAt,omitempty"`
	Deadline     *time.Time              `json:"deadline,omitempty"`
	ClosedAt     *time.Time              `json:"closedAt,omitempty"`
	ClosedBy     string                  `json:"closedBy,omitempty"`
	Review       assessment.ReviewLevel  `json:"review"`
	Score        *assessment.Score       `json:"score,omitempty"`
}

// NoneLeft reports whether the trainee has used every attempt allowed.
func (t traineeAssessment) NoneLeft() bool { return t.AttemptsLeft != nil && *t.AttemptsLeft == 0 }

func summarize(v assessment.AttemptView) attemptSummary {
	return attemptSummary{
		ID: v.ID, AssessmentID: v.AssessmentID, Title: v.Title, Number: v.Number, State: v.State,
		StartedAt: v.StartedAt, EndsAt: v.EndsAt, Deadline: v.Deadline, ClosedAt: v.ClosedAt,
		ClosedBy: v.ClosedBy, Review: v.Review, Score: v.Score,
	}
}

// isAssessmentStaff reports whether the person keeps banks and assessments.
func isAssessmentStaff(u *accounts.User) bool {
	return u != nil && (u.Role == accounts.RoleAdmin || u.Role == accounts.RoleAssessor)
}

// mayStart reports whether the trainee may sit the assessment: it is for everyone, or for a
// cohort they belong to.
func mayStart(info assessment.AssessmentInfo, cohorts map[string]bool) bool {
	return info.CohortID == "" || cohorts[info.CohortID]
}

// checkSitter refuses, as if the assessment did not exist, a person outside its cohort.
func (s *Server) checkSitter(ctx context.Context, u *accounts.User, info assessment.AssessmentInfo) error {
	if info.CohortID == "" {
		return nil
	}
	_, err := s.cohortAccess(ctx, u, info.CohortID)
	return err
}

// traineeAssessments lists the assessments the trainee may sit, with their own attempts.
func (s *Server) traineeAssessments(ctx context.Context, u *accounts.User) ([]traineeAssessment, error) {
	who := assessment.Actor{ID: u.ID, Role: u.Role}
	infos, err := s.deps.Assessments.AssessmentInfos(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := s.deps.Courses.MembershipsOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	cohorts := map[string]bool{}
	for _, m := range ms {
		cohorts[m.CohortID] = true
	}
	now := time.Now()
	out := []traineeAssessment{}
	for _, info := range infos {
		if !mayStart(info, cohorts) {
			continue
		}
		views, err := s.deps.Assessments.MyAttempts(ctx, who, info.ID)
		if err != nil {
			return nil, err
		}
		ta := traineeAssessment{AssessmentInfo: info, AttemptsMade: len(views), Attempts: make([]attemptSummary, len(views))}
		for i, v := range views {
			ta.Attempts[i] = summarize(v)
			if v.State == assessment.StateOpen {
				ta.OpenAttempt = v.ID
			}
		}
		switch {
		case !info.Opens.IsZero() && now.Before(info.Opens):
			ta.Status = "upcoming"
		case !info.Closes.IsZero() && !now.Before(info.Closes):
			ta.Status = "closed"
		default:
			ta.Status = "open"
		}
		if info.AttemptsAllowed > 0 {
			left := max(0, info.AttemptsAllowed-len(views))
			ta.AttemptsLeft = &left
		}
		out = append(out, ta)
	}
	return out, nil
}

// apiListAssessments lists every assessment's settings for admins and assessors, and for a
// trainee the assessments they may sit with their own attempts.
func (s *Server) apiListAssessments(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if u.Role == accounts.RoleTrainee {
		ts, err := s.traineeAssessments(ctx, u)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, ts)
	}
	as, err := s.deps.Assessments.Assessments(ctx, actor(c))
	if err != nil {
		return err
	}
	if as == nil {
		as = []assessment.Assessment{}
	}
	return c.JSON(http.StatusOK, as)
}

// apiUpdateAssessment saves new settings as the version after the one named in If-Match; a
// stale version is a 409 that carries the current settings.
func (s *Server) apiUpdateAssessment(c echo.Context) error {
	base, err := ifMatch(c)
	if err != nil {
		return err
	}
	var in assessment.AssessmentInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := s.deps.Assessments.UpdateAssessment(ctx, actor(c), c.Param("id"), base, in)
	if errors.Is(err, failure.ErrConflict) {
		cur, cerr := s.deps.Assessments.Assessment(ctx, actor(c), c.Param("id"))
		if cerr != nil {
			return cerr
		}
		_, msg, _ := classify(err)
		setETag(c, cur.Version)
		return c.JSON(http.StatusConflict, map[string]any{"error": msg, "current": cur})
	}
	if err != nil {
		return err
	}
	s.notifyAssessment(ctx, a)
	setETag(c, a.Version)
	return c.JSON(http.StatusOK, a)
}

func (s *Server) apiGetQuestion(c echo.Context) error {
	q, err := s.deps.Assessments.Question(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	setETag(c, q.Revision)
	return c.JSON(http.StatusOK, q)
}

// apiReviseQuestion saves a new revision of the question made from the revision named in
// If-Match; a stale revision is a 409 that carries the latest.
func (s *Server) apiReviseQuestion(c echo.Context) error {
	base, err := ifMatch(c)
	if err != nil {
		return err
	}
	var in assessment.QuestionInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	q, err := s.deps.Assessments.ReviseQuestion(ctx, actor(c), c.Param("id"), base, in)
	if errors.Is(err, failure.ErrConflict) {
		cur, cerr := s.deps.Assessments.Question(ctx, actor(c), c.Param("id"))
		if cerr != nil {
			return cerr
		}
		_, msg, _ := classify(err)
		setETag(c, cur.Revision)
		return c.JSON(http.StatusConflict, map[string]any{"error": msg, "current": cur})
	}
	if err != nil {
		return err
	}
	setETag(c, q.Revision)
	return c.JSON(http.StatusOK, q)
}

// apiMyAttempts lists the trainee's own attempts at every assessment, as they may see them
// now, without the questions.
func (s *Server) apiMyAttempts(c echo.Context) error {
	ctx := c.Request().Context()
	who := actor(c)
	if who.Role != accounts.RoleTrainee {
		return fmt.Errorf("%w: only trainees sit assessments", failure.ErrForbidden)
	}
	infos, err := s.deps.Assessments.AssessmentInfos(ctx)
	if err != nil {
		return err
	}
	out := []attemptSummary{}
	for _, info := range infos {
		views, err := s.deps.Assessments.MyAttempts(ctx, who, info.ID)
		if err != nil {
			return err
		}
		for _, v := range views {
			out = append(out, summarize(v))
		}
	}
	return c.JSON(http.StatusOK, out)
}
