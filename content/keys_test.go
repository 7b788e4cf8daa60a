package content

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

// TestPagesReadByIDOnly saves, imports, restores, lists and reads curriculum pages as the
// pages and the editor do, and checks that each read, update and delete sent to the
// database is by _id alone: on embedded FerretDB any other filter reads every document of
// the collection, so the request would slow down with every revision stored.
func TestPagesReadByIDOnly(t *testing.T) {
	ctx := context.Background()
	log := dbtest.NewFilterLog()
	s, err := NewPages(ctx, dbtest.NewLogged(t, log))
	if err != nil {
		t.Fatal(err)
	}
	log.Record(true)
	a := mustSave(t, s, Page{Slug: "first-steps", Title: "First steps", Module: 1, Order: 1, Body: "Begin."}, 0)
	mustSave(t, s, Page{Slug: "next-steps", Title: "Next steps", Module: 1, Order: 2, Body: "See [first steps](first-steps.md)."}, 0)
	a2 := a
	a2.Body = "Begin again."
	a2 = mustSave(t, s, a2, a.Revision)
	if _, err := s.Save(ctx, a, a.Revision, "editor-2"); err == nil {
		t.Error("a save on a stale revision was stored")
	}
	pack := Pack{Pages: []PackPage{
		{File: "first-steps.md", Slug: "first-steps", Title: "First steps", Module: 1, Order: 1, Body: "Begin again."},
		{File: "later.md", Slug: "later", Title: "Later", Module: 2, Order: 1, Body: "After [next steps](next-steps.md)."},
	}}
	res, err := s.Import(ctx, pack, "importer")
	if err != nil || res.Created != 1 {
		t.Errorf("import: %+v, %v; want one page created", res, err)
	}
	if _, err := s.Restore(ctx, "first-steps", 1, a2.Revision, "editor-1"); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %d pages, %v; want 3", len(list), err)
	}
	if got, err := s.Get(ctx, "first-steps"); err != nil || got.Revision != 3 || got.Body != "Begin." {
		t.Errorf("get: %+v, %v; want revision 3, restored", got, err)
	}
	if revs, err := s.Revisions(ctx, "first-steps"); err != nil || len(revs) != 3 || revs[0].Revision != 3 {
		t.Errorf("revisions: %d, %v; want 3, newest first", len(revs), err)
	}
	if _, err := s.Revision(ctx, "first-steps", 2); err != nil {
		t.Error(err)
	}
	if ok, err := s.Exists(ctx, "nowhere"); err != nil || ok {
		t.Errorf("exists: %v, %v", ok, err)
	}
	if _, err := s.Revisions(ctx, "nowhere"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("revisions of a missing page: %v, want ErrNotFound", err)
	}
	log.Check(t, "a page request")
}

// TestPagesOpenEarlierLayout stores revisions as the previous release did, with no index of
// the pages, and checks that a store opened on them lists and reads them, saves after
// their latest revision, and says in the log, once, that it listed them.
func TestPagesOpenEarlierLayout(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	at := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	coll := db.Collection(revisionsCollection)
	for _, p := range []Page{
		{Slug: "old-page", Revision: 1, Title: "Old page", Module: 1, Order: 1, Body: "one", SavedAt: at, SavedBy: "e", Hash: "h1"},
		{Slug: "old-page", Revision: 2, Title: "Old page", Module: 1, Order: 1, Body: "two", SavedAt: at, SavedBy: "e", Hash: "h2"},
		{Slug: "other-page", Revision: 1, Title: "Other page", Module: 2, Order: 1, Body: "other", SavedAt: at, SavedBy: "e", Hash: "h3"},
	} {
		if err := coll.Insert(ctx, toDoc(p)); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	logger := slog.New(slog.NewTextHandler(&out, nil))
	s, err := NewPages(ctx, db, WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "curriculum pages listed in the layout read by id") || !strings.Contains(out.String(), "pages=2") {
		t.Errorf("log: %q, want a line saying the pages were listed", out.String())
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].Slug != "old-page" || list[0].Revision != 2 {
		t.Fatalf("list: %+v, %v; want both pages, the old one at revision 2", list, err)
	}
	if revs, err := s.Revisions(ctx, "old-page"); err != nil || len(revs) != 2 {
		t.Errorf("revisions: %d, %v; want 2", len(revs), err)
	}
	p := list[0]
	p.Body = "three"
	if saved, err := s.Save(ctx, p, 2, "e"); err != nil || saved.Revision != 3 {
		t.Errorf("save: revision %d, %v; want 3", saved.Revision, err)
	}
	var mark bson.M
	if err := db.Collection(indexCollection).Get(ctx, pagesLayoutMark, &mark); err != nil {
		t.Errorf("layout mark: %v", err)
	}
	out.Reset()
	if _, err := NewPages(ctx, db, WithLogger(logger)); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("a second start logged %q; the pages were listed once", out.String())
	}
}
