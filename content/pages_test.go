package content

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

func newPages(t *testing.T) *Pages {
	t.Helper()
	pages, err := NewPages(context.Background(), dbtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

func mustSave(t *testing.T, s *Pages, p Page, base int) Page {
	t.Helper()
	saved, err := s.Save(context.Background(), p, base, "editor-1")
	if err != nil {
		t.Fatalf("save %s on revision %d: %v", p.Slug, base, err)
	}
	return saved
}

func TestPagesSaveAndGet(t *testing.T) {
	ctx := context.Background()
	s := newPages(t)
	from := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	saved := mustSave(t, s, Page{Slug: "immediate-help", Title: " Immediate help ", Module: 1, Order: 2,
		Release: Release{From: from}, Body: "Help within 24 hours.\r\n\r\nSee [this page](immediate-help.md#top)."}, 0)
	if saved.Revision != 1 || saved.Title != "Immediate help" || saved.ReadingMinutes != 1 || saved.SavedBy != "editor-1" ||
		saved.Hash == "" || saved.SavedAt.IsZero() || strings.Contains(saved.Body, "\r") {
		t.Errorf("saved: %+v", saved)
	}
	got, err := s.Get(ctx, "immediate-help")
	if err != nil {
		t.Fatal(err)
	}
	if got != saved {
		t.Errorf("Get:\ngot  %+v\nwant %+v", got, saved)
	}
	if _, err := s.Get(ctx, "nowhere"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("Get of a missing page: %v, want ErrNotFound", err)
	}

	second := mustSave(t, s, Page{Slug: "flexibility", Title: "Flexibility and mobility", Module: 1, Order: 3, ReadingMinutes: 4,
		Release: Release{AfterModule: 1}, Body: "Links to [immediate help](immediate-help.md)."}, 0)
	if got, _ := s.Get(ctx, "flexibility"); got.Release != (Release{AfterModule: 1}) || got.ReadingMinutes != 4 || got != second {
		t.Errorf("Get: %+v", got)
	}
}

func TestPagesSaveChecks(t *testing.T) {
	s := newPages(t)
	mustSave(t, s, Page{Slug: "known", Title: "Known", Body: "x"}, 0)
	good := Page{Slug: "new-page", Title: "New page", Module: 2, Body: "See [known](known.md)."}
	for _, tc := range []struct {
		name   string
		change func(*Page)
		field  string
		reason string
	}{
		{"no title", func(p *Page) { p.Title = "  " }, "title", "is missing"},
		{"long title", func(p *Page) { p.Title = strings.Repeat("é", 121) }, "title", "at most 120"},
		{"bad slug", func(p *Page) { p.Slug = "New Page" }, "slug", "lower-case letters"},
		{"no slug", func(p *Page) { p.Slug = "" }, "slug", "is missing"},
		{"module 5", func(p *Page) { p.Module = 5 }, "module", "not 5"},
		{"release after module 9", func(p *Page) { p.Release = Release{AfterModule: 9} }, "release", "module 9"},
		{"date and module", func(p *Page) { p.Release = Release{AfterModule: 1, From: time.Now()} }, "release", "not both"},
		{"negative minutes", func(p *Page) { p.ReadingMinutes = -1 }, "readingMinutes", "whole number"},
		{"broken link", func(p *Page) { p.Body = "Intro\n\nSee [missing](missing.md#x)." }, "body", "missing.md#x (line 3) points at no page"},
		{"broken links", func(p *Page) { p.Body = "[a](a.md) [b](./b.md)" }, "body", "a.md (line 1), ./b.md (line 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			tc.change(&p)
			_, err := s.Save(context.Background(), p, 0, "editor-1")
			var invalid *failure.InvalidError
			if !errors.As(err, &invalid) || invalid.Field != tc.field || !strings.Contains(invalid.Reason, tc.reason) {
				t.Errorf("got %v, want %s: ...%s...", err, tc.field, tc.reason)
			}
		})
	}
	if _, err := s.Get(context.Background(), "new-page"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("a refused page was stored: %v", err)
	}
	mustSave(t, s, good, 0)
}

func TestPagesConflict(t *testing.T) {
	ctx := context.Background()
	s := newPages(t)
	first := mustSave(t, s, Page{Slug: "peer-support", Title: "Peer support", Body: "one"}, 0)
	theirs := mustSave(t, s, Page{Slug: "peer-support", Title: "Peer support", Body: "theirs"}, first.Revision)

	_, err := s.Save(ctx, Page{Slug: "peer-support", Title: "Peer support", Body: "mine"}, first.Revision, "editor-2")
	var conflict *ConflictError
	if !errors.As(err, &conflict) || !errors.Is(err, failure.ErrConflict) {
		t.Fatalf("saving on a stale revision: %v, want a *ConflictError", err)
	}
	if conflict.Current != theirs {
		t.Errorf("conflict shows %+v, want %+v", conflict.Current, theirs)
	}
	if got, _ := s.Get(ctx, "peer-support"); got.Body != "theirs" {
		t.Errorf("the stale save overwrote: %q", got.Body)
	}

	if _, err := s.Save(ctx, Page{Slug: "peer-support", Title: "Again", Body: "x"}, 0, "editor-2"); !errors.As(err, &conflict) {
		t.Errorf("creating a page that exists: %v, want a *ConflictError", err)
	}
	if _, err := s.Save(ctx, Page{Slug: "never-made", Title: "Never", Body: "x"}, 3, "editor-2"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("editing a page that does not exist: %v, want ErrNotFound", err)
	}
}

// Of ten editors saving on the same revision at once, exactly one wins and the others are
// told what is there now.
func TestPagesConcurrentSave(t *testing.T) {
	ctx := context.Background()
	s := newPages(t)
	base := mustSave(t, s, Page{Slug: "responsibility", Title: "Responsibility", Body: "start"}, 0)
	const editors = 10
	var wg sync.WaitGroup
	results := make([]error, editors)
	for i := range editors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = s.Save(ctx, Page{Slug: "responsibility", Title: "Responsibility", Body: strings.Repeat("edit ", i+1)}, base.Revision, "editor")
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range results {
		var conflict *ConflictError
		switch {
		case err == nil:
			wins++
		case errors.As(err, &conflict):
			if conflict.Current.Revision != base.Revision+1 {
				t.Errorf("conflict shows revision %d, want %d", conflict.Current.Revision, base.Revision+1)
			}
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent saves won, want exactly 1", wins, editors)
	}
	revs, err := s.Revisions(ctx, "responsibility")
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 2 {
		t.Errorf("%d revisions stored, want 2", len(revs))
	}
}

func TestPagesRevisionsAndRestore(t *testing.T) {
	ctx := context.Background()
	s := newPages(t)
	now := time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { now = now.Add(time.Hour); return now }
	r1 := mustSave(t, s, Page{Slug: "risk", Title: "Risk", Body: "first"}, 0)
	r2, err := s.Save(ctx, Page{Slug: "risk", Title: "Risk and governance", Body: "second"}, 1, "editor-2")
	if err != nil {
		t.Fatal(err)
	}
	revs, err := s.Revisions(ctx, "risk")
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 2 || revs[0] != r2 || revs[1] != r1 {
		t.Fatalf("revisions, newest first:\ngot  %+v\nwant %+v, %+v", revs, r2, r1)
	}
	if revs[0].SavedBy != "editor-2" || !revs[0].SavedAt.After(revs[1].SavedAt) {
		t.Errorf("who and when: %s at %v, %s at %v", revs[0].SavedBy, revs[0].SavedAt, revs[1].SavedBy, revs[1].SavedAt)
	}
	if got, err := s.Revision(ctx, "risk", 1); err != nil || got != r1 {
		t.Errorf("Revision 1: %+v, %v", got, err)
	}
	if _, err := s.Revision(ctx, "risk", 9); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("Revision 9: %v, want ErrNotFound", err)
	}
	if _, err := s.Revisions(ctx, "nowhere"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("Revisions of a missing page: %v, want ErrNotFound", err)
	}

	if _, err := s.Restore(ctx, "risk", 1, 1, "editor-3"); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("restore on a stale revision: %v, want a conflict", err)
	}
	r3, err := s.Restore(ctx, "risk", 1, 2, "editor-3")
	if err != nil {
		t.Fatal(err)
	}
	if r3.Revision != 3 || r3.Title != "Risk" || r3.Body != "first" || r3.Hash != r1.Hash || r3.SavedBy != "editor-3" {
		t.Errorf("restored: %+v", r3)
	}
	if got, _ := s.Get(ctx, "risk"); got != r3 {
		t.Errorf("latest after restore: %+v", got)
	}
}

