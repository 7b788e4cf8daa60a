package consent_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"polyphony/assessment/consent"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
	"polyphony/realtime"
)

// The room of these tests, as the transcripts name it.
const cohortID, roomID = "co1", "cohort"

// world is a consent store over a room whose transcript is stored already.
type world struct {
	t           *testing.T
	store       *consent.Store
	transcripts *realtime.Transcripts
	mu          sync.Mutex
	asked       []consent.Request
}

// The room's turns: ann (the owner) says 1, ben 2 and 4, cal 3, ben 5 (withdrawn later),
// and turn 6 is a phase change, which nobody says.
func newWorld(t *testing.T, db *database.DB) *world {
	t.Helper()
	ctx := context.Background()
	tr, err := realtime.NewTranscripts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, transcripts: tr}
	w.store, err = consent.New(ctx, db, tr, consent.Config{Asked: func(_ context.Context, r consent.Request) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.asked = append(w.asked, r)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	say := func(seq uint64, who, name, text string) realtime.Event {
		return realtime.Event{Seq: seq, Type: realtime.EventSay, UserID: who, Name: name, Role: realtime.Trainee, Text: text}
	}
	events := []realtime.Event{
		say(1, "ann", "Ann", "I wondered what the family hoped for."),
		say(2, "ben", "Ben", "My mother never felt listened to."),
		say(3, "cal", "Cal", "Can we stay with that a moment?"),
		say(4, "ben", "Ben", "Nobody asked her what she saw."),
		say(5, "ben", "Ben", "Something I take back."),
		{Seq: 6, Type: realtime.EventPhase, Phase: "reflecting"},
	}
	if err := tr.AppendHistory(ctx, consent.RoomKey(cohortID, roomID), events); err != nil {
		t.Fatal(err)
	}
	if err := tr.Withdraw(ctx, consent.RoomKey(cohortID, roomID), 5, "ben"); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) askedOf() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, r := range w.asked {
		out = append(out, r.SpeakerID)
	}
	sort.Strings(out)
	return out
}

func withheld(t *testing.T, s *consent.Store, subject string) []uint64 {
	t.Helper()
	set, err := s.Withheld(context.Background(), subject)
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for seq, on := range set {
		if on {
			out = append(out, seq)
		}
	}
	slices.Sort(out)
	return out
}

func requestOf(t *testing.T, s *consent.Store, speaker, subject string) consent.Request {
	t.Helper()
	r, err := s.Request(context.Background(), speaker, consent.RequestID(subject, speaker))
	if err != nil {
		t.Fatalf("the request of %s made of %s: %v", subject, speaker, err)
	}
	return r
}

func wantProblem(t *testing.T, what string, err error, field string) {
	t.Helper()
	var invalid *failure.InvalidError
	if !errors.As(err, &invalid) || invalid.Field != field {
		t.Fatalf("%s: %v, want a problem with %s", what, err, field)
	}
}

