package courses_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// startedCohort makes a cohort whose programme began a little under three weeks ago: module
// 1 and the first dialogue session are over, the second session is days away. It has three
// trainees and a facilitator.
func startedCohort(t *testing.T, store *courses.Store) (courses.Cohort, courses.Programme) {
	t.Helper()
	ctx := context.Background()
	c, p, err := store.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: "Running cohort", StartDate: time.Now().AddDate(0, 0, -20)}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"trainee-1", "trainee-2", "trainee-3"} {
		if _, err := store.Enrol(ctx, c.ID, u, accounts.RoleTrainee); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.Enrol(ctx, c.ID, "facilitator-1", accounts.RoleFacilitator); err != nil {
		t.Fatal(err)
	}
	return c, p
}

func TestOccasions(t *testing.T) {
	p := courses.Template(courses.Cohort{ID: "c", StartDate: date(2027, 1, 11)})
	occ := p.Occasions()
	kinds := map[string]int{}
	ids := map[string]bool{}
	for i, o := range occ {
		kinds[o.Kind]++
		if ids[o.ID] {
			t.Errorf("occasion %s twice", o.ID)
		}
		ids[o.ID] = true
		if i > 0 && o.Date.Before(occ[i-1].Date) {
			t.Errorf("%s (%v) listed after %s (%v)", o.ID, o.Date, occ[i-1].ID, occ[i-1].Date)
		}
	}
	if kinds[courses.OccasionResidential] != 20 || kinds[courses.OccasionDialogue] < 15 {
		t.Errorf("occasions: %v; want 20 module days and the dialogue sessions", kinds)
	}
	if occ[0].ID != "module-1-day-1" || !occ[0].Date.Equal(date(2027, 1, 11)) || occ[5].ID != "p1-dialogue-1" {
		t.Errorf("first occasions: %s on %v, then %s; want module-1-day-1 on 11 January, then p1-dialogue-1 sixth", occ[0].ID, occ[0].Date, occ[5].ID)
	}
	if !ids["module-4-day-5"] || ids["module-4-day-6"] {
		t.Error("module 4 should have days 1 to 5")
	}
}

func TestTakeRegister(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	c, _ := startedCohort(t, store)

	err := store.TakeRegister(ctx, c.ID, "module-1-day-1", []courses.AttendanceEntry{
		{UserID: "trainee-1", Mark: courses.Present},
		{UserID: "trainee-2", Mark: courses.Absent, Note: "no word from them"},
	}, "facilitator-1")
	if err != nil {
		t.Fatal(err)
	}
	marks := func() map[string]courses.AttendanceRecord {
		t.Helper()
		reg, err := store.Register(ctx, c.ID, "module-1-day-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(reg) != 3 {
			t.Fatalf("register has %d lines, want one for each of the 3 trainees", len(reg))
		}
		out := map[string]courses.AttendanceRecord{}
		for _, r := range reg {
			out[r.UserID] = r
		}
		return out
	}
	got := marks()
	if got["trainee-1"].Mark != courses.Present || got["trainee-2"].Mark != courses.Absent || got["trainee-3"].Mark != "" {
		t.Errorf("marks %q %q %q, want present, absent and none", got["trainee-1"].Mark, got["trainee-2"].Mark, got["trainee-3"].Mark)
	}
	if r := got["trainee-2"]; r.TakenBy != "facilitator-1" || r.TakenAt.IsZero() || r.Note != "no word from them" || !strings.Contains(r.Title, "Module 1, day 1") {
		t.Errorf("trainee-2's record: %+v", r)
	}

	// Retaking corrects trainee-2 and leaves trainee-1 as they were.
	if err := store.TakeRegister(ctx, c.ID, "module-1-day-1", []courses.AttendanceEntry{
		{UserID: "trainee-2", Mark: courses.Excused, Note: "phoned in ill"},
	}, "facilitator-2"); err != nil {
		t.Fatal(err)
	}
	got = marks()
	if got["trainee-1"].Mark != courses.Present || got["trainee-2"].Mark != courses.Excused || got["trainee-2"].TakenBy != "facilitator-2" {
		t.Errorf("after the retake: trainee-1 %q, trainee-2 %q by %s; want present, and excused by facilitator-2", got["trainee-1"].Mark, got["trainee-2"].Mark, got["trainee-2"].TakenBy)
	}
	history, err := store.AttendanceHistory(ctx, c.ID, "module-1-day-1", "trainee-2")
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 || history[0].Mark != courses.Absent || history[1].Mark != courses.Excused {
		t.Errorf("history of trainee-2: %+v; want absent, then excused", history)
	}

	// A session that has not happened yet takes only agreed absences.
	var inv *failure.InvalidError
	err = store.TakeRegister(ctx, c.ID, "p1-dialogue-2", []courses.AttendanceEntry{{UserID: "trainee-3", Mark: courses.Present}}, "facilitator-1")
	if !errors.As(err, &inv) || inv.Field != "entries[0].mark" || !strings.Contains(inv.Reason, "has not happened yet") {
		t.Errorf("present before the session: %v, want InvalidError on entries[0].mark", err)
	}
	if err := store.TakeRegister(ctx, c.ID, "p1-dialogue-2", []courses.AttendanceEntry{{UserID: "trainee-3", Mark: courses.Excused, Note: "on leave"}}, "facilitator-1"); err != nil {
		t.Errorf("excused before the session: %v", err)
	}
}

