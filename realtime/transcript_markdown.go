package realtime

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// TranscriptHeading is what a transcript document says about its room, which the timeline
// does not know: the session's name and cohort, when it was planned, and the clock people
// read times on.
type TranscriptHeading struct {
	Title     string
	Cohort    string
	Scheduled time.Time // the session's planned start; zero for a room with no session
	Location  *time.Location
}

// Markdown exports the room's transcript as a document with no heading of its own; see
// Document.
func (t *Transcripts) Markdown(ctx context.Context, roomID string) ([]byte, error) {
	return t.Document(ctx, roomID, TranscriptHeading{})
}

// Document exports the room's transcript as a Markdown document a person would keep: the
// session's name, its date, the facilitators and who was present, then each time the room
// was open with its phases as headings, the turns, and notes of pauses, go-rounds and the
// floor. Joining and leaving are not listed. A withdrawn turn keeps its place and speaker and
// reads "(withdrawn by the speaker)". People's words are escaped only where Markdown would
// otherwise read them as markup.
func (t *Transcripts) Document(ctx context.Context, roomID string, h TranscriptHeading) ([]byte, error) {
	var events []Event
	const page = 500
	for after := uint64(0); ; {
		batch, err := t.storedEvents(ctx, roomID, after, page)
		if err != nil {
			return nil, err
		}
		events = append(events, batch...)
		if len(batch) < page {
			break
		}
		after = batch[len(batch)-1].Seq
	}
	// The withdrawals are read once, after the events: none is missed that precedes them.
	withdrawn, err := t.Withdrawn(ctx, roomID)
	if err != nil {
		return nil, err
	}
	for i, e := range events {
		if e.Type == EventSay && withdrawn[e.Seq] {
			events[i] = e.withoutWords()
		}
	}
	if h.Location == nil {
		h.Location = time.UTC
	}
	d := transcriptDoc{h: h, withdrawn: withdrawn}
	d.head(events)
	for _, e := range events {
		d.event(e)
	}
	return d.b.Bytes(), nil
}

// transcriptDoc writes one transcript document.
type transcriptDoc struct {
	b         bytes.Buffer
	h         TranscriptHeading
	withdrawn map[uint64]bool
	inRound   bool
	opened    bool
}

func (d *transcriptDoc) clock(t time.Time) string { return t.In(d.h.Location).Format("15:04") }

func (d *transcriptDoc) day(t time.Time) string {
	return t.In(d.h.Location).Format("Monday 2 January 2006")
}

// head writes the title and what the document is about: the date, the facilitators and the
// trainees present, each named once in the order they first came.
func (d *transcriptDoc) head(events []Event) {
	title := d.h.Title
	if title == "" {
		title = "Dialogue room transcript"
	}
	fmt.Fprintf(&d.b, "# %s\n\n", escapeLine(title))
	if d.h.Cohort != "" {
		fmt.Fprintf(&d.b, "%s: transcript of the dialogue room.\n\n", escapeLine(d.h.Cohort))
	}
	var days []string
	var facilitators, present []string
	named := map[string]bool{}
	for _, e := range events {
		switch {
		case e.Type == EventRoom && e.Open != nil && *e.Open:
			if day := d.day(e.At); !contains(days, day) {
				days = append(days, day)
			}
		case e.Type == EventJoined && !named[e.UserID]:
			named[e.UserID] = true
			if e.Role == Facilitator {
				facilitators = append(facilitators, escapeLine(e.Name))
			} else {
				present = append(present, escapeLine(e.Name))
			}
		}
	}
	if !d.h.Scheduled.IsZero() {
		fmt.Fprintf(&d.b, "- Planned for: %s, %s\n", d.day(d.h.Scheduled), d.clock(d.h.Scheduled))
	}
	if len(days) == 0 {
		fmt.Fprintf(&d.b, "- Held: the room has not been opened\n")
	} else {
		fmt.Fprintf(&d.b, "- Held: %s\n", strings.Join(days, "; "))
	}
	fmt.Fprintf(&d.b, "- Facilitators: %s\n", listOrNone(facilitators))
	fmt.Fprintf(&d.b, "- Present: %s\n", listOrNone(present))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "nobody"
	}
	return strings.Join(names, ", ")
}

var phaseTitles = map[string]string{
	PhaseNetworkSpeaks:   "The network speaks",
	PhaseTeamReflects:    "The team reflects",
	PhaseNetworkResponds: "The network responds",
}

