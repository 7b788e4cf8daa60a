package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"polyphony/assessment/consent"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
	"polyphony/realtime"
)

// consentRoutes registers the pages and API of consent: what waits for a speaker, their
// answers, and quoting a room's turns into a journal entry. The consent store decides who
// may do what; these handlers say who is asking.
func (s *Server) consentRoutes() {
	s.add(http.MethodGet, "/consent", SignedIn, s.consentPage)
	s.add(http.MethodPost, "/consent/:id", SignedIn, s.consentDecideForm)
	s.add(http.MethodPost, "/rooms/:cohort/:room/transcript/quote", SignedIn, s.quoteForm)
	s.add(http.MethodGet, "/api/v1/consent", SignedIn, s.apiConsent)
	s.add(http.MethodPut, "/api/v1/consent/requests/:id", SignedIn, s.apiDecideConsent)
	s.add(http.MethodPost, "/api/v1/rooms/:cohort/:room/quotes", SignedIn, s.apiQuote)
	s.add(http.MethodGet, "/api/v1/journal/entries/:id/quotes", SignedIn, s.apiEntryQuotes)
}

// consentAsk is one request on the speaker's page: who asks, for what, and the words.
type consentAsk struct {
	Request consent.Request
	Owner   string
	Room    string
	Turns   []realtime.Event
}

// Purpose says in words what the request is for.
func (a consentAsk) Purpose() string { return consentPurpose(a.Request.Kind, a.Request.Title) }

// consentUse is one of the owner's subjects on their page.
type consentUse struct {
	Use  consent.Use
	Room string
}

// Purpose says in words what the subject is.
func (u consentUse) Purpose() string { return consentPurpose(u.Use.Kind, u.Use.Title) }

// consentPurpose is what a subject uses the words for. A quote's entry is the owner's
// private journal: the speaker is told it is a quote, not the entry's title.
func consentPurpose(k consent.Kind, title string) string {
	if k == consent.KindSubmission {
		if title == "" {
			return "In work submitted for assessment"
		}
		return "In work submitted for assessment: " + title
	}
	return "As a quote in a journal entry"
}

type consentPageData struct {
	Asked []consentAsk
	Mine  []consentUse
}

// consentPage lists what waits for the person as a speaker, with their words, and the state
// of the requests they made of others.
func (s *Server) consentPage(c echo.Context) error {
	if s.deps.Consent == nil {
		return failure.ErrNotFound
	}
	ctx := c.Request().Context()
	me := currentUser(c)
	asked, err := s.deps.Consent.Asked(ctx, me.ID)
	if err != nil {
		return err
	}
	names := s.names(ctx)
	rooms := s.roomTitles(ctx)
	var d consentPageData
	for _, r := range asked {
		turns, err := s.deps.Consent.Turns(ctx, me.ID, r.ID)
		if err != nil {
			return err
		}
		d.Asked = append(d.Asked, consentAsk{Request: r, Owner: names.of(r.OwnerID), Room: rooms.of(r.CohortID, r.RoomID), Turns: turns})
	}
	mine, err := s.deps.Consent.Owned(ctx, me.ID)
	if err != nil {
		return err
	}
	for _, u := range mine {
		d.Mine = append(d.Mine, consentUse{Use: u, Room: rooms.of(u.CohortID, u.RoomID)})
	}
	return s.render(c, "consent", pageData{Title: "Your words", Notice: c.QueryParam("done"), Data: d})
}

// consentDecision reads the answer a form or the API gives.
func consentDecision(v string) (agree, withdraw bool, err error) {
	switch v {
	case "agree", string(consent.Agreed):
		return true, false, nil
	case "refuse", string(consent.Refused):
		return false, false, nil
	case "withdraw", string(consent.Withdrawn):
		return false, true, nil
	}
	return false, false, failure.Problem("decision", "Choose whether you agree, refuse, or withdraw your agreement.")
}

