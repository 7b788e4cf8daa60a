package server

import (
	"context"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
	"polyphony/realtime"
)

// A cohort's dialogue rooms: one for each facilitated dialogue session of its programme, plus
// the cohort's own room for anything else. A room's id in the hub is cohort/room.

const cohortRoom = "cohort"

type roomView struct {
	Cohort courses.Cohort
	RoomID string
	Title  string
	Me     realtime.Member
	// Scheduled is the session's planned start; zero for the cohort's own room.
	Scheduled time.Time
	// Facilitators is how many facilitators the cohort has: a room opens only with two.
	Facilitators int
}

// IsFacilitator reports whether the viewer runs the room.
func (v roomView) IsFacilitator() bool { return v.Me.Role == realtime.Facilitator }

// IsSession reports whether the room is a dialogue session's, which has a register.
func (v roomView) IsSession() bool { return v.RoomID != cohortRoom }

// MaxText is the longest turn the room takes, for the composer.
func (v roomView) MaxText() int { return realtime.MaxTextChars }

// hubID is the room's id in the hub.
func (v roomView) hubID() string { return v.Cohort.ID + "/" + v.RoomID }

// Path is the room page's address.
func (v roomView) Path() string { return "/rooms/" + v.Cohort.ID + "/" + url.PathEscape(v.RoomID) }

// roomAccess finds the room and the person's part in it: the cohort's trainees are members
// and its facilitators run it. Anyone else (administrators, assessors and supervisors
// included: the room's meter is never shown to them) is told it does not exist.
func (s *Server) roomAccess(ctx context.Context, u *accounts.User, cohortID, roomID string) (roomView, error) {
	v, err := s.cohortAccess(ctx, u, cohortID)
	if err != nil {
		return roomView{}, err
	}
	var role realtime.Role
	switch v.Role {
	case accounts.RoleTrainee:
		role = realtime.Trainee
	case accounts.RoleFacilitator:
		role = realtime.Facilitator
	default:
		return roomView{}, failure.ErrNotFound
	}
	rv := roomView{Cohort: v.Cohort, RoomID: roomID, Me: realtime.Member{UserID: u.ID, Name: u.Name, Role: role}}
	if roomID == cohortRoom {
		rv.Title = "Cohort dialogue room"
	} else {
		p, err := s.deps.Courses.Programme(ctx, cohortID)
		if err != nil {
			return roomView{}, failure.ErrNotFound
		}
		a, _, ok := p.Activity(roomID)
		if !ok || a.Session == nil {
			return roomView{}, failure.ErrNotFound
		}
		rv.Title, rv.Scheduled = a.Title, a.Session.Start
	}
	members, err := s.deps.Courses.Members(ctx, cohortID)
	if err != nil {
		return roomView{}, err
	}
	for _, m := range members {
		if m.Role == accounts.RoleFacilitator {
			rv.Facilitators++
		}
	}
	return rv, nil
}

func (s *Server) roomFromRequest(c echo.Context) (roomView, error) {
	return s.roomAccess(c.Request().Context(), currentUser(c), c.Param("cohort"), c.Param("room"))
}

func (s *Server) roomPage(c echo.Context) error {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return err
	}
	return s.render(c, "room", pageData{Title: v.Title, Nav: "programme", Notice: c.QueryParam("done"), Data: v})
}

// roomSocket upgrades a signed-in member's request to the room's websocket. Only requests
// from this site's pages are upgraded (Origin checked), and only while the server is not
// shutting down.
func (s *Server) roomSocket(c echo.Context) error {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return err
	}
	if !s.sameOriginHeader(c.Request()) {
		return &echo.HTTPError{Code: http.StatusForbidden, Message: "websocket connections are accepted only from this site's pages"}
	}
	lastSeq, _ := strconv.ParseUint(c.QueryParam("lastSeq"), 10, 64)
	up := websocket.Upgrader{
		ReadBufferSize: 1024, WriteBufferSize: 1024, WriteBufferPool: realtime.WriteBuffers,
		CheckOrigin: s.sameOriginHeader, // checked above as well, to answer with a clear 403
	}
	conn, err := up.Upgrade(c.Response(), c.Request(), nil)
	if err != nil {
		return nil // the upgrader has answered the client
	}
	// The connection outlives the request's context; the hub ends it on shutdown.
	s.deps.Rooms.Serve(context.WithoutCancel(c.Request().Context()), v.hubID(), v.Me, conn, lastSeq)
	return nil
}

