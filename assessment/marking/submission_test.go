package marking_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"polyphony/assessment/marking"
	"polyphony/internal/failure"
)

func entry(id string) marking.Items {
	return marking.Items{Entries: []marking.EntryItem{{EntryID: id, Version: 3, Title: "Meeting"}}}
}

func newPiece(t *testing.T, f *fixture, scheme string, edit ...func(*marking.PieceInput)) marking.Piece {
	t.Helper()
	in := setup(t, f, scheme)
	for _, e := range edit {
		e(&in)
	}
	p, err := f.s.CreatePiece(context.Background(), assessor, cohort, in)
	must(t, "piece", err)
	return p
}

func TestSubmissionItemsValidation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeSingle, func(in *marking.PieceInput) { in.Accepts = marking.Accepts{Entries: true} })
	tr := &marking.TranscriptItem{CohortID: cohort, RoomID: "room1", Title: "Dialogue"}
	cases := []struct {
		name  string
		items marking.Items
		field string
	}{
		{"nothing", marking.Items{}, "items"},
		{"entry without revision", marking.Items{Entries: []marking.EntryItem{{EntryID: "e1"}}}, "entries[0]"},
		{"files not accepted", marking.Items{Files: []marking.FileItem{{EntryID: "e", Version: 1, Key: "k", Hash: "h", Name: "a.pdf", Size: 3}}}, "files"},
		{"transcript not accepted", marking.Items{Transcript: tr}, "transcript"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.Submit(ctx, trainee("t1"), p.ID, c.items)
			wantField(t, c.name, err, c.field)
		})
	}
	all := newPiece(t, f, marking.SchemeSingle)
	for _, c := range []struct {
		name  string
		items marking.Items
		field string
	}{
		{"file without hash", marking.Items{Files: []marking.FileItem{{EntryID: "e", Version: 1, Key: "k", Name: "a.pdf", Size: 3}}, FilesAgreed: true}, "files[0].hash"},
		{"empty file", marking.Items{Files: []marking.FileItem{{EntryID: "e", Version: 1, Key: "k", Hash: "h", Name: "a.pdf"}}, FilesAgreed: true}, "files[0].size"},
		{"files without the word of who is in them", marking.Items{Files: []marking.FileItem{{EntryID: "e", Version: 1, Key: "k", Hash: "h", Name: "a.ogg", Size: 3}}}, "filesAgreed"},
		{"file from no entry", marking.Items{Files: []marking.FileItem{{Key: "k", Hash: "h", Name: "a.pdf", Size: 3}}, FilesAgreed: true}, "files[0]"},
		{"transcript of another cohort's room", marking.Items{Transcript: &marking.TranscriptItem{CohortID: "other", RoomID: "r"}}, "transcript"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.Submit(ctx, trainee("t1"), all.ID, c.items)
			wantField(t, c.name, err, c.field)
		})
	}
	t.Run("transcript with no consent", func(t *testing.T) {
		g := newFixture(t, func(o *marking.Options) { o.Consent = nil })
		q := newPiece(t, g, marking.SchemeSingle)
		_, err := g.s.Submit(ctx, trainee("t1"), q.ID, marking.Items{Transcript: tr})
		wantField(t, "no consent", err, "transcript")
	})
}