// A submission asks every other speaker about their own turns (not withdrawn ones), once;
// markers may read a turn only once its speaker agrees, and an agreement can be withdrawn
// until marking starts.
func TestSubmissionAsksEverySpeakerOfTheRoom(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, dbtest.New(t))
	s := w.store
	if err := s.Ask(ctx, "sub1", "ann", cohortID, roomID, "Reflective account"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ask(ctx, "sub1", "ann", cohortID, roomID, "Reflective account"); err != nil {
		t.Fatal(err)
	}
	if got := w.askedOf(); !slices.Equal(got, []string{"ben", "cal"}) {
		t.Fatalf("asked %v, want ben and cal once each", got)
	}
	if r := requestOf(t, s, "ben", "sub1"); !slices.Equal(r.Seqs, []uint64{2, 4}) || r.Decision != consent.Waiting || r.SpeakerName != "Ben" {
		t.Fatalf("ben's request %+v, want turns 2 and 4, waiting", r)
	}
	if got := withheld(t, s, "sub1"); !slices.Equal(got, []uint64{2, 3, 4}) {
		t.Fatalf("withheld %v before anyone answers, want 2 3 4", got)
	}
	if _, _, err := s.Decide(ctx, "ben", consent.RequestID("sub1", "ben"), true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Decide(ctx, "cal", consent.RequestID("sub1", "cal"), false); err != nil {
		t.Fatal(err)
	}
	if got := withheld(t, s, "sub1"); !slices.Equal(got, []uint64{3}) {
		t.Fatalf("withheld %v after ben agreed and cal refused, want 3", got)
	}
	ev, err := s.Evidence(ctx, "sub1")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range ev {
		if e.Type == realtime.EventSay {
			texts = append(texts, e.Text)
		}
	}
	if want := []string{"I wondered what the family hoped for.", "My mother never felt listened to.", consent.WithheldText, "Nobody asked her what she saw.", ""}; !slices.Equal(texts, want) {
		t.Errorf("the evidence markers read: %q, want %q", texts, want)
	}
	if _, _, err := s.Withdraw(ctx, "cal", consent.RequestID("sub1", "cal")); err == nil {
		t.Fatal("cal withdrew an agreement she never gave")
	}
	if _, _, err := s.Decide(ctx, "cal", consent.RequestID("sub1", "cal"), true); err != nil {
		t.Fatal(err)
	}
	if got := withheld(t, s, "sub1"); len(got) != 0 {
		t.Fatalf("withheld %v once both agreed, want none", got)
	}
	r, from, err := s.Withdraw(ctx, "ben", consent.RequestID("sub1", "ben"))
	if err != nil || from != consent.Agreed || r.Decision != consent.Withdrawn {
		t.Fatalf("ben's withdrawal: %+v from %s, %v", r, from, err)
	}
	if got := withheld(t, s, "sub1"); !slices.Equal(got, []uint64{2, 4}) {
		t.Fatalf("withheld %v after ben withdrew, want 2 4", got)
	}
	if _, _, err := s.Decide(ctx, "ben", consent.RequestID("sub1", "ben"), true); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx, "sub1"); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Withdraw(ctx, "ben", consent.RequestID("sub1", "ben"))
	wantProblem(t, "withdrawing once marking started", err, "decision")
	_, _, err = s.Decide(ctx, "ben", consent.RequestID("sub1", "ben"), false)
	wantProblem(t, "refusing once marking started", err, "decision")
	if got := withheld(t, s, "sub1"); len(got) != 0 {
		t.Fatalf("withheld %v after the refused withdrawal, want none", got)
	}
	r = requestOf(t, s, "ben", "sub1")
	var trail []string
	for _, c := range r.Trail {
		trail = append(trail, string(c.From)+">"+string(c.To))
	}
	if want := []string{"waiting>agreed", "agreed>withdrawn", "withdrawn>agreed"}; !slices.Equal(trail, want) {
		t.Errorf("ben's trail %v, want %v", trail, want)
	}
	if err := s.Cancel(ctx, "sub1"); err == nil {
		t.Error("a submission in marking was cancelled")
	}
	if _, err := s.Withheld(ctx, "never-asked"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("withheld of a submission never asked about: %v, want not found", err)
	}
}

// Nobody but the speaker decides a request or reads it; an owner reads the state of their
// own subjects' requests, and nobody else's.
func TestOnlyTheSpeakerDecides(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, dbtest.New(t))
	s := w.store
	if err := s.Ask(ctx, "sub1", "ann", cohortID, roomID, "Reflective account"); err != nil {
		t.Fatal(err)
	}
	id := consent.RequestID("sub1", "ben")
	for _, who := range []string{"ann", "cal", ""} {
		if _, _, err := s.Decide(ctx, who, id, true); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("%q deciding ben's request: %v, want not found", who, err)
		}
		if _, err := s.Turns(ctx, who, id); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("%q reading ben's turns: %v, want not found", who, err)
		}
	}
	asked, err := s.Asked(ctx, "cal")
	if err != nil || len(asked) != 1 || asked[0].SpeakerID != "cal" {
		t.Fatalf("cal's requests %+v, %v, want her own only", asked, err)
	}
	turns, err := s.Turns(ctx, "ben", id)
	if err != nil || len(turns) != 2 || turns[0].Text != "My mother never felt listened to." {
		t.Fatalf("ben's turns %+v, %v", turns, err)
	}
	owned, err := s.Owned(ctx, "ann")
	if err != nil || len(owned) != 1 || len(owned[0].Requests) != 2 {
		t.Fatalf("ann's subjects %+v, %v, want one with two requests", owned, err)
	}
	if owned, err := s.Owned(ctx, "ben"); err != nil || len(owned) != 0 {
		t.Errorf("ben owns %+v, %v, want nothing", owned, err)
	}
	if _, err := s.Owner(ctx, "ben", "sub1"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("ben reading ann's subject: %v, want not found", err)
	}
	if err := s.Ask(ctx, "sub1", "ben", cohortID, roomID, "Mine now"); err == nil {
		t.Error("ben took over ann's submission by asking for it")
	}
}

