package consent_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/assessment/consent"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
	"polyphony/realtime"
)

// consentRecords is every document of the consent collections, as JSON, for a test to look
// through (a scan, which only a test does).
func consentRecords(t *testing.T, db *database.DB) string {
	t.Helper()
	var all []bson.M
	for _, name := range []string{"consent_subjects", "consent_requests", "consent_lists"} {
		var docs []bson.M
		if err := db.Collection(name).ScanAll(context.Background(), nil, database.Scan{}, &docs); err != nil {
			t.Fatal(err)
		}
		all = append(all, docs...)
	}
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Erasing ann removes what she owns (her submission, her quote, and the requests made of
// others for them) and, where she was asked, leaves her request to its owner without her
// id or name, counted as not agreed whatever she had said.
func TestEraseRemovesThePersonFromConsent(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	w := newWorld(t, db)
	s := w.store
	if err := s.Ask(ctx, "sub1", "ann", cohortID, roomID, "Ann's account"); err != nil {
		t.Fatal(err)
	}
	q, err := s.Quote(ctx, "ann", cohortID, roomID, []uint64{1, 3}, "entry1", "My entry")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ask(ctx, "sub2", "ben", cohortID, roomID, "Ben's account"); err != nil {
		t.Fatal(err)
	}
	bq, err := s.Quote(ctx, "ben", cohortID, roomID, []uint64{1, 2}, "bentry", "Ben's entry")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct{ speaker, subject string }{{"ben", "sub1"}, {"cal", "sub1"}, {"cal", q.ID}, {"ann", "sub2"}, {"cal", "sub2"}, {"ann", bq.ID}} {
		if _, _, err := s.Decide(ctx, d.speaker, consent.RequestID(d.subject, d.speaker), true); err != nil {
			t.Fatal(err)
		}
	}
	if got := withheld(t, s, "sub2"); len(got) != 0 {
		t.Fatalf("before erasure sub2 withholds %v", got)
	}
	if !strings.Contains(consentRecords(t, db), `"Ann"`) {
		t.Fatal("the records do not name Ann before erasure: the check below would prove nothing")
	}

	if err := s.Erase(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(ctx, "ann"); err != nil {
		t.Fatalf("erasing again: %v", err)
	}
	records := consentRecords(t, db)
	for _, trace := range []string{`"ann"`, `"Ann"`, `:ann"`, "Ann's account", "My entry", "entry1"} {
		if strings.Contains(records, trace) {
			t.Errorf("after erasure the consent records still hold %s: %s", trace, records)
		}
	}

	// As owner: her subjects and every request for them are gone, from the others' lists too.
	if _, err := s.Withheld(ctx, "sub1"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("ann's submission after erasure: %v", err)
	}
	if sh, err := s.Shown(ctx, "ann", "entry1", q.ID); err != nil || !sh.Missing {
		t.Errorf("ann's quote after erasure: %+v %v", sh, err)
	}
	for _, sp := range []string{"ben", "cal"} {
		asked, err := s.Asked(ctx, sp)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range asked {
			if r.OwnerID == "ann" {
				t.Errorf("%s is still asked for ann's %s", sp, r.SubjectID)
			}
		}
	}
	if owned, err := s.Owned(ctx, "ann"); err != nil || len(owned) != 0 {
		t.Errorf("ann still owns %v (%v)", owned, err)
	}

	// As speaker: ben's submission keeps the request, under no name, not agreed.
	uses, err := s.Owned(ctx, "ben")
	if err != nil {
		t.Fatal(err)
	}
	var erased []consent.Request
	for _, u := range uses {
		for _, r := range u.Requests {
			if r.Decision == consent.Erased {
				erased = append(erased, r)
			}
		}
	}
	if len(erased) != 2 {
		t.Fatalf("ben's subjects hold %d erased requests, want 2: %+v", len(erased), uses)
	}
	for _, r := range erased {
		if r.SpeakerName != consent.ErasedName || r.SpeakerID == "ann" || r.Allows() || !slices.Equal(r.Seqs, []uint64{1}) {
			t.Errorf("erased request %+v", r)
		}
		if last := r.Trail[len(r.Trail)-1]; last.From != consent.Agreed || last.To != consent.Erased {
			t.Errorf("erased request's trail ends %+v", last)
		}
		if _, _, err := s.Decide(ctx, r.SpeakerID, r.ID, true); err == nil {
			t.Errorf("an erased request took an agreement")
		}
	}
	if got := withheld(t, s, "sub2"); !slices.Equal(got, []uint64{1}) {
		t.Errorf("after erasure sub2 withholds %v, want ann's turn 1", got)
	}
	if ev, err := s.Evidence(ctx, "sub2"); err != nil || ev[0].Text != consent.WithheldText {
		t.Errorf("markers read ann's turn after erasure: %+v %v", ev, err)
	}
	if sh, err := s.Shown(ctx, "ben", "bentry", bq.ID); err != nil || !sh.Removed {
		t.Errorf("ben's quote of ann after erasure: %+v %v", sh, err)
	}
	if asked, err := s.Asked(ctx, "ann"); err != nil || len(asked) != 0 {
		t.Errorf("ann is still asked %v (%v)", asked, err)
	}

	// The transcript still holds her turn, but nothing asks her again: a submission made
	// after the erasure withholds her turn without a request, and her turn cannot be quoted.
	if err := s.Ask(ctx, "sub3", "cal", cohortID, roomID, "Cal's account"); err != nil {
		t.Fatal(err)
	}
	if got := withheld(t, s, "sub3"); !slices.Equal(got, []uint64{1, 2, 4}) {
		t.Errorf("a submission after erasure withholds %v, want ann's turn 1 and ben's 2 and 4", got)
	}
	_, err = s.Quote(ctx, "cal", cohortID, roomID, []uint64{1, 3}, "calentry", "Cal's entry")
	wantProblem(t, "quoting an erased speaker", err, "turns")
	if strings.Contains(consentRecords(t, db), `"ann"`) || strings.Contains(consentRecords(t, db), `"Ann"`) {
		t.Errorf("a submission after erasure named ann again: %s", consentRecords(t, db))
	}
}

// Withheld never takes a missing request for an agreement: a speaker whose request is gone,
// and one who spoke after the submission was made and so was never asked, are withheld.
func TestWithheldTakesNoMissingRequestForConsent(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	w := newWorld(t, db)
	s := w.store
	if err := s.Ask(ctx, "sub1", "ann", cohortID, roomID, "Reflective account"); err != nil {
		t.Fatal(err)
	}
	for _, sp := range []string{"ben", "cal"} {
		if _, _, err := s.Decide(ctx, sp, consent.RequestID("sub1", sp), true); err != nil {
			t.Fatal(err)
		}
	}
	if got := withheld(t, s, "sub1"); len(got) != 0 {
		t.Fatalf("with every agreement, withheld %v", got)
	}
	if err := database.DeleteByID(ctx, db.Collection("consent_requests"), consent.RequestID("sub1", "ben")); err != nil {
		t.Fatal(err)
	}
	late := realtime.Event{Seq: 7, Type: realtime.EventSay, UserID: "dee", Name: "Dee", Role: realtime.Trainee, Text: "I came in late."}
	soFar, err := w.transcripts.Events(ctx, consent.RoomKey(cohortID, roomID), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.transcripts.AppendHistory(ctx, consent.RoomKey(cohortID, roomID), append(soFar, late)); err != nil {
		t.Fatal(err)
	}
	if got := withheld(t, s, "sub1"); !slices.Equal(got, []uint64{2, 4, 7}) {
		t.Errorf("withheld %v, want ben's turns 2 and 4 (request missing) and dee's 7 (never asked)", got)
	}
}
