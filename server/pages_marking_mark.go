package server

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/assessment/marking"
	"polyphony/courses"
	"polyphony/internal/failure"
	"polyphony/realtime"
)

func (s *Server) markingMarkPageRoutes() {
	s.add(http.MethodGet, "/marking/pieces/:piece/submissions/:who", SignedIn, s.markPage)
	s.add(http.MethodPost, "/marking/pieces/:piece/submissions/:who", SignedIn, s.markSave)
	s.add(http.MethodPost, "/marking/pieces/:piece/submissions/:who/submit", SignedIn, s.markSubmit)
	s.add(http.MethodPost, "/marking/pieces/:piece/submissions/:who/moderation", SignedIn, s.markModerate)
}

// submittedEntry is an entry of the submission as the marker reads it.
type submittedEntry struct {
	marking.EntryItem
	Body     template.HTML
	Readable bool
}

// markTurn is one turn of a submitted transcript, as markers read it.
type markTurn struct {
	Seq      uint64
	Who      string
	Text     string
	Withheld bool
	Gone     bool // withdrawn by the speaker in the room
}

// criterionForm is one criterion of the marking form, with what the marker has chosen.
type criterionForm struct {
	marking.Criterion
	Chosen  string
	Comment string
	Turns   string
}

type markPageData struct {
	View    marking.MarkerView
	Who     string
	Entries []submittedEntry
	Turns   []markTurn
	// TurnsPage says which part of a long transcript is shown, with links to the others.
	TurnsPage   transcriptPage
	Criteria    []criterionForm
	Mine        *marking.Mark
	Feedback    string
	PrivateNote string
	Base        int
	Editable    bool
	Others      []markSummary
	APIPath     string
	Names       map[string]string
	// Trail is every change of the marks and the state, for moderators and administrators.
	Trail []trailLine
}

type trailLine struct {
	marking.TrailEntry
	Who string
}

// markSummary is a mark the reader may see beside their own: a marker's levels and total.
type markSummary struct {
	Name   string
	Mark   marking.Mark
	Score  marking.Score
	Levels []string // the level title of each criterion, in the rubric's order
}

func (s *Server) markPage(c echo.Context) error {
	return s.renderMarkPage(c, http.StatusOK, nil, nil, nil)
}

// renderMarkPage shows the submission beside the rubric. typed, when given, is what the
// marker sent, shown again with the problems found.
func (s *Server) renderMarkPage(c echo.Context, status int, errs []fieldError, typed *marking.MarkInput, vals map[string]string) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := st.MarkerView(ctx, a, submissionRef(c))
	if err != nil {
		return err
	}
	d := markPageData{View: v, Who: v.CandidateNumber, APIPath: "/api/v1/pieces/" + c.Param("piece") + "/submissions/" + c.Param("who"), Names: map[string]string{}}
	if v.TraineeID != "" {
		d.Who = s.personName(c, v.TraineeID)
	}
	u := currentUser(c)
	// The trainee's access log names the marker only where the piece lets the trainee know
	// who marked.
	loggedAs := courses.MarkingReader
	if p, err := st.Piece(ctx, a, v.PieceID); err == nil && p.NamesMarkers() {
		loggedAs = u.ID
	}
	for _, e := range v.Items.Entries {
		se := submittedEntry{EntryItem: e}
		if s.deps.Journals != nil {
			if ev, err := s.deps.Journals.ReadForMarking(ctx, courses.Viewer{UserID: u.ID, Role: u.Role}, e.EntryID, e.Version, loggedAs); err == nil {
				se.Readable = true
				if r, err := s.deps.Renderer.Render([]byte(ev.Body), nil); err == nil {
					se.Body = r.HTML
				}
			}
		}
		d.Entries = append(d.Entries, se)
	}
	if tr := v.Items.Transcript; tr != nil && s.deps.Transcripts != nil {
		if d.Turns, d.TurnsPage, err = s.markTurns(c, tr, v); err != nil {
			return err
		}
	}
	for _, m := range v.Marks {
		if m.MarkerID == a.UserID {
			m := m
			d.Mine = &m
			continue
		}
		sum := markSummary{Name: s.personName(c, m.MarkerID), Mark: m, Score: marking.Result(v.Rubric, m)}
		for _, cr := range v.Rubric.Criteria {
			l, _ := m.Level(cr.ID)
			title := "—"
			if lv, _, ok := cr.Level(l.LevelID); ok {
				title = lv.Title
			}
			sum.Levels = append(sum.Levels, title)
		}
		d.Others = append(d.Others, sum)
	}
	in := marking.MarkInput{}
	if d.Mine != nil {
		in, d.Base = d.Mine.MarkInput, d.Mine.Version
	}
	if typed != nil {
		in = *typed
		d.Base, _ = strconv.Atoi(c.FormValue("baseVersion"))
	}
	d.Editable = v.Role == "marker" && (d.Mine == nil || !d.Mine.Submitted)
	d.Feedback, d.PrivateNote = in.Feedback, in.PrivateNote
	for _, cr := range v.Rubric.Criteria {
		f := criterionForm{Criterion: cr}
		if l, ok := (marking.Mark{MarkInput: in}).Level(cr.ID); ok {
			f.Chosen, f.Comment = l.LevelID, l.Comment
			var ts []string
			for _, t := range l.Turns {
				ts = append(ts, strconv.FormatUint(t, 10))
			}
			f.Turns = strings.Join(ts, ", ")
		}
		d.Criteria = append(d.Criteria, f)
	}
	if v.Role != "marker" {
		tr, err := st.Trail(ctx, a, v.Ref)
		if err != nil && !errors.Is(err, failure.ErrForbidden) && !errors.Is(err, failure.ErrNotFound) {
			return err
		}
		for _, e := range tr {
			d.Trail = append(d.Trail, trailLine{TrailEntry: e, Who: s.personName(c, e.ActorID)})
		}
	}
	title := v.PieceTitle + ": " + d.Who
	return s.renderStatus(c, status, "marking_mark", pageData{Title: title, Nav: "marking", Notice: c.QueryParam("done"), Errors: errs, Values: vals, Data: d})
}