// A withdrawn submission's requests lapse and take no decision; submitted again, every
// speaker is asked afresh.
func TestCancelledSubmissionIsAskedAgain(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, dbtest.New(t))
	s := w.store
	if err := s.Ask(ctx, "sub1", "ann", cohortID, roomID, "Reflective account"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Decide(ctx, "ben", consent.RequestID("sub1", "ben"), true); err != nil {
		t.Fatal(err)
	}
	if err := s.Cancel(ctx, "sub1"); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Decide(ctx, "cal", consent.RequestID("sub1", "cal"), true)
	wantProblem(t, "deciding a lapsed request", err, "decision")
	if got := withheld(t, s, "sub1"); !slices.Equal(got, []uint64{2, 3, 4}) {
		t.Fatalf("withheld %v of a lapsed submission, want every turn asked about", got)
	}
	if err := s.Ask(ctx, "sub1", "ann", cohortID, roomID, "Reflective account"); err != nil {
		t.Fatal(err)
	}
	if got := w.askedOf(); !slices.Equal(got, []string{"ben", "ben", "cal", "cal"}) {
		t.Fatalf("asked %v, want each speaker twice", got)
	}
	if r := requestOf(t, s, "ben", "sub1"); r.Decision != consent.Waiting || r.Lapsed {
		t.Fatalf("ben's request after resubmission %+v, want waiting", r)
	}
	if err := s.Cancel(ctx, "never-asked"); err != nil {
		t.Errorf("cancelling a submission never asked about: %v", err)
	}
}

// A quote shows the owner's own turns, "waiting" for a speaker who has not answered, the
// words once they agree, and nothing but a note once any quoted speaker refuses or
// withdraws; only in the entry it was made for.
func TestQuoteFollowsTheSpeakersDecision(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, dbtest.New(t))
	s := w.store
	q, err := s.Quote(ctx, "ann", cohortID, roomID, []uint64{2, 1, 2}, "entry1", "My entry")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q.Seqs, []uint64{1, 2}) || q.Kind != consent.KindQuote {
		t.Fatalf("quote %+v, want turns 1 and 2", q)
	}
	again, err := s.Quote(ctx, "ann", cohortID, roomID, []uint64{1, 2}, "entry1", "My entry")
	if err != nil || again.ID != q.ID {
		t.Fatalf("quoting again: %s, %v, want the same quote %s", again.ID, err, q.ID)
	}
	if got := w.askedOf(); !slices.Equal(got, []string{"ben"}) {
		t.Fatalf("asked %v, want ben once (ann's own turn needs nobody)", got)
	}
	shown := func() consent.Shown {
		t.Helper()
		sh, err := s.Shown(ctx, "ann", "entry1", q.ID)
		if err != nil {
			t.Fatal(err)
		}
		return sh
	}
	sh := shown()
	if sh.Removed || len(sh.Turns) != 2 || sh.Turns[0].State != consent.TurnShown || sh.Turns[0].Text == "" ||
		sh.Turns[1].State != consent.TurnWaiting || sh.Turns[1].Text != "" {
		t.Fatalf("before ben answers: %+v", sh)
	}
	if _, _, err := s.Decide(ctx, "ben", consent.RequestID(q.ID, "ben"), true); err != nil {
		t.Fatal(err)
	}
	if sh := shown(); sh.Turns[1].State != consent.TurnShown || sh.Turns[1].Text != "My mother never felt listened to." {
		t.Fatalf("after ben agreed: %+v", sh)
	}
	for _, other := range [][2]string{{"ann", "entry2"}, {"ben", "entry1"}} {
		if sh, err := s.Shown(ctx, other[0], other[1], q.ID); err != nil || !sh.Missing || len(sh.Turns) != 0 {
			t.Errorf("the quote in %s's %s: %+v, %v, want missing", other[0], other[1], sh, err)
		}
	}
	if _, _, err := s.Withdraw(ctx, "ben", consent.RequestID(q.ID, "ben")); err != nil {
		t.Fatal(err)
	}
	if sh := shown(); !sh.Removed || len(sh.Turns) != 0 {
		t.Fatalf("after ben withdrew: %+v, want removed", sh)
	}
	if asked, err := s.Asked(ctx, "ben"); err != nil || len(asked) != 1 || asked[0].Title != "" {
		t.Errorf("ben's requests %+v, %v: the quote's entry title reached him", asked, err)
	}
	_, err = s.Quote(ctx, "ann", cohortID, roomID, []uint64{5}, "entry1", "My entry")
	wantProblem(t, "quoting a withdrawn turn", err, "turns")

	// A quoted turn its speaker then withdraws from the transcript shows without its words.
	q2, err := s.Quote(ctx, "ann", cohortID, roomID, []uint64{1, 4}, "entry1", "My entry")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Decide(ctx, "ben", consent.RequestID(q2.ID, "ben"), true); err != nil {
		t.Fatal(err)
	}
	if err := w.transcripts.Withdraw(ctx, consent.RoomKey(cohortID, roomID), 4, "ben"); err != nil {
		t.Fatal(err)
	}
	sh2, err := s.Shown(ctx, "ann", "entry1", q2.ID)
	if err != nil || sh2.Removed || len(sh2.Turns) != 2 || sh2.Turns[1].State != consent.TurnGone || sh2.Turns[1].Text != "" || sh2.Turns[0].Text == "" {
		t.Errorf("the quote after ben withdrew turn 4 from the transcript: %+v, %v", sh2, err)
	}
	_, err = s.Quote(ctx, "ann", cohortID, roomID, []uint64{6}, "entry1", "My entry")
	wantProblem(t, "quoting a phase change", err, "turns")
	_, err = s.Quote(ctx, "ann", cohortID, roomID, []uint64{99}, "entry1", "My entry")
	wantProblem(t, "quoting a turn never said", err, "turns")
	_, err = s.Quote(ctx, "ann", cohortID, roomID, nil, "entry1", "My entry")
	wantProblem(t, "quoting nothing", err, "turns")
}