func TestPagesList(t *testing.T) {
	ctx := context.Background()
	s := newPages(t)
	if pages, err := s.List(ctx); err != nil || len(pages) != 0 {
		t.Fatalf("empty store: %v, %v", pages, err)
	}
	mustSave(t, s, Page{Slug: "c", Title: "C", Module: 2, Order: 1, Body: "x"}, 0)
	mustSave(t, s, Page{Slug: "b", Title: "Beta", Module: 1, Order: 2, Body: "x"}, 0)
	mustSave(t, s, Page{Slug: "a", Title: "Alpha", Module: 1, Order: 2, Body: "x"}, 0)
	mustSave(t, s, Page{Slug: "overview", Title: "Overview", Module: 0, Order: 9, Body: "x"}, 0)
	mustSave(t, s, Page{Slug: "c", Title: "C, revised", Module: 2, Order: 1, Body: "y"}, 1)
	pages, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pages {
		got = append(got, p.Title)
	}
	if want := "Overview|Alpha|Beta|C, revised"; strings.Join(got, "|") != want {
		t.Errorf("List: got %s, want %s", strings.Join(got, "|"), want)
	}
	if pages[3].Revision != 2 || pages[3].Body != "y" {
		t.Errorf("List gives %+v, want the latest revision", pages[3])
	}
}

