package server

import (
	"github.com/labstack/echo/v4"

	"polyphony/assessment/agreement"
)

// agreementScaleView is one scale's part of the agreement page: its pairs as a table and a
// chart, then each double-rated transcript.
type agreementScaleView struct {
	Title       string
	Levels      int
	Pairs       []agreementPairLine
	Chart       agreementChart
	Transcripts []agreementTranscriptLine
}

// agreementPage shows the cohort's agreement between raters, for its staff (the marking
// store refuses anyone else the ratings).
func (s *Server) agreementPage(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	co, err := s.deps.Courses.Cohort(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	scales, err := s.cohortAgreement(ctx, st, a, co.ID)
	if err != nil {
		return err
	}
	name := s.raterNames(c, scales)
	d := agreementPageData{CohortID: co.ID, CohortName: co.Name}
	for i, sc := range scales {
		view := agreementScaleView{Title: sc.RubricTitle, Levels: sc.Levels}
		for _, p := range sc.Pairs {
			view.Pairs = append(view.Pairs, agreementPairLine{Pair: p, NameA: name(p.RaterA), NameB: name(p.RaterB), Band: agreement.Band(p.Agreement.WeightedKappa)})
		}
		view.Chart = pairChart("chart-pairs-"+itoa(i), pairChartRows(sc.Pairs, name))
		for _, t := range sc.Transcripts {
			p := sc.pieces[t.PieceID]
			who := candidateOf(t.SubmissionID)
			if !p.Anonymous {
				who = s.personName(c, who)
			}
			line := agreementTranscriptLine{Transcript: t, Title: p.Title + ", " + who, NameA: name(t.RaterA), NameB: name(t.RaterB), KappaBand: agreement.Band(t.Overall.WeightedKappa)}
			for _, e := range t.Elements {
				line.Elements = append(line.Elements, agreementElementLine{Element: e, Name: sc.criteria[e.CriterionID]})
			}
			view.Transcripts = append(view.Transcripts, line)
		}
		d.Scales = append(d.Scales, view)
	}
	return s.render(c, "marking_agreement", pageData{Title: "Agreement between raters: " + co.Name, Nav: "marking", Data: d})
}
