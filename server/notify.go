package server

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/assessment"
	"polyphony/courses"
)

// The emails of events (see package notify) are queued here, after the store has done what
// they tell of. A failure to queue one is logged and does not undo, or fail, the request:
// what the person did is done.

// notifyComment tells the entry's author of a comment someone else added.
func (s *Server) notifyComment(ctx context.Context, cm courses.Comment) {
	if s.deps.Notify == nil {
		return
	}
	if err := s.deps.Notify.Comment(ctx, cm); err != nil {
		s.log.Error("queue the email of a comment", "comment", cm.ID, "err", err)
	}
}

// setSharing changes the entry's sharing as the signed-in author asks and, when that
// shares the entry with an audience it was not shared with, tells the audience by email.
// The store answers a request that changes nothing with the sharing as it was, whose
// ChangedAt is from before this request: only a change made by this request (or by one
// at the same moment, which the notifier's records keep to one email) is told.
func (s *Server) setSharing(c echo.Context, entryID string, audience courses.Audience, shared bool) (courses.Sharing, error) {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	// A second of leeway for instances whose clocks differ a little.
	start := time.Now().Add(-time.Second)
	sh, err := s.deps.Journals.SetSharing(ctx, v, entryID, audience, shared)
	if err != nil || !shared || s.deps.Notify == nil || sh.ChangedAt.Before(start) {
		return sh, err
	}
	if err := s.deps.Notify.Shared(ctx, v.UserID, entryID, audience, sh); err != nil {
		s.log.Error("queue the emails of a shared entry", "entry", entryID, "audience", string(audience), "err", err)
	}
	return sh, nil
}

// notifyAssessment tells the trainees of the assessment's cohort that it is open, when it
// is open once saved; one opening later is told by the notifier's job.
func (s *Server) notifyAssessment(ctx context.Context, a assessment.Assessment) {
	if s.deps.Notify == nil {
		return
	}
	if _, err := s.deps.Notify.AssessmentOpened(ctx, a.Info(), time.Now()); err != nil {
		s.log.Error("queue the emails of an assessment opening", "assessment", a.ID, "err", err)
	}
}
