package courses_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

func openStore(t *testing.T) *courses.Store {
	t.Helper()
	store, err := courses.NewStore(context.Background(), dbtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func mustLondon(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

var curriculumSlugs = map[string]bool{
	"programme-overview": true, "module-1-overview": true, "module-2-overview": true, "module-3-overview": true,
	"module-4-overview": true, "social-network-perspective": true, "immediate-help": true, "responsibility": true,
	"psychological-continuity": true, "flexibility-and-mobility": true, "dialogism-and-polyphony": true,
	"tolerance-of-uncertainty": true, "mindful-approach": true, "cultivating-agency": true,
	"risk-and-governance": true, "peer-support": true, "evidence-base": true, "reading-list": true,
}

func TestTemplate(t *testing.T) {
	london := mustLondon(t)
	// 13 January 2027 is a Wednesday: module 1 moves to Monday 18 January.
	c := courses.Cohort{ID: "c1", Name: "Cohort 2027", StartDate: date(2027, 1, 13)}
	p := courses.Template(c)
	if err := p.Validate(); err != nil {
		t.Fatalf("the template does not validate: %v", err)
	}
	if p.CohortID != "c1" {
		t.Errorf("cohort id %q, want c1", p.CohortID)
	}
	if got := p.Modules[0].Start; !got.Equal(date(2027, 1, 18)) {
		t.Errorf("module 1 starts %v, want Monday 18 January 2027", got)
	}
	for i, m := range p.Modules {
		if m.Number != i+1 || m.Start.Weekday() != time.Monday || m.End.Weekday() != time.Friday || len(m.Days) != 5 {
			t.Errorf("module %d: number %d, %s to %s, %d days; want Monday to Friday, 5 days", i+1, m.Number, m.Start.Weekday(), m.End.Weekday(), len(m.Days))
		}
		if want := p.Modules[0].Start.AddDate(0, 0, 84*i); !m.Start.Equal(want) {
			t.Errorf("module %d starts %v, want %v (12 weeks apart)", m.Number, m.Start, want)
		}
		if m.Title == "" || m.Venue != "To be confirmed" {
			t.Errorf("module %d: title %q, venue %q", m.Number, m.Title, m.Venue)
		}
		for _, d := range m.Days {
			kinds := map[string]bool{}
			for _, s := range d.Slots {
				kinds[s.Kind] = true
			}
			for _, k := range []string{courses.SlotDialogue, courses.SlotTeaching, courses.SlotReflectingTeam, courses.SlotBreak} {
				if !kinds[k] {
					t.Errorf("module %d, %v: no %q slot", m.Number, d.Date.Format("2 Jan"), k)
				}
			}
		}
	}
	if end, nine := p.Modules[3].End, p.Modules[0].Start.AddDate(0, 9, 0); end.After(nine) {
		t.Errorf("module 4 ends %v, after nine months (%v)", end, nine)
	}
	if len(p.Periods) != 3 {
		t.Fatalf("%d periods, want 3", len(p.Periods))
	}
	for _, per := range p.Periods {
		start, end := p.PeriodDates(per.AfterModule)
		count := map[courses.ActivityKind]int{}
		var sessions []time.Time
		for _, a := range per.Activities {
			count[a.Kind]++
			if a.CurriculumSlug != "" && !curriculumSlugs[a.CurriculumSlug] {
				t.Errorf("%s links to %q, not a curriculum page", a.ID, a.CurriculumSlug)
			}
			switch a.Kind {
			case courses.ActivityReading:
				if a.Reading == nil || a.Reading.Authors == "" || a.Reading.Year == 0 || a.CurriculumSlug == "" {
					t.Errorf("%s: citation %+v, slug %q", a.ID, a.Reading, a.CurriculumSlug)
				}
			case courses.ActivityDialogue:
				s := a.Session
				local := s.Start.In(london)
				if local.Weekday() != time.Wednesday || local.Hour() != 18 || local.Minute() != 0 || s.Minutes != 90 || s.Room != "Cohort dialogue" {
					t.Errorf("%s: %v (%s), %d minutes, room %q; want Wednesday 18:00 UK time, 90 minutes, Cohort dialogue", a.ID, local, local.Weekday(), s.Minutes, s.Room)
				}
				sessions = append(sessions, s.Start)
			}
		}
		if n := count[courses.ActivityReading]; n < 2 || n > 4 {
			t.Errorf("period %d: %d readings, want 2 to 4", per.AfterModule, n)
		}
		if count[courses.ActivityCollaboration] != 1 || count[courses.ActivityPractice] != 1 {
			t.Errorf("period %d: %d collaboration and %d practice activities, want 1 and 1", per.AfterModule, count[courses.ActivityCollaboration], count[courses.ActivityPractice])
		}
		if len(sessions) < 5 {
			t.Errorf("period %d: %d dialogue sessions, want one a fortnight over 11 weeks", per.AfterModule, len(sessions))
		}
		for i := 1; i < len(sessions); i++ {
			if gap := sessions[i].Sub(sessions[i-1]); gap < 13*24*time.Hour || gap > 15*24*time.Hour {
				t.Errorf("period %d: sessions %d and %d are %v apart, want two weeks", per.AfterModule, i, i+1, gap)
			}
		}
		if first := sessions[0]; first.Sub(start) > 7*24*time.Hour || sessions[len(sessions)-1].After(end.AddDate(0, 0, 1)) {
			t.Errorf("period %d (%v to %v): sessions from %v to %v", per.AfterModule, start, end, first, sessions[len(sessions)-1])
		}
	}
	if a, period, ok := p.Activity("p2-reading-1"); !ok || period != 2 || a.Reading.Title != "The Dialogic Imagination" {
		t.Errorf("Activity(p2-reading-1) = %+v, %d, %v", a.Reading, period, ok)
	}
	if _, _, ok := p.Activity("nope"); ok {
		t.Error("Activity(nope) found something")
	}
	if end, ok := p.ModuleEnd(2); !ok || !end.Equal(date(2027, 4, 16)) {
		t.Errorf("ModuleEnd(2) = %v, %v; want 16 April 2027", end, ok)
	}
	if _, ok := p.ModuleEnd(5); ok {
		t.Error("ModuleEnd(5) found a module")
	}
	if start, end := p.PeriodDates(1); !start.Equal(date(2027, 1, 23)) || !end.Equal(date(2027, 4, 11)) {
		t.Errorf("PeriodDates(1) = %v, %v; want 23 January to 11 April 2027", start, end)
	}

	// On a Monday the start date stays.
	if got := courses.Template(courses.Cohort{StartDate: date(2027, 3, 1)}).Modules[0].Start; !got.Equal(date(2027, 3, 1)) {
		t.Errorf("cohort starting on a Monday: module 1 starts %v", got)
	}
}

// activityIndex is the index of the activity with the id in its period.
func activityIndex(t *testing.T, per courses.Period, id string) int {
	t.Helper()
	for i, a := range per.Activities {
		if a.ID == id {
			return i
		}
	}
	t.Fatalf("no activity %s", id)
	return -1
}

func TestValidate(t *testing.T) {
	// Module 1 runs from Monday 1 to Friday 5 March 2027.
	base := func() courses.Programme {
		return courses.Template(courses.Cohort{ID: "c", StartDate: date(2027, 3, 1)})
	}
	for _, tc := range []struct {
		name   string
		change func(p *courses.Programme)
		field  string
		reason string // the reason, or a part of it
	}{
		{"overlapping modules", func(p *courses.Programme) {
			p.Modules[1].Start, p.Modules[1].End = date(2027, 3, 3), date(2027, 3, 7)
			p.Modules[1].Days = nil
		}, "modules[1].start", "Module 2 must start after module 1 ends on 5 March 2027: its first day is 3 March 2027"},
		{"module starting the day the one before ends", func(p *courses.Programme) {
			p.Modules[2].Start, p.Modules[2].End = p.Modules[1].End, p.Modules[1].End.AddDate(0, 0, 2)
			p.Modules[2].Days = nil
		}, "modules[2].start", "Module 3 must start after module 2 ends on 28 May 2027: its first day is 28 May 2027"},
		{"modules out of order", func(p *courses.Programme) {
			p.Modules[2].Start, p.Modules[2].End = date(2027, 2, 1), date(2027, 2, 5)
			p.Modules[2].Days = nil
		}, "modules[2].start", "Module 3 must start after module 2 ends on 28 May 2027: its first day is 1 February 2027"},
		{"three modules", func(p *courses.Programme) { p.Modules = p.Modules[:3] }, "modules", "4 residential modules, not 3"},
		{"misnumbered module", func(p *courses.Programme) { p.Modules[1].Number = 3 }, "modules[1].number", "must be 2"},
		{"end before start", func(p *courses.Programme) { p.Modules[0].End = date(2027, 2, 26) }, "modules[0].end", "Module 1's last day must be on or after its first day, 1 March 2027"},
		{"eight-day module", func(p *courses.Programme) { p.Modules[0].End = date(2027, 3, 8) }, "modules[0].end", "Module 1 must end within 7 days of its start: it starts on 1 March 2027 and ends on 8 March 2027, 8 days"},
		{"no start", func(p *courses.Programme) { p.Modules[3].Start = time.Time{} }, "modules[3].start", "Enter the first day of module 4"},
		{"empty title", func(p *courses.Programme) { p.Modules[0].Title = "  " }, "modules[0].title", "Enter module 1's title"},
		{"long title", func(p *courses.Programme) { p.Modules[0].Title = strings.Repeat("é", 201) }, "modules[0].title", "Module 1's title must be 200 characters or fewer"},
		{"programme too long", func(p *courses.Programme) {
			p.Modules[3].Start, p.Modules[3].End = date(2028, 2, 7), date(2028, 2, 11)
			p.Modules[3].Days = nil
		}, "modules[3].end", "Module 4 must end within 10 months of the start of module 1 on 1 March 2027"},
		{"day outside its module", func(p *courses.Programme) { p.Modules[0].Days[4].Date = date(2027, 3, 6) }, "modules[0].days[4].date", "Day 5 of module 1 is on 6 March 2027, which is not a day of the module (1 March 2027 to 5 March 2027)"},
		{"day twice", func(p *courses.Programme) { p.Modules[0].Days[1].Date = date(2027, 3, 1) }, "modules[0].days[1].date", "List 1 March 2027 once"},
		{"slot time", func(p *courses.Programme) { p.Modules[0].Days[2].Slots[1].Start = "9:30" }, "modules[0].days[2].slots[1].start", `Enter the slot's start time like 09:30, not "9:30"`},
		{"slot hour", func(p *courses.Programme) { p.Modules[0].Days[2].Slots[1].End = "24:00" }, "modules[0].days[2].slots[1].end", `Enter the slot's end time like 16:45, not "24:00"`},
		{"slot ends before it starts", func(p *courses.Programme) { p.Modules[1].Days[0].Slots[0].End = "09:00" }, "modules[1].days[0].slots[0].end", "A slot must end after it starts: this one starts at 09:30 and ends at 09:00"},
		{"overlapping slots", func(p *courses.Programme) { p.Modules[1].Days[0].Slots[1].Start = "10:00" }, "modules[1].days[0].slots[1].start", "A slot must start after the one before it ends"},
		{"two periods", func(p *courses.Programme) { p.Periods = p.Periods[:2] }, "periods", "3 periods"},
		{"period order", func(p *courses.Programme) { p.Periods[0], p.Periods[1] = p.Periods[1], p.Periods[0] }, "periods[0].afterModule", "must be 1"},
		{"unknown kind", func(p *courses.Programme) { p.Periods[1].Activities[0].Kind = "lecture" }, "periods[1].activities[0].kind", `"lecture" is not an activity kind`},
		{"reading without citation", func(p *courses.Programme) { p.Periods[0].Activities[0].Reading = nil }, "periods[0].activities[0].reading", "citation"},
		{"citation without authors", func(p *courses.Programme) { p.Periods[0].Activities[1].Reading = &courses.Citation{Year: 2014} }, "periods[0].activities[1].reading.authors", "Enter the reading's authors"},
		{"citation link", func(p *courses.Programme) {
			p.Periods[0].Activities[1].Reading = &courses.Citation{Authors: "Olson et al", Year: 2014, URL: "javascript:alert(1)"}
		}, "periods[0].activities[1].reading.url", "not a web address"},
		{"duplicate ids", func(p *courses.Programme) { p.Periods[2].Activities[1].ID = "p1-reading-2" }, "periods[2].activities[1].id", `"p1-reading-2" is already the id of periods[0].activities[1]`},
		{"id like a module day", func(p *courses.Programme) { p.Periods[0].Activities[0].ID = "module-1-day-1" }, "periods[0].activities[0].id", "module day"},
		{"bad id", func(p *courses.Programme) { p.Periods[0].Activities[0].ID = "Reading 1" }, "periods[0].activities[0].id", "not an id"},
		{"session outside its period", func(p *courses.Programme) {
			i := activityIndex(t, p.Periods[0], "p1-dialogue-1")
			p.Periods[0].Activities[i].Session.Start = time.Date(2027, 3, 4, 18, 0, 0, 0, time.UTC)
		}, "periods[0].activities[5].session.start", "The dialogue session on 4 March 2027 is outside the period after module 1 (6 March 2027 to 23 May 2027)"},
		{"short session", func(p *courses.Programme) {
			p.Periods[1].Activities[activityIndex(t, p.Periods[1], "p2-dialogue-2")].Session.Minutes = 10
		}, "periods[1].activities[6].session.minutes", "from 15 to 240 minutes, not 10"},
		{"dialogue without session", func(p *courses.Programme) {
			p.Periods[1].Activities[activityIndex(t, p.Periods[1], "p2-dialogue-2")].Session = nil
		}, "periods[1].activities[6].session", "needs its session"},
		{"session on a reading", func(p *courses.Programme) {
			p.Periods[0].Activities[0].Session = &courses.DialogueSession{Start: time.Date(2027, 3, 10, 18, 0, 0, 0, time.UTC), Minutes: 60, Room: "x"}
		}, "periods[0].activities[0].session", "only a dialogue activity"},
		{"due after the next module starts", func(p *courses.Programme) {
			p.Periods[0].Activities[activityIndex(t, p.Periods[0], "p1-collaboration")].Due = date(2027, 6, 1)
		}, "periods[0].activities[4].due", "is due on 1 June 2027, outside the period after module 1"},
		{"curriculum slug", func(p *courses.Programme) { p.Periods[0].Activities[0].CurriculumSlug = "../etc" }, "periods[0].activities[0].curriculumSlug", "not a curriculum page"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			tc.change(&p)
			err := p.Validate()
			var inv *failure.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("got %v, want an InvalidError on %s", err, tc.field)
			}
			if inv.Field != tc.field || !strings.Contains(inv.Reason, tc.reason) {
				t.Errorf("got %s: %s\nwant %s: …%s…", inv.Field, inv.Reason, tc.field, tc.reason)
			}
		})
	}
}

func TestSaveProgramme(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	c, err := store.CreateCohort(ctx, courses.NewCohort{Name: "Spring 2027", StartDate: date(2027, 3, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Programme(ctx, c.ID); !errors.Is(err, failure.ErrNotFound) {
		t.Fatalf("programme before any save: %v, want ErrNotFound", err)
	}
	p1, err := store.SaveProgramme(ctx, courses.Template(c), 0, "admin-1")
	if err != nil {
		t.Fatal(err)
	}
	if p1.Version != 1 || p1.SavedBy != "admin-1" || p1.SavedAt.IsZero() {
		t.Errorf("saved: version %d by %q at %v", p1.Version, p1.SavedBy, p1.SavedAt)
	}
	got, err := store.Programme(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p1) {
		t.Errorf("read back differs from what was saved:\n got %+v\nwant %+v", got.Modules[0], p1.Modules[0])
	}

	if _, err := store.SaveProgramme(ctx, courses.Template(c), 0, "admin-2"); !errors.Is(err, failure.ErrConflict) || !strings.Contains(err.Error(), "someone else saved the programme") {
		t.Errorf("save on a stale base: %v, want ErrConflict saying someone else saved", err)
	}
	edit := got
	edit.Modules[0].Venue = "Friends Meeting House, Manchester"
	p2, err := store.SaveProgramme(ctx, edit, 1, "admin-2")
	if err != nil || p2.Version != 2 {
		t.Fatalf("save on version 1: %v, version %d", err, p2.Version)
	}

	bad := p2
	bad.Modules = append([]courses.Module{}, p2.Modules...)
	bad.Modules[1].Start, bad.Modules[1].End, bad.Modules[1].Days = bad.Modules[0].Start, bad.Modules[0].End, nil
	var inv *failure.InvalidError
	if _, err := store.SaveProgramme(ctx, bad, 2, "admin-1"); !errors.As(err, &inv) || inv.Field != "modules[1].start" {
		t.Errorf("invalid save: %v, want InvalidError on modules[1].start", err)
	}
	latest, _ := store.Programme(ctx, c.ID)
	if latest.Version != 2 || latest.Modules[0].Venue != "Friends Meeting House, Manchester" {
		t.Errorf("after a refused save: version %d, venue %q; want version 2 kept", latest.Version, latest.Modules[0].Venue)
	}

	orphan := courses.Template(courses.Cohort{ID: "no-such-cohort", StartDate: date(2027, 3, 1)})
	if _, err := store.SaveProgramme(ctx, orphan, 0, "admin-1"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("programme of a missing cohort: %v, want ErrNotFound", err)
	}
}

func TestConcurrentSaves(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	c, p, err := store.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: "Busy cohort", StartDate: date(2027, 9, 6)}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	const editors = 10
	var wg sync.WaitGroup
	errs := make([]error, editors)
	for i := range editors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			edit := p
			edit.Modules = append([]courses.Module{}, p.Modules...)
			edit.Modules[0].Venue = fmt.Sprintf("Venue %d", i)
			_, errs[i] = store.SaveProgramme(ctx, edit, p.Version, fmt.Sprintf("editor-%d", i))
		}()
	}
	wg.Wait()
	wins := 0
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
			winner = fmt.Sprintf("Venue %d", i)
		case !errors.Is(err, failure.ErrConflict):
			t.Errorf("editor %d: %v, want ErrConflict or success", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent saves on one version won, want exactly 1", wins, editors)
	}
	latest, err := store.Programme(ctx, c.ID)
	if err != nil || latest.Version != 2 || latest.Modules[0].Venue != winner {
		t.Errorf("latest: version %d, venue %q, %v; want version 2 with the winner's %q", latest.Version, latest.Modules[0].Venue, err, winner)
	}
}

func TestCreateCohortFromTemplate(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	c, p, err := store.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: "Autumn 2027", StartDate: date(2027, 9, 8)}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if p.CohortID != c.ID || p.Version != 1 || !p.Modules[0].Start.Equal(date(2027, 9, 13)) {
		t.Errorf("programme of %s: cohort %s, version %d, module 1 on %v", c.ID, p.CohortID, p.Version, p.Modules[0].Start)
	}
	if _, _, err := store.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: "Autumn 2027", StartDate: date(2027, 9, 8)}, "admin"); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("second cohort of the same name: %v, want ErrConflict", err)
	}
}

