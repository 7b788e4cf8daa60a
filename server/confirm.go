package server

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/failure"
	"polyphony/realtime"
)

// Acts that cannot be taken back (closing a room, withdrawing a turn, submitting to the
// assessors) take two steps: the button on the page opens a confirmation page by GET, which
// says plainly what will happen, and only its form's POST does the act. It works the same
// with or without JavaScript, and the POST routes stay as they are for scripts.

// confirmData is a confirmation page: what is about to happen, and the form that does it.
type confirmData struct {
	Caption string
	// Consequences say, one sentence each, what the act does and to whom.
	Consequences []string
	// Quote is what the act is about, shown as it is (a turn's words, an entry's title).
	Quote   string
	Action  string
	Fields  []hiddenField
	Button  string
	Warning bool // the act is destructive: the button is the warning kind
	Back    string
	BackFor string // the words of the back link
}

type hiddenField struct {
	Name, Value string
}

func (s *Server) renderConfirm(c echo.Context, title, nav string, d confirmData) error {
	return s.render(c, "confirm", pageData{Title: title, Nav: nav, Notice: c.QueryParam("done"), Data: d})
}

// roomCloseConfirm asks a facilitator to confirm closing the room.
func (s *Server) roomCloseConfirm(c echo.Context) error {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return err
	}
	if !v.IsFacilitator() {
		return failure.ErrForbidden
	}
	d := confirmData{
		Caption: v.Title,
		Consequences: []string{
			"Closing the room ends the session for everyone in it: every member is disconnected, and nobody can speak in the room until a facilitator opens it again.",
			"What was said stays in the transcript.",
		},
		Action: v.Path() + "/close", Button: "Close the room", Warning: true,
		Back: v.Path(), BackFor: "Go back to the room without closing it",
	}
	if v.RoomID != cohortRoom {
		d.Consequences = append(d.Consequences, "The session's register is filled in from who was in the room and for how long; you can correct it afterwards on the cohort page.")
	}
	return s.renderConfirm(c, "Close the room?", "programme", d)
}

// withdrawConfirm asks a speaker to confirm withdrawing one of their turns, showing it.
func (s *Server) withdrawConfirm(c echo.Context) error {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return err
	}
	seq, err := strconv.ParseUint(c.Param("seq"), 10, 64)
	if err != nil || seq == 0 {
		return failure.ErrNotFound
	}
	events, err := s.deps.Transcripts.Events(c.Request().Context(), v.hubID(), seq-1, 1)
	if err != nil {
		return err
	}
	if len(events) != 1 || events[0].Seq != seq || events[0].Type != realtime.EventSay || events[0].UserID != v.Me.UserID {
		return failure.ErrNotFound // only the speaker is offered the withdrawal of a turn
	}
	back := v.Path() + "/transcript#turn-" + strconv.FormatUint(seq, 10)
	return s.renderConfirm(c, "Withdraw your turn?", "programme", confirmData{
		Caption: "Transcript: " + v.Title,
		Consequences: []string{
			"Withdrawing takes your words out of the transcript, its download and what members joining the room later receive; the transcript shows “(withdrawn by the speaker)” in their place.",
			"You cannot put a withdrawn turn back.",
		},
		Quote:  events[0].Text,
		Action: v.Path() + "/transcript/" + strconv.FormatUint(seq, 10) + "/withdraw", Button: "Withdraw this turn", Warning: true,
		Back: back, BackFor: "Go back to the transcript and keep the turn",
	})
}

// submitConfirm asks the author to confirm submitting the entry to the assessors, naming the
// version that will be frozen. The form carries that version: if the entry changes before
// the confirmation arrives, the author is asked again rather than submitting words they
// have not seen.
func (s *Server) submitConfirm(c echo.Context) error {
	id := c.Param("id")
	view, err := s.deps.Journals.ReadEntry(c.Request().Context(), viewerFrom(c), id)
	if err != nil {
		return err
	}
	if view.As != courses.AccessOwner {
		return failure.ErrNotFound
	}
	entry := "/journal/" + url.PathEscape(id)
	if view.Sharing != nil && view.Sharing.Assessors {
		return c.Redirect(http.StatusSeeOther, entry+"#sharing")
	}
	title := view.Title
	if title == "" {
		title = "Untitled entry"
	}
	version := strconv.Itoa(view.Version)
	return s.renderConfirm(c, "Submit to the assessors?", "journal", confirmData{
		Caption: title,
		Consequences: []string{
			"Submitting freezes this revision, version " + version + ", as it is now: the assessors of your cohort read that version, and changes you make afterwards do not alter what they read.",
			"To submit a later version, withdraw the entry from the assessors and submit it again.",
		},
		Quote:  title,
		Action: entry + "/sharing",
		Fields: []hiddenField{{"audience", string(courses.AudienceAssessors)}, {"shared", "true"}, {"version", version}},
		Button: "Submit version " + version + " to the assessors",
		Back:   entry + "#sharing", BackFor: "Go back to the entry without submitting it",
	})
}