// event writes one timeline event: a heading for an opening and a phase, a paragraph for a
// turn, a short note for the rest, nothing for presence.
func (d *transcriptDoc) event(e Event) {
	at := d.clock(e.At)
	target := ""
	if e.Target != nil {
		target = escapeLine(e.Target.Name)
	}
	switch e.Type {
	case EventRoom:
		if e.Open != nil && *e.Open {
			d.opened = true
			fmt.Fprintf(&d.b, "\n## %s, %s\n\n*%s: room opened.*\n", d.day(e.At), at, at)
		} else {
			fmt.Fprintf(&d.b, "\n*%s: room closed.*\n", at)
		}
		d.inRound = false
	case EventPhase:
		title, ok := phaseTitles[e.Phase]
		if !ok {
			title = escapeLine(strings.ReplaceAll(e.Phase, "_", " "))
		}
		fmt.Fprintf(&d.b, "\n### %s\n\n*%s*\n", title, at)
	case EventSay:
		d.say(e, at)
	case EventPause:
		if e.Active != nil && *e.Active && e.Until != nil {
			fmt.Fprintf(&d.b, "\n*%s: mindful pause until %s.*\n", at, e.Until.In(d.h.Location).Format("15:04:05"))
		} else {
			fmt.Fprintf(&d.b, "\n*%s: the pause ended.*\n", at)
		}
	case EventGoRound:
		active := e.Active != nil && *e.Active
		switch {
		case active && !d.inRound:
			names := make([]string, len(e.Order))
			for i, m := range e.Order {
				names[i] = escapeLine(m.Name)
			}
			fmt.Fprintf(&d.b, "\n*%s: a go-round began, in this order: %s.*\n", at, strings.Join(names, ", "))
		case !active && d.inRound:
			fmt.Fprintf(&d.b, "\n*%s: the go-round ended.*\n", at)
		}
		d.inRound = active
	case EventFloor:
		fmt.Fprintf(&d.b, "\n*%s: the floor was given to %s.*\n", at, target)
	case EventInput:
		if e.Locked != nil && *e.Locked {
			fmt.Fprintf(&d.b, "\n*%s: input locked by the facilitator.*\n", at)
		} else {
			fmt.Fprintf(&d.b, "\n*%s: input unlocked.*\n", at)
		}
	case EventRemoved:
		fmt.Fprintf(&d.b, "\n*%s: %s was removed from the room.*\n", at, target)
	}
}

// say writes a turn as a paragraph: the speaker and time, then the words, with the speaker's
// own line breaks kept.
func (d *transcriptDoc) say(e Event, at string) {
	who := escapeLine(e.Name)
	if e.Role == Facilitator {
		who += " (facilitator)"
	}
	if d.withdrawn[e.Seq] {
		fmt.Fprintf(&d.b, "\n**%s**, %s: *(withdrawn by the speaker)*\n", who, at)
		return
	}
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(e.Text, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, escapeLine(l))
		}
	}
	fmt.Fprintf(&d.b, "\n**%s**, %s: %s\n", who, at, strings.Join(lines, "\\\n"))
}

// escapeLine escapes what Markdown would read as markup in one line of someone's words and
// leaves ordinary punctuation alone: emphasis, code, links and raw HTML anywhere in the line,
// entities, table cells, and a block marker (heading, quote, list, rule) at its start.
func escapeLine(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if needsEscape(rs, i) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func needsEscape(rs []rune, i int) bool {
	r := rs[i]
	switch r {
	case '\\', '`', '*', '[', ']', '<', '>', '|', '~':
		return true
	case '_':
		// Inside a word (snake_case) an underscore is never emphasis.
		return i == 0 || i == len(rs)-1 || !isWordRune(rs[i-1]) || !isWordRune(rs[i+1])
	case '&':
		// Only a possible entity (&amp; &#38;) is markup.
		return i+1 < len(rs) && (rs[i+1] == '#' || unicode.IsLetter(rs[i+1]))
	}
	if i == 0 {
		switch r {
		case '#', '-', '+', '=':
			return true
		}
	}
	// "1." or "1)" at the start of a line begins a numbered list.
	if (r == '.' || r == ')') && i > 0 && allDigits(rs[:i]) {
		return true
	}
	return false
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func allDigits(rs []rune) bool {
	for _, r := range rs {
		if r < '0' || r > '9' {
			return false
		}
	}
	return len(rs) > 0
}
