package content

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"polyphony/content/curriculum"
	"polyphony/internal/benchpair"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
)

// tenKBPage is a curriculum page of about 10 KB with the usual mix: sections, lists,
// emphasis, quotations, links between pages and out, a table and footnotes.
func tenKBPage() []byte {
	var b strings.Builder
	b.WriteString("Welcome to the page. It explains what \"dialogism\" means -- and why it matters.\n\n")
	for i := 0; b.Len() < 10<<10; i++ {
		fmt.Fprintf(&b, "## Section %d: the network meeting\n\n", i)
		b.WriteString("In open dialogue, care is organised at the level of the person's *social network*. ")
		b.WriteString("The family and the people who matter are **always** invited, and the important conversations ")
		b.WriteString("about care take place there, with everyone present (Seikkula 2003)[^s].\n")
		b.WriteString("See [tolerance of uncertainty](tolerance-of-uncertainty.md#why) and the ")
		b.WriteString("[NHS England guidance](https://www.england.nhs.uk/mental-health/).\n\n")
		b.WriteString("- listen to every voice\n- respond rather than interpret\n- keep the conversation going...\n\n")
		b.WriteString("> \"Something essential to recovery is missing in the social fabric.\"\n\n")
		if i%3 == 0 {
			b.WriteString("| Principle | Organising | Practice |\n|---|---|---|\n| Immediate help | yes | no |\n| Dialogism | no | yes |\n\n")
		}
	}
	b.WriteString("[^s]: Seikkula, J. (2003). Open dialogue integrated.\n")
	return []byte(b.String())
}

func curriculumLinksForBench() LinkResolver {
	return CurriculumLinks(func(slug string) bool { return slug == "tolerance-of-uncertainty" })
}

// BenchmarkRender10KB measures a first rendering (no cache) of a 10 KB page; B6 (README, Performance)
// wants it within 1 ms.
func BenchmarkRender10KB(b *testing.B) {
	r := NewRenderer()
	src := tenKBPage()
	links := curriculumLinksForBench()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := r.render(src, links); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCacheRender renders the 10 KB page with the render cache (a hit) and without, in
// the same run:
//
//	go test -run '^$' -bench Cache ./content/
func BenchmarkCacheRender(b *testing.B) {
	cached, uncached := NewRenderer(), NewRendererKeeping(0)
	src := tenKBPage()
	links := curriculumLinksForBench()
	render := func(r *Renderer) func() {
		return func() {
			if _, err := r.Render(src, links); err != nil {
				b.Fatal(err)
			}
		}
	}
	benchpair.Compare(b, render(uncached), render(cached))
}

// BenchmarkCachePages gets a curriculum page from the store (Get, which every curriculum
// request makes through List) with the pages' cache and without, in the same run, with the
// curriculum pack imported and each page saved again cachePagesRevisions times.
func BenchmarkCachePages(b *testing.B) {
	const cachePagesRevisions = 5
	ctx := context.Background()
	db := dbtest.New(b)
	cached, err := NewPages(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	pack, err := LoadPack(curriculum.FS)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cached.Import(ctx, pack, "bench"); err != nil {
		b.Fatal(err)
	}
	all, err := cached.List(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, pg := range all {
		for range cachePagesRevisions {
			pg.Body += "\n\nOne more paragraph.\n"
			saved, err := cached.Save(ctx, pg, pg.Revision, "bench")
			if err != nil {
				b.Fatal(err)
			}
			pg = saved
		}
	}
	uncached := *cached
	uncached.cache = database.NewCache(db, revisionsCollection, 0, func(ps []Page) []Page { return ps })
	slug := all[len(all)/2].Slug
	get := func(p *Pages) func() {
		return func() {
			if _, err := p.Get(ctx, slug); err != nil {
				b.Fatal(err)
			}
		}
	}
	benchpair.Compare(b, get(&uncached), get(cached))
}

func TestTenKBPageRendersInTime(t *testing.T) {
	src := tenKBPage()
	if len(src) < 10<<10 || len(src) > 11<<10 {
		t.Fatalf("the benchmark page is %d bytes", len(src))
	}
	out := mustRender(t, NewRenderer(), string(src), curriculumLinksForBench())
	if !strings.Contains(string(out.HTML), `href="/curriculum/tolerance-of-uncertainty#why"`) || len(out.Contents) < 10 {
		t.Errorf("the benchmark page does not render as meant: %d headings", len(out.Contents))
	}
}
