package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/assessment/marking"
	"polyphony/courses"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
)

// The API of assessed work. Every route is for anyone signed in: the marking store decides,
// from the Actor, who may do what, and answers 404 to those who may not know a thing exists.
func (s *Server) markingAPIRoutes() {
	s.add(http.MethodGet, "/api/v1/marking/rubrics", SignedIn, s.apiMarkingRubrics)
	s.add(http.MethodGet, "/api/v1/cohorts/:id/pieces", SignedIn, s.apiListPieces)
	s.add(http.MethodPost, "/api/v1/cohorts/:id/pieces", SignedIn, s.apiCreatePiece)
	s.add(http.MethodGet, "/api/v1/pieces/:piece", SignedIn, s.apiGetPiece)
	s.add(http.MethodPut, "/api/v1/pieces/:piece", SignedIn, s.apiEditPiece)
	s.add(http.MethodGet, "/api/v1/pieces/:piece/mine", SignedIn, s.apiMySubmission)
	s.add(http.MethodPut, "/api/v1/pieces/:piece/mine", SignedIn, s.apiSubmitWork)
	s.add(http.MethodPost, "/api/v1/pieces/:piece/mine/withdraw", SignedIn, s.apiWithdrawWork)
	s.add(http.MethodPost, "/api/v1/pieces/:piece/extensions", SignedIn, s.apiGrantExtension)
	s.add(http.MethodPost, "/api/v1/pieces/:piece/allocation", SignedIn, s.apiSpreadMarkers)
	s.add(http.MethodPut, "/api/v1/pieces/:piece/submissions/:who/markers", SignedIn, s.apiAllocate)
	s.add(http.MethodGet, "/api/v1/pieces/:piece/submissions/:who/files/:n", SignedIn, s.apiSubmittedFile)
	s.add(http.MethodGet, "/api/v1/me/marking", SignedIn, s.apiMarkingQueue)
	s.add(http.MethodGet, "/api/v1/assessors/:id/marking", SignedIn, s.apiAssessorQueue)
	s.add(http.MethodGet, "/api/v1/pieces/:piece/submissions/:who/marks/mine", SignedIn, s.apiMyMark)
	s.add(http.MethodPut, "/api/v1/pieces/:piece/submissions/:who/marks/mine", SignedIn, s.apiSaveMark)
	s.add(http.MethodPost, "/api/v1/pieces/:piece/submissions/:who/marks/mine/submit", SignedIn, s.apiSubmitMark)
	s.add(http.MethodGet, "/api/v1/pieces/:piece/submissions/:who/marks/:marker", SignedIn, s.apiReadMark)
	s.add(http.MethodPost, "/api/v1/pieces/:piece/submissions/:who/moderation", SignedIn, s.apiModerate)
	s.add(http.MethodPost, "/api/v1/pieces/:piece/submissions/:who/moderation/open", SignedIn, s.apiOpenModeration)
	s.add(http.MethodPost, "/api/v1/pieces/:piece/submissions/:who/remoderation", SignedIn, s.apiRemoderate)
	s.add(http.MethodGet, "/api/v1/pieces/:piece/submissions/:who/trail", SignedIn, s.apiMarkingTrail)
	s.add(http.MethodPost, "/api/v1/pieces/:piece/release", SignedIn, s.apiRelease)
}

func (s *Server) apiMarkingRubrics(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	rs, err := st.Rubrics(c.Request().Context(), a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, nonNilSlice(rs))
}

func (s *Server) apiListPieces(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ps, err := st.Pieces(c.Request().Context(), a, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, nonNilSlice(ps))
}

func (s *Server) apiCreatePiece(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	var in marking.PieceInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := st.CreatePiece(c.Request().Context(), a, c.Param("id"), in)
	if err != nil {
		return err
	}
	s.recordPiece(c, audit.PieceSetUp, p, nil)
	setETag(c, p.Version)
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) apiGetPiece(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	p, err := st.Piece(c.Request().Context(), a, c.Param("piece"))
	if err != nil {
		return err
	}
	setETag(c, p.Version)
	return c.JSON(http.StatusOK, p)
}

// apiEditPiece saves the piece as the version after the one named in If-Match; a stale one
// is a 409 carrying the current piece.
func (s *Server) apiEditPiece(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	base, err := ifMatch(c)
	if err != nil {
		return err
	}
	var in marking.PieceInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	before, err := st.Piece(ctx, a, c.Param("piece"))
	if err != nil {
		return err
	}
	p, err := st.EditPiece(ctx, a, c.Param("piece"), base, in)
	var conflict *failure.ConflictError
	if errors.As(err, &conflict) {
		cur, cerr := st.Piece(ctx, a, c.Param("piece"))
		if cerr != nil {
			return cerr
		}
		setETag(c, cur.Version)
		return c.JSON(http.StatusConflict, map[string]any{"error": conflict.Message, "current": cur})
	}
	if err != nil {
		return err
	}
	s.recordPiece(c, audit.PieceEdited, p, &before)
	setETag(c, p.Version)
	return c.JSON(http.StatusOK, p)
}

// recordPiece logs the setting up or change of a piece, with what changed.
func (s *Server) recordPiece(c echo.Context, action string, p marking.Piece, before *marking.Piece) {
	after := pieceFields(p)
	was := map[string]string{}
	if before != nil {
		was = pieceFields(*before)
	}
	s.record(c, audit.Entry{Action: action, SubjectID: p.ID, SubjectName: p.Title,
		Changes: audit.Diff([]string{"title", "due", "rubric", "scheme", "anonymous", "tolerance"}, was, after)})
}

