package server

import (
	"context"
	"errors"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// cohortView is a cohort as one person may see it: with their part in it.
type cohortView struct {
	Cohort courses.Cohort
	// Role is the person's role in the cohort; empty for an administrator who is not a member.
	Role accounts.Role
}

// CanManage reports whether the person runs the cohort: one of its facilitators, or an admin.
func (v cohortView) CanManage(u *accounts.User) bool {
	return u.Role == accounts.RoleAdmin || v.Role == accounts.RoleFacilitator
}

// cohortAccess finds the cohort with id if the person may see it: members of the cohort and
// administrators. Anyone else is told it does not exist.
func (s *Server) cohortAccess(ctx context.Context, u *accounts.User, id string) (cohortView, error) {
	c, err := s.deps.Courses.Cohort(ctx, id)
	if err != nil {
		return cohortView{}, err
	}
	ms, err := s.deps.Courses.MembershipsOf(ctx, u.ID)
	if err != nil {
		return cohortView{}, err
	}
	for _, m := range ms {
		if m.CohortID == id {
			return cohortView{Cohort: c, Role: m.Role}, nil
		}
	}
	if u.Role == accounts.RoleAdmin {
		return cohortView{Cohort: c}, nil
	}
	return cohortView{}, failure.ErrNotFound
}

// manageAccess is cohortAccess for changes: only the cohort's facilitators and admins.
func (s *Server) manageAccess(ctx context.Context, u *accounts.User, id string) (cohortView, error) {
	v, err := s.cohortAccess(ctx, u, id)
	if err != nil {
		return cohortView{}, err
	}
	if !v.CanManage(u) {
		return cohortView{}, failure.ErrForbidden
	}
	return v, nil
}

// myCohort picks the cohort a page is about: the one named by ?cohort= if the person may see
// it, else their first cohort. errNoCohort when they belong to none.
func (s *Server) myCohort(c echo.Context) (cohortView, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	if id := c.QueryParam("cohort"); id != "" {
		return s.cohortAccess(ctx, u, id)
	}
	ms, err := s.deps.Courses.MembershipsOf(ctx, u.ID)
	if err != nil {
		return cohortView{}, err
	}
	if len(ms) == 0 {
		if u.Role == accounts.RoleAdmin {
			cs, err := s.deps.Courses.Cohorts(ctx)
			if err != nil {
				return cohortView{}, err
			}
			if len(cs) > 0 {
				return cohortView{Cohort: cs[0]}, nil
			}
		}
		return cohortView{}, errNoCohort
	}
	return s.cohortAccess(ctx, u, ms[0].CohortID)
}

var errNoCohort = errors.New("no cohort")
