package courses_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"polyphony/courses"
	"polyphony/internal/failure"
)

func TestCalendarTokens(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	first, err := store.CalendarToken(ctx, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(first) < 40 {
		t.Errorf("token %d characters long, want a long random secret", len(first))
	}
	again, err := store.CalendarToken(ctx, "user-1")
	if err != nil || again != first {
		t.Errorf("second CalendarToken: %v; want the same token back", err)
	}
	other, _ := store.CalendarToken(ctx, "user-2")
	if other == first {
		t.Error("two people share a token")
	}
	if who, err := store.CalendarUser(ctx, first); err != nil || who != "user-1" {
		t.Errorf("CalendarUser(first) = %q, %v; want user-1", who, err)
	}

	rotated, err := store.RotateCalendarToken(ctx, "user-1")
	if err != nil || rotated == first {
		t.Fatalf("rotate: %v (same token: %v)", err, rotated == first)
	}
	if _, err := store.CalendarUser(ctx, first); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("old token after rotation: %v, want ErrNotFound", err)
	}
	if who, err := store.CalendarUser(ctx, rotated); err != nil || who != "user-1" {
		t.Errorf("CalendarUser(rotated) = %q, %v; want user-1", who, err)
	}
	if current, _ := store.CalendarToken(ctx, "user-1"); current != rotated {
		t.Error("CalendarToken after rotation does not return the new token")
	}
	if who, err := store.CalendarUser(ctx, other); err != nil || who != "user-2" {
		t.Errorf("user-2's token after user-1 rotated: %q, %v", who, err)
	}
	for _, bad := range []string{"", "not-a-token", strings.ToLower(rotated)} {
		if _, err := store.CalendarUser(ctx, bad); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("CalendarUser(%q): %v, want ErrNotFound", bad, err)
		}
	}

	// Rotations at the same moment leave exactly one working token.
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if tokens[i], err = store.RotateCalendarToken(ctx, "user-1"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	live := map[string]bool{}
	for _, tok := range append(tokens, first, rotated) {
		if who, err := store.CalendarUser(ctx, tok); err == nil && who == "user-1" {
			live[tok] = true
		}
	}
	current, _ := store.CalendarToken(ctx, "user-1")
	if len(live) != 1 || !live[current] {
		t.Errorf("%d live tokens after concurrent rotations, want exactly the current one", len(live))
	}
}

// icsLine is one unfolded content line.
type icsLine struct {
	name, params, value string
}

// parseICS checks the physical form of a feed (CRLF, folding at 75 octets, whole UTF-8
// characters on each line) and returns its unfolded content lines.
func parseICS(t *testing.T, feed []byte) []icsLine {
	t.Helper()
	if !bytes.HasSuffix(feed, []byte("\r\n")) {
		t.Fatal("the feed does not end with CRLF")
	}
	physical := strings.Split(strings.TrimSuffix(string(feed), "\r\n"), "\r\n")
	var logical []string
	for i, l := range physical {
		if strings.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d holds a bare CR or LF: %q", i+1, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d is %d octets, more than 75: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d splits a UTF-8 character: %q", i+1, l)
		}
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			if len(logical) == 0 {
				t.Fatal("the feed starts with a continuation line")
			}
			logical[len(logical)-1] += l[1:]
			continue
		}
		logical = append(logical, l)
	}
	var out []icsLine
	for _, l := range logical {
		// No parameter value here is quoted, so the first colon ends the name and parameters.
		head, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("content line without a colon: %q", l)
		}
		name, params, _ := strings.Cut(head, ";")
		out = append(out, icsLine{name, params, value})
	}
	return out
}

