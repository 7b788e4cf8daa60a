package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/assessment/consent"
	"polyphony/internal/database"
	"polyphony/internal/demo"
	"polyphony/realtime"
)

// consentBeforeErasure gives the person to be erased consent records of every kind: as
// owner a quote in their journal entry entryID and a submission of a room's transcript,
// each with a request made of the peer; as speaker a request of the peer's submission and
// one of the peer's quote, which they agreed to. It returns the check to run after erasure:
// no consent document holds their id or name, and the peer's submission withholds their
// turn.
func consentBeforeErasure(t *testing.T, f *fixture, userID, name, entryID, peerID string) func() {
	t.Helper()
	ctx := context.Background()
	cohort, err := f.courses.CohortByName(ctx, demo.CohortName)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	events := []realtime.Event{
		{Seq: 1, Type: realtime.EventSay, At: at, UserID: userID, Name: name, Role: realtime.Trainee, Text: "What I said in the room."},
		{Seq: 2, Type: realtime.EventSay, At: at.Add(time.Minute), UserID: peerID, Name: "The peer", Role: realtime.Trainee, Text: "What the peer said."},
	}
	if err := f.transcripts.AppendHistory(ctx, cohort.ID+"/cohort", events); err != nil {
		t.Fatal(err)
	}
	s := f.consents
	if _, err := s.Quote(ctx, userID, cohort.ID, "cohort", []uint64{1, 2}, entryID, "To be erased"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ask(ctx, "erased-sub", userID, cohort.ID, "cohort", "The erased person's account"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ask(ctx, "peer-sub", peerID, cohort.ID, "cohort", "The peer's account"); err != nil {
		t.Fatal(err)
	}
	pq, err := s.Quote(ctx, peerID, cohort.ID, "cohort", []uint64{1}, "peer-entry", "The peer's entry")
	if err != nil {
		t.Fatal(err)
	}
	for _, subject := range []string{"peer-sub", pq.ID} {
		if _, _, err := s.Decide(ctx, userID, consent.RequestID(subject, userID), true); err != nil {
			t.Fatal(err)
		}
	}
	traces := []string{`"` + userID + `"`, `:` + userID + `"`, name}
	records := consentRecords(t, f.db)
	for _, trace := range traces {
		if !strings.Contains(records, trace) {
			t.Fatalf("before erasure the consent records do not hold %s: the check would prove nothing", trace)
		}
	}
	return func() {
		t.Helper()
		records := consentRecords(t, f.db)
		for _, trace := range traces {
			if strings.Contains(records, trace) {
				t.Errorf("after erasure the consent records hold %s: %s", trace, records)
			}
		}
		withheld, err := s.Withheld(ctx, "peer-sub")
		if err != nil || !withheld[1] || withheld[2] {
			t.Errorf("after erasure the peer's submission withholds %v (%v), want the erased person's turn 1 only", withheld, err)
		}
		asked, err := s.Asked(ctx, peerID)
		if err != nil {
			t.Fatal(err)
		}
		if len(asked) != 0 {
			t.Errorf("after erasure the peer is still asked %+v", asked)
		}
	}
}

// consentRecords is every document of the consent collections as JSON (a scan: a test's).
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