// markTranscriptEvents is how many of a transcript's events (turns, and people coming and
// going) the marking page shows at once; a longer transcript is read in parts.
const markTranscriptEvents = 2000

// transcriptPage is the part of a transcript the marking page shows: the events after
// After, with where the earlier and later parts start (Earlier and Later are set only when
// there are such parts).
type transcriptPage struct {
	After, Earlier, Later uint64
	HasEarlier, HasLater  bool
}

// markTurns reads the part of the submitted transcript the page asks for (?after=N, the
// turn before the first shown). Turns whose speakers have not agreed are withheld; under
// anonymous marking every speaker is "Speaker n", in the order they first speak in the
// whole transcript, since a name would say who the candidate is.
func (s *Server) markTurns(c echo.Context, tr *marking.TranscriptItem, v marking.MarkerView) ([]markTurn, transcriptPage, error) {
	var page transcriptPage
	if raw := c.QueryParam("after"); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return nil, page, failure.Invalid("after", "must be the number of a turn")
		}
		page.After = n
	}
	room := tr.CohortID + "/" + tr.RoomID
	events, err := s.deps.Transcripts.Events(c.Request().Context(), room, page.After, markTranscriptEvents+1)
	if err != nil {
		return nil, page, err
	}
	if len(events) > markTranscriptEvents {
		events = events[:markTranscriptEvents]
		page.HasLater, page.Later = true, events[len(events)-1].Seq
	}
	if page.After > 0 {
		page.HasEarlier, page.Earlier = true, page.After-min(page.After, markTranscriptEvents)
	}
	// Speakers are numbered as they first speak in the transcript, so that "Speaker 2" is
	// the same person on every part: the earlier parts are read for it.
	var before []realtime.Event
	if v.Anonymous && page.After > 0 {
		if before, err = s.deps.Transcripts.Events(c.Request().Context(), room, 0, int(min(page.After, 1_000_000))); err != nil {
			return nil, page, err
		}
	}
	speakers := map[string]string{}
	for _, e := range before {
		if _, ok := speakers[e.UserID]; !ok && e.Type == realtime.EventSay {
			speakers[e.UserID] = "Speaker " + strconv.Itoa(len(speakers)+1)
		}
	}
	var out []markTurn
	for _, e := range events {
		if e.Type != realtime.EventSay {
			continue
		}
		who := e.Name
		if v.Anonymous {
			if _, ok := speakers[e.UserID]; !ok {
				speakers[e.UserID] = "Speaker " + strconv.Itoa(len(speakers)+1)
			}
			who = speakers[e.UserID]
		}
		t := markTurn{Seq: e.Seq, Who: who, Text: e.Text, Gone: e.Withdrawn}
		if v.WithheldTurns[e.Seq] {
			t.Withheld, t.Text = true, ""
		}
		out = append(out, t)
	}
	return out, page, nil
}

// markFromForm reads the marking form: a level, a comment and cited turns per criterion,
// the feedback and the private note.
func markFromForm(c echo.Context, r marking.Rubric) (marking.MarkInput, error) {
	in := marking.MarkInput{Feedback: c.FormValue("feedback"), PrivateNote: c.FormValue("privateNote")}
	var errs []error
	for _, cr := range r.Criteria {
		m := marking.CriterionMark{CriterionID: cr.ID, LevelID: c.FormValue("level-" + cr.ID), Comment: c.FormValue("comment-" + cr.ID)}
		for _, part := range strings.FieldsFunc(c.FormValue("turns-"+cr.ID), func(r rune) bool { return r == ',' || r == ' ' }) {
			n, err := strconv.ParseUint(part, 10, 64)
			if err != nil {
				errs = append(errs, failure.Problemf("levels."+cr.ID+".turns", "Cite turns by their numbers, for example 12, 15 (%s)", cr.Title))
				break
			}
			m.Turns = append(m.Turns, n)
		}
		if m.LevelID != "" || m.Comment != "" || len(m.Turns) > 0 {
			in.Levels = append(in.Levels, m)
		}
	}
	return in, failure.Problems(errs...)
}

