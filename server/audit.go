package server

import (
	"github.com/labstack/echo/v4"

	"polyphony/internal/audit"
)

// record adds an administrative change to the audit log, made by the person signed in. The
// change is stored already, so a log that cannot be written loses the entry, not the change;
// that is logged as an error.
func (s *Server) record(c echo.Context, e audit.Entry) {
	if s.deps.Audit == nil {
		return
	}
	if me := currentUser(c); me != nil {
		e.ActorID, e.ActorName = me.ID, me.Name
	}
	if _, err := s.deps.Audit.Record(c.Request().Context(), e); err != nil {
		s.log.Error("audit log", "action", e.Action, "subject", e.SubjectID, "err", err)
	}
}

// cohortName is the cohort's name for the log, or its id when it cannot be read.
func (s *Server) cohortName(c echo.Context, id string) string {
	co, err := s.deps.Courses.Cohort(c.Request().Context(), id)
	if err != nil {
		return id
	}
	return co.Name
}