// unescape reads a TEXT value, failing on what RFC 5545 does not allow unescaped.
func unescape(t *testing.T, v string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			i++
			if i == len(v) {
				t.Fatalf("value ends in a lone backslash: %q", v)
			}
			switch v[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			case '\\', ';', ',':
				b.WriteByte(v[i])
			default:
				t.Fatalf("unknown escape \\%c in %q", v[i], v)
			}
		case ';', ',':
			t.Fatalf("unescaped %q in TEXT value %q", c, v)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func TestICS(t *testing.T) {
	c := courses.Cohort{ID: "c0ffee", Name: `Cohort 7; North, "South" \ East`, StartDate: date(2027, 1, 11)}
	p := courses.Template(c)
	p.Version = 3
	p.SavedAt = time.Date(2027, 1, 2, 10, 0, 0, 0, time.UTC)
	venue := "Canolfan Ddiwylliannol — ystafell fawr, llawr cyntaf; Caerdydd\nCroeso i bawb 🌱 " + strings.Repeat("ŵŷ日本語", 12)
	p.Modules[0].Venue = venue
	now := time.Date(2027, 1, 5, 8, 9, 10, 0, time.UTC)

	lines := parseICS(t, courses.ICS(c, p, now, nil))

	type component struct {
		name  string
		props map[string][]icsLine
	}
	var stack []*component
	var events []*component
	var calendar *component
	for _, l := range lines {
		switch l.name {
		case "BEGIN":
			stack = append(stack, &component{name: l.value, props: map[string][]icsLine{}})
			continue
		case "END":
			if len(stack) == 0 || stack[len(stack)-1].name != l.value {
				t.Fatalf("END:%s does not close the open component", l.value)
			}
			done := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			switch {
			case done.name == "VEVENT" && len(stack) == 1 && stack[0].name == "VCALENDAR":
				events = append(events, done)
			case done.name == "VCALENDAR" && len(stack) == 0:
				calendar = done
			default:
				t.Errorf("%s closed inside %d components", done.name, len(stack))
			}
			continue
		}
		if len(stack) == 0 {
			t.Fatalf("%s outside any component", l.name)
		}
		top := stack[len(stack)-1]
		top.props[l.name] = append(top.props[l.name], l)
	}
	if len(stack) != 0 || calendar == nil {
		t.Fatalf("unclosed components, or no VCALENDAR")
	}
	one := func(c *component, name string) icsLine {
		t.Helper()
		if n := len(c.props[name]); n != 1 {
			t.Fatalf("%s has %d %s properties, want 1", c.name, n, name)
		}
		return c.props[name][0]
	}
	if v := one(calendar, "VERSION").value; v != "2.0" {
		t.Errorf("VERSION:%s", v)
	}
	if v := one(calendar, "PRODID").value; v != "-//Polyphony//POD programme//EN" {
		t.Errorf("PRODID:%s", v)
	}
	if got := unescape(t, one(calendar, "X-WR-CALNAME").value); got != "POD programme: "+c.Name {
		t.Errorf("X-WR-CALNAME %q", got)
	}

	occasions := p.Occasions()
	if len(events) != len(occasions) {
		t.Fatalf("%d events, want one for each of the %d occasions", len(events), len(occasions))
	}
	byUID := map[string]*component{}
	for _, e := range events {
		for _, name := range []string{"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "LOCATION", "SEQUENCE"} {
			one(e, name)
		}
		unescape(t, one(e, "SUMMARY").value)
		unescape(t, one(e, "DESCRIPTION").value)
		if v := one(e, "DTSTAMP").value; v != "20270105T080910Z" {
			t.Errorf("DTSTAMP:%s, want now in UTC", v)
		}
		if v := one(e, "SEQUENCE").value; v != "3" {
			t.Errorf("SEQUENCE:%s, want the programme's version", v)
		}
		uid := one(e, "UID").value
		if byUID[uid] != nil {
			t.Errorf("UID %s twice", uid)
		}
		byUID[uid] = e
	}
	for _, o := range occasions {
		if byUID[o.ID+"@c0ffee.polyphony"] == nil {
			t.Errorf("no event with UID %s@c0ffee.polyphony", o.ID)
		}
	}

	day1 := byUID["module-1-day-1@c0ffee.polyphony"]
	if got := unescape(t, one(day1, "LOCATION").value); got != venue {
		t.Errorf("LOCATION reads back as %q,\nwant %q", got, venue)
	}
	// 11 January is in winter: UK time is UTC.
	if s, e := one(day1, "DTSTART").value, one(day1, "DTEND").value; s != "20270111T093000Z" || e != "20270111T170000Z" {
		t.Errorf("module 1, day 1 from %s to %s; want 09:30 to 17:00 UK time", s, e)
	}
	if got := unescape(t, one(day1, "DESCRIPTION").value); !strings.Contains(got, "\n09:30–10:30 Welcome") {
		t.Errorf("the day's description does not list its timetable: %q", got)
	}
	// Module 2 is in summer time: 09:30 UK time is 08:30 UTC.
	if s := one(byUID["module-2-day-1@c0ffee.polyphony"], "DTSTART").value; s != "20270405T083000Z" {
		t.Errorf("module 2, day 1 starts %s, want 08:30Z", s)
	}

	dialogue := byUID["p1-dialogue-1@c0ffee.polyphony"]
	if s, e := one(dialogue, "DTSTART").value, one(dialogue, "DTEND").value; s != "20270120T180000Z" || e != "20270120T193000Z" {
		t.Errorf("first dialogue from %s to %s, want 18:00 to 19:30 on 20 January", s, e)
	}
	if got := unescape(t, one(dialogue, "LOCATION").value); got != "Polyphony dialogue room: Cohort dialogue" {
		t.Errorf("dialogue LOCATION %q", got)
	}
	if n := len(dialogue.props["URL"]); n != 0 {
		t.Errorf("%d URL properties in a feed without rooms, want none", n)
	}

	// With the rooms' addresses, each session's event links to its own room.
	rooms := func(id string) string { return "https://polyphony.example.nhs.uk/rooms/c0ffee/" + id }
	withRooms := map[string][]icsLine{}
	var uid string
	for _, l := range parseICS(t, courses.ICS(c, p, now, rooms)) {
		switch l.name {
		case "UID":
			uid = l.value
		case "URL", "LOCATION", "DESCRIPTION":
			withRooms[uid+" "+l.name] = append(withRooms[uid+" "+l.name], l)
		}
	}
	for _, o := range occasions {
		if o.Kind != courses.OccasionDialogue {
			if n := len(withRooms[o.ID+"@c0ffee.polyphony URL"]); n != 0 {
				t.Errorf("%s is no dialogue session but has %d URL", o.ID, n)
			}
			continue
		}
		want := rooms(o.ID)
		if got := withRooms[o.ID+"@c0ffee.polyphony URL"]; len(got) != 1 || got[0].value != want {
			t.Errorf("%s URL %v, want one, %s", o.ID, got, want)
		}
		if got := withRooms[o.ID+"@c0ffee.polyphony LOCATION"]; len(got) != 1 || unescape(t, got[0].value) != want {
			t.Errorf("%s LOCATION %v, want %s", o.ID, got, want)
		}
		if got := withRooms[o.ID+"@c0ffee.polyphony DESCRIPTION"]; len(got) != 1 || !strings.Contains(unescape(t, got[0].value), want) {
			t.Errorf("%s DESCRIPTION %v does not give %s", o.ID, got, want)
		}
	}

	// A day without a timetable is an all-day event.
	p.Modules[3].Days = nil
	lines = parseICS(t, courses.ICS(c, p, now, nil))
	found := false
	for _, l := range lines {
		if l.name == "DTSTART" && l.params == "VALUE=DATE" && l.value == "20270920" {
			found = true
		}
	}
	if !found {
		t.Error("module 4 without a timetable: no all-day event on 20 September 2027")
	}
}
