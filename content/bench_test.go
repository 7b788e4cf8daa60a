package content

import (
	"fmt"
	"strings"
	"testing"
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

// BenchmarkRenderCached measures rendering a page that is in the cache.
func BenchmarkRenderCached(b *testing.B) {
	r := NewRenderer()
	src := tenKBPage()
	links := curriculumLinksForBench()
	if _, err := r.Render(src, links); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(src, links); err != nil {
			b.Fatal(err)
		}
	}
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
