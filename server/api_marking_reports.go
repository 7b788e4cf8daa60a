package server

import (
	"encoding/csv"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"polyphony/assessment/agreement"
	"polyphony/internal/failure"
)

// The reading side of assessed work: a submission as its markers see it, a piece's overview,
// the moderation sample, the exam board's exports and the agreement between raters.
func (s *Server) markingReportRoutes() {
	s.add(http.MethodGet, "/api/v1/pieces/:piece/submissions", SignedIn, s.apiPieceOverview)
	s.add(http.MethodGet, "/api/v1/pieces/:piece/submissions/:who", SignedIn, s.apiMarkerView)
	s.add(http.MethodGet, "/api/v1/pieces/:piece/sample", SignedIn, s.apiReadSample)
	s.add(http.MethodPost, "/api/v1/pieces/:piece/sample", SignedIn, s.apiDrawSample)
	s.add(http.MethodPost, "/api/v1/pieces/:piece/sample/confirm", SignedIn, s.apiConfirmSample)
	s.add(http.MethodGet, "/api/v1/pieces/:piece/results.csv", SignedIn, s.apiResultsCSV)
	s.add(http.MethodGet, "/api/v1/pieces/:piece/agreement.csv", SignedIn, s.apiPieceAgreementCSV)
	s.add(http.MethodGet, "/api/v1/cohorts/:id/marking/agreement", SignedIn, s.apiMarkingAgreement)
}

func (s *Server) apiPieceOverview(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	rows, err := st.Overview(c.Request().Context(), a, c.Param("piece"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, nonNilSlice(rows))
}

func (s *Server) apiMarkerView(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	v, err := st.MarkerView(c.Request().Context(), a, submissionRef(c))
	if err != nil {
		return err
	}
	v.Marks = nonNilSlice(v.Marks)
	return c.JSON(http.StatusOK, v)
}

func (s *Server) apiReadSample(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	sm, err := st.ReadSample(c.Request().Context(), a, c.Param("piece"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sm)
}

type sampleRequest struct {
	// Seed chooses the random part of the sample; the same seed over the same results draws
	// the same sample.
	Seed int64 `json:"seed"`
}

func (s *Server) apiDrawSample(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	var req sampleRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	sm, err := st.DrawSample(c.Request().Context(), a, c.Param("piece"), req.Seed)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sm)
}

type confirmRequest struct {
	Comment string `json:"comment"`
}

func (s *Server) apiConfirmSample(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	var req confirmRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	sm, err := st.ConfirmSample(c.Request().Context(), a, c.Param("piece"), req.Comment)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sm)
}

func (s *Server) apiResultsCSV(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	return sendCSV(c, "results.csv", func(w io.Writer) error {
		return st.ResultsCSV(c.Request().Context(), a, c.Param("piece"), func(id string) string { return s.personName(c, id) }, w)
	})
}

func (s *Server) apiPieceAgreementCSV(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	return sendCSV(c, "marker-agreement.csv", func(w io.Writer) error {
		return st.AgreementCSV(c.Request().Context(), a, c.Param("piece"), w)
	})
}

// agreementAnswer is a cohort's agreement: one scale (a rubric's levels) after another.
type agreementAnswer struct {
	Scales []*agreementScale `json:"scales"`
	// Raters names every rater, by id.
	Raters map[string]string `json:"raters"`
}

// apiMarkingAgreement answers the cohort's agreement between raters as JSON, or with
// ?format=csv each pair on each scale as a row.
func (s *Server) apiMarkingAgreement(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format != "" && format != "json" && format != "csv" {
		return failure.Problemf("format", "Ask for json or csv, not %q", format)
	}
	scales, err := s.cohortAgreement(c.Request().Context(), st, a, c.Param("id"))
	if err != nil {
		return err
	}
	name := s.raterNames(c, scales)
	if format == "csv" {
		return sendCSV(c, "rater-agreement.csv", func(w io.Writer) error { return writeAgreementCSV(w, scales, name) })
	}
	ans := agreementAnswer{Scales: scales, Raters: map[string]string{}}
	for _, sc := range scales {
		sc.Pairs, sc.Transcripts = nonNilSlice(sc.Pairs), nonNilSlice(sc.Transcripts)
		for _, p := range sc.Pairs {
			ans.Raters[p.RaterA], ans.Raters[p.RaterB] = name(p.RaterA), name(p.RaterB)
		}
	}
	ans.Scales = nonNilSlice(ans.Scales)
	return c.JSON(http.StatusOK, ans)
}

// writeAgreementCSV writes one row per pair of raters on each scale. A figure with no value
// is an empty cell; names are guarded against being read as formulas.
func writeAgreementCSV(w io.Writer, scales []*agreementScale, name func(string) string) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{"rubric", "levels", "rater 1", "rater 2", "submissions", "items", "percent agreement", "kappa", "weighted kappa", "band"}}
	for _, sc := range scales {
		for _, p := range sc.Pairs {
			ag := p.Agreement
			rows = append(rows, []string{csvCell(sc.RubricTitle), itoa(sc.Levels), csvCell(name(p.RaterA)), csvCell(name(p.RaterB)),
				itoa(p.Submissions), itoa(ag.N), csvFigure(ag.PercentAgreement, 1), csvFigure(ag.Kappa, 3), csvFigure(ag.WeightedKappa, 3), agreement.Band(ag.WeightedKappa)})
		}
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// csvCell keeps a spreadsheet from reading a name as a formula.
func csvCell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

func csvFigure(f *float64, places int) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', places, 64)
}