func TestPosition(t *testing.T) {
	london := mustLondon(t)
	// Module 1: Monday 11 to Friday 15 January 2027; the first dialogue is on Wednesday 20th.
	p := courses.Template(courses.Cohort{ID: "c", StartDate: date(2027, 1, 11)})
	at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, london) }
	session := func(id string) time.Time {
		a, _, ok := p.Activity(id)
		if !ok {
			t.Fatalf("no activity %s", id)
		}
		return a.Session.Start
	}
	for _, tc := range []struct {
		name      string
		now       time.Time
		phase     string
		module    int
		day       int
		nextKind  string
		nextStart time.Time
	}{
		{"months before", at(2026, 11, 2, 12, 0), courses.PhaseBefore, 0, 0, "module", at(2027, 1, 11, 9, 30)},
		{"on the morning module 1 begins", at(2027, 1, 11, 8, 0), courses.PhaseModule, 1, 1, "module", at(2027, 1, 11, 9, 30)},
		{"mid module 1", at(2027, 1, 13, 12, 0), courses.PhaseModule, 1, 3, "dialogue", session("p1-dialogue-1")},
		{"the last evening of module 1", at(2027, 1, 15, 23, 30), courses.PhaseModule, 1, 5, "dialogue", session("p1-dialogue-1")},
		{"the weekend after module 1", at(2027, 1, 16, 10, 0), courses.PhasePeriod, 1, 0, "dialogue", session("p1-dialogue-1")},
		{"during the first dialogue", at(2027, 1, 20, 18, 30), courses.PhasePeriod, 1, 0, "dialogue", session("p1-dialogue-2")},
		{"after the last dialogue of period 1", session("p1-dialogue-6").Add(2 * time.Hour), courses.PhasePeriod, 1, 0, "module", at(2027, 4, 5, 9, 30)},
		{"module 2, in summer time", at(2027, 4, 6, 9, 0), courses.PhaseModule, 2, 2, "dialogue", session("p2-dialogue-1")},
		{"period 3", at(2027, 8, 1, 12, 0), courses.PhasePeriod, 3, 0, "dialogue", session("p3-dialogue-3")},
		{"module 4, last day", at(2027, 9, 24, 16, 0), courses.PhaseModule, 4, 5, "", time.Time{}},
		{"finished", at(2027, 12, 1, 12, 0), courses.PhaseAfter, 4, 0, "", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pos := p.Now(tc.now)
			if pos.Phase != tc.phase || pos.Module != tc.module || pos.Day != tc.day {
				t.Errorf("got %s module %d day %d, want %s module %d day %d", pos.Phase, pos.Module, pos.Day, tc.phase, tc.module, tc.day)
			}
			switch {
			case tc.nextKind == "" && pos.Next != nil:
				t.Errorf("next %+v, want nothing", *pos.Next)
			case tc.nextKind != "" && pos.Next == nil:
				t.Errorf("nothing next, want a %s at %v", tc.nextKind, tc.nextStart)
			case tc.nextKind != "" && (pos.Next.Kind != tc.nextKind || !pos.Next.Start.Equal(tc.nextStart) || pos.Next.Title == ""):
				t.Errorf("next %q (%s) at %v, want a %s at %v", pos.Next.Title, pos.Next.Kind, pos.Next.Start, tc.nextKind, tc.nextStart)
			}
		})
	}
}

