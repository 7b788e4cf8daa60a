package courses_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

// journalWorld is two cohorts and everyone the journal's access rules tell apart. The
// near cohort has the trainee whose journal the tests read, another trainee, a supervisor,
// a second supervisor, an assessor and a facilitator; the far cohort has a trainee, a
// supervisor and an assessor who have nothing to do with the first trainee.
type journalWorld struct {
	db        *database.DB
	store     *courses.Store
	j         *courses.Journals
	near, far courses.Cohort
	programme courses.Programme

	trainee, otherTrainee, supervisor, supervisor2, assessor, facilitator courses.Viewer
	farTrainee, farSupervisor, farAssessor, admin, anonymous              courses.Viewer
	// cohortSupervisor is a supervisor of the near cohort who supervises the other trainee
	// only: nothing the trainee shares with "my supervisor" is theirs to read.
	cohortSupervisor courses.Viewer
}

// knownPages are the curriculum pages the journal's links may point at in these tests.
var knownPages = map[string]bool{"immediate-help": true, "dialogism": true}

func newJournalWorld(t testing.TB) *journalWorld {
	t.Helper()
	return newJournalWorldWith(t, false)
}

// newJournalWorldWith makes the world with the store told whether it is the database's
// only writer.
func newJournalWorldWith(t testing.TB, soleWriter bool) *journalWorld {
	t.Helper()
	return newJournalWorldOn(t, dbtest.New(t), soleWriter)
}

// newJournalWorldOn makes the world in the database given.
func newJournalWorldOn(t testing.TB, db *database.DB, soleWriter bool) *journalWorld {
	t.Helper()
	ctx := context.Background()
	w := &journalWorld{db: db}
	var err error
	if w.store, err = courses.NewStore(ctx, w.db); err != nil {
		t.Fatal(err)
	}
	pages := func(_ context.Context, slug string) (bool, error) { return knownPages[slug], nil }
	if w.j, err = courses.NewJournals(ctx, w.db, w.store, courses.JournalOptions{PageExists: pages, SoleWriter: soleWriter}); err != nil {
		t.Fatal(err)
	}
	if w.near, w.programme, err = w.store.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: "Near cohort", StartDate: time.Now().AddDate(0, -2, 0)}, "admin"); err != nil {
		t.Fatal(err)
	}
	if w.far, err = w.store.CreateCohort(ctx, courses.NewCohort{Name: "Far cohort", StartDate: time.Now().AddDate(0, -2, 0)}); err != nil {
		t.Fatal(err)
	}
	enrol := func(c courses.Cohort, id string, role accounts.Role) courses.Viewer {
		t.Helper()
		if _, err := w.store.Enrol(ctx, c.ID, id, role); err != nil {
			t.Fatal(err)
		}
		return courses.Viewer{UserID: id, Role: role}
	}
	w.trainee = enrol(w.near, "tara-trainee-7f3a", accounts.RoleTrainee)
	w.otherTrainee = enrol(w.near, "pat-trainee-21bc", accounts.RoleTrainee)
	w.supervisor = enrol(w.near, "sam-supervisor-9d", accounts.RoleSupervisor)
	w.supervisor2 = enrol(w.near, "sue-supervisor-4e", accounts.RoleSupervisor)
	w.assessor = enrol(w.near, "ash-assessor-5c", accounts.RoleAssessor)
	w.facilitator = enrol(w.near, "fran-facilitator-1a", accounts.RoleFacilitator)
	w.farTrainee = enrol(w.far, "fred-trainee-far", accounts.RoleTrainee)
	w.farSupervisor = enrol(w.far, "fay-supervisor-far", accounts.RoleSupervisor)
	w.farAssessor = enrol(w.far, "fin-assessor-far", accounts.RoleAssessor)
	w.cohortSupervisor = enrol(w.near, "cy-supervisor-6f", accounts.RoleSupervisor)
	supervise := func(c courses.Cohort, sup courses.Viewer, trainees ...courses.Viewer) {
		t.Helper()
		ch := courses.MemberChange{Role: accounts.RoleSupervisor}
		for _, tr := range trainees {
			ch.Supervises = append(ch.Supervises, tr.UserID)
		}
		if _, _, err := w.store.ChangeMember(ctx, c.ID, sup.UserID, ch); err != nil {
			t.Fatal(err)
		}
	}
	supervise(w.near, w.supervisor, w.trainee, w.otherTrainee)
	supervise(w.near, w.supervisor2, w.trainee)
	supervise(w.near, w.cohortSupervisor, w.otherTrainee)
	supervise(w.far, w.farSupervisor, w.farTrainee)
	w.admin = courses.Viewer{UserID: "alex-admin-0b", Role: accounts.RoleAdmin}
	return w
}

