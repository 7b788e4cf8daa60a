package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"polyphony/assessment/marking"
	"polyphony/courses"
	"polyphony/internal/failure"
)

// MarkingSupervises tells the marking store who supervises whom, from the cohorts'
// memberships, so that no one marks a trainee they supervise. It reads the supervisor's
// memberships by their list, as every request does.
func MarkingSupervises(store *courses.Store) marking.Supervises {
	return func(ctx context.Context, supervisorID, traineeID string) (bool, error) {
		ms, err := store.MembershipsOf(ctx, supervisorID)
		if err != nil {
			return false, err
		}
		for _, m := range ms {
			if slices.Contains(m.Supervises, traineeID) {
				return true, nil
			}
		}
		return false, nil
	}
}

// markingActor is the person signed in as the marking store knows them: with the cohorts
// they are a member of, from which the store decides what they may do.
func (s *Server) markingActor(c echo.Context) (*marking.Store, marking.Actor, error) {
	if s.deps.Marking == nil {
		return nil, marking.Actor{}, fmt.Errorf("%w: assessed work is not set up on this server", failure.ErrNotFound)
	}
	u := currentUser(c)
	if u == nil {
		return nil, marking.Actor{}, failure.ErrUnauthenticated
	}
	ms, err := s.deps.Courses.MembershipsOf(c.Request().Context(), u.ID)
	if err != nil {
		return nil, marking.Actor{}, err
	}
	a := marking.Actor{UserID: u.ID, Role: u.Role}
	for _, m := range ms {
		a.CohortIDs = append(a.CohortIDs, m.CohortID)
	}
	return s.deps.Marking, a, nil
}

// submissionRef is the reference of the submission a route names: the piece, then the
// trainee's id or, under anonymous marking, the candidate number.
func submissionRef(c echo.Context) string { return c.Param("piece") + "/" + c.Param("who") }

func itoa(n int) string { return strconv.Itoa(n) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
