package courses_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/courses"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

// TestJournalRequestsReadByIDOnly runs every request of the journal, as its author, a
// supervisor and an assessor would, and checks that each read, update and delete it sends
// to the database is by _id alone: on embedded FerretDB any other filter reads every
// document of the collection, so the request would slow down with everything stored.
func TestJournalRequestsReadByIDOnly(t *testing.T) {
	for _, sole := range []bool{false, true} {
		t.Run(fmt.Sprintf("soleWriter=%v", sole), func(t *testing.T) { testJournalRequestsReadByIDOnly(t, sole) })
	}
}

func testJournalRequestsReadByIDOnly(t *testing.T, sole bool) {
	ctx := context.Background()
	log := dbtest.NewFilterLog("journal_")
	w := newJournalWorldOn(t, dbtest.NewLogged(t, log), sole)
	log.Record(true)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	e := w.create(t, w.trainee, courses.Draft{Title: "Keys", Body: "first"})
	e = w.save(t, w.trainee, e, "second")
	_, err := w.j.Save(ctx, w.trainee, e.ID, e.Draft(), e.Version-1, newKey())
	var stale *courses.SaveConflictError
	if !errors.As(err, &stale) {
		t.Fatalf("stale save: %v, want a conflict", err)
	}
	key := newKey()
	d := e.Draft()
	d.Body = "third"
	for range 2 { // a save and its replay
		_, err := w.j.Save(ctx, w.trainee, e.ID, d, e.Version, key)
		must("autosave", err)
	}
	_, err = w.j.AddAttachment(ctx, w.trainee, e.ID, courses.Attachment{Key: "journal/k.png", Kind: courses.MediaImage, ContentType: "image/png", Size: 5, Name: "k.png"})
	must("attach", err)
	e, err = w.j.RemoveAttachment(ctx, w.trainee, e.ID, "journal/k.png")
	must("detach", err)
	_, err = w.j.Attachment(ctx, w.trainee, e.ID, "journal/k.png") // an earlier revision's
	must("earlier attachment", err)
	_, err = w.j.ReadEntry(ctx, w.trainee, e.ID)
	must("open", err)
	if _, err := w.j.ReadEntry(ctx, w.trainee, "jedoesnotexist0000"); !errors.Is(err, failure.ErrNotFound) {
		t.Fatalf("missing id: %v", err)
	}
	_, err = w.j.Entries(ctx, w.trainee, w.trainee.UserID)
	must("list", err)
	_, err = w.j.Revisions(ctx, w.trainee, e.ID, 0, 10)
	must("revisions", err)
	_, err = w.j.ReadRevision(ctx, w.trainee, e.ID, 1)
	must("revision", err)
	_, err = w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceSupervisor, true)
	must("share", err)
	_, err = w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceAssessors, true)
	must("submit", err)

	for _, v := range []courses.Viewer{w.supervisor, w.assessor} {
		_, err = w.j.Entries(ctx, v, w.trainee.UserID)
		must("shared list", err)
		_, err = w.j.ReadEntry(ctx, v, e.ID)
		must("shared open", err)
		_, err = w.j.AddComment(ctx, v, e.ID, courses.NewComment{Body: "a comment", Key: newKey()})
		must("comment", err)
		_, err = w.j.Comments(ctx, v, e.ID)
		must("comments", err)
		_, err = w.j.OpenedVersions(ctx, v)
		must("opened", err)
	}
	_, err = w.j.Comments(ctx, w.trainee, e.ID)
	must("own comments", err)
	ns, err := w.j.Notifications(ctx, w.trainee)
	must("notifications", err)
	if len(ns) != 2 {
		t.Errorf("notifications: %d, want 2", len(ns))
	}
	must("mark one read", w.j.MarkNotificationsRead(ctx, w.trainee, ns[0].ID))
	must("mark all read", w.j.MarkNotificationsRead(ctx, w.trainee))
	recs, err := w.j.AccessLog(ctx, w.trainee)
	must("access log", err)
	if len(recs) == 0 {
		t.Error("the access log is empty after a supervisor and an assessor read the entry")
	}
	log.Check(t, "a journal request")
}