func TestPagesImport(t *testing.T) {
	ctx := context.Background()
	s := newPages(t)
	fsys := goodPack()
	pack, err := LoadPack(fsys)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Import(ctx, pack, "importer")
	if err != nil {
		t.Fatal(err)
	}
	if res != (ImportResult{Created: 3}) {
		t.Errorf("first import: %+v", res)
	}
	again, err := s.Import(ctx, pack, "importer")
	if err != nil {
		t.Fatal(err)
	}
	if again != (ImportResult{Unchanged: 3}) {
		t.Errorf("second import: %+v, want everything unchanged", again)
	}
	for _, slug := range []string{"programme-overview", "uncertainty", "dialogism-and-polyphony"} {
		if revs, _ := s.Revisions(ctx, slug); len(revs) != 1 {
			t.Errorf("%s has %d revisions after importing twice, want 1", slug, len(revs))
		}
	}
	got, _ := s.Get(ctx, "dialogism-and-polyphony")
	if got.Title != "Dialogism and polyphony" || got.Module != 2 || got.Order != 3 || got.ReadingMinutes != 8 ||
		got.Release != (Release{AfterModule: 1}) || got.Body != "## Bakhtin\n\nMany voices.\n" {
		t.Errorf("imported page: %+v", got)
	}

	// An editor changes one page; the pack changes another.
	mustSave(t, s, Page{Slug: "uncertainty", Title: "Edited", Module: 1, Body: "edited"}, 1)
	fsys["dialogism.md"] = &fstest.MapFile{Data: []byte("---\ntitle: Dialogism\nslug: dialogism-and-polyphony\nmodule: 2\n---\n## Bakhtin\n\nNew text.\n")}
	pack, err = LoadPack(fsys)
	if err != nil {
		t.Fatal(err)
	}
	res, err = s.Import(ctx, pack, "importer")
	if err != nil {
		t.Fatal(err)
	}
	if res != (ImportResult{Updated: 2, Unchanged: 1}) {
		t.Errorf("third import: %+v", res)
	}
	if got, _ := s.Get(ctx, "uncertainty"); got.Revision != 3 || got.Title != "Tolerance of uncertainty" {
		t.Errorf("re-imported page: revision %d, %q", got.Revision, got.Title)
	}
}

func TestPagesImportRefusesABadPack(t *testing.T) {
	ctx := context.Background()
	s := newPages(t)
	pack := Pack{Pages: []PackPage{
		{File: "a.md", Slug: "a", Title: "A", Body: "[b](b.md)"},
		{File: "b.md", Slug: "b", Title: "B", Body: "[c](c.md)"},
	}}
	if _, err := s.Import(ctx, pack, "importer"); err == nil || !strings.Contains(err.Error(), "b.md") {
		t.Errorf("import of a pack with a broken link: %v", err)
	}
	if pages, _ := s.List(ctx); len(pages) != 0 {
		t.Errorf("a refused pack left %d pages", len(pages))
	}
}
