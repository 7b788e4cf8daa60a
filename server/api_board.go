package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"polyphony/courses/award"
)

// The exam boards' API, for administrators: a cohort's boards, opening one, a board with its
// trainees and decisions, deciding, and revoking an award.

func (s *Server) apiBoards(c echo.Context) error {
	ctx := c.Request().Context()
	co, err := s.deps.Courses.Cohort(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	bs, err := s.deps.Boards.ForCohort(ctx, viewerFrom(c), co.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, bs)
}

type openBoardBody struct {
	Date string `json:"date"`
}

func (s *Server) apiOpenBoard(c echo.Context) error {
	var body openBoardBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	day, err := parseDay("date", body.Date, "the date the board sits")
	if err != nil {
		return err
	}
	b, err := s.openBoard(c, c.Param("id"), day)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/boards/"+b.ID)
	return c.JSON(http.StatusCreated, b)
}

func (s *Server) apiBoard(c echo.Context) error {
	v, err := s.deps.Boards.View(c.Request().Context(), viewerFrom(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

type decisionBody struct {
	UserID      string `json:"userId"`
	Outcome     string `json:"outcome"`
	Reason      string `json:"reason"`
	Outstanding string `json:"outstanding"`
	Until       string `json:"until"`
}

func (s *Server) apiDecide(c echo.Context) error {
	var body decisionBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	until, err := parseDay("until", body.Until, "the date it is due")
	if err != nil {
		return err
	}
	d, err := s.decide(c, award.DecisionInput{UserID: body.UserID, Outcome: body.Outcome, Reason: body.Reason, Outstanding: body.Outstanding, Until: until})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

type revokeBody struct {
	Reason string `json:"reason"`
}

func (s *Server) apiRevoke(c echo.Context) error {
	var body revokeBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	a, err := s.revoke(c, body.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}