// markFieldIDs turns the store's field names ("levels.c3", "levels[2].levelId") into the
// form's ids.
func markFieldIDs(r marking.Rubric, err error) map[string]string {
	ids := map[string]string{"feedback": "mark-feedback", "submit": "mark-save", "submission": "mark-save", "": "mark-save"}
	for i, cr := range r.Criteria {
		ids["levels."+cr.ID] = "level-" + cr.ID
		ids["levels."+cr.ID+".turns"] = "turns-" + cr.ID
		ids["levels."+cr.ID+".comment"] = "comment-" + cr.ID
		for _, suffix := range []string{"", ".levelId", ".criterionId"} {
			ids["levels["+strconv.Itoa(i)+"]"+suffix] = "level-" + cr.ID
		}
		ids["levels["+strconv.Itoa(i)+"].turns"] = "turns-" + cr.ID
	}
	for _, inv := range failure.Invalids(err) {
		if _, ok := ids[inv.Field]; !ok && strings.HasPrefix(inv.Field, "levels") {
			ids[inv.Field] = "mark-save"
		}
	}
	return ids
}

func (s *Server) markSave(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := st.MarkerView(ctx, a, submissionRef(c))
	if err != nil {
		return err
	}
	in, ferr := markFromForm(c, v.Rubric)
	base, _ := strconv.Atoi(c.FormValue("baseVersion"))
	if ferr == nil {
		_, err = st.SaveDraft(ctx, a, submissionRef(c), base, in)
	}
	if ferr != nil || err != nil {
		return s.markProblem(c, v.Rubric, errors.Join(ferr, err), &in)
	}
	if c.FormValue("then") == "submit" {
		return s.markSubmitAt(c, st, a, base+1)
	}
	return mcqRedirect(c, submissionPath(v.Ref), "Draft saved.")
}

// markProblem shows the marking page again with the problems; a save made elsewhere since
// shows what was typed here, to be saved again over the newer version.
func (s *Server) markProblem(c echo.Context, r marking.Rubric, err error, typed *marking.MarkInput) error {
	var stale *marking.MarkConflictError
	if errors.As(err, &stale) {
		c.Request().Form.Set("baseVersion", strconv.Itoa(stale.Stored.Version))
		return s.renderMarkPage(c, http.StatusConflict, []fieldError{{Field: "mark-save", Message: "Your marking was saved elsewhere (another tab or window) since this page was opened. What you typed here is below: check it against the other, then save again to keep this one."}}, typed, nil)
	}
	errs, err := formErrors(err, markFieldIDs(r, err))
	if err != nil {
		return err
	}
	return s.renderMarkPage(c, http.StatusBadRequest, errs, typed, nil)
}

func (s *Server) markSubmit(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	base, _ := strconv.Atoi(c.FormValue("baseVersion"))
	return s.markSubmitAt(c, st, a, base)
}

func (s *Server) markSubmitAt(c echo.Context, st *marking.Store, a marking.Actor, base int) error {
	ctx := c.Request().Context()
	if _, err := st.SubmitMark(ctx, a, submissionRef(c), base); err != nil {
		v, verr := st.MarkerView(ctx, a, submissionRef(c))
		if verr != nil {
			return verr
		}
		return s.markProblem(c, v.Rubric, err, nil)
	}
	return mcqRedirect(c, "/marking", "Your marking is submitted.")
}

func (s *Server) markModerate(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := st.MarkerView(ctx, a, submissionRef(c))
	if err != nil {
		return err
	}
	res := marking.AgreedResult{Outcome: c.FormValue("outcome"), Reason: c.FormValue("reason"), Feedback: c.FormValue("feedback")}
	total, terr := strconv.Atoi(strings.TrimSpace(c.FormValue("total")))
	if terr != nil {
		err = failure.Problem("total", "Enter the agreed total as a whole number")
	} else {
		res.Total = total
		switch v.State {
		case marking.Released:
			_, err = st.Remoderate(ctx, a, submissionRef(c), res)
		case marking.Agreed:
			err = st.OpenModeration(ctx, a, submissionRef(c), res.Reason)
			if err == nil {
				_, err = st.Moderate(ctx, a, submissionRef(c), res)
			}
		default:
			_, err = st.Moderate(ctx, a, submissionRef(c), res)
		}
	}
	if err != nil {
		errs, err := formErrors(err, map[string]string{"total": "moderation-total", "outcome": "moderation-outcome", "reason": "moderation-reason", "": "moderation-total"})
		if err != nil {
			return err
		}
		vals := map[string]string{"moderation-total": c.FormValue("total"), "moderation-reason": c.FormValue("reason"), "moderation-feedback": c.FormValue("feedback"), "moderation-outcome": c.FormValue("outcome")}
		return s.renderMarkPage(c, http.StatusBadRequest, errs, nil, vals)
	}
	return mcqRedirect(c, submissionPath(v.Ref), "The agreed result is recorded.")
}