// inBothModes runs a test against a store that shares the database with other writers
// (the default) and against one that is the database's only writer.
func inBothModes(t *testing.T, test func(t *testing.T, w *journalWorld)) {
	for _, sole := range []bool{false, true} {
		t.Run(fmt.Sprintf("soleWriter=%v", sole), func(t *testing.T) { test(t, newJournalWorldWith(t, sole)) })
	}
}

// dialogueSession is the id of a dialogue session of the near cohort's programme.
func (w *journalWorld) dialogueSession(t testing.TB) string {
	t.Helper()
	for _, per := range w.programme.Periods {
		for _, a := range per.Activities {
			if a.Kind == courses.ActivityDialogue {
				return a.ID
			}
		}
	}
	t.Fatal("the template has no dialogue session")
	return ""
}

func (w *journalWorld) create(t testing.TB, v courses.Viewer, d courses.Draft) courses.Entry {
	t.Helper()
	e, err := w.j.Create(context.Background(), v, d, newKey())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (w *journalWorld) save(t testing.TB, v courses.Viewer, e courses.Entry, body string) courses.Entry {
	t.Helper()
	d := e.Draft()
	d.Body = body
	saved, err := w.j.Save(context.Background(), v, e.ID, d, e.Version, newKey())
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

var keySeq struct {
	sync.Mutex
	n int
}

// newKey is a fresh idempotency key, as a client makes one for each change.
func newKey() string {
	keySeq.Lock()
	defer keySeq.Unlock()
	keySeq.n++
	return fmt.Sprintf("key-%d-%d", time.Now().UnixNano(), keySeq.n)
}

// snapshot is every document of every collection, in a fixed order: two equal snapshots
// mean that nothing stored changed in between.
func snapshot(t testing.TB, db *database.DB) string {
	t.Helper()
	ctx := context.Background()
	names, err := db.CollectionNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		var docs []bson.Raw
		if err := db.Collection(name).ScanAll(ctx, nil, database.Scan{Sort: bson.D{{Key: "_id", Value: 1}}}, &docs); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "== %s (%d)\n", name, len(docs))
		for _, d := range docs {
			b.WriteString(d.String())
			b.WriteString("\n")
		}
	}
	return b.String()
}

// countRevisions counts the stored revisions of an entry, under the store.
func countRevisions(t testing.TB, db *database.DB, entryID string) int64 {
	t.Helper()
	n, err := db.Collection("journal_revisions").Count(context.Background(), bson.M{"entryId": entryID})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// wantInvalid checks that err is a bad-input error about field whose message names what
// was wrong.
func wantInvalid(t testing.TB, err error, field, mentions string) {
	t.Helper()
	var inv *failure.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("got %v, want a bad-input error about %s", err, field)
	}
	if inv.Field != field || !strings.Contains(inv.Error(), mentions) {
		t.Errorf("got %q about %q, want one about %q mentioning %q", inv.Error(), inv.Field, field, mentions)
	}
}