// decideConsent records the signed-in speaker's answer to request id, and in the audit log
// who decided what and when.
func (s *Server) decideConsent(c echo.Context, id, decision string) (consent.Request, error) {
	if s.deps.Consent == nil {
		return consent.Request{}, failure.ErrNotFound
	}
	agree, withdraw, err := consentDecision(decision)
	if err != nil {
		// Whether the request is theirs is answered first: nobody learns of another's.
		if _, rerr := s.deps.Consent.Request(c.Request().Context(), currentUser(c).ID, id); rerr != nil {
			return consent.Request{}, rerr
		}
		return consent.Request{}, err
	}
	ctx := c.Request().Context()
	me := currentUser(c)
	var r consent.Request
	var from consent.Decision
	if withdraw {
		r, from, err = s.deps.Consent.Withdraw(ctx, me.ID, id)
	} else {
		r, from, err = s.deps.Consent.Decide(ctx, me.ID, id, agree)
	}
	if err != nil {
		return r, err
	}
	if from != r.Decision {
		s.record(c, audit.Entry{Action: audit.ConsentDecided, SubjectID: me.ID, SubjectName: me.Name,
			Changes: []audit.Change{{Field: "consent " + r.ID + " (" + string(r.Kind) + " " + r.SubjectID + ")", Before: string(from), After: string(r.Decision)}}})
	}
	return r, nil
}

func (s *Server) consentDecideForm(c echo.Context) error {
	id := c.Param("id")
	r, err := s.decideConsent(c, id, c.FormValue("decision"))
	var invalid *failure.InvalidError
	if errors.As(err, &invalid) {
		return journalDone(c, "/consent#request-"+url.PathEscape(id), sentence(invalid.Error()))
	}
	if err != nil {
		return err
	}
	notice := "You refused: your words are not used."
	switch r.Decision {
	case consent.Agreed:
		notice = "You agreed: your turns may be used as asked."
	case consent.Withdrawn:
		notice = "You withdrew your agreement: your words are no longer used."
	}
	return journalDone(c, "/consent#request-"+url.PathEscape(id), notice)
}

// quoteForm quotes the turns ticked on the transcript page into the journal entry chosen.
func (s *Server) quoteForm(c echo.Context) error {
	v, err := s.roomFromRequest(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	var seqs []uint64
	for _, t := range form["turn"] {
		n, err := strconv.ParseUint(t, 10, 64)
		if err != nil {
			return journalDone(c, v.Path()+"/transcript#quote-form", "Select the turns to quote from the transcript.")
		}
		seqs = append(seqs, n)
	}
	entry := c.FormValue("entry")
	if entry == "new" {
		entry = ""
	}
	key := c.FormValue("key")
	if key == "" {
		key = formKey()
	}
	e, _, err := s.quoteIntoEntry(c.Request().Context(), viewerFrom(c), v, seqs, entry, "q-"+key)
	var invalid *failure.InvalidError
	if errors.As(err, &invalid) {
		return journalDone(c, v.Path()+"/transcript#quote-form", sentence(invalid.Error()))
	}
	if err != nil {
		return err
	}
	return journalDone(c, "/journal/"+url.PathEscape(e.ID), "The quote is in your entry. Each other person quoted has been asked to agree; until they do, the entry shows that it waits for them.")
}

// roomNames finds rooms' titles, reading each cohort's programme once.
type roomNames struct {
	s     *Server
	ctx   context.Context
	cache map[string]string
}

func (s *Server) roomTitles(ctx context.Context) *roomNames {
	return &roomNames{s: s, ctx: ctx, cache: map[string]string{}}
}

func (n *roomNames) of(cohortID, roomID string) string {
	key := consent.RoomKey(cohortID, roomID)
	if t, ok := n.cache[key]; ok {
		return t
	}
	title := "A dialogue room"
	if roomID == cohortRoom {
		title = "Cohort dialogue room"
	} else if p, err := n.s.deps.Courses.Programme(n.ctx, cohortID); err == nil {
		if a, _, ok := p.Activity(roomID); ok {
			title = a.Title
		}
	}
	n.cache[key] = title
	return title
}
