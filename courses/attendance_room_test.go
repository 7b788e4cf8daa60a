package courses_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"polyphony/courses"
)

// A session's room gives its register: present, with how long, for those who came; absent
// for the others, except an absence agreed in advance, which stays.
func TestTakeRoomRegister(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	c, _ := startedCohort(t, store)
	if err := store.TakeRegister(ctx, c.ID, "p1-dialogue-1", []courses.AttendanceEntry{{UserID: "trainee-3", Mark: courses.Excused, Note: "on leave"}}, "facilitator-1"); err != nil {
		t.Fatal(err)
	}
	inRoom := map[string]time.Duration{"trainee-1": 47*time.Minute + 10*time.Second, "facilitator-1": time.Hour}
	reg, err := store.TakeRoomRegister(ctx, c.ID, "p1-dialogue-1", inRoom, "facilitator-1", false)
	if err != nil {
		t.Fatal(err)
	}
	if !reg.Taken || reg.Present != 1 || reg.Absent != 1 {
		t.Errorf("room register: taken %v, %d present, %d absent; want taken, 1 and 1", reg.Taken, reg.Present, reg.Absent)
	}
	want := map[string]courses.AttendanceRecord{
		"trainee-1": {Mark: courses.Present, Note: "In the dialogue room for 47 minutes"},
		"trainee-2": {Mark: courses.Absent, Note: "Not in the dialogue room"},
		"trainee-3": {Mark: courses.Excused, Note: "on leave"},
	}
	checkRegister(t, store, c.ID, "p1-dialogue-1", want)
}

// Before its date a session's register is taken from the room only when a facilitator
// confirms the session was held; until then nothing is lost, and a short stay reads as such.
func TestTakeRoomRegisterBeforeTheDate(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	c, _ := startedCohort(t, store)
	inRoom := map[string]time.Duration{"trainee-2": 20 * time.Second}
	reg, err := store.TakeRoomRegister(ctx, c.ID, "p1-dialogue-2", inRoom, "facilitator-1", false)
	if !errors.Is(err, courses.ErrNotHeldYet) || reg.Taken || reg.Begun || reg.Present != 1 {
		t.Fatalf("before the date: %+v, %v; want the plan with ErrNotHeldYet", reg, err)
	}
	checkRegister(t, store, c.ID, "p1-dialogue-2", map[string]courses.AttendanceRecord{"trainee-1": {}, "trainee-2": {}, "trainee-3": {}})
	if _, err := store.TakeRoomRegister(ctx, c.ID, "p1-dialogue-2", inRoom, "facilitator-1", true); err != nil {
		t.Fatalf("confirmed as held: %v", err)
	}
	checkRegister(t, store, c.ID, "p1-dialogue-2", map[string]courses.AttendanceRecord{
		"trainee-1": {Mark: courses.Absent, Note: "Not in the dialogue room"},
		"trainee-2": {Mark: courses.Present, Note: "In the dialogue room for less than a minute"},
		"trainee-3": {Mark: courses.Absent, Note: "Not in the dialogue room"},
	})
	// Nobody came: the room says nothing about the session, and nothing is stored.
	if reg, err := store.TakeRoomRegister(ctx, c.ID, "p1-dialogue-3", map[string]time.Duration{"facilitator-1": time.Hour}, "facilitator-1", true); err != nil || reg.Taken {
		t.Errorf("nobody came: taken %v, %v; want nothing stored", reg.Taken, err)
	}
}

func checkRegister(t *testing.T, store *courses.Store, cohortID, occasion string, want map[string]courses.AttendanceRecord) {
	t.Helper()
	recs, err := store.Register(context.Background(), cohortID, occasion)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if w := want[r.UserID]; r.Mark != w.Mark || r.Note != w.Note {
			t.Errorf("%s on %s: %q %q, want %q %q", r.UserID, occasion, r.Mark, r.Note, w.Mark, w.Note)
		}
	}
}
