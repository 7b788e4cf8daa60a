package server

import (
	"context"
	"errors"
	"html"
	"html/template"
	"regexp"
	"strconv"
	"strings"

	"polyphony/assessment/consent"
	"polyphony/content"
	"polyphony/courses"
	"polyphony/internal/failure"
)

// A quote of a room's turns sits in a journal entry's Markdown as a line of its own,
//
//	::quote[cq0123456789abcdef012345]
//
// naming the quote (a consent subject), never its words: the words stay in the room's
// transcript, and every reader of the entry gets them through consentQuoteHTML, which shows
// only what the quoted speakers agreed to. So the entry's body (its revisions, the API's
// reads, the author's export) holds no one else's words; a speaker who refuses or withdraws
// takes their words out of every copy at once.

// quoteMarker finds the lines of an entry's body that look like quote lines; quoteLocs
// keeps those that are not inside a fenced code block.
var quoteMarker = regexp.MustCompile(`(?m)^::quote\[([A-Za-z0-9]{1,64})\][ \t]*$`)

// quoteLine is the line that places quote id in an entry.
func quoteLine(id string) string { return "::quote[" + id + "]" }

// quoteIDs lists the quotes an entry's body places, in order, each once.
func quoteIDs(body string) []string {
	var out []string
	seen := map[string]bool{}
	for _, loc := range quoteLocs(body) {
		if id := body[loc[2]:loc[3]]; !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// entryHTML renders an entry's (or revision's) Markdown for whoever may read it, with each
// quote shown as the quoted speakers' answers allow.
func (s *Server) entryHTML(ctx context.Context, e courses.Entry) template.HTML {
	locs := quoteLocs(e.Body)
	if len(locs) == 0 {
		return e.HTML()
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		b.WriteString(string(content.RenderUserMarkdown([]byte(e.Body[last:loc[0]]))))
		b.WriteString(string(s.consentQuoteHTML(ctx, e, e.Body[loc[2]:loc[3]])))
		last = loc[1]
	}
	b.WriteString(string(content.RenderUserMarkdown([]byte(e.Body[last:]))))
	return template.HTML(b.String())
}

// previewHTML renders the editor's text for its preview: a quote line shows as a note of
// where the quote goes, since the words are shown only on the entry's page, as the speakers
// allow.
func previewHTML(body string) template.HTML {
	locs := quoteLocs(body)
	if len(locs) == 0 {
		return content.RenderUserMarkdown([]byte(body))
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		b.WriteString(string(content.RenderUserMarkdown([]byte(body[last:loc[0]]))))
		b.WriteString(`<p class="journal-quote journal-quote--preview">A quote from a dialogue room goes here. The entry's page shows it as its speakers allow.</p>` + "\n")
		last = loc[1]
	}
	b.WriteString(string(content.RenderUserMarkdown([]byte(body[last:]))))
	return template.HTML(b.String())
}

// consentQuoteHTML is one quote of entry e: its turns (words agreed to, or that wait), or
// the note that replaces a quote a speaker refused.
func (s *Server) consentQuoteHTML(ctx context.Context, e courses.Entry, id string) template.HTML {
	esc := html.EscapeString
	if s.deps.Consent == nil {
		return template.HTML(`<p class="journal-quote journal-quote--missing">This quote cannot be shown here.</p>` + "\n")
	}
	sh, err := s.deps.Consent.Shown(ctx, e.OwnerID, e.ID, id)
	if err != nil {
		s.log.Error("show a quote", "quote", id, "entry", e.ID, "err", err)
		return template.HTML(`<p class="journal-quote journal-quote--missing" data-quote="` + esc(id) + `">This quote cannot be shown just now. Reload the page to try again.</p>` + "\n")
	}
	switch {
	case sh.Missing:
		return template.HTML(`<p class="journal-quote journal-quote--missing" data-quote="` + esc(id) + `">This quote belongs to another entry, so it is not shown here.</p>` + "\n")
	case sh.Removed:
		return template.HTML(`<p class="journal-quote journal-quote--removed" data-quote="` + esc(id) + `">` + esc(consent.RemovedNote) + `</p>` + "\n")
	}
	var b strings.Builder
	b.WriteString(`<blockquote class="journal-quote" data-quote="` + esc(id) + `">` + "\n")
	for _, t := range sh.Turns {
		b.WriteString(`  <p class="journal-quote__turn journal-quote__turn--` + esc(string(t.State)) + `" data-seq="` + strconv.FormatUint(t.Seq, 10) + `">`)
		b.WriteString(`<span class="journal-quote__who">` + esc(t.Name) + `:</span> `)
		switch t.State {
		case consent.TurnShown:
			b.WriteString(esc(t.Text))
		case consent.TurnWaiting:
			b.WriteString(`<em class="journal-quote__waiting">` + esc(consent.WaitingText) + `</em>`)
		default:
			b.WriteString(`<em>Withdrawn from the transcript by the speaker</em>`)
		}
		b.WriteString("</p>\n")
	}
	b.WriteString("</blockquote>\n")
	return template.HTML(b.String())
}

// entryQuotes is every quote entry e places, as its reader sees them (the API's view).
func (s *Server) entryQuotes(ctx context.Context, e courses.Entry) ([]consent.Shown, error) {
	out := []consent.Shown{}
	if s.deps.Consent == nil {
		return out, nil
	}
	for _, id := range quoteIDs(e.Body) {
		sh, err := s.deps.Consent.Shown(ctx, e.OwnerID, e.ID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, sh)
	}
	return out, nil
}

// quoteIntoEntry quotes the room's turns seqs into the signed-in person's entry entryID, or
// into a new entry when entryID is "" (key is then the idempotency key of its creation): the
// quote is made (each other speaker asked) and its line added to the end of the entry, once.
// It returns the entry as saved and the quote.
func (s *Server) quoteIntoEntry(ctx context.Context, v courses.Viewer, room roomView, seqs []uint64, entryID, key string) (courses.Entry, consent.Subject, error) {
	if s.deps.Consent == nil {
		return courses.Entry{}, consent.Subject{}, failure.ErrNotFound
	}
	if err := s.deps.Consent.Quotable(ctx, room.Cohort.ID, room.RoomID, seqs); err != nil {
		return courses.Entry{}, consent.Subject{}, err
	}
	var e courses.Entry
	if entryID == "" {
		created, err := s.deps.Journals.Create(ctx, v, courses.Draft{Title: "From " + room.Title, Tags: []string{}, Links: []courses.Link{}}, key)
		if err != nil {
			return courses.Entry{}, consent.Subject{}, err
		}
		e = created
	} else {
		view, err := s.deps.Journals.ReadEntry(ctx, v, entryID)
		if err == nil && view.As != courses.AccessOwner {
			err = failure.Problem("entry", "You can quote only into an entry of your own.")
		}
		if errors.Is(err, failure.ErrNotFound) {
			err = failure.Problem("entry", "Choose one of your journal entries, or a new entry.")
		}
		if err != nil {
			return courses.Entry{}, consent.Subject{}, err
		}
		e = view.Entry
	}
	q, err := s.deps.Consent.Quote(ctx, v.UserID, room.Cohort.ID, room.RoomID, seqs, e.ID, e.Title)
	if err != nil {
		return courses.Entry{}, consent.Subject{}, err
	}
	// The line goes in with a save based on the version read; a save elsewhere in between
	// is read again, so the author's words are never overwritten.
	for range 5 {
		line := quoteLine(q.ID)
		if strings.Contains(e.Body, line) {
			return e, q, nil
		}
		body := strings.TrimRight(e.Body, "\n")
		if body != "" {
			body += "\n\n"
		}
		d := courses.Draft{Title: e.Title, Body: body + line + "\n", Tags: e.Tags, Links: e.Links}
		saved, err := s.deps.Journals.Save(ctx, v, e.ID, d, e.Version, "quote-"+q.ID+"-"+strconv.Itoa(e.Version))
		if err == nil {
			return saved, q, nil
		}
		if !errors.Is(err, failure.ErrConflict) {
			return courses.Entry{}, consent.Subject{}, err
		}
		view, err := s.deps.Journals.ReadEntry(ctx, v, e.ID)
		if err != nil {
			return courses.Entry{}, consent.Subject{}, err
		}
		e = view.Entry
	}
	return courses.Entry{}, consent.Subject{}, failure.Conflict("the entry is being saved elsewhere; try again")
}
