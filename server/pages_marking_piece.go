package server

import (
	"errors"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/assessment/marking"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
)

func (s *Server) markingPiecePageRoutes() {
	s.add(http.MethodGet, "/marking/pieces/:piece", SignedIn, s.piecePage)
	s.add(http.MethodPost, "/marking/pieces/:piece/submit", SignedIn, s.pieceSubmit)
	s.add(http.MethodPost, "/marking/pieces/:piece/withdraw", SignedIn, s.pieceWithdraw)
	s.add(http.MethodPost, "/marking/pieces/:piece/allocation", SignedIn, s.pieceSpread)
	s.add(http.MethodPost, "/marking/pieces/:piece/release", SignedIn, s.pieceRelease)
	s.add(http.MethodPost, "/marking/pieces/:piece/sample", SignedIn, s.pieceDrawSample)
	s.add(http.MethodPost, "/marking/pieces/:piece/sample/confirm", SignedIn, s.pieceConfirmSample)
	s.add(http.MethodPost, "/marking/pieces/:piece/extensions", SignedIn, s.pieceExtension)
	s.add(http.MethodPost, "/marking/pieces/:piece/submissions/:who/markers", SignedIn, s.pieceAllocate)
}

// pieceAllocate gives one submission its markers by hand, from the overview.
func (s *Server) pieceAllocate(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	var markers []string
	for _, m := range form["markers"] {
		if strings.TrimSpace(m) != "" {
			markers = append(markers, m)
		}
	}
	if _, err := st.Allocate(c.Request().Context(), a, submissionRef(c), markers); err != nil {
		errs, err := formErrors(err, map[string]string{"markers": "markers-" + c.Param("who"), "": "markers-" + c.Param("who")})
		if err != nil {
			return err
		}
		return s.renderPiecePage(c, http.StatusBadRequest, errs)
	}
	return mcqRedirect(c, "/marking/pieces/"+c.Param("piece"), "Markers allocated to "+c.Param("who")+".")
}

// entryChoice is one of the trainee's entries on the submit page.
type entryChoice struct {
	courses.EntrySummary
	Submittable bool // submitted to the assessors, so a revision is frozen
	Chosen      bool
}

type roomChoice struct {
	ID, Title string
	Chosen    bool
}

// overviewLine is a row of the staff's overview, with the markers named.
type overviewLine struct {
	marking.SubmissionSummary
	Who     string // the trainee's name, or the candidate number under anonymous marking
	Markers string
	Path    string
	// Slot is the part of the reference after the piece; Places are its markers by place,
	// for allocating by hand ("" for a place not yet filled).
	Slot   string
	Places []string
}

type piecePageData struct {
	Piece    marking.Piece
	Guidance template.HTML
	Rubric   marking.Rubric
	Cohort   string
	// The trainee's part.
	Trainee bool
	View    marking.TraineeView
	Entries []entryChoice
	Files   []fileOption
	Rooms   []roomChoice
	Open    bool // the trainee may still submit or withdraw
	// The staff's part.
	Staff     bool
	Admin     bool
	Overview  []overviewLine
	Assessors []courses.Membership
	Trainees  []courses.Membership // for extensions, administrators only
	Names     map[string]string
	Sample    *marking.Sample
	// Slots names each submission by the part of its reference after the piece.
	Slots map[string]string
}

func (s *Server) piecePage(c echo.Context) error {
	return s.renderPiecePage(c, http.StatusOK, nil)
}

func (s *Server) renderPiecePage(c echo.Context, status int, errs []fieldError) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := st.Piece(ctx, a, c.Param("piece"))
	if err != nil {
		return err
	}
	d := piecePageData{Piece: p, Cohort: s.cohortName(c, p.CohortID)}
	if r, err := s.deps.Renderer.Render([]byte(p.Guidance), nil); err == nil {
		d.Guidance = r.HTML
	}
	if d.Rubric, err = st.Rubric(ctx, p.RubricID, p.RubricVersion); err != nil {
		return err
	}
	u := currentUser(c)
	switch u.Role {
	case accounts.RoleTrainee:
		if err := s.traineePieceData(c, st, a, &d); err != nil {
			return err
		}
	case accounts.RoleAdmin, accounts.RoleAssessor:
		if err := s.staffPieceData(c, st, a, &d); err != nil {
			return err
		}
	}
	return s.renderStatus(c, status, "marking_piece", pageData{Title: p.Title, Nav: "marking", Notice: c.QueryParam("done"), Errors: errs, Data: d})
}