// sameOriginHeader reports whether a websocket request comes from this site.
func (s *Server) sameOriginHeader(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin != "" && s.sameOrigin(origin, r)
}

func (s *Server) roomOpen(c echo.Context) error {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return err
	}
	if err := s.deps.Rooms.Open(c.Request().Context(), v.hubID(), v.Me, v.Facilitators); err != nil {
		return err
	}
	if isAPI(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, v.Path()+"?done="+url.QueryEscape("The room is open."))
}

// roomClose closes the room and, for a session's room, takes the register from who was in
// it. Before the session's date the register waits for a facilitator to confirm that the
// session was held (the room's page for it shows who was there); the room's timeline keeps
// the presence meanwhile, so closing never loses who came.
func (s *Server) roomClose(c echo.Context) error {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.deps.Rooms.Close(ctx, v.hubID(), v.Me); err != nil {
		return err
	}
	if v.RoomID == cohortRoom {
		if isAPI(c) {
			return c.JSON(http.StatusOK, roomClosedJSON{})
		}
		return c.Redirect(http.StatusSeeOther, v.Path()+"?done="+url.QueryEscape("The room is closed."))
	}
	reg, err := s.registerFromRoom(ctx, v, false)
	waiting := errors.Is(err, courses.ErrNotHeldYet)
	if err != nil && !waiting {
		return err
	}
	if isAPI(c) {
		return c.JSON(http.StatusOK, roomClosedJSON{Register: registerJSON(v, reg, waiting)})
	}
	if waiting {
		return c.Redirect(http.StatusSeeOther, v.Path()+"/register?done="+url.QueryEscape("The room is closed."))
	}
	return c.Redirect(http.StatusSeeOther, v.Path()+"?done="+url.QueryEscape("The room is closed. "+registerNotice(reg)))
}

// registerNotice says in plain words what closing did to the session's register.
func registerNotice(reg courses.RoomRegister) string {
	if !reg.Taken {
		return "No trainee was in the room, so the register is as it was."
	}
	return "The register marks " + trainees(reg.Present) + " present, with how long they were in the room, and " +
		trainees(reg.Absent) + " absent. Correct it on the cohort page if needed."
}

func trainees(n int) string {
	if n == 1 {
		return "1 trainee"
	}
	return strconv.Itoa(n) + " trainees"
}

type transcriptData struct {
	Room  roomView
	Turns []realtime.Event
	// TurnsHTML is the turns' list items, written by transcriptTurns.
	TurnsHTML template.HTML
	// After is the seq the page starts after (0 on the first page); Later, when set, is the
	// seq the next page starts after.
	After, Later uint64
	// Quoting offers to quote turns into a journal entry: one of Entries, or a new one.
	Quoting bool
	Entries []courses.EntrySummary
	Key     string
}

// transcriptPageEvents is how many of a room's events one transcript page shows the turns
// of: a year-long room is read and shown a page at a time, so the page costs the same
// however long the room has run.
const transcriptPageEvents = 500

// transcriptPage shows the room's turns. Events reads the room's withdrawals once and marks
// the withdrawn turns, so the page reads nothing more.
func (s *Server) transcriptPage(c echo.Context) error {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var after uint64
	if a := c.QueryParam("after"); a != "" {
		if after, err = strconv.ParseUint(a, 10, 64); err != nil {
			return failure.Invalid("after", "the page of the transcript must be a turn number")
		}
	}
	events, err := s.deps.Transcripts.Events(ctx, v.hubID(), after, transcriptPageEvents+1)
	if err != nil {
		return err
	}
	d := transcriptData{Room: v, After: after}
	if len(events) > transcriptPageEvents {
		events = events[:transcriptPageEvents]
		d.Later = events[len(events)-1].Seq
	}
	var says []realtime.Event
	for _, e := range events {
		if e.Type == realtime.EventSay {
			says = append(says, e)
		}
	}
	d.Quoting = s.deps.Consent != nil && len(says) > 0
	if d.Quoting {
		if d.Entries, err = s.deps.Journals.Entries(ctx, viewerFrom(c), v.Me.UserID); err != nil {
			return err
		}
		d.Key = formKey()
	}
	d.Turns, d.TurnsHTML = says, transcriptTurns(v, says, d.Quoting)
	return s.render(c, "transcript", pageData{Title: "Transcript: " + v.Title, Nav: "programme", Notice: c.QueryParam("done"), Data: d})
}

