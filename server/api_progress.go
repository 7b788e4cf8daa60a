package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// The progress API answers what the pages show: a trainee's own progress, the cohort's grid
// and one trainee's progress for staff, and the cohort's award rules.

// apiMyProgress is the signed-in trainee's progress in their cohort (?cohort= picks one).
func (s *Server) apiMyProgress(c echo.Context) error {
	svc, err := s.progressService()
	if err != nil {
		return err
	}
	if currentUser(c).Role != accounts.RoleTrainee {
		return fmt.Errorf("%w: only trainees have progress towards the award; staff read it at /api/v1/cohorts/{id}/progress", failure.ErrNotFound)
	}
	v, err := s.myCohort(c)
	if errors.Is(err, errNoCohort) {
		return fmt.Errorf("%w: you are not a trainee of any cohort", failure.ErrNotFound)
	}
	if err != nil {
		return err
	}
	p, err := svc.Trainee(c.Request().Context(), viewerFrom(c), v.Cohort.ID, currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// gridResponse is the grid with each trainee's name.
type gridResponse struct {
	progress.Grid
	Names map[string]string `json:"names"`
}

// apiCohortProgress is the cohort's grid as the caller may see it, sorted and filtered as
// the page's query says (?sort=name|met, ?show=at-risk).
func (s *Server) apiCohortProgress(c echo.Context) error {
	_, g, names, err := s.cohortGrid(c)
	if err != nil {
		return err
	}
	by, atRisk := gridQuery(c)
	g.Trainees = arrange(g, names, by, atRisk)
	if g.Trainees == nil {
		g.Trainees = []progress.Progress{}
	}
	return c.JSON(http.StatusOK, gridResponse{Grid: g, Names: names})
}

// apiTraineeProgress is one trainee's progress for the staff who may see it; a trainee
// reads their own at /api/v1/me/progress.
func (s *Server) apiTraineeProgress(c echo.Context) error {
	svc, err := s.progressService()
	if err != nil {
		return err
	}
	if currentUser(c).Role == accounts.RoleTrainee {
		return failure.ErrNotFound
	}
	ctx := c.Request().Context()
	v, err := s.cohortAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	p, err := svc.Trainee(ctx, viewerFrom(c), v.Cohort.ID, c.Param("trainee"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// apiGetAwardRules is the cohort's award rules, for its members and administrators, with
// their version as the ETag a change sends back in If-Match.
func (s *Server) apiGetAwardRules(c echo.Context) error {
	_, _, r, err := s.cohortRules(c)
	if err != nil {
		return err
	}
	setETag(c, r.Version)
	return c.JSON(http.StatusOK, r)
}

// awardRulesBody is what a change of the award rules sends.
type awardRulesBody struct {
	Rules []progress.Rule `json:"rules"`
}

// apiPutAwardRules saves a new version of the cohort's award rules on the version in
// If-Match; a stale version is refused with 409.
func (s *Server) apiPutAwardRules(c echo.Context) error {
	svc, err := s.progressService()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := s.cohortAccess(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	base, err := ifMatch(c)
	if err != nil {
		return err
	}
	var body awardRulesBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	before, err := svc.Rules(ctx, v.Cohort.ID)
	if err != nil {
		return err
	}
	saved, err := svc.SaveRules(ctx, progress.Rules{CohortID: v.Cohort.ID, Rules: body.Rules}, base, currentUser(c).ID)
	if err != nil {
		return err
	}
	s.recordRules(c, v.Cohort, before, saved)
	setETag(c, saved.Version)
	return c.JSON(http.StatusOK, saved)
}
