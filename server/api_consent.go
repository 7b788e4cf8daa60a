package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"polyphony/assessment/consent"
	"polyphony/courses"
	"polyphony/internal/failure"
	"polyphony/realtime"
)

// consentTurn is one of the speaker's own turns that a request asks about.
type consentTurn struct {
	Seq       uint64 `json:"seq"`
	At        string `json:"at"`
	Text      string `json:"text,omitempty"`
	Withdrawn bool   `json:"withdrawn,omitempty"`
}

// consentRequestJSON is a request as its speaker reads it.
type consentRequestJSON struct {
	consent.Request
	OwnerName   string        `json:"ownerName"`
	Room        string        `json:"room"`
	Purpose     string        `json:"purpose"`
	Turns       []consentTurn `json:"turns"`
	CanWithdraw bool          `json:"canWithdraw"`
}

// consentUseJSON is one of the owner's subjects, with the state of each request.
type consentUseJSON struct {
	consent.Subject
	Room     string               `json:"room"`
	Requests []consentRequestView `json:"requests"`
}

// consentRequestView is a request as the owner sees it: who, which turns, and the answer.
type consentRequestView struct {
	ID          string           `json:"id"`
	SpeakerID   string           `json:"speakerId"`
	SpeakerName string           `json:"speakerName"`
	Seqs        []uint64         `json:"seqs"`
	Decision    consent.Decision `json:"decision"`
	DecidedAt   string           `json:"decidedAt,omitempty"`
}

func turnsJSON(turns []realtime.Event) []consentTurn {
	out := []consentTurn{}
	for _, t := range turns {
		out = append(out, consentTurn{Seq: t.Seq, At: t.At.UTC().Format("2006-01-02T15:04:05Z07:00"), Text: t.Text, Withdrawn: t.Withdrawn})
	}
	return out
}

// apiConsent is the API's /consent page: the requests made of the person, with their
// words, and the state of the requests they made of others.
func (s *Server) apiConsent(c echo.Context) error {
	if s.deps.Consent == nil {
		return failure.ErrNotFound
	}
	ctx := c.Request().Context()
	me := currentUser(c)
	asked, err := s.deps.Consent.Asked(ctx, me.ID)
	if err != nil {
		return err
	}
	names, rooms := s.names(ctx), s.roomTitles(ctx)
	out := struct {
		Asked []consentRequestJSON `json:"asked"`
		Mine  []consentUseJSON     `json:"mine"`
	}{Asked: []consentRequestJSON{}, Mine: []consentUseJSON{}}
	for _, r := range asked {
		turns, err := s.deps.Consent.Turns(ctx, me.ID, r.ID)
		if err != nil {
			return err
		}
		out.Asked = append(out.Asked, consentRequestJSON{Request: r, OwnerName: names.of(r.OwnerID), Room: rooms.of(r.CohortID, r.RoomID),
			Purpose: consentPurpose(r.Kind, r.Title), Turns: turnsJSON(turns), CanWithdraw: r.CanWithdraw()})
	}
	mine, err := s.deps.Consent.Owned(ctx, me.ID)
	if err != nil {
		return err
	}
	for _, u := range mine {
		j := consentUseJSON{Subject: u.Subject, Room: rooms.of(u.CohortID, u.RoomID), Requests: []consentRequestView{}}
		for _, r := range u.Requests {
			v := consentRequestView{ID: r.ID, SpeakerID: r.SpeakerID, SpeakerName: r.SpeakerName, Seqs: r.Seqs, Decision: r.Decision}
			if !r.DecidedAt.IsZero() {
				v.DecidedAt = r.DecidedAt.UTC().Format("2006-01-02T15:04:05Z07:00")
			}
			j.Requests = append(j.Requests, v)
		}
		out.Mine = append(out.Mine, j)
	}
	return c.JSON(http.StatusOK, out)
}

// apiDecideConsent records the speaker's answer: {"decision": "agreed"|"refused"|"withdrawn"}.
func (s *Server) apiDecideConsent(c echo.Context) error {
	var req struct {
		Decision string `json:"decision"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := s.decideConsent(c, c.Param("id"), req.Decision)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	turns, err := s.deps.Consent.Turns(ctx, r.SpeakerID, r.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, consentRequestJSON{Request: r, OwnerName: s.names(ctx).of(r.OwnerID), Room: s.roomTitles(ctx).of(r.CohortID, r.RoomID),
		Purpose: consentPurpose(r.Kind, r.Title), Turns: turnsJSON(turns), CanWithdraw: r.CanWithdraw()})
}

// apiQuote quotes turns into one of the person's entries, or a new one:
// {"turns": [3, 4], "entryId": "..."}; without entryId the Idempotency-Key names the new
// entry, so that a retry makes no second one.
func (s *Server) apiQuote(c echo.Context) error {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return err
	}
	var req struct {
		Turns   []uint64 `json:"turns"`
		EntryID string   `json:"entryId"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	key := ""
	if req.EntryID == "" {
		if key, err = idempotencyKey(c); err != nil {
			return err
		}
	}
	e, q, err := s.quoteIntoEntry(c.Request().Context(), viewerFrom(c), v, req.Turns, req.EntryID, key)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, struct {
		Quote   consent.Subject `json:"quote"`
		Line    string          `json:"line"`
		EntryID string          `json:"entryId"`
		Version int             `json:"version"`
	}{q, quoteLine(q.ID), e.ID, e.Version})
}

// apiEntryQuotes is every quote the entry places, as the reader may see it: the words a
// quoted speaker agreed to, "waiting" for one who has not answered, and nothing of a quote
// that a speaker refused.
func (s *Server) apiEntryQuotes(c echo.Context) error {
	ctx := c.Request().Context()
	view, err := s.deps.Journals.ReadEntry(ctx, viewerFrom(c), c.Param("id"))
	if err != nil {
		return err
	}
	quotes, err := s.entryQuotes(ctx, view.Entry)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		EntryID string          `json:"entryId"`
		Version int             `json:"version"`
		As      courses.Access  `json:"as"`
		Quotes  []consent.Shown `json:"quotes"`
	}{view.ID, view.Version, view.As, quotes})
}
