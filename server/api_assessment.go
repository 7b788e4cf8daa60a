package server

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/assessment"
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
		users, err := s.deps.Accounts.Users.List(c.Request().Context())
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, u := range users {
			names[u.ID] = u.Name
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
	if info.CohortID != "" {
		if _, err := s.cohortAccess(ctx, currentUser(c), info.CohortID); err != nil {
			return err
		}
	}
	before, err := s.deps.Assessments.MyAttempts(ctx, who, info.ID)
	if err != nil {
		return err
	}
	v, err := s.deps.Assessments.Start(ctx, who, info.ID)
	if err != nil {
		return err
	}
	for _, b := range before {
		if b.ID == v.ID {
			return c.JSON(http.StatusOK, v)
		}
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