func pieceFields(p marking.Piece) map[string]string {
	return map[string]string{
		"title": p.Title, "due": p.Due.UTC().Format(time.RFC3339), "rubric": p.RubricID + " v" + itoa(p.RubricVersion),
		"scheme": p.Scheme, "anonymous": yesNo(p.Anonymous), "tolerance": itoa(p.Tolerance),
	}
}

// submitRequest is what a trainee submits: journal entries by id (the revision they
// submitted to the assessors is the one taken), files or media attached to such a
// revision, and a transcript of one of the cohort's rooms.
type submitRequest struct {
	Entries []string     `json:"entries"`
	Files   []fileChoice `json:"files"`
	// FilesAgreed is the trainee's word that everyone seen or heard in the files agrees.
	FilesAgreed bool   `json:"filesAgreed"`
	RoomID      string `json:"roomId"`
}

func (s *Server) apiMySubmission(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	v, err := st.TraineeView(c.Request().Context(), a, c.Param("piece"), a.UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) apiSubmitWork(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	var req submitRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := st.Piece(ctx, a, c.Param("piece"))
	if err != nil {
		return err
	}
	items, err := s.submissionItems(c, p, req)
	if err != nil {
		return err
	}
	if _, err := st.Submit(ctx, a, p.ID, items); err != nil {
		return err
	}
	v, err := st.TraineeView(ctx, a, p.ID, a.UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// submissionItems turns what the trainee chose into what is frozen: each entry at the
// revision they submitted to the assessors (an entry not submitted to them is refused, naming
// it), and the transcript of the cohort's room.
func (s *Server) submissionItems(c echo.Context, p marking.Piece, req submitRequest) (marking.Items, error) {
	var it marking.Items
	u := currentUser(c)
	if len(req.Entries) > 0 || len(req.Files) > 0 {
		if s.deps.Journals == nil {
			return it, failure.Problem("entries", "Journal entries cannot be submitted here")
		}
		mine, err := s.deps.Journals.Entries(c.Request().Context(), courses.Viewer{UserID: u.ID, Role: u.Role}, u.ID)
		if err != nil {
			return it, err
		}
		byID := map[string]courses.EntrySummary{}
		for _, e := range mine {
			byID[e.ID] = e
		}
		var errs []error
		for i, id := range req.Entries {
			e, ok := byID[id]
			switch {
			case !ok:
				errs = append(errs, failure.Problemf("entries["+itoa(i)+"]", "Choose one of your own journal entries"))
			case e.Sharing == nil || !e.Sharing.Assessors || e.Sharing.SubmittedVersion < 1:
				errs = append(errs, failure.Problemf("entries["+itoa(i)+"]", "Submit %q to the assessors from your journal first: that freezes the revision they mark", e.Title))
			default:
				it.Entries = append(it.Entries, marking.EntryItem{EntryID: e.ID, Version: e.Sharing.SubmittedVersion, Title: e.Title})
			}
		}
		files, err := s.submittedFiles(c, byID, req.Files)
		if err != nil && len(failure.Invalids(err)) == 0 {
			return it, err
		}
		errs = append(errs, err)
		if err := failure.Problems(errs...); err != nil {
			return it, err
		}
		it.Files, it.FilesAgreed = files, req.FilesAgreed
	}
	if room := strings.TrimSpace(req.RoomID); room != "" {
		it.Transcript = &marking.TranscriptItem{CohortID: p.CohortID, RoomID: room, Title: s.roomTitle(c, p.CohortID, room)}
	}
	return it, nil
}

// roomTitle names a room for a submission: the cohort's own room, or a dialogue session's
// by its title in the programme.
func (s *Server) roomTitle(c echo.Context, cohortID, roomID string) string {
	if roomID == "cohort" {
		return "The cohort's room"
	}
	if prog, err := s.deps.Courses.Programme(c.Request().Context(), cohortID); err == nil {
		if act, _, ok := prog.Activity(roomID); ok {
			return act.Title
		}
	}
	return "Dialogue room " + roomID
}

func (s *Server) apiWithdrawWork(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := st.Withdraw(ctx, a, c.Param("piece")); err != nil {
		return err
	}
	v, err := st.TraineeView(ctx, a, c.Param("piece"), a.UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

type extensionRequest struct {
	TraineeID string    `json:"traineeId"`
	Until     time.Time `json:"until"`
	Reason    string    `json:"reason"`
}

func (s *Server) apiGrantExtension(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	var req extensionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	sub, err := st.GrantExtension(c.Request().Context(), a, c.Param("piece"), req.TraineeID, req.Until, req.Reason)
	if err != nil {
		return err
	}
	s.record(c, audit.Entry{Action: audit.ExtensionGranted, SubjectID: sub.TraineeID, SubjectName: s.personName(c, sub.TraineeID),
		Changes: []audit.Change{{Field: "until", After: req.Until.UTC().Format(time.RFC3339)}}, Reason: req.Reason})
	return c.JSON(http.StatusOK, sub.Extension)
}

type spreadRequest struct {
	Assessors []string `json:"assessors"`
}

func (s *Server) apiSpreadMarkers(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	var req spreadRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	rep, err := st.SpreadEvenly(c.Request().Context(), a, c.Param("piece"), req.Assessors)
	if err != nil {
		return err
	}
	if rep.Allocated == nil {
		rep.Allocated = []marking.Allocation{}
	}
	if rep.Unallocated == nil {
		rep.Unallocated = []string{}
	}
	return c.JSON(http.StatusOK, rep)
}

type allocateRequest struct {
	Markers []string `json:"markers"`
}

func (s *Server) apiAllocate(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	var req allocateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	sub, err := st.Allocate(c.Request().Context(), a, submissionRef(c), req.Markers)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, allocateRequest{Markers: sub.Markers})
}
