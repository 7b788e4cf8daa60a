package courses_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/failure"
)

func TestSupervisionLogConfirmAndTotals(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	now := time.Date(2027, 5, 20, 10, 0, 0, 0, time.UTC)
	w.j.SetClock(func() time.Time { return now })
	logged := func(v courses.Viewer, ns courses.NewSupervision) courses.SupervisionSession {
		t.Helper()
		ns.Key = newKey()
		s, err := w.j.LogSupervision(ctx, v, ns)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	april := logged(w.trainee, courses.NewSupervision{Date: date(2027, 4, 28), Minutes: 60, SupervisorID: w.supervisor.UserID, Kind: courses.SupervisionIndividual, Reflection: "  Talked about uncertainty.  "})
	mayGroup := logged(w.trainee, courses.NewSupervision{Date: date(2027, 5, 3), Minutes: 90, SupervisorID: w.supervisor2.UserID, PeerWorker: " Pat   Peer ", Kind: courses.SupervisionGroup})
	mayTeam := logged(w.trainee, courses.NewSupervision{Date: date(2027, 5, 19), Minutes: 30, SupervisorID: w.supervisor.UserID, Kind: courses.SupervisionLocalTeam})
	if april.Reflection != "Talked about uncertainty." || mayGroup.PeerWorker != "Pat Peer" || april.Confirmed {
		t.Errorf("logged: %+v / %+v", april, mayGroup)
	}

	if _, err := w.j.ConfirmSupervision(ctx, w.trainee, april.ID); !errors.Is(err, failure.ErrForbidden) {
		t.Errorf("trainee confirming their own session: %v, want ErrForbidden", err)
	}
	for _, v := range []courses.Viewer{w.supervisor2, w.farSupervisor, w.admin, w.otherTrainee} {
		if _, err := w.j.ConfirmSupervision(ctx, v, april.ID); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("%s confirming another supervisor's session: %v, want ErrNotFound", v.UserID, err)
		}
	}
	toConfirm, err := w.j.SupervisionToConfirm(ctx, w.supervisor)
	if err != nil || len(toConfirm) != 2 || toConfirm[0].ID != april.ID {
		t.Errorf("supervisor's sessions to confirm: %+v, %v; want April's and May's", toConfirm, err)
	}
	confirmed, err := w.j.ConfirmSupervision(ctx, w.supervisor, april.ID)
	if err != nil || !confirmed.Confirmed || !confirmed.ConfirmedAt.Equal(now) {
		t.Fatalf("confirm: %+v, %v", confirmed, err)
	}
	if again, err := w.j.ConfirmSupervision(ctx, w.supervisor, april.ID); err != nil || !again.ConfirmedAt.Equal(now) {
		t.Errorf("confirming again: %+v, %v; want the first confirmation", again, err)
	}
	if _, err := w.j.ConfirmSupervision(ctx, w.supervisor2, mayGroup.ID); err != nil {
		t.Fatal(err)
	}

	totals, err := w.j.SupervisionTotals(ctx, w.trainee, w.trainee.UserID)
	if err != nil {
		t.Fatal(err)
	}
	want := courses.SupervisionTotals{
		Months: []courses.SupervisionMonth{
			{Month: "2027-04", SupervisionTotal: courses.SupervisionTotal{Sessions: 1, Minutes: 60, ConfirmedSessions: 1, ConfirmedMinutes: 60}},
			{Month: "2027-05", SupervisionTotal: courses.SupervisionTotal{Sessions: 2, Minutes: 120, ConfirmedSessions: 1, ConfirmedMinutes: 90}},
		},
		Overall: courses.SupervisionTotal{Sessions: 3, Minutes: 180, ConfirmedSessions: 2, ConfirmedMinutes: 150},
	}
	if len(totals.Months) != 2 || totals.Months[0] != want.Months[0] || totals.Months[1] != want.Months[1] || totals.Overall != want.Overall {
		t.Errorf("totals %+v, want %+v", totals, want)
	}
	theirs, err := w.j.SupervisionLog(ctx, w.supervisor, w.trainee.UserID)
	if err != nil || len(theirs) != 2 || theirs[1].ID != mayTeam.ID {
		t.Errorf("supervisor's view of the log: %+v, %v; want the two sessions naming them", theirs, err)
	}
	if none, err := w.j.SupervisionLog(ctx, w.otherTrainee, w.trainee.UserID); err != nil || len(none) != 0 {
		t.Errorf("another trainee's view of the log: %d sessions, %v; want none", len(none), err)
	}
}

func TestSupervisionReplayed(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	ns := courses.NewSupervision{Date: time.Now(), Minutes: 50, SupervisorID: w.supervisor.UserID, Kind: courses.SupervisionIndividual, Key: newKey()}
	first, err := w.j.LogSupervision(ctx, w.trainee, ns)
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.j.LogSupervision(ctx, w.trainee, ns)
	if err != nil || again.ID != first.ID || !again.LoggedAt.Equal(first.LoggedAt) {
		t.Errorf("replay: %+v, %v; want the first session", again, err)
	}
	ns.Minutes = 55
	_, err = w.j.LogSupervision(ctx, w.trainee, ns)
	wantInvalid(t, err, "key", "different session")
	if log, _ := w.j.SupervisionLog(ctx, w.trainee, w.trainee.UserID); len(log) != 1 {
		t.Errorf("%d sessions logged, want 1", len(log))
	}
}