func TestTakeRegisterRefuses(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	c, _ := startedCohort(t, store)
	bare, err := store.CreateCohort(ctx, courses.NewCohort{Name: "No programme yet", StartDate: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	ok := courses.AttendanceEntry{UserID: "trainee-1", Mark: courses.Present}
	for _, tc := range []struct {
		name     string
		cohort   string
		occasion string
		entries  []courses.AttendanceEntry
		field    string
		reason   string
	}{
		{"unknown occasion", c.ID, "module-1-day-6", []courses.AttendanceEntry{ok}, "occasion", `"module-1-day-6" is neither a module day nor a dialogue session`},
		{"a reading is not an occasion", c.ID, "p1-reading-1", []courses.AttendanceEntry{ok}, "occasion", "neither"},
		{"no programme", bare.ID, "module-1-day-1", []courses.AttendanceEntry{ok}, "occasion", "no programme yet"},
		{"no entries", c.ID, "module-1-day-2", nil, "entries", "at least one"},
		{"not a member", c.ID, "module-1-day-2", []courses.AttendanceEntry{ok, {UserID: "stranger", Mark: courses.Present}}, "entries[1].userId", `"stranger" is not a member of this cohort`},
		{"a facilitator", c.ID, "module-1-day-2", []courses.AttendanceEntry{{UserID: "facilitator-1", Mark: courses.Present}}, "entries[0].userId", "is a facilitator in this cohort, not a trainee"},
		{"twice", c.ID, "module-1-day-2", []courses.AttendanceEntry{ok, {UserID: "trainee-2", Mark: courses.Absent}, ok}, "entries[2].userId", "already marked in entries[0]"},
		{"unknown mark", c.ID, "module-1-day-2", []courses.AttendanceEntry{ok, {UserID: "trainee-2", Mark: "late"}}, "entries[1].mark", `"late" is not a mark`},
		{"long note", c.ID, "module-1-day-2", []courses.AttendanceEntry{{UserID: "trainee-1", Mark: courses.Absent, Note: strings.Repeat("ü", 501)}}, "entries[0].note", "at most 500 characters"},
		{"no one taking it", c.ID, "module-1-day-2", []courses.AttendanceEntry{ok}, "takenBy", "is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			by := "facilitator-1"
			if tc.field == "takenBy" {
				by = " "
			}
			err := store.TakeRegister(ctx, tc.cohort, tc.occasion, tc.entries, by)
			var inv *failure.InvalidError
			if !errors.As(err, &inv) || inv.Field != tc.field || !strings.Contains(inv.Reason, tc.reason) {
				t.Errorf("got %v\nwant %s: …%s…", err, tc.field, tc.reason)
			}
		})
	}
	// Nothing of a refused register is kept, not even its valid lines.
	reg, err := store.Register(ctx, c.ID, "module-1-day-2")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reg {
		if r.Mark != "" {
			t.Errorf("%s marked %q by a refused register", r.UserID, r.Mark)
		}
	}
	if err := store.TakeRegister(ctx, "no-such-cohort", "module-1-day-1", []courses.AttendanceEntry{ok}, "facilitator-1"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("register of a missing cohort: %v, want ErrNotFound", err)
	}
}

func TestAttendanceOf(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	c, _ := startedCohort(t, store)
	take := func(occasion string, entries ...courses.AttendanceEntry) {
		t.Helper()
		if err := store.TakeRegister(ctx, c.ID, occasion, entries, "facilitator-1"); err != nil {
			t.Fatal(err)
		}
	}
	take("module-1-day-1", courses.AttendanceEntry{UserID: "trainee-1", Mark: courses.Present})
	take("module-1-day-3", courses.AttendanceEntry{UserID: "trainee-1", Mark: courses.Absent})
	take("module-1-day-3", courses.AttendanceEntry{UserID: "trainee-1", Mark: courses.Present, Note: "came after lunch"})
	take("p1-dialogue-1", courses.AttendanceEntry{UserID: "trainee-1", Mark: courses.Excused})
	take("p1-dialogue-3", courses.AttendanceEntry{UserID: "trainee-1", Mark: courses.Excused, Note: "holiday booked"})

	got, err := store.AttendanceOf(ctx, c.ID, "trainee-1")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		occasion string
		mark     courses.Mark
	}{
		{"module-1-day-1", courses.Present}, {"module-1-day-2", ""}, {"module-1-day-3", courses.Present},
		{"module-1-day-4", ""}, {"module-1-day-5", ""}, {"p1-dialogue-1", courses.Excused},
		{"p1-dialogue-3", courses.Excused}, // not yet held, but an absence is agreed
	}
	if len(got) != len(want) {
		t.Fatalf("got %d occasions, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Occasion != w.occasion || got[i].Mark != w.mark || got[i].UserID != "trainee-1" || got[i].Title == "" {
			t.Errorf("record %d: %s %q, want %s %q", i, got[i].Occasion, got[i].Mark, w.occasion, w.mark)
		}
	}
	if got[2].Note != "came after lunch" {
		t.Errorf("module-1-day-3 note %q, want the retaken one", got[2].Note)
	}

	other, err := store.AttendanceOf(ctx, c.ID, "trainee-2")
	if err != nil || len(other) != 6 {
		t.Errorf("trainee-2: %d occasions, %v; want the 6 held so far, unmarked", len(other), err)
	}
	if _, err := store.AttendanceOf(ctx, c.ID, "facilitator-1"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("attendance of a facilitator: %v, want ErrNotFound", err)
	}
	if _, err := store.AttendanceOf(ctx, c.ID, "stranger"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("attendance of a stranger: %v, want ErrNotFound", err)
	}
}