// transcriptTurns writes the list items of the transcript page's turns. The page has hundreds
// of them: written here, with every value escaped, they cost a tenth of what the template
// spent on its escapers, which were most of the page's time. With quoting, each turn still
// there has a box to tick, which belongs to the quote form after the list (form="quote-form":
// a form cannot hold the withdraw forms), so quoting needs no script.
func transcriptTurns(v roomView, turns []realtime.Event, quoting bool) template.HTML {
	var b strings.Builder
	b.Grow(len(turns) * 600)
	esc := html.EscapeString
	for _, e := range turns {
		seq := strconv.FormatUint(e.Seq, 10)
		when := esc(viewDatetime(e.At))
		b.WriteString(`<li class="transcript__turn" id="turn-` + seq + `" data-seq="` + seq + `">` + "\n")
		b.WriteString(`    <p class="transcript__meta"><span class="transcript__who">` + esc(e.Name) + `</span>`)
		if e.Role == realtime.Facilitator {
			b.WriteString(` (facilitator)`)
		}
		b.WriteString(`, <time class="transcript__time" datetime="` + esc(e.At.Format("2006-01-02T15:04:05Z07:00")) + `">` + when + `</time></p>` + "\n")
		if e.Withdrawn {
			b.WriteString(`    <p class="transcript__withdrawn">(withdrawn by the speaker)</p>` + "\n")
		} else {
			b.WriteString(`    <p class="transcript__text">` + esc(e.Text) + `</p>` + "\n")
			if quoting {
				b.WriteString(`    <div class="nhsuk-checkboxes nhsuk-checkboxes--small transcript__quote"><div class="nhsuk-checkboxes__item">` +
					`<input class="nhsuk-checkboxes__input" type="checkbox" name="turn" value="` + seq + `" id="quote-` + seq + `" form="quote-form">` +
					`<label class="nhsuk-label nhsuk-checkboxes__label" for="quote-` + seq + `">Quote<span class="nhsuk-u-visually-hidden"> the turn of ` + esc(e.Name) + ` at ` + when + `</span></label></div></div>` + "\n")
			}
			if e.UserID == v.Me.UserID {
				b.WriteString(`    <form action="` + esc(v.Path()+"/transcript/"+seq+"/withdraw") + `" method="get" novalidate>` + "\n")
				b.WriteString(`      <button class="nhsuk-button nhsuk-button--small nhsuk-button--secondary" type="submit" data-withdraw="` + seq + `">Withdraw<span class="nhsuk-u-visually-hidden"> your turn at ` + when + `</span></button>` + "\n")
				b.WriteString(`    </form>` + "\n")
			}
		}
		b.WriteString("  </li>\n  ")
	}
	return template.HTML(b.String())
}

func (s *Server) transcriptMarkdown(c echo.Context) error {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return err
	}
	md, err := s.deps.Transcripts.Document(c.Request().Context(), v.hubID(), realtime.TranscriptHeading{
		Title: v.Title, Cohort: v.Cohort.Name, Scheduled: v.Scheduled, Location: ukTime,
	})
	if err != nil {
		return err
	}
	name := strings.NewReplacer("/", "-", " ", "-").Replace(v.Cohort.Name + "-" + v.RoomID)
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+url.PathEscape(name)+`.md"`)
	return c.Blob(http.StatusOK, "text/markdown; charset=utf-8", md)
}

// withdrawTurn takes a speaker's own turn out of the exported transcript.
func (s *Server) withdrawTurn(c echo.Context) error {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return err
	}
	seq, err := strconv.ParseUint(c.Param("seq"), 10, 64)
	if err != nil {
		return failure.ErrNotFound
	}
	if err := s.deps.Rooms.Withdraw(c.Request().Context(), v.hubID(), seq, v.Me.UserID); err != nil {
		if errors.Is(err, failure.ErrForbidden) {
			return failure.Invalid("seq", "only the person who said it can withdraw a turn")
		}
		return err
	}
	if isAPI(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, v.Path()+"/transcript?done="+url.QueryEscape("Your turn is withdrawn from the transcript."))
}
