package courses

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// ICS writes the cohort's programme as an iCalendar feed (RFC 5545) for a calendar app to
// subscribe to: one event for each day of each module, from the day's first slot to its
// last (an all-day event when the day has no timetable), and one for each facilitated
// dialogue session. Times are written in UTC, so the feed needs no time zone definitions;
// apps show them in the subscriber's own zone. Each event's UID stays the same across
// versions of the programme, and SEQUENCE follows the version, so apps update events in
// place when the programme changes. now is the feed's DTSTAMP. roomURL, when not nil, gives
// the full address of a dialogue session's room (by the session's id), which the session's
// event carries as its URL and LOCATION and in its description, so that the room is one
// click away in the calendar app; it is nil for someone who takes no part in the rooms.
func ICS(cohort Cohort, p Programme, now time.Time, roomURL func(sessionID string) string) []byte {
	return CalendarFeed([]CohortCalendar{{Cohort: cohort, Programme: p, RoomURL: roomURL}}, now)
}

// CohortCalendar is one cohort's part of a person's calendar feed: its programme, and the
// rooms' addresses when the person takes part in them (see ICS).
type CohortCalendar struct {
	Cohort    Cohort
	Programme Programme
	RoomURL   func(sessionID string) string
}

// CalendarFeed writes the programmes of every cohort a person belongs to as one feed, as
// ICS writes one: a facilitator running two cohorts, or a supervisor working with two,
// subscribes once. With several cohorts each event's summary begins with its cohort's name,
// so that two cohorts' module days on one date can be told apart; the UIDs carry the cohort
// already.
func CalendarFeed(cohorts []CohortCalendar, now time.Time) []byte {
	names := make([]string, len(cohorts))
	for i, c := range cohorts {
		names[i] = c.Cohort.Name
	}
	w := &icsWriter{}
	w.raw("BEGIN", "VCALENDAR")
	w.raw("VERSION", "2.0")
	w.raw("PRODID", "-//Polyphony//POD programme//EN")
	w.raw("CALSCALE", "GREGORIAN")
	w.raw("METHOD", "PUBLISH")
	switch len(cohorts) {
	case 0:
		w.text("X-WR-CALNAME", "POD programme")
		w.text("X-WR-CALDESC", "The residential modules and facilitated dialogue sessions of the Foundation Diploma in Peer-supported Open Dialogue")
	default:
		w.text("X-WR-CALNAME", "POD programme: "+strings.Join(names, ", "))
		w.text("X-WR-CALDESC", "The residential modules and facilitated dialogue sessions of "+joinNames(names)+
			", Foundation Diploma in Peer-supported Open Dialogue")
	}
	w.raw("REFRESH-INTERVAL;VALUE=DURATION", "PT12H")
	w.raw("X-PUBLISHED-TTL", "PT12H")
	stamp := icsUTC(now)
	for _, c := range cohorts {
		p := c.Programme
		prefix := ""
		if len(cohorts) > 1 {
			prefix = c.Cohort.Name + ": "
		}
		for _, o := range p.Occasions() {
			w.raw("BEGIN", "VEVENT")
			w.raw("UID", o.ID+"@"+c.Cohort.ID+".polyphony")
			w.raw("DTSTAMP", stamp)
			if !p.SavedAt.IsZero() {
				w.raw("LAST-MODIFIED", icsUTC(p.SavedAt))
			}
			w.raw("SEQUENCE", fmt.Sprint(p.Version))
			if o.Kind == OccasionResidential {
				p.writeModuleDay(w, o, prefix)
			} else {
				p.writeSession(w, o, prefix, c.RoomURL)
			}
			w.raw("END", "VEVENT")
		}
	}
	w.raw("END", "VCALENDAR")
	return w.buf.Bytes()
}