func (s *Server) traineePieceData(c echo.Context, st *marking.Store, a marking.Actor, d *piecePageData) error {
	ctx := c.Request().Context()
	v, err := st.TraineeView(ctx, a, d.Piece.ID, a.UserID)
	if err != nil {
		return err
	}
	d.Trainee, d.View = true, v
	// Open until marking starts: the store refuses after, naming why; the page offers it
	// while the piece shows the trainee nothing of the marking.
	d.Open = v.State != marking.Released
	chosen := map[string]bool{}
	for _, e := range v.Items.Entries {
		chosen[e.EntryID] = true
	}
	if (d.Piece.Accepts.Entries || d.Piece.Accepts.Files) && s.deps.Journals != nil {
		u := currentUser(c)
		mine, err := s.deps.Journals.Entries(ctx, courses.Viewer{UserID: u.ID, Role: u.Role}, u.ID)
		if err != nil {
			return err
		}
		if d.Piece.Accepts.Entries {
			for _, e := range mine {
				d.Entries = append(d.Entries, entryChoice{EntrySummary: e, Submittable: e.Sharing != nil && e.Sharing.Assessors && e.Sharing.SubmittedVersion > 0, Chosen: chosen[e.ID]})
			}
		}
		if d.Piece.Accepts.Files {
			if d.Files, err = s.fileOptions(c, mine, v.Items.Files); err != nil {
				return err
			}
		}
	}
	if d.Piece.Accepts.Transcript {
		room := ""
		if v.Items.Transcript != nil {
			room = v.Items.Transcript.RoomID
		}
		d.Rooms = append(d.Rooms, roomChoice{ID: "cohort", Title: "The cohort's room", Chosen: room == "cohort"})
		if prog, err := s.deps.Courses.Programme(ctx, d.Piece.CohortID); err == nil {
			for _, per := range prog.Periods {
				for _, act := range per.Activities {
					if act.Session != nil {
						d.Rooms = append(d.Rooms, roomChoice{ID: act.ID, Title: act.Title + ", " + viewDatetime(act.Session.Start), Chosen: room == act.ID})
					}
				}
			}
		}
	}
	return nil
}

func (s *Server) staffPieceData(c echo.Context, st *marking.Store, a marking.Actor, d *piecePageData) error {
	ctx := c.Request().Context()
	rows, err := st.Overview(ctx, a, d.Piece.ID)
	if errors.Is(err, failure.ErrForbidden) {
		return nil // an assessor of another cohort: the piece, and nothing of its marking
	}
	if err != nil {
		return err
	}
	d.Staff, d.Admin = true, a.Role == accounts.RoleAdmin
	d.Names = map[string]string{}
	name := func(id string) string {
		if n, ok := d.Names[id]; ok {
			return n
		}
		d.Names[id] = s.personName(c, id)
		return d.Names[id]
	}
	for _, r := range rows {
		line := overviewLine{SubmissionSummary: r, Who: r.CandidateNumber, Path: submissionPath(r.Ref), Slot: candidateOf(r.Ref)}
		line.Places = make([]string, d.Piece.Markers())
		copy(line.Places, r.Markers)
		if r.TraineeID != "" {
			line.Who = name(r.TraineeID)
			if d.Piece.Anonymous {
				line.Who = r.CandidateNumber + " (" + line.Who + ")"
			}
		}
		var ms []string
		for _, m := range r.Markers {
			ms = append(ms, name(m))
		}
		line.Markers = strings.Join(ms, ", ")
		d.Overview = append(d.Overview, line)
		if d.Slots == nil {
			d.Slots = map[string]string{}
		}
		d.Slots[line.Slot] = line.Who
	}
	members, err := s.deps.Courses.Members(ctx, d.Piece.CohortID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.Role == accounts.RoleAssessor {
			d.Assessors = append(d.Assessors, m)
			name(m.UserID)
		}
		if m.Role == accounts.RoleTrainee && d.Admin {
			d.Trainees = append(d.Trainees, m)
			name(m.UserID)
		}
	}
	sort.Slice(d.Assessors, func(i, j int) bool { return d.Names[d.Assessors[i].UserID] < d.Names[d.Assessors[j].UserID] })
	if sm, err := st.ReadSample(ctx, a, d.Piece.ID); err == nil {
		d.Sample = &sm
	}
	return nil
}

// submissionPath is the marking page of a submission, from its reference.
func submissionPath(ref string) string {
	piece, who, _ := strings.Cut(ref, "/")
	return "/marking/pieces/" + piece + "/submissions/" + who
}

func (s *Server) pieceSubmit(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := st.Piece(ctx, a, c.Param("piece"))
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	items, err := s.submissionItems(c, p, submitRequest{Entries: form["entries"], Files: fileChoicesFromForm(form["files"]),
		FilesAgreed: c.FormValue("filesAgreed") == "yes", RoomID: c.FormValue("room")})
	if err == nil {
		_, err = st.Submit(ctx, a, p.ID, items)
	}
	if err != nil {
		return s.pieceFormProblem(c, p.Accepts, err)
	}
	return mcqRedirect(c, "/marking/pieces/"+p.ID, "Submitted. You can change or withdraw it until marking starts.")
}

// submitFieldIDs links the store's fields on the submit page to its form; a problem with
// the submission as a whole goes to the first of its fields the piece has.
func submitFieldIDs(accepts marking.Accepts) map[string]string {
	first := "submit-room"
	switch {
	case accepts.Entries:
		first = "submit-entries"
	case accepts.Files:
		first = "submit-files"
	}
	return map[string]string{"items": first, "entries": "submit-entries", "files": "submit-files", "filesAgreed": "files-agreed", "transcript": "submit-room", "withdraw": "withdraw", "": first}
}