// Mask hides the words of withheld turns and nothing else, leaving what it was given as it
// was.
func TestMaskWithholdsTurns(t *testing.T) {
	in := []realtime.Event{
		{Seq: 1, Type: realtime.EventSay, Name: "Ann", Text: "mine"},
		{Seq: 2, Type: realtime.EventSay, Name: "Ben", Text: "his"},
		{Seq: 3, Type: realtime.EventPhase, Phase: "reflecting"},
	}
	out := consent.Mask(in, map[uint64]bool{2: true, 3: true})
	if out[0].Text != "mine" || out[1].Text != consent.WithheldText || out[1].Name != "Ben" || out[2].Phase != "reflecting" {
		t.Errorf("masked %+v", out)
	}
	if in[1].Text != "his" {
		t.Error("Mask changed what it was given")
	}
	if !strings.Contains(consent.WithheldText, "withheld by the speaker") {
		t.Errorf("WithheldText %q", consent.WithheldText)
	}
}

// Two decisions of one request at once both land in its trail, in some order.
func TestConcurrentDecisionsKeepTheTrail(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, dbtest.New(t))
	s := w.store
	if err := s.Ask(ctx, "sub1", "ann", cohortID, roomID, "Reflective account"); err != nil {
		t.Fatal(err)
	}
	id := consent.RequestID("sub1", "cal")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := s.Decide(ctx, "cal", id, i%2 == 0); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	r := requestOf(t, s, "cal", "sub1")
	prev := consent.Waiting
	for _, c := range r.Trail {
		if c.From != prev {
			t.Fatalf("trail %+v breaks at %+v: a decision was lost", r.Trail, c)
		}
		prev = c.To
	}
	if prev != r.Decision {
		t.Errorf("trail ends at %s, the request is %s", prev, r.Decision)
	}
}

// Everything the pages ask of the store reads its records by _id alone.
func TestConsentReadByIDOnly(t *testing.T) {
	ctx := context.Background()
	log := dbtest.NewFilterLog("consent_", "room_")
	w := newWorld(t, dbtest.NewLogged(t, log))
	s := w.store
	log.Record(true)
	if err := s.Ask(ctx, "sub1", "ann", cohortID, roomID, "Reflective account"); err != nil {
		t.Fatal(err)
	}
	q, err := s.Quote(ctx, "ann", cohortID, roomID, []uint64{1, 3}, "entry1", "My entry")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Asked(ctx, "ben"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Turns(ctx, "ben", consent.RequestID("sub1", "ben")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Decide(ctx, "cal", consent.RequestID(q.ID, "cal"), true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Withdraw(ctx, "cal", consent.RequestID(q.ID, "cal")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Owned(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Shown(ctx, "ann", "entry1", q.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Withheld(ctx, "sub1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Evidence(ctx, "sub1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx, "sub1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(ctx, "cal"); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	log.Check(t, "the consent requests")
}