func TestSubmitLateExtensionWithdraw(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeSingle)
	t1, t2 := trainee("t1"), trainee("t2")

	sub, err := f.s.Submit(ctx, t1, p.ID, entry("e1"))
	must(t, "submit", err)
	if sub.ID != p.ID+"/t1" || sub.Late || !sub.Active || sub.Attempt != 1 || sub.CandidateNumber != "C0001" {
		t.Fatalf("submitted %+v", sub)
	}
	_, err = f.s.Submit(ctx, t1, p.ID, marking.Items{Transcript: &marking.TranscriptItem{CohortID: cohort, RoomID: "r1"}})
	must(t, "resubmit with a transcript", err)
	if asked, _, _ := f.consent.state(sub.ID); asked != 1 {
		t.Errorf("speakers asked %d times, want 1", asked)
	}
	sub, err = f.s.Withdraw(ctx, t1, p.ID)
	must(t, "withdraw", err)
	if sub.Active || len(sub.History) != 2 || sub.History[0].Ended != "replaced" || sub.History[1].Ended != "withdrawn" {
		t.Fatalf("after withdrawing: active %v history %+v", sub.Active, sub.History)
	}
	if _, _, canceled := f.consent.state(sub.ID); !canceled {
		t.Error("withdrawing a transcript did not cancel the request for consent")
	}
	_, err = f.s.Withdraw(ctx, t1, p.ID)
	wantField(t, "withdraw twice", err, "withdraw")

	f.clock.Set(p.Due.Add(time.Hour))
	sub2, err := f.s.Submit(ctx, t2, p.ID, entry("e2"))
	must(t, "late submit", err)
	if !sub2.Late || sub2.CandidateNumber != "C0002" {
		t.Errorf("late submission: late %v candidate %s", sub2.Late, sub2.CandidateNumber)
	}
	sub2, err = f.s.GrantExtension(ctx, admin, p.ID, "t2", p.Due.Add(2*time.Hour), "Train cancelled")
	must(t, "extension after a late submission", err)
	if sub2.Late {
		t.Error("an extension covering the submission left it late")
	}
	_, err = f.s.GrantExtension(ctx, assessor, p.ID, "t1", p.Due.Add(48*time.Hour), "Illness")
	wantErr(t, "assessor grants an extension", err, failure.ErrForbidden)
	_, err = f.s.GrantExtension(ctx, admin, p.ID, "t1", p.Due.Add(48*time.Hour), " ")
	wantField(t, "extension without reason", err, "reason")
	_, err = f.s.GrantExtension(ctx, admin, p.ID, "t1", p.Due.Add(-time.Hour), "Illness")
	wantField(t, "extension before the due date", err, "until")
	_, err = f.s.GrantExtension(ctx, admin, p.ID, "t1", p.Due.Add(48*time.Hour), "Illness")
	must(t, "extension", err)
	sub, err = f.s.Submit(ctx, t1, p.ID, entry("e1"))
	must(t, "submit again after withdrawing", err)
	if sub.Late || sub.Attempt != 3 || sub.CandidateNumber != "C0001" || sub.Extension.GrantedBy != admin.UserID {
		t.Errorf("within the extension: late %v attempt %d candidate %s", sub.Late, sub.Attempt, sub.CandidateNumber)
	}

	// Another trainee cannot submit for t1, nor read t1's submission.
	_, err = f.s.Submission(ctx, t2, p.ID, "t1")
	wantErr(t, "another trainee reads", err, failure.ErrNotFound)
	_, err = f.s.Submit(ctx, marking.Actor{UserID: "t9", Role: "trainee", CohortIDs: []string{"other"}}, p.ID, entry("x"))
	wantErr(t, "trainee of another cohort submits", err, failure.ErrNotFound)
	_, err = f.s.Submit(ctx, assessor, p.ID, entry("x"))
	wantErr(t, "assessor submits", err, failure.ErrForbidden)
}

// TestNoChangeOnceMarkingStarts: after a marker's first draft the trainee can neither
// withdraw nor submit again, and the speakers' consent is closed.
func TestNoChangeOnceMarkingStarts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeSingle)
	t1 := trainee("t1")
	sub, err := f.s.Submit(ctx, t1, p.ID, marking.Items{Transcript: &marking.TranscriptItem{CohortID: cohort, RoomID: "r1"}})
	must(t, "submit", err)
	_, err = f.s.Allocate(ctx, assessor, sub.ID, []string{"m1"})
	must(t, "allocate", err)
	_, err = f.s.SaveDraft(ctx, marker1, sub.ID, 0, marking.MarkInput{Feedback: "Begun"})
	must(t, "draft", err)
	if _, closed, _ := f.consent.state(sub.ID); !closed {
		t.Error("marking started but the speakers' consent was not closed")
	}
	_, err = f.s.Withdraw(ctx, t1, p.ID)
	wantField(t, "withdraw after marking started", err, "withdraw")
	_, err = f.s.Submit(ctx, t1, p.ID, entry("e1"))
	wantField(t, "resubmit after marking started", err, "items")
}

// TestCandidateNumbersUnderRace: twenty trainees submitting at once get twenty different
// numbers, C0001 to C0020, and each keeps theirs when they submit again.
func TestCandidateNumbersUnderRace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeSingle)
	const n = 20
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sub, err := f.s.Submit(ctx, trainee(fmt.Sprintf("t%02d", i)), p.ID, entry("e"))
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = sub.CandidateNumber
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, c := range got {
		seen[c] = true
	}
	for i := 1; i <= n; i++ {
		if !seen[fmt.Sprintf("C%04d", i)] {
			t.Errorf("C%04d was not given; got %v", i, got)
		}
	}
	again, err := f.s.Submit(ctx, trainee("t05"), p.ID, entry("e"))
	must(t, "submit again", err)
	if again.CandidateNumber != got[5] {
		t.Errorf("number changed from %s to %s on resubmission", got[5], again.CandidateNumber)
	}
}

// TestReplacingATranscriptAsksAgain: a transcript replaced before marking cancels the first
// request for consent and asks again.
func TestReplacingATranscriptAsksAgain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeSingle)
	tr := marking.Items{Transcript: &marking.TranscriptItem{CohortID: cohort, RoomID: "r1"}}
	sub, err := f.s.Submit(ctx, trainee("t1"), p.ID, tr)
	must(t, "submit", err)
	_, err = f.s.Submit(ctx, trainee("t1"), p.ID, entry("e"))
	must(t, "replace with an entry", err)
	if _, _, canceled := f.consent.state(sub.ID); !canceled {
		t.Error("replacing the transcript did not cancel the request for consent")
	}
	_, err = f.s.Submit(ctx, trainee("t1"), p.ID, tr)
	must(t, "submit the transcript again", err)
	if asked, _, canceled := f.consent.state(sub.ID); asked != 2 || canceled {
		t.Errorf("asked %d times, canceled %v; want asked twice and open", asked, canceled)
	}
}