// pieceFormProblem shows the piece page again with what is wrong, each problem linked to its
// field; entries[2] is the entries' checkboxes, files[1].key the files'.
func (s *Server) pieceFormProblem(c echo.Context, accepts marking.Accepts, err error) error {
	for _, inv := range failure.Invalids(err) {
		for _, list := range []string{"entries", "files"} {
			if strings.HasPrefix(inv.Field, list+"[") {
				inv.Field = list
			}
		}
	}
	errs, err := formErrors(err, submitFieldIDs(accepts))
	if err != nil {
		return err
	}
	return s.renderPiecePage(c, http.StatusBadRequest, errs)
}

func (s *Server) pieceWithdraw(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	p, err := st.Piece(c.Request().Context(), a, c.Param("piece"))
	if err != nil {
		return err
	}
	if _, err := st.Withdraw(c.Request().Context(), a, p.ID); err != nil {
		return s.pieceFormProblem(c, p.Accepts, err)
	}
	return mcqRedirect(c, "/marking/pieces/"+c.Param("piece"), "Your submission is withdrawn. You can submit again before the deadline.")
}

func (s *Server) pieceSpread(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	rep, err := st.SpreadEvenly(c.Request().Context(), a, c.Param("piece"), form["assessors"])
	if err != nil {
		errs, err := formErrors(err, map[string]string{"assessors": "allocate-assessors", "": "allocate-assessors"})
		if err != nil {
			return err
		}
		return s.renderPiecePage(c, http.StatusBadRequest, errs)
	}
	notice := "Allocated " + itoa(len(rep.Allocated)) + " submission(s)."
	if len(rep.Unallocated) > 0 {
		notice += " " + itoa(len(rep.Unallocated)) + " could not be allocated among the assessors chosen (each supervises the trainee, or too few were chosen)."
	}
	return mcqRedirect(c, "/marking/pieces/"+c.Param("piece"), notice)
}

func (s *Server) pieceRelease(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	rep, err := s.release(c, st, a, c.Param("piece"), c.FormValue("traineeId"))
	if err != nil {
		return err
	}
	notice := "Released " + itoa(len(rep.Released)) + " result(s)."
	if n := len(rep.NotReady); n > 0 {
		notice += " " + itoa(n) + " not agreed yet, so not released."
	}
	if n := len(rep.AlreadyReleased); n > 0 {
		notice += " " + itoa(n) + " released before."
	}
	return mcqRedirect(c, "/marking/pieces/"+c.Param("piece"), notice)
}

func (s *Server) pieceDrawSample(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	sm, err := st.DrawSample(c.Request().Context(), a, c.Param("piece"), time.Now().UnixNano())
	if err != nil {
		errs, err := formErrors(err, map[string]string{"sample": "draw-sample", "": "draw-sample"})
		if err != nil {
			return err
		}
		return s.renderPiecePage(c, http.StatusBadRequest, errs)
	}
	return mcqRedirect(c, "/marking/pieces/"+c.Param("piece"), "Drew a moderation sample of "+itoa(len(sm.Items))+" result(s).")
}

func (s *Server) pieceConfirmSample(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	if _, err := st.ConfirmSample(c.Request().Context(), a, c.Param("piece"), c.FormValue("comment")); err != nil {
		errs, err := formErrors(err, map[string]string{"comment": "sample-comment", "sample": "sample-comment", "": "sample-comment"})
		if err != nil {
			return err
		}
		return s.renderPiecePage(c, http.StatusBadRequest, errs)
	}
	return mcqRedirect(c, "/marking/pieces/"+c.Param("piece"), "The moderation sample is confirmed.")
}

// pieceExtension grants a trainee a later deadline, in UK time, with a reason.
func (s *Server) pieceExtension(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	until, err := marking.UKTime(c.FormValue("untilDate"), c.FormValue("untilTime"))
	if err == nil {
		_, err = st.GrantExtension(c.Request().Context(), a, c.Param("piece"), c.FormValue("traineeId"), until, c.FormValue("reason"))
	}
	if err != nil {
		errs, err := formErrors(err, map[string]string{"due": "extension-date", "until": "extension-date", "reason": "extension-reason", "traineeId": "extension-trainee", "": "extension-trainee"})
		if err != nil {
			return err
		}
		return s.renderPiecePage(c, http.StatusBadRequest, errs)
	}
	who := c.FormValue("traineeId")
	s.record(c, audit.Entry{Action: audit.ExtensionGranted, SubjectID: who, SubjectName: s.personName(c, who),
		Changes: []audit.Change{{Field: "until", After: until.Format(time.RFC3339)}}, Reason: c.FormValue("reason")})
	return mcqRedirect(c, "/marking/pieces/"+c.Param("piece"), "Extension granted to "+s.personName(c, who)+".")
}