func TestJournalSaveHistoryAndRestore(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	session := w.dialogueSession(t)
	e, err := w.j.Create(ctx, w.trainee, courses.Draft{
		Title: "  First   week ", Body: "What I noticed <script>alert(1)</script>\n\n[x](javascript:alert(1))",
		Tags:  []string{"module-1", "Dialogism", "immediate-help", "module-1-day-2", "module-1"},
		Links: []courses.Link{{Kind: courses.LinkPage, Target: "immediate-help"}, {Kind: courses.LinkSession, Target: session}},
	}, newKey())
	if err != nil {
		t.Fatal(err)
	}
	if e.Version != 1 || e.Title != "First week" || e.OwnerID != w.trainee.UserID {
		t.Errorf("created: version %d, title %q, owner %q", e.Version, e.Title, e.OwnerID)
	}
	if got, want := strings.Join(e.Tags, ","), "immediate-help,dialogism,module-1,module-1-day-2"; got != want {
		t.Errorf("tags %s, want %s (known, without repeats, in the list's order)", got, want)
	}
	if html := string(e.HTML()); strings.Contains(html, "<script") || strings.Contains(html, "javascript:") || !strings.Contains(html, "What I noticed") {
		t.Errorf("rendered body is unsafe or empty: %s", html)
	}
	v2 := w.save(t, w.trainee, e, "second thoughts")
	v3 := w.save(t, w.trainee, v2, "third thoughts")
	if v3.Version != 3 || !v3.CreatedAt.Equal(e.CreatedAt) || v3.UpdatedAt.Before(v2.UpdatedAt) {
		t.Errorf("v3: version %d, created %v (want %v), updated %v", v3.Version, v3.CreatedAt, e.CreatedAt, v3.UpdatedAt)
	}
	history, err := w.j.Revisions(ctx, w.trainee, e.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 3 || history[0].Version != 3 || history[2].Version != 1 {
		t.Fatalf("history %+v, want versions 3, 2, 1", history)
	}
	if page, _ := w.j.Revisions(ctx, w.trainee, e.ID, 3, 1); len(page) != 1 || page[0].Version != 2 {
		t.Errorf("one revision before 3: %+v, want version 2", page)
	}
	old, err := w.j.ReadRevision(ctx, w.trainee, e.ID, 1)
	if err != nil || !strings.HasPrefix(old.Body, "What I noticed") {
		t.Fatalf("revision 1: %q, %v", old.Body, err)
	}
	restored, err := w.j.Restore(ctx, w.trainee, e.ID, 1, 3, newKey())
	if err != nil {
		t.Fatal(err)
	}
	if restored.Version != 4 || restored.Body != old.Body || restored.Title != old.Title {
		t.Errorf("restored: version %d body %q; want version 4 with revision 1's text", restored.Version, restored.Body)
	}
	view, err := w.j.ReadEntry(ctx, w.trainee, e.ID)
	if err != nil || view.Version != 4 || view.As != courses.AccessOwner || view.Sharing == nil || !view.Sharing.Private() {
		t.Errorf("read after restore: %+v, %v; want version 4, private, read as owner", view, err)
	}
	if latest, _ := w.j.ReadRevision(ctx, w.trainee, e.ID, 3); latest.Body != "third thoughts" {
		t.Errorf("revision 3 after restore: %q, want it kept", latest.Body)
	}
	list, err := w.j.Entries(ctx, w.trainee, w.trainee.UserID)
	if err != nil || len(list) != 1 || list[0].Version != 4 || list[0].Title != "First week" {
		t.Errorf("entries: %+v, %v", list, err)
	}
}

func TestJournalStaleSaveConflict(t *testing.T) { inBothModes(t, testJournalStaleSaveConflict) }

func testJournalStaleSaveConflict(t *testing.T, w *journalWorld) {
	ctx := context.Background()
	e := w.create(t, w.trainee, courses.Draft{Title: "Stale", Body: "one"})
	v2 := w.save(t, w.trainee, e, "two, from the laptop")
	before := snapshot(t, w.db)

	d := e.Draft()
	d.Body = "two, from the phone"
	_, err := w.j.Save(ctx, w.trainee, e.ID, d, 1, newKey())
	var conflict *courses.SaveConflictError
	if !errors.As(err, &conflict) || !errors.Is(err, failure.ErrConflict) {
		t.Fatalf("save on version 1 after version 2: %v, want a conflict", err)
	}
	if conflict.Current.Version != 2 || conflict.Current.Body != v2.Body || conflict.Base != 1 {
		t.Errorf("conflict carries version %d %q based on %d; want the server's version 2", conflict.Current.Version, conflict.Current.Body, conflict.Base)
	}
	if !strings.Contains(err.Error(), "version 2") {
		t.Errorf("message %q should say the entry is at version 2", err)
	}
	if after := snapshot(t, w.db); after != before {
		t.Error("a refused save changed what is stored")
	}
}

func TestJournalReplayedSave(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	createKey := newKey()
	e, err := w.j.Create(ctx, w.trainee, courses.Draft{Title: "Replay", Body: "one"}, createKey)
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.j.Create(ctx, w.trainee, courses.Draft{Title: "Replay", Body: "one"}, createKey)
	if err != nil || again.ID != e.ID || again.Version != 1 {
		t.Fatalf("replayed create: %+v, %v; want entry %s version 1", again, err, e.ID)
	}
	key := newKey()
	d := courses.Draft{Title: "Replay", Body: "two"}
	first, err := w.j.Save(ctx, w.trainee, e.ID, d, 1, key)
	if err != nil {
		t.Fatal(err)
	}
	w.save(t, w.trainee, first, "three") // the author carries on before the retry arrives
	before := snapshot(t, w.db)
	replay, err := w.j.Save(ctx, w.trainee, e.ID, d, 1, key)
	if err != nil {
		t.Fatalf("replay after a later save: %v, want the first answer", err)
	}
	if replay.Version != first.Version || replay.Body != first.Body || !replay.UpdatedAt.Equal(first.UpdatedAt) {
		t.Errorf("replay answered version %d %q, want the first answer: version %d %q", replay.Version, replay.Body, first.Version, first.Body)
	}
	if after := snapshot(t, w.db); after != before {
		t.Error("a replayed save changed what is stored")
	}
	d.Body = "something else"
	_, err = w.j.Save(ctx, w.trainee, e.ID, d, 1, key)
	wantInvalid(t, err, "idempotencyKey", "different change")
	if n := countRevisions(t, w.db, e.ID); n != 3 {
		t.Errorf("%d revisions stored, want 3", n)
	}
	if list, _ := w.j.Entries(ctx, w.trainee, w.trainee.UserID); len(list) != 1 {
		t.Errorf("%d entries listed after a replayed create, want 1", len(list))
	}
}

// Twenty retries of one save, all at once: one revision, and every one of them gets it.
func TestJournalConcurrentReplays(t *testing.T) { inBothModes(t, testJournalConcurrentReplays) }

func testJournalConcurrentReplays(t *testing.T, w *journalWorld) {
	ctx := context.Background()
	e := w.create(t, w.trainee, courses.Draft{Title: "Racing retries", Body: "one"})
	key := newKey()
	d := courses.Draft{Title: "Racing retries", Body: "two"}
	const n = 20
	results := make([]courses.Entry, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = w.j.Save(ctx, w.trainee, e.ID, d, 1, key) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("retry %d: %v", i, errs[i])
		}
		if results[i].Version != 2 || !results[i].UpdatedAt.Equal(results[0].UpdatedAt) {
			t.Errorf("retry %d answered version %d saved %v; want version 2 saved %v like the others", i, results[i].Version, results[i].UpdatedAt, results[0].UpdatedAt)
		}
	}
	if got := countRevisions(t, w.db, e.ID); got != 2 {
		t.Errorf("%d revisions after %d identical concurrent saves, want 2", got, n)
	}

	// The same for a creation.
	createKey := newKey()
	ids := make([]string, n)
	for i := range n {
		wg.Go(func() {
			c, err := w.j.Create(ctx, w.otherTrainee, courses.Draft{Title: "Made once"}, createKey)
			ids[i], errs[i] = c.ID, err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Errorf("create retry %d: %s, %v; want %s", i, ids[i], errs[i], ids[0])
		}
	}
	if list, _ := w.j.Entries(ctx, w.otherTrainee, w.otherTrainee.UserID); len(list) != 1 || countRevisions(t, w.db, ids[0]) != 1 {
		t.Errorf("after %d concurrent creations with one key: %d entries, %d revisions; want 1 and 1", n, len(list), countRevisions(t, w.db, ids[0]))
	}
}

// Twenty different saves on one version, all at once: exactly one is stored, and the others
// are refused with the winner's text.
func TestJournalConcurrentSavesOneWins(t *testing.T) {
	inBothModes(t, testJournalConcurrentSavesOneWins)
}

func testJournalConcurrentSavesOneWins(t *testing.T, w *journalWorld) {
	ctx := context.Background()
	e := w.create(t, w.trainee, courses.Draft{Title: "Many tabs", Body: "one"})
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = w.j.Save(ctx, w.trainee, e.ID, courses.Draft{Title: "Many tabs", Body: fmt.Sprintf("tab %d", i)}, 1, newKey())
		})
	}
	wg.Wait()
	latest, err := w.j.ReadEntry(ctx, w.trainee, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	wins := 0
	for i, err := range errs {
		var conflict *courses.SaveConflictError
		switch {
		case err == nil:
			wins++
			if latest.Body != fmt.Sprintf("tab %d", i) {
				t.Errorf("tab %d won but the entry says %q", i, latest.Body)
			}
		case errors.As(err, &conflict):
			if conflict.Current.Version != 2 || conflict.Current.Body != latest.Body {
				t.Errorf("tab %d refused with version %d %q, want the winner's version 2 %q", i, conflict.Current.Version, conflict.Current.Body, latest.Body)
			}
		default:
			t.Errorf("tab %d: %v, want success or a conflict", i, err)
		}
	}
	if wins != 1 || latest.Version != 2 || countRevisions(t, w.db, e.ID) != 2 {
		t.Errorf("%d of %d concurrent saves won, entry at version %d with %d revisions; want exactly 1, version 2", wins, n, latest.Version, countRevisions(t, w.db, e.ID))
	}
}

