package courses_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/failure"
)

func TestPracticeStreaks(t *testing.T) {
	today := date(2027, 3, 10)
	days := func(minutes ...int) []courses.PracticeDay {
		// minutes[i] is for the day i days before today, so the list reads backwards.
		var out []courses.PracticeDay
		for i, m := range minutes {
			out = append(out, courses.PracticeDay{Date: today.AddDate(0, 0, -i), Minutes: m})
		}
		return out
	}
	for _, tc := range []struct {
		name             string
		days             []courses.PracticeDay
		current, longest int
	}{
		{"nothing", nil, 0, 0},
		{"today only", days(10), 1, 1},
		{"yesterday and before, not yet today", days(0, 10, 10), 2, 2},
		{"broken two days ago", days(0, 0, 10, 10, 10), 0, 3},
		{"current shorter than longest", days(5, 5, 0, 5, 5, 5, 5), 2, 4},
		{"out of order and repeated", []courses.PracticeDay{
			{Date: today, Minutes: 5}, {Date: today.AddDate(0, 0, -2), Minutes: 5}, {Date: today.AddDate(0, 0, -1), Minutes: 5}, {Date: today, Minutes: 3},
		}, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			current, longest := courses.PracticeStreaks(tc.days, today)
			if current != tc.current || longest != tc.longest {
				t.Errorf("streaks %d current, %d longest; want %d, %d", current, longest, tc.current, tc.longest)
			}
		})
	}
}

func TestPracticeSummaryAndVisibility(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	// 23:30 on 10 March 2027 in London is 23:30 UTC; on 10 July it is already the 11th in
	// London at 23:30 UTC, which is what "UK dates" means for today.
	now := time.Date(2027, 7, 10, 23, 30, 0, 0, time.UTC)
	w.j.SetClock(func() time.Time { return now })
	practise := func(d time.Time, minutes int, kind courses.PracticeKind) {
		t.Helper()
		if _, err := w.j.LogPractice(ctx, w.trainee, courses.NewPractice{Date: d, Minutes: minutes, Kind: kind, Key: newKey()}); err != nil {
			t.Fatal(err)
		}
	}
	practise(date(2027, 7, 11), 10, courses.PracticeSitting) // today in the UK
	practise(date(2027, 7, 10), 20, courses.PracticeWalking)
	practise(date(2027, 7, 10), 5, courses.PracticeSitting)
	practise(date(2027, 7, 9), 15, courses.PracticeOther)
	practise(date(2027, 7, 5), 30, courses.PracticeSitting)
	practise(date(2027, 7, 4), 30, courses.PracticeSitting)
	practise(date(2027, 7, 3), 30, courses.PracticeSitting)
	practise(date(2027, 7, 2), 30, courses.PracticeSitting)

	sum, err := w.j.PracticeSummary(ctx, w.trainee, w.trainee.UserID, date(2027, 7, 1), date(2027, 7, 11))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Minutes != 170 || sum.Sessions != 8 || sum.ByKind[courses.PracticeSitting] != 135 || sum.ByKind[courses.PracticeWalking] != 20 {
		t.Errorf("totals: %d minutes in %d sessions, by kind %v", sum.Minutes, sum.Sessions, sum.ByKind)
	}
	if sum.CurrentStreak != 3 || sum.LongestStreak != 4 {
		t.Errorf("streaks %d current, %d longest; want 3 (9 to 11 July) and 4 (2 to 5 July)", sum.CurrentStreak, sum.LongestStreak)
	}
	if len(sum.Days) != 11 || sum.Days[0].Minutes != 0 || sum.Days[9].Minutes != 25 || !sum.Days[9].Date.Equal(date(2027, 7, 10)) {
		t.Errorf("heat map: %+v; want 11 days with 25 minutes on 10 July", sum.Days)
	}
	if _, err := w.j.LogPractice(ctx, w.trainee, courses.NewPractice{Date: date(2027, 7, 12), Minutes: 5, Kind: courses.PracticeSitting, Key: newKey()}); err == nil {
		t.Error("practice logged for tomorrow in the UK")
	}

	// Supervisors see nothing by default, then totals only when the trainee chooses.
	if vis, _ := w.j.PracticeVisibility(ctx, w.trainee); vis != courses.PracticeHidden {
		t.Errorf("default visibility %q, want nothing", vis)
	}
	from, to := date(2027, 7, 1), date(2027, 7, 11)
	if _, err := w.j.PracticeSummary(ctx, w.supervisor, w.trainee.UserID, from, to); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("supervisor before the trainee chose: %v, want ErrNotFound", err)
	}
	if err := w.j.SetPracticeVisibility(ctx, w.trainee, courses.PracticeTotalsOnly); err != nil {
		t.Fatal(err)
	}
	got, err := w.j.PracticeSummary(ctx, w.supervisor, w.trainee.UserID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if !got.TotalsOnly || got.Minutes != 170 || got.Sessions != 8 || got.Days != nil || got.ByKind != nil || got.LongestStreak != 0 {
		t.Errorf("supervisor's summary: %+v; want the totals and nothing else", got)
	}
	for _, v := range []courses.Viewer{w.farSupervisor, w.assessor, w.otherTrainee, w.admin} {
		if _, err := w.j.PracticeSummary(ctx, v, w.trainee.UserID, from, to); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("%s reading practice totals: %v, want ErrNotFound", v.UserID, err)
		}
	}
	if err := w.j.SetPracticeVisibility(ctx, w.trainee, courses.PracticeHidden); err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.PracticeSummary(ctx, w.supervisor, w.trainee.UserID, from, to); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("supervisor after the trainee hid the log again: %v, want ErrNotFound", err)
	}
	if err := w.j.SetPracticeVisibility(ctx, w.trainee, "everything"); err == nil {
		t.Error("an unknown visibility was accepted")
	}
	_, err = w.j.PracticeSummary(ctx, w.trainee, w.trainee.UserID, date(2026, 1, 1), date(2027, 7, 1))
	wantInvalid(t, err, "to", "at most 400")
}

func TestPracticeReplayed(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	np := courses.NewPractice{Date: time.Now(), Minutes: 20, Kind: courses.PracticeSitting, Key: newKey()}
	ids := make([]string, 20)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			s, err := w.j.LogPractice(ctx, w.trainee, np)
			if err != nil {
				t.Error(err)
			}
			ids[i] = s.ID
		})
	}
	wg.Wait()
	sessions, err := w.j.PracticeSessions(ctx, w.trainee, time.Now().AddDate(0, 0, -1), time.Now())
	if err != nil || len(sessions) != 1 || ids[0] != sessions[0].ID || ids[19] != ids[0] {
		t.Errorf("after 20 concurrent retries: %d sessions (%v), ids %s and %s", len(sessions), err, ids[0], ids[19])
	}
	np.Key = newKey()
	np.Minutes = 600
	if _, err := w.j.LogPractice(ctx, w.trainee, np); err != nil {
		t.Fatal(err)
	}
	np.Key = newKey()
	np.Minutes = 600
	if _, err := w.j.LogPractice(ctx, w.trainee, np); err != nil {
		t.Fatal(err)
	}
	np.Key = newKey()
	_, err = w.j.LogPractice(ctx, w.trainee, np)
	wantInvalid(t, err, "minutes", "at most 1440 minutes")
}
