package server

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/failure"
	"polyphony/realtime"
)

// A session's register as its dialogue room gives it: taken when the room closes on or after
// the session's date, and shown for a facilitator to confirm when it closes before.

// roomClosedJSON is the API's answer to closing a room. Register is absent for the cohort's
// own room, which is no session.
type roomClosedJSON struct {
	Register *roomRegisterJSON `json:"register,omitempty"`
}

// roomRegisterJSON says what the room did to the session's register.
type roomRegisterJSON struct {
	Occasion string `json:"occasion"`
	// Taken says the marks are stored; Waiting that they wait for a facilitator to confirm
	// the session was held (the room closed before the session's date).
	Taken   bool   `json:"taken"`
	Waiting bool   `json:"waiting"`
	Present int    `json:"present"`
	Absent  int    `json:"absent"`
	Confirm string `json:"confirm,omitempty"`
}

func registerJSON(v roomView, reg courses.RoomRegister, waiting bool) *roomRegisterJSON {
	out := &roomRegisterJSON{Occasion: v.RoomID, Taken: reg.Taken, Waiting: waiting, Present: reg.Present, Absent: reg.Absent}
	if waiting {
		out.Confirm = "/api/v1" + v.Path() + "/register"
	}
	return out
}

// roomPresence is how long each person was in the room, from its timeline.
func (s *Server) roomPresence(ctx context.Context, v roomView) (map[string]time.Duration, error) {
	if err := s.deps.Rooms.Flush(ctx, v.hubID()); err != nil {
		return nil, err
	}
	events, err := s.deps.Transcripts.Events(ctx, v.hubID(), 0, 100000)
	if err != nil {
		return nil, err
	}
	return realtime.Presence(events, time.Now()), nil
}

// registerFromRoom takes the session's register from the room. Before the session's date it
// answers courses.ErrNotHeldYet unless held says a facilitator confirmed the session.
func (s *Server) registerFromRoom(ctx context.Context, v roomView, held bool) (courses.RoomRegister, error) {
	inRoom, err := s.roomPresence(ctx, v)
	if err != nil {
		return courses.RoomRegister{}, err
	}
	return s.deps.Courses.TakeRoomRegister(ctx, v.Cohort.ID, v.RoomID, inRoom, v.Me.UserID, held)
}

// sessionRoomForFacilitator is the room of the request when it is a session's room and the
// caller runs it.
func (s *Server) sessionRoomForFacilitator(c echo.Context) (roomView, error) {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return roomView{}, err
	}
	if v.RoomID == cohortRoom {
		return roomView{}, failure.ErrNotFound
	}
	if !v.IsFacilitator() {
		return roomView{}, failure.ErrForbidden
	}
	return v, nil
}

type roomRegisterRow struct {
	Line courses.RoomRegisterLine
	Name string
}

type roomRegisterData struct {
	Room     roomView
	Register courses.RoomRegister
	Rows     []roomRegisterRow
}

// roomRegisterPage shows the register the room gives, for a facilitator to record.
func (s *Server) roomRegisterPage(c echo.Context) error {
	v, err := s.sessionRoomForFacilitator(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	inRoom, err := s.roomPresence(ctx, v)
	if err != nil {
		return err
	}
	reg, err := s.deps.Courses.PlanRoomRegister(ctx, v.Cohort.ID, v.RoomID, inRoom)
	if err != nil {
		return err
	}
	d := roomRegisterData{Room: v, Register: reg}
	for _, l := range reg.Lines {
		name := l.UserID
		if u, err := s.deps.Accounts.Users.ByID(ctx, l.UserID); err == nil {
			name = u.Name
		}
		d.Rows = append(d.Rows, roomRegisterRow{Line: l, Name: name})
	}
	return s.render(c, "room_register", pageData{Title: "Register from the room: " + v.Title, Nav: "programme", Notice: c.QueryParam("done"), Data: d})
}

// roomRegisterTake records the register the room gives; posting it is the facilitator's
// word that the session was held, so it is taken before the session's date too.
func (s *Server) roomRegisterTake(c echo.Context) error {
	v, err := s.sessionRoomForFacilitator(c)
	if err != nil {
		return err
	}
	reg, err := s.registerFromRoom(c.Request().Context(), v, true)
	if err != nil {
		return err
	}
	if isAPI(c) {
		return c.JSON(http.StatusOK, registerJSON(v, reg, false))
	}
	return c.Redirect(http.StatusSeeOther, "/cohorts/"+v.Cohort.ID+"/register/"+url.PathEscape(v.RoomID)+"?done="+url.QueryEscape(registerNotice(reg)))
}