// A save made before an upload finished is not stale because of the upload: it is stored
// on top of the attachment, which it keeps.
func TestJournalSaveAfterAttachment(t *testing.T) { inBothModes(t, testJournalSaveAfterAttachment) }

func testJournalSaveAfterAttachment(t *testing.T, w *journalWorld) {
	ctx := context.Background()
	e := w.create(t, w.trainee, courses.Draft{Title: "Voice note", Body: "one"})
	att := courses.Attachment{Key: "journal/tara/voice-1.m4a", Kind: courses.MediaAudio, ContentType: "audio/mp4", Size: 1234, Name: "voice note.m4a"}
	withAudio, err := w.j.AddAttachment(ctx, w.trainee, e.ID, att)
	if err != nil {
		t.Fatal(err)
	}
	if withAudio.Version != 2 || len(withAudio.Attachments) != 1 {
		t.Fatalf("after attaching: version %d, %d attachments", withAudio.Version, len(withAudio.Attachments))
	}
	if again, err := w.j.AddAttachment(ctx, w.trainee, e.ID, att); err != nil || again.Version != 2 {
		t.Errorf("attaching the same object again: version %d, %v; want version 2 unchanged", again.Version, err)
	}
	saved, err := w.j.Save(ctx, w.trainee, e.ID, courses.Draft{Title: "Voice note", Body: "typed while uploading"}, 1, newKey())
	if err != nil {
		t.Fatalf("save based on version 1 after an attachment-only revision: %v", err)
	}
	if saved.Version != 3 || saved.Body != "typed while uploading" || len(saved.Attachments) != 1 {
		t.Errorf("saved: version %d body %q with %d attachments; want version 3 keeping the attachment", saved.Version, saved.Body, len(saved.Attachments))
	}
	removed, err := w.j.RemoveAttachment(ctx, w.trainee, e.ID, att.Key)
	if err != nil || removed.Version != 4 || len(removed.Attachments) != 0 {
		t.Fatalf("removed: version %d, %d attachments, %v", removed.Version, len(removed.Attachments), err)
	}
	keys, err := w.j.MediaKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0] != att.Key {
		t.Errorf("media keys %v, %v; want %s, still referred to by the history", keys, err, att.Key)
	}
	if a, err := w.j.Attachment(ctx, w.trainee, e.ID, att.Key); err != nil || a.Name != "voice note.m4a" {
		t.Errorf("author fetching an attachment of an earlier revision: %+v, %v", a, err)
	}
}