func TestModuleMove(t *testing.T) {
	p := courses.Template(courses.Cohort{ID: "c", StartDate: date(2027, 1, 11)})
	// Module 2 (5 to 9 April) moves a week later and loses its Friday.
	m := p.Modules[1].Move(date(2027, 4, 12), date(2027, 4, 15))
	if !m.Start.Equal(date(2027, 4, 12)) || !m.End.Equal(date(2027, 4, 15)) || len(m.Days) != 4 {
		t.Fatalf("moved module: %v to %v with %d days; want 12 to 15 April with 4", m.Start, m.End, len(m.Days))
	}
	if !m.Days[0].Date.Equal(date(2027, 4, 12)) || m.Days[0].Slots[2].Title != p.Modules[1].Days[0].Slots[2].Title {
		t.Errorf("day 1 of the moved module: %v, %q; want 12 April with the old day 1's timetable", m.Days[0].Date, m.Days[0].Slots[2].Title)
	}
	if !p.Modules[1].Start.Equal(date(2027, 4, 5)) || len(p.Modules[1].Days) != 5 {
		t.Error("Move changed the module it was called on")
	}
	p.Modules[1] = m
	var inv *failure.InvalidError
	if err := p.Validate(); !errors.As(err, &inv) || inv.Field != "periods[1].activities[5].session.start" {
		t.Errorf("after the move the first session of period 2 falls inside module 2: got %v", err)
	}
}