// joinNames writes names as a sentence does: "A", "A and B", "A, B and C".
func joinNames(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func (p Programme) writeModuleDay(w *icsWriter, o Occasion, prefix string) {
	var mod Module
	var slots []Slot
	for _, m := range p.Modules {
		if !o.Date.Before(dateOf(m.Start)) && !o.Date.After(dateOf(m.End)) {
			mod = m
		}
	}
	for _, d := range mod.Days {
		if dateOf(d.Date).Equal(o.Date) {
			slots = d.Slots
		}
	}
	first, ok1 := slotInstant(o.Date, firstSlot(slots).Start)
	last, ok2 := slotInstant(o.Date, lastSlot(slots).End)
	if ok1 && ok2 {
		w.raw("DTSTART", icsUTC(first))
		w.raw("DTEND", icsUTC(last))
	} else {
		w.raw("DTSTART;VALUE=DATE", o.Date.Format("20060102"))
		w.raw("DTEND;VALUE=DATE", o.Date.AddDate(0, 0, 1).Format("20060102"))
	}
	w.text("SUMMARY", prefix+o.Title)
	if mod.Venue != "" {
		w.text("LOCATION", mod.Venue)
	}
	var desc strings.Builder
	fmt.Fprintf(&desc, "Module %d: %s\n", mod.Number, mod.Title)
	for _, s := range slots {
		fmt.Fprintf(&desc, "\n%s–%s %s", s.Start, s.End, s.Title)
	}
	w.text("DESCRIPTION", desc.String())
	w.raw("TRANSP", "OPAQUE")
}

func (p Programme) writeSession(w *icsWriter, o Occasion, prefix string, roomURL func(string) string) {
	a, after, _ := p.Activity(o.ID)
	w.raw("DTSTART", icsUTC(a.Session.Start))
	w.raw("DTEND", icsUTC(a.Session.End()))
	w.text("SUMMARY", prefix+a.Title)
	link := ""
	if roomURL != nil {
		link = roomURL(a.ID)
	}
	if link != "" {
		w.raw("URL", link) // a URI, not TEXT: nothing in it is escaped
		w.text("LOCATION", link)
	} else {
		w.text("LOCATION", "Polyphony dialogue room: "+a.Session.Room)
	}
	desc := a.Description
	if desc != "" {
		desc += "\n\n"
	}
	desc += fmt.Sprintf("Facilitated dialogue in the period after module %d: %d minutes in the Polyphony dialogue room “%s”.",
		after, a.Session.Minutes, a.Session.Room)
	if link != "" {
		desc += "\n\nJoin the room: " + link
	}
	w.text("DESCRIPTION", desc)
	w.raw("TRANSP", "OPAQUE")
}

func firstSlot(s []Slot) Slot {
	if len(s) == 0 {
		return Slot{}
	}
	return s[0]
}

func lastSlot(s []Slot) Slot {
	if len(s) == 0 {
		return Slot{}
	}
	return s[len(s)-1]
}

func icsUTC(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icsWriter writes content lines: CRLF-terminated, folded at 75 octets.
type icsWriter struct {
	buf bytes.Buffer
}

// text writes a property whose value is TEXT, escaped as RFC 5545 §3.3.11 asks.
func (w *icsWriter) text(name, value string) { w.raw(name, icsEscape(value)) }

// raw writes a property whose value needs no escaping.
func (w *icsWriter) raw(name, value string) { w.fold(name + ":" + value) }

// fold splits a content line into lines of at most 75 octets, each continuation starting
// with a space, never inside a UTF-8 sequence (RFC 5545 §3.1).
func (w *icsWriter) fold(line string) {
	const limit = 75
	width := limit
	for len(line) > width {
		cut := width
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		w.buf.WriteString(line[:cut])
		w.buf.WriteString("\r\n ")
		line = line[cut:]
		width = limit - 1 // the leading space counts
	}
	w.buf.WriteString(line)
	w.buf.WriteString("\r\n")
}

var icsEscaper = strings.NewReplacer(`\`, `\\`, `;`, `\;`, `,`, `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)

// icsEscape escapes a TEXT value and drops the control characters it may not hold.
func icsEscape(s string) string {
	s = icsEscaper.Replace(s)
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