// TestJournalOpensEarlierLayout takes a journal written in the layout of the previous
// release (no author, thread, inbox or opened records, no hints on the entry records, an
// access log of one document per read) and checks that a store opened on it lists, opens
// and shows everything as before, and says in the log that it brought the records over.
func TestJournalOpensEarlierLayout(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	e := w.create(t, w.trainee, courses.Draft{Title: "Before", Body: "first"})
	for i := range 5 {
		e = w.save(t, w.trainee, e, fmt.Sprintf("saved %d", i))
	}
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceSupervisor, true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.ReadEntry(ctx, w.supervisor, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.AddComment(ctx, w.supervisor, e.ID, courses.NewComment{Body: "seen", Key: newKey()}); err != nil {
		t.Fatal(err)
	}
	type state struct {
		list    []courses.EntrySummary
		entry   courses.EntryView
		log     []courses.AccessRecord
		notes   []courses.Notification
		opened  map[string]int
		comment []courses.Comment
	}
	read := func(j *courses.Journals) state {
		t.Helper()
		var s state
		var err error
		if s.list, err = j.Entries(ctx, w.trainee, w.trainee.UserID); err != nil {
			t.Fatal(err)
		}
		if s.entry, err = j.ReadEntry(ctx, w.trainee, e.ID); err != nil {
			t.Fatal(err)
		}
		if s.log, err = j.AccessLog(ctx, w.trainee); err != nil {
			t.Fatal(err)
		}
		if s.notes, err = j.Notifications(ctx, w.trainee); err != nil {
			t.Fatal(err)
		}
		if s.opened, err = j.OpenedVersions(ctx, w.supervisor); err != nil {
			t.Fatal(err)
		}
		if s.comment, err = j.Comments(ctx, w.trainee, e.ID); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := read(w.j)
	if len(before.list) != 1 || len(before.log) == 0 || len(before.notes) != 1 || before.opened[e.ID] != e.Version || len(before.comment) != 1 {
		t.Fatalf("before: %+v", before)
	}

	// Back to the earlier layout.
	for _, c := range []string{"journal_authors", "journal_threads", "journal_inbox", "journal_opened", "journal_tails"} {
		if err := w.db.Collection(c).Drop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	entries := w.db.Collection("journal_entries")
	var ids []string
	if err := entries.Distinct(ctx, "_id", nil, &ids); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := entries.Update(ctx, id, bson.M{"$unset": bson.M{"latest": "", "shareSeq": ""}}); err != nil {
			t.Fatal(err)
		}
	}
	access := w.db.Collection("journal_access")
	var pages []struct {
		Records []courses.AccessRecord `bson:"records"`
	}
	if err := access.ScanAll(ctx, nil, database.Scan{}, &pages); err != nil {
		t.Fatal(err)
	}
	if _, err := access.DeleteWhere(ctx, bson.M{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		for _, r := range p.Records {
			if err := access.Insert(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}

	var logged strings.Builder
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	j, err := courses.NewJournals(ctx, w.db, w.store, courses.JournalOptions{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	after := read(j)
	if !reflect.DeepEqual(after, before) {
		t.Errorf("after opening the earlier layout:\n%+v\nwant\n%+v", after, before)
	}
	if !strings.Contains(logged.String(), "journal records brought to the layout read by id") || !strings.Contains(logged.String(), "entries=1") {
		t.Errorf("log: %q, want a line saying the records were brought over", logged.String())
	}
	logged.Reset()
	if _, err := courses.NewJournals(ctx, w.db, w.store, courses.JournalOptions{Logger: logger}); err != nil {
		t.Fatal(err)
	}
	if logged.Len() != 0 {
		t.Errorf("a second start logged %q; the records were brought over once", logged.String())
	}
}

// TestJournalAccessLogPages reads a long access log a page at a time: each page newest
// first, the pages together the whole log, and the last page says there is no more.
func TestJournalAccessLogPages(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	e := w.create(t, w.trainee, courses.Draft{Title: "Read often", Body: "text"})
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceSupervisor, true); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := w.j.ReadEntry(ctx, w.supervisor, e.ID); err != nil {
			t.Fatal(err)
		}
	}
	all, err := w.j.AccessLog(ctx, w.trainee)
	if err != nil || len(all) != 5 {
		t.Fatalf("whole log: %d records, %v; want 5", len(all), err)
	}
	var paged []courses.AccessRecord
	var sizes []int
	before := 0
	for range 10 {
		page, next, err := w.j.AccessLogPage(ctx, w.trainee, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		paged, sizes = append(paged, page...), append(sizes, len(page))
		if next == 0 {
			break
		}
		before = next
	}
	if !reflect.DeepEqual(sizes, []int{2, 2, 1}) || !reflect.DeepEqual(paged, all) {
		t.Errorf("pages of 2: sizes %v, records %+v; want sizes [2 2 1] and the whole log %+v", sizes, paged, all)
	}
	if page, _, err := w.j.AccessLogPage(ctx, w.supervisor, 0, 2); err != nil || len(page) != 0 {
		t.Errorf("the supervisor's own log: %d records, %v; want none", len(page), err)
	}
}
