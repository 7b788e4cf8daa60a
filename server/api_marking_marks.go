package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/assessment/marking"
	"polyphony/internal/audit"
)

// The marker's and the moderator's side of the API: the queue, drafts and submitted marks,
// moderation, the trail and release.

func (s *Server) apiMarkingQueue(c echo.Context) error {
	return s.answerQueue(c, "")
}

// apiAssessorQueue is another assessor's queue, for administrators (the store refuses
// anyone else).
func (s *Server) apiAssessorQueue(c echo.Context) error {
	if _, err := s.assessorNamed(c, c.Param("id")); err != nil {
		return err
	}
	return s.answerQueue(c, c.Param("id"))
}

// answerQueue answers with what waits for the marker to mark ("" for the caller).
func (s *Server) answerQueue(c echo.Context, markerID string) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	if markerID == "" {
		markerID = a.UserID
	}
	q, err := st.Queue(c.Request().Context(), a, markerID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, nonNilSlice(q))
}

func (s *Server) apiMyMark(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	m, err := st.ReadMark(c.Request().Context(), a, submissionRef(c), a.UserID)
	if err != nil {
		return err
	}
	setETag(c, m.Version)
	return c.JSON(http.StatusOK, m)
}

// apiSaveMark saves the marker's draft as the version after the one in If-Match ("0" for
// the first); a save made since (another tab) is a 409 carrying the stored draft as "server",
// so that neither text is lost.
func (s *Server) apiSaveMark(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	base, err := ifMatch(c)
	if err != nil {
		return err
	}
	var in marking.MarkInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	m, err := st.SaveDraft(c.Request().Context(), a, submissionRef(c), base, in)
	if err != nil {
		return answerMarkConflict(c, err)
	}
	setETag(c, m.Version)
	return c.JSON(http.StatusOK, m)
}

// answerMarkConflict answers a stale save or submission with 409 and the stored mark.
func answerMarkConflict(c echo.Context, err error) error {
	var stale *marking.MarkConflictError
	if errors.As(err, &stale) {
		setETag(c, stale.Stored.Version)
		return c.JSON(http.StatusConflict, map[string]any{"error": "Your marking was saved elsewhere since (another tab or window): compare the two and save again", "server": stale.Stored})
	}
	return err
}

func (s *Server) apiSubmitMark(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	base, err := ifMatch(c)
	if err != nil {
		return err
	}
	m, err := st.SubmitMark(c.Request().Context(), a, submissionRef(c), base)
	if err != nil {
		return answerMarkConflict(c, err)
	}
	setETag(c, m.Version)
	return c.JSON(http.StatusOK, m)
}

func (s *Server) apiReadMark(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	m, err := st.ReadMark(c.Request().Context(), a, submissionRef(c), c.Param("marker"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

func (s *Server) apiModerate(c echo.Context) error { return s.apiSettle(c, (*marking.Store).Moderate) }

func (s *Server) apiRemoderate(c echo.Context) error {
	return s.apiSettle(c, (*marking.Store).Remoderate)
}

// apiSettle records the agreed result in the body through settle (moderation or
// re-moderation); who recorded it and when are the store's to set, never the body's.
func (s *Server) apiSettle(c echo.Context, settle func(*marking.Store, context.Context, marking.Actor, string, marking.AgreedResult) (marking.AgreedResult, error)) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	var in marking.AgreedResult
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	in.By, in.At = "", time.Time{}
	res, err := settle(st, c.Request().Context(), a, submissionRef(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) apiOpenModeration(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	var req reasonRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := st.OpenModeration(c.Request().Context(), a, submissionRef(c), req.Reason); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiMarkingTrail(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	tr, err := st.Trail(c.Request().Context(), a, submissionRef(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, nonNilSlice(tr))
}

type releaseRequest struct {
	// TraineeID releases that trainee's result alone; empty releases every one ready.
	TraineeID string `json:"traineeId"`
}

func (s *Server) apiRelease(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	var req releaseRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	rep, err := s.release(c, st, a, c.Param("piece"), req.TraineeID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// release releases results and logs it; the pages and the API both come here.
func (s *Server) release(c echo.Context, st *marking.Store, a marking.Actor, pieceID, traineeID string) (marking.ReleaseReport, error) {
	rep, err := st.Release(c.Request().Context(), a, pieceID, traineeID)
	if err != nil {
		return rep, err
	}
	rep.Released, rep.AlreadyReleased, rep.NotReady = nonNilSlice(rep.Released), nonNilSlice(rep.AlreadyReleased), nonNilSlice(rep.NotReady)
	if len(rep.Released) > 0 {
		title := pieceID
		if p, err := st.Piece(c.Request().Context(), a, pieceID); err == nil {
			title = p.Title
		}
		s.record(c, audit.Entry{Action: audit.ResultsReleased, SubjectID: pieceID, SubjectName: title,
			Changes: []audit.Change{{Field: "released", After: itoa(len(rep.Released))}}})
		// Each trainee is told by email; the release stands whether or not the email goes.
		if s.deps.Notify != nil {
			if _, err := s.deps.Notify.MarksReleased(c.Request().Context(), pieceID, title, "/marking/pieces/"+pieceID, rep.Released); err != nil {
				s.log.Error("email of a released result", "piece", pieceID, "err", err)
			}
		}
	}
	return rep, nil
}

// nonNilSlice answers an empty list as [] rather than null.
func nonNilSlice[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
