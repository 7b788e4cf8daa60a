package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
	"polyphony/internal/mailtest"
	"polyphony/internal/testclock"
)

// testConfig sends to srv over loopback, retrying quickly.
func testConfig(srv *mailtest.Server) Config {
	return Config{Host: srv.Host(), Port: srv.SMTPPort(), TLS: NoTLS,
		From: "Polyphony <polyphony@trust.example>", ReplyTo: "programme@trust.example",
		PublicURL: "https://polyphony.example",
		Poll:      50 * time.Millisecond, Timeout: 5 * time.Second, Lease: 15 * time.Second,
		RetryBase: 50 * time.Millisecond, RetryCap: 400 * time.Millisecond}
}

// run starts q's worker and stops it, waiting, when the test ends.
func run(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// waitState waits until message id is in state.
func waitState(t *testing.T, q *Queue, id, state string, timeout time.Duration) Status {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s, err := q.Status(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if s.State == state {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("email %s is %s (tries %d, last error %q) after %s, want %s", id, s.State, s.Tries, s.LastError, timeout, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A queued email reaches a real mail server with both bodies and the right headers, and its
// record keeps no link once it is sent.
func TestQueuedEmailReachesTheMailServer(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.Start(t)
	q, err := New(ctx, dbtest.New(t), testConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	run(t, q)
	m := sample(KindSessionTomorrow, "ann@trust.example", "u-ann")
	id, err := q.Send(ctx, m)
	if err != nil || id == "" {
		t.Fatalf("Send: %q, %v", id, err)
	}
	st := waitState(t, q, id, StateSent, 15*time.Second)
	if st.Tries != 1 || st.Kind != KindSessionTomorrow || st.To != m.To {
		t.Errorf("status %+v", st)
	}
	got := srv.WaitForCount(t, 1, 5*time.Second)
	full := srv.Message(t, got[0].ID)
	if full.Subject != "Dialogue session tomorrow: Oak room" {
		t.Errorf("subject %q", full.Subject)
	}
	if full.From.Address != "polyphony@trust.example" || full.From.Name != "Polyphony" {
		t.Errorf("from %+v", full.From)
	}
	if len(full.To) != 1 || full.To[0].Address != "ann@trust.example" || full.To[0].Name != "Ann Smith" {
		t.Errorf("to %+v", full.To)
	}
	if len(full.ReplyTo) != 1 || full.ReplyTo[0].Address != "programme@trust.example" {
		t.Errorf("reply-to %+v", full.ReplyTo)
	}
	if full.MessageID != id+"@trust.example" {
		t.Errorf("Message-ID %q, want the queue's id %s@trust.example", full.MessageID, id)
	}
	for h, want := range map[string]string{"Auto-Submitted": "auto-generated", "X-Polyphony-Kind": "session-tomorrow"} {
		if v := full.Headers[h]; len(v) != 1 || v[0] != want {
			t.Errorf("header %s = %v, want %s", h, v, want)
		}
	}
	if ct := strings.Join(full.Headers["Content-Type"], ""); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q, want multipart/alternative", ct)
	}
	if !strings.Contains(full.Text, "Friday 4 December 2026 at 2:30pm") || !strings.Contains(full.Text, m.Link) {
		t.Errorf("text body:\n%s", full.Text)
	}
	if !strings.Contains(full.HTML, "#005eb8") || !strings.Contains(full.HTML, `href="`+m.Link+`"`) {
		t.Errorf("HTML body lacks the NHS blue header or the link:\n%s", full.HTML)
	}
	r, err := q.st.record(ctx, id)
	if err != nil || r.Link != "" {
		t.Errorf("the sent record keeps its link %q (%v)", r.Link, err)
	}
	// The record says sent a moment before the worker takes it off the pending list.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ids, err := q.st.listed(ctx, pendingList)
		if err == nil && len(ids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still listed as pending after sending: %v (%v)", ids, err)
		}
	}
}

// Two workers on one database (two instances) deliver each of N emails exactly once.
func TestTwoWorkersDeliverEachEmailOnce(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.Start(t)
	db := dbtest.New(t)
	a, err := New(ctx, db, testConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, db, testConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	ids := make([]string, 0, n)
	// Queued before the workers start, half through each, so that both find them all.
	for i := range n {
		q := a
		if i%2 == 1 {
			q = b
		}
		id, err := q.Send(ctx, sample(KindEntryShared, fmt.Sprintf("p%02d@trust.example", i), fmt.Sprintf("u%02d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	run(t, a)
	run(t, b)
	for _, id := range ids {
		waitState(t, a, id, StateSent, 30*time.Second)
	}
	time.Sleep(300 * time.Millisecond) // room for a second delivery to show itself
	got := srv.Messages(t)
	seen := map[string]int{}
	for _, m := range got {
		seen[m.To[0].Address]++
	}
	for i := range n {
		if to := fmt.Sprintf("p%02d@trust.example", i); seen[to] != 1 {
			t.Errorf("%s received %d emails, want 1", to, seen[to])
		}
	}
	if len(got) != n {
		t.Errorf("the server received %d emails, want %d", len(got), n)
	}
}

// The mail server stops with emails queued: nothing is lost, and once it is back every
// email arrives, none twice.
func TestMailServerDownMidQueueLosesNothing(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.Start(t)
	q, err := New(ctx, dbtest.New(t), testConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	run(t, q)
	first, err := q.Send(ctx, sample(KindMarksReleased, "early@trust.example", "u-early"))
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, q, first, StateSent, 15*time.Second)
	srv.Stop()
	const n = 12
	var ids []string
	for i := range n {
		id, err := q.Send(ctx, sample(KindMarksReleased, fmt.Sprintf("m%02d@trust.example", i), fmt.Sprintf("u%02d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// While the server is away, at least one attempt fails and is kept to try again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := q.Status(ctx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if s.State != StatePending {
			t.Fatalf("with the server down the first email is %s (%s), want pending", s.State, s.LastError)
		}
		if s.Tries > 0 && s.LastError != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no attempt failed while the server was down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.Restart(t)
	for _, id := range ids {
		waitState(t, q, id, StateSent, 30*time.Second)
	}
	time.Sleep(300 * time.Millisecond)
	got := srv.Messages(t)
	seen := map[string]int{}
	for _, m := range got {
		seen[m.To[0].Address]++
	}
	if len(got) != n+1 || seen["early@trust.example"] != 1 {
		t.Errorf("the server holds %d emails, want %d (%v)", len(got), n+1, seen)
	}
	for i := range n {
		if to := fmt.Sprintf("m%02d@trust.example", i); seen[to] != 1 {
			t.Errorf("%s received %d emails, want 1", to, seen[to])
		}
	}
}

// A recipient the server refuses for good (5xx) is recorded as failed with the reason, and
// listed as failed; the others are delivered.
func TestRefusedEmailRecordedAsFailedOthersDelivered(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.Start(t, mailtest.Options{AllowedRecipients: `@trust\.example$`})
	var logs syncLog
	cfg := testConfig(srv)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	q, err := New(ctx, dbtest.New(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	run(t, q)
	good1, _ := q.Send(ctx, sample(KindAssessmentOpen, "one@trust.example", "u1"))
	bad, _ := q.Send(ctx, sample(KindAssessmentOpen, "someone@elsewhere.example", "u2"))
	good2, _ := q.Send(ctx, sample(KindAssessmentOpen, "two@trust.example", "u3"))
	waitState(t, q, good1, StateSent, 15*time.Second)
	waitState(t, q, good2, StateSent, 15*time.Second)
	st := waitState(t, q, bad, StateFailed, 15*time.Second)
	if st.Tries != 1 || !strings.Contains(st.LastError, "55") {
		t.Errorf("refused email: tries %d, reason %q; want one try and the server's 5xx answer", st.Tries, st.LastError)
	}
	failed, err := q.Failed(ctx)
	if err != nil || len(failed) != 1 || failed[0].ID != bad {
		t.Errorf("Failed = %+v, %v; want the refused email", failed, err)
	}
	if failed[0].UserID != "u2" || failed[0].To != "someone@elsewhere.example" {
		t.Errorf("the failure names %q <%s>, want u2 and the refused address", failed[0].UserID, failed[0].To)
	}
	if err := q.Dismiss(ctx, good1); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("dismissing a delivered email: %v, want ErrNotFound", err)
	}
	if err := q.Dismiss(ctx, bad); err != nil {
		t.Fatal(err)
	}
	if failed, err := q.Failed(ctx); err != nil || len(failed) != 0 {
		t.Errorf("after dismissing it, Failed = %+v, %v; want none", failed, err)
	}
	if st, err := q.Status(ctx, bad); err != nil || st.State != StateFailed {
		t.Errorf("the dismissed email's record: %+v, %v; want it kept, failed", st, err)
	}
	if !strings.Contains(logs.String(), "recorded as failed") || !strings.Contains(logs.String(), bad) {
		t.Errorf("the refusal is not in the log:\n%s", logs.String())
	}
	if got := srv.Messages(t); len(got) != 2 {
		t.Errorf("the server received %d emails, want 2", len(got))
	}
}

// With no SMTP host the whole email is written to the log: headers, link and both bodies.
func TestNoHostWritesTheWholeEmailToTheLog(t *testing.T) {
	ctx := context.Background()
	var logs syncLog
	q, err := New(ctx, dbtest.New(t), Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !q.Logging() {
		t.Error("Logging is false with no host")
	}
	run(t, q)
	m := sample(KindPasswordReset, "ann@trust.example", "u-ann")
	id, err := q.Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, q, id, StateSent, 10*time.Second)
	out := logs.String()
	for _, want := range []string{"no SMTP host is set", "to=ann@trust.example", `subject="Reset your Polyphony password"`,
		"link=" + `"` + m.Link + `"`, "from=\"\\\"Polyphony\\\" <polyphony@localhost>\"", "message_id=<" + id + "@localhost>",
		`text="Dear Ann Smith,`, "Using it signs you out everywhere.", `html="<!DOCTYPE html>`, "background-color:#005eb8"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
}

// A kind the person turned off is not queued; a security notice is, whatever they chose.
func TestTurnedOffKindNotSentSecurityKindIs(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.Start(t)
	q, err := New(ctx, dbtest.New(t), testConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	run(t, q)
	if err := q.SetPreferences(ctx, "u-ann", []Kind{KindEntryComment, KindMarksReleased}); err != nil {
		t.Fatal(err)
	}
	if err := q.SetPreferences(ctx, "u-ann", []Kind{KindPasswordChanged}); err == nil {
		t.Error("turning off the changed-password notice was accepted")
	}
	if err := q.SetPreferences(ctx, "u-ann", []Kind{"newsletter"}); err == nil {
		t.Error("an unknown kind was accepted")
	}
	p, err := q.Preferences(ctx, "u-ann")
	if err != nil || p.On(KindEntryComment) || p.On(KindMarksReleased) || !p.On(KindEntryShared) || !p.On(KindPasswordChanged) {
		t.Fatalf("preferences %+v, %v: the refused saves changed them, or the first was lost", p, err)
	}
	off, err := q.Send(ctx, sample(KindEntryComment, "ann@trust.example", "u-ann"))
	if err != nil || off != "" {
		t.Errorf("a comment email, turned off: id %q, %v; want none queued", off, err)
	}
	shared, err := q.Send(ctx, sample(KindEntryShared, "ann@trust.example", "u-ann"))
	if err != nil || shared == "" {
		t.Fatalf("an entry shared, left on: id %q, %v", shared, err)
	}
	changed, err := q.Send(ctx, sample(KindPasswordChanged, "ann@trust.example", "u-ann"))
	if err != nil || changed == "" {
		t.Fatalf("the changed-password notice: id %q, %v", changed, err)
	}
	// Someone else's preferences are their own.
	other, err := q.Send(ctx, sample(KindEntryComment, "bob@trust.example", "u-bob"))
	if err != nil || other == "" {
		t.Fatalf("a comment email to someone who turned nothing off: id %q, %v", other, err)
	}
	for _, id := range []string{shared, changed, other} {
		waitState(t, q, id, StateSent, 15*time.Second)
	}
	subjects := map[string]bool{}
	for _, m := range srv.Messages(t) {
		subjects[m.To[0].Address+" "+m.Subject] = true
	}
	want := map[string]bool{"ann@trust.example Bea Jones shared a journal entry with you": true,
		"ann@trust.example Your Polyphony password was changed": true, "bob@trust.example Bea Jones commented on your journal entry": true}
	if fmt.Sprint(subjects) != fmt.Sprint(want) {
		t.Errorf("received %v, want %v", subjects, want)
	}
}

// An attempt claimed by an instance that then died is left alone while its lease runs, and
// taken over once it has run out; the email is then sent once.
func TestAbandonedAttemptTakenOverAfterItsLease(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.Start(t)
	clock := testclock.New(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	cfg := testConfig(srv)
	cfg.Now = clock.Now
	q, err := New(ctx, dbtest.New(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	id, err := q.Send(ctx, sample(KindEntrySubmitted, "sup@trust.example", "u-sup"))
	if err != nil {
		t.Fatal(err)
	}
	// Another instance claimed attempt 1 and died.
	if err := q.st.claim(ctx, claim{ID: claimID(id, 1), Instance: "dead", Until: clock.Now().Add(cfg.Lease)}); err != nil {
		t.Fatal(err)
	}
	if err := q.Tend(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := q.Status(ctx, id); s.State != StatePending || s.Tries != 0 {
		t.Fatalf("while the claim is live: %+v, want it left pending", s)
	}
	clock.Advance(cfg.Lease + time.Second)
	if err := q.Tend(ctx); err != nil {
		t.Fatal(err)
	}
	s, _ := q.Status(ctx, id)
	if s.State != StateSent || s.Tries != 2 {
		t.Fatalf("after the lease: %+v, want sent at attempt 2", s)
	}
	for _, a := range []int{1, 2} {
		if _, err := q.st.claimAt(ctx, claimID(id, a)); err == nil {
			t.Errorf("claim %d is still stored after the email was sent", a)
		}
	}
	if got := srv.WaitForCount(t, 1, 5*time.Second); len(got) != 1 {
		t.Errorf("received %d emails, want 1", len(got))
	}
}

// syncLog is a log destination safe for the worker and the test at once.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Sending, delivering, reading a status and the preferences reach every record by _id.
func TestQueueReadsAndWritesByIDOnly(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.Start(t, mailtest.Options{AllowedRecipients: `@trust\.example$`})
	log := dbtest.NewFilterLog("mail")
	q, err := New(ctx, dbtest.NewLogged(t, log), testConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	log.Record(true)
	if err := q.SetPreferences(ctx, "u1", []Kind{KindMarksReleased}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, to := range []string{"a@trust.example", "b@elsewhere.example"} {
		id, err := q.Send(ctx, sample(KindEntryComment, to, "u1"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if id, _ := q.Send(ctx, sample(KindMarksReleased, "a@trust.example", "u1")); id != "" {
		t.Fatal("a kind turned off was queued")
	}
	if err := q.Tend(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := q.Status(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if f, err := q.Failed(ctx); err != nil || len(f) != 1 {
		t.Fatalf("Failed = %v, %v", f, err)
	}
	log.Check(t, "the email queue")
}

// A server that answers "try later" (451) keeps the email waiting, retried with backoff;
// once the server takes it, it arrives once.
func TestTemporaryRefusalRetriedUntilAccepted(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.Start(t, mailtest.Options{Chaos: true})
	srv.SetRecipientRefusal(t, 451, 100)
	q, err := New(ctx, dbtest.New(t), testConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	run(t, q)
	id, err := q.Send(ctx, sample(KindEntryComment, "ann@trust.example", "u1"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		s, err := q.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.State != StatePending {
			t.Fatalf("refused with 451 the email is %s (%s), want pending", s.State, s.LastError)
		}
		if s.Tries >= 3 {
			if !strings.Contains(s.LastError, "451") {
				t.Errorf("last error %q does not give the server's 451", s.LastError)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d tries in 15s", s.Tries)
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.SetRecipientRefusal(t, 451, 0)
	waitState(t, q, id, StateSent, 15*time.Second)
	time.Sleep(300 * time.Millisecond)
	if got := srv.Messages(t); len(got) != 1 {
		t.Errorf("received %d emails, want 1", len(got))
	}
}

// Each wait doubles from RetryBase up to RetryCap, and is a random part (half to all) of it.
func TestBackoffDoublesUpToTheCapWithJitter(t *testing.T) {
	q := &Queue{cfg: Config{RetryBase: 30 * time.Second, RetryCap: 30 * time.Minute}}
	for n, full := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 6: 16 * time.Minute, 7: 30 * time.Minute, 40: 30 * time.Minute} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := q.backoff(n)
			if d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, d, full/2, full)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("backoff(%d) took only %d values in 200 draws: no jitter", n, len(seen))
		}
	}
}

// The records of finished messages (sent or failed) are removed once older than Keep,
// through their day's list and by _id; newer ones, and those still waiting, stay.
func TestSweepRemovesRecordsOlderThanKeep(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.Start(t, mailtest.Options{AllowedRecipients: `@trust\.example$`})
	clock := testclock.New(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	cfg := testConfig(srv)
	cfg.Now, cfg.Keep = clock.Now, 7*24*time.Hour
	log := dbtest.NewFilterLog("mail")
	q, err := New(ctx, dbtest.NewLogged(t, log), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := q.Send(ctx, sample(KindEntryShared, "a@trust.example", "u1"))
	failed, _ := q.Send(ctx, sample(KindEntryShared, "b@elsewhere.example", "u2"))
	if err := q.Tend(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(6 * 24 * time.Hour)
	newer, _ := q.Send(ctx, sample(KindEntryShared, "c@trust.example", "u3"))
	if err := q.Tend(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Stop() // the next one waits
	waiting, _ := q.Send(ctx, sample(KindEntryShared, "d@trust.example", "u4"))
	if err := q.Tend(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * 24 * time.Hour) // the first day ended more than 7 days ago; the newer one's not
	log.Record(true)
	if err := q.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	log.Check(t, "the sweep")
	for _, id := range []string{sent, failed} {
		if s, err := q.Status(ctx, id); err == nil {
			t.Errorf("a record older than Keep is still there: %+v", s)
		}
	}
	if f, _ := q.Failed(ctx); len(f) != 0 {
		t.Errorf("the failed list still names %+v", f)
	}
	if s, err := q.Status(ctx, newer); err != nil || s.State != StateSent {
		t.Errorf("a newer record: %+v, %v", s, err)
	}
	if s, err := q.Status(ctx, waiting); err != nil || s.State != StatePending {
		t.Errorf("a waiting message: %+v, %v", s, err)
	}
	if days, _ := q.st.listed(ctx, daysList); len(days) != 1 || days[0] != "2026-12-09" {
		t.Errorf("days listed after the sweep: %v, want only 2026-12-09", days)
	}
}