// Bad input gets an error naming the field and the problem, and changes nothing stored.
func TestJournalBadInput(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	e := w.create(t, w.trainee, courses.Draft{Title: "Kept", Body: "as it was"})
	empty := w.create(t, w.otherTrainee, courses.Draft{Title: "Nothing yet"})
	supervisorSession := courses.NewSupervision{Date: time.Now(), Minutes: 60, SupervisorID: w.supervisor.UserID, Kind: courses.SupervisionIndividual, Key: newKey()}
	practice := courses.NewPractice{Date: time.Now(), Minutes: 20, Kind: courses.PracticeSitting, Key: newKey()}
	draft := func(change func(*courses.Draft)) courses.Draft {
		d := courses.Draft{Title: "Kept", Body: "changed"}
		change(&d)
		return d
	}
	save := func(d courses.Draft) error {
		_, err := w.j.Save(ctx, w.trainee, e.ID, d, 1, newKey())
		return err
	}
	attach := func(change func(*courses.Attachment)) error {
		a := courses.Attachment{Key: "journal/tara/photo.jpg", Kind: courses.MediaImage, ContentType: "image/jpeg", Size: 10, Name: "photo.jpg"}
		change(&a)
		_, err := w.j.AddAttachment(ctx, w.trainee, e.ID, a)
		return err
	}
	logSupervision := func(change func(*courses.NewSupervision)) error {
		s := supervisorSession
		change(&s)
		_, err := w.j.LogSupervision(ctx, w.trainee, s)
		return err
	}
	logPractice := func(change func(*courses.NewPractice)) error {
		p := practice
		change(&p)
		_, err := w.j.LogPractice(ctx, w.trainee, p)
		return err
	}
	for _, tc := range []struct {
		name, field, mentions string
		do                    func() error
	}{
		{"unknown tag", "tags[1]", `"empathy"`, func() error {
			return save(draft(func(d *courses.Draft) { d.Tags = []string{"immediate-help", "empathy"} }))
		}},
		{"long title", "title", "200 characters or fewer", func() error {
			return save(draft(func(d *courses.Draft) { d.Title = strings.Repeat("t", 201) }))
		}},
		{"long body", "body", "100000 characters or fewer", func() error {
			return save(draft(func(d *courses.Draft) { d.Body = strings.Repeat("b", courses.MaxJournalBody+1) }))
		}},
		{"unknown page", "links[0].target", `"no-such-page"`, func() error {
			return save(draft(func(d *courses.Draft) { d.Links = []courses.Link{{Kind: courses.LinkPage, Target: "no-such-page"}} }))
		}},
		{"unknown session", "links[0].target", `"p9-dialogue-1"`, func() error {
			return save(draft(func(d *courses.Draft) { d.Links = []courses.Link{{Kind: courses.LinkSession, Target: "p9-dialogue-1"}} }))
		}},
		{"unknown link kind", "links[0].kind", `"video"`, func() error {
			return save(draft(func(d *courses.Draft) { d.Links = []courses.Link{{Kind: "video", Target: "x"}} }))
		}},
		{"no idempotency key", "idempotencyKey", "required", func() error {
			_, err := w.j.Save(ctx, w.trainee, e.ID, draft(func(*courses.Draft) {}), 1, "")
			return err
		}},
		{"base version ahead", "baseVersion", "no version 9", func() error {
			_, err := w.j.Save(ctx, w.trainee, e.ID, draft(func(*courses.Draft) {}), 9, newKey())
			return err
		}},
		{"path in a file name", "name", "folder path", func() error {
			return attach(func(a *courses.Attachment) { a.Name = "../../etc/passwd" })
		}},
		{"windows path in a file name", "name", "folder path", func() error {
			return attach(func(a *courses.Attachment) { a.Name = `C:\Users\tara\photo.jpg` })
		}},
		{"content type of another kind", "contentType", "text/html", func() error {
			return attach(func(a *courses.Attachment) { a.ContentType = "text/html" })
		}},
		{"bad media key", "key", `"../secrets"`, func() error { return attach(func(a *courses.Attachment) { a.Key = "../secrets" }) }},
		{"comment on an unshared entry", "audience", "not shared with your supervisor", func() error {
			_, err := w.j.AddComment(ctx, w.trainee, e.ID, courses.NewComment{Audience: courses.AudienceSupervisor, Body: "hello", Key: newKey()})
			return err
		}},
		{"submitting an empty entry", "body", "empty", func() error {
			_, err := w.j.SetSharing(ctx, w.otherTrainee, empty.ID, courses.AudienceAssessors, true)
			return err
		}},
		{"supervision of no minutes", "minutes", "from 1 to 480 minutes", func() error { return logSupervision(func(s *courses.NewSupervision) { s.Minutes = 0 }) }},
		{"supervision too long", "minutes", "from 1 to 480 minutes", func() error { return logSupervision(func(s *courses.NewSupervision) { s.Minutes = 481 }) }},
		{"long reflection", "reflection", "2000 characters or fewer", func() error {
			return logSupervision(func(s *courses.NewSupervision) { s.Reflection = strings.Repeat("r", 2001) })
		}},
		{"supervisor of another cohort", "supervisorId", "Select one of your supervisors", func() error {
			return logSupervision(func(s *courses.NewSupervision) { s.SupervisorID = w.farSupervisor.UserID })
		}},
		{"another trainee's supervisor", "supervisorId", "Select one of your supervisors", func() error {
			return logSupervision(func(s *courses.NewSupervision) { s.SupervisorID = w.cohortSupervisor.UserID })
		}},
		{"unknown supervision kind", "kind", "Select the kind of supervision", func() error { return logSupervision(func(s *courses.NewSupervision) { s.Kind = "coaching" }) }},
		{"supervision in the future", "date", "future", func() error {
			return logSupervision(func(s *courses.NewSupervision) { s.Date = time.Now().AddDate(0, 0, 3) })
		}},
		{"unknown practice", "kind", "Select the kind of practice", func() error { return logPractice(func(p *courses.NewPractice) { p.Kind = "yoga" }) }},
		{"practice too long", "minutes", "from 1 to 600", func() error { return logPractice(func(p *courses.NewPractice) { p.Minutes = 601 }) }},
		{"practice without a date", "date", "Enter the date", func() error { return logPractice(func(p *courses.NewPractice) { p.Date = time.Time{} }) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, w.db)
			err := tc.do()
			wantInvalid(t, err, tc.field, tc.mentions)
			if after := snapshot(t, w.db); after != before {
				t.Error("refused input changed what is stored")
			}
		})
	}
}

// TestJournalLatestFoundPastAnOldHint saves an entry many times, so that the entry record's
// hint of its latest revision (rewritten only now and then) lags behind, and opens it
// through a second store with nothing in memory: every version is found as the latest, and
// a save on top of it is accepted.
func TestJournalLatestFoundPastAnOldHint(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	e := w.create(t, w.trainee, courses.Draft{Title: "Hinted", Body: "v1"})
	for v := 2; v <= 21; v++ {
		e = w.save(t, w.trainee, e, fmt.Sprintf("v%d", v))
		fresh, err := courses.NewJournals(ctx, w.db, w.store, courses.JournalOptions{PageExists: func(context.Context, string) (bool, error) { return true, nil }})
		if err != nil {
			t.Fatal(err)
		}
		got, err := fresh.ReadEntry(ctx, w.trainee, e.ID)
		if err != nil || got.Version != v || got.Body != fmt.Sprintf("v%d", v) {
			t.Fatalf("after version %d a fresh store reads version %d %q (%v)", v, got.Version, got.Body, err)
		}
	}
}
