package server

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"polyphony/internal/failure"
	"polyphony/realtime"
)

// transcriptJSON is a page of a room's timeline for the API.
type transcriptJSON struct {
	Cohort string `json:"cohort"`
	Room   string `json:"room"`
	Title  string `json:"title"`
	// Events are in sequence order; More says further events follow the last one (ask again
	// with after set to its seq).
	Events []transcriptEvent `json:"events"`
	More   bool              `json:"more"`
}

// transcriptEvent is a timeline event as the transcript keeps it. A withdrawn turn keeps its
// place and speaker, and loses its words.
type transcriptEvent struct {
	realtime.Event
	Withdrawn bool `json:"withdrawn,omitempty"`
}

const transcriptPageMax = 1000

// apiTranscript answers the room's transcript to its members and facilitators: every
// timeline event after the given seq, up to limit.
func (s *Server) apiTranscript(c echo.Context) error {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return err
	}
	after, limit, err := transcriptPaging(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.deps.Rooms.Flush(ctx, v.hubID()); err != nil {
		return err
	}
	events, err := s.deps.Transcripts.Events(ctx, v.hubID(), after, limit+1)
	if err != nil {
		return err
	}
	out := transcriptJSON{Cohort: v.Cohort.ID, Room: v.RoomID, Title: v.Title, Events: []transcriptEvent{}}
	if len(events) > limit {
		events, out.More = events[:limit], true
	}
	for _, e := range events {
		// Events marks the withdrawn turns and leaves their words out.
		out.Events = append(out.Events, transcriptEvent{Event: e, Withdrawn: e.Withdrawn})
	}
	return c.JSON(http.StatusOK, out)
}

func transcriptPaging(c echo.Context) (after uint64, limit int, err error) {
	limit = transcriptPageMax
	if q := c.QueryParam("after"); q != "" {
		if after, err = strconv.ParseUint(q, 10, 64); err != nil {
			return 0, 0, failure.Invalid("after", "must be the sequence number of an event, 0 or more")
		}
	}
	if q := c.QueryParam("limit"); q != "" {
		if limit, err = strconv.Atoi(q); err != nil || limit < 1 || limit > transcriptPageMax {
			return 0, 0, failure.Invalidf("limit", "must be a whole number from 1 to %d", transcriptPageMax)
		}
	}
	return after, limit, nil
}
