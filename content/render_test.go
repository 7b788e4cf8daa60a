package content

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestRenderMarkdown(t *testing.T) {
	r := NewRenderer()
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"table", "| Principle | Level |\n|---|:--:|\n| Immediate help | service |\n", []string{
			"<table>", "<th>Principle</th>", `<th style="text-align:center">Level</th>`, "<td>Immediate help</td>",
		}},
		{"footnotes", "Seikkula's principles[^1].\n\n[^1]: Seikkula 2003.\n", []string{
			`<sup id="fnref:1"><a href="#fn:1" class="footnote-ref" role="doc-noteref">1</a></sup>`,
			`<li id="fn:1">`, "Seikkula 2003.",
		}},
		{"typographer", `"Dialogue" isn't a technique -- it's a way of being --- Bakhtin...`, []string{
			"&ldquo;Dialogue&rdquo;", "isn&rsquo;t", "&ndash;", "&mdash;", "&hellip;",
		}},
		{"strikethrough", "~~old~~ new", []string{"<del>old</del>"}},
		{"raw HTML block", "<div onclick=\"x\">hi</div>\n\ntext", []string{"<!-- raw HTML omitted -->", "<p>text</p>"}},
		{"raw HTML inline", "a <b onmouseover=x>bold</b> c", []string{"<p>a <!-- raw HTML omitted -->bold<!-- raw HTML omitted --> c</p>"}},
		{"escaped text", "1 < 2 & 3 > 2", []string{"<p>1 &lt; 2 &amp; 3 &gt; 2</p>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := string(mustRender(t, r, tc.src, nil).HTML)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("got\n%s\nwant it to hold %s", out, w)
				}
			}
			if strings.Contains(out, "onclick") || strings.Contains(out, "onmouseover") {
				t.Errorf("an event handler got through:\n%s", out)
			}
		})
	}
}

func TestRenderContents(t *testing.T) {
	src := "# The page\n\nIntro.\n\n## Why the social world matters\n\n### Friendship & *family* work\n\n#### Too deep\n\n" +
		"## Don't \"panic\" -- `x`\n\n## Why the social world matters\n\n## Contents\n\n> ## Quoted heading\n"
	out := mustRender(t, NewRenderer(), src, nil)
	want := []Heading{
		{2, "why-the-social-world-matters", "Why the social world matters"},
		{3, "friendship-family-work", "Friendship & family work"},
		{2, "dont-panic-x", "Don’t “panic” – x"},
		{2, "why-the-social-world-matters-1", "Why the social world matters"},
		{2, "contents-1", "Contents"}, // "contents" belongs to the page around the text
	}
	if !reflect.DeepEqual(out.Contents, want) {
		t.Errorf("contents:\ngot  %+v\nwant %+v", out.Contents, want)
	}
	for _, h := range want {
		if tag := fmt.Sprintf(`<h%d id="%s">`, h.Level, h.ID); !strings.Contains(string(out.HTML), tag) {
			t.Errorf("no %s in\n%s", tag, out.HTML)
		}
	}
	if !strings.Contains(string(out.HTML), `<h4 id="too-deep">`) || !strings.Contains(string(out.HTML), `<h1 id="the-page">`) {
		t.Errorf("every heading should have an anchor:\n%s", out.HTML)
	}
}

func TestRenderInternalLinks(t *testing.T) {
	known := map[string]bool{"tolerance-of-uncertainty": true, "reading-list": true}
	links := CurriculumLinks(func(slug string) bool { return known[slug] })
	src := "Read about [tolerance of uncertainty](tolerance-of-uncertainty.md), the [reading list](./reading-list.md#peer-support), " +
		"[a missing page](missing.md), [a picture](images/map.png), [a section](#why) and [the site](/curriculum)."
	out := string(mustRender(t, NewRenderer(), src, links).HTML)
	for _, want := range []string{
		`<a href="/curriculum/tolerance-of-uncertainty">tolerance of uncertainty</a>`,
		`<a href="/curriculum/reading-list#peer-support">reading list</a>`,
		`, a missing page, `, // a page the reader cannot open: its words, no link
		`<a href="images/map.png">a picture</a>`,
		`<a href="#why">a section</a>`,
		`<a href="/curriculum">the site</a>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("got\n%s\nwant it to hold %s", out, want)
		}
	}

	out = string(mustRender(t, NewRenderer(), src, nil).HTML)
	if !strings.Contains(out, `<a href="tolerance-of-uncertainty.md">`) {
		t.Errorf("with no resolver, relative links should stay as written:\n%s", out)
	}

	// Whatever a resolver returns is checked like anything else, and written as given.
	odd := func(string) (string, bool) { return "javascript:alert(1)", true }
	if out := string(mustRender(t, NewRenderer(), "[a](x.md)", odd).HTML); !strings.Contains(out, `<a href="#">`) {
		t.Errorf("a resolver's unsafe address got through: %s", out)
	}
	amp := func(string) (string, bool) { return "/curriculum/x?a=1&amp;b=\\!", true }
	if out := string(mustRender(t, NewRenderer(), "[a](x.md)", amp).HTML); !strings.Contains(out, `href="/curriculum/x?a=1&amp;amp;b=%5C!"`) {
		t.Errorf("a resolver's address was read as Markdown: %s", out)
	}
}

func TestRenderWords(t *testing.T) {
	for src, want := range map[string]int{
		"":                        0,
		"One two three.":          3,
		"Don't *stop* -- **now**": 3,
		"# Heading\n\nA paragraph\nthat wraps.\n\n- one\n- two": 7,
		"```\ncode block words\n```":                            3,
		"| a | b |\n|---|---|\n| c d | e |":                     5,
	} {
		if got := mustRender(t, NewRenderer(), src, nil).Words; got != want {
			t.Errorf("words in %q = %d, want %d", src, got, want)
		}
	}
	if got := readingMinutes(0); got != 1 {
		t.Errorf("readingMinutes(0) = %d, want 1", got)
	}
	if got := readingMinutes(401); got != 3 {
		t.Errorf("readingMinutes(401) = %d, want 3", got)
	}
}

func TestRenderCache(t *testing.T) {
	r := NewRenderer()
	src := []byte("## Section\n\nText with a [link](other.md).")
	first := mustRender(t, r, string(src), nil)
	second := mustRender(t, r, string(src), nil)
	if first.HTML != second.HTML || !reflect.DeepEqual(first.Contents, second.Contents) {
		t.Errorf("second render differs:\n%s\n%s", first.HTML, second.HTML)
	}
	if n := r.cache.len(); n != 1 {
		t.Errorf("cache holds %d renderings, want 1", n)
	}
	second.Contents[0].Text = "changed by the caller"
	if third := mustRender(t, r, string(src), nil); third.Contents[0].Text != "Section" {
		t.Errorf("a caller's change reached the cache: %q", third.Contents[0].Text)
	}

	// The page linked to is created: the cached rendering is not reused.
	withOther := CurriculumLinks(func(slug string) bool { return slug == "other" })
	if out := mustRender(t, r, string(src), withOther); !strings.Contains(string(out.HTML), `href="/curriculum/other"`) {
		t.Errorf("stale rendering after the linked page appeared: %s", out.HTML)
	}
	if out := mustRender(t, r, string(src), withOther); !strings.Contains(string(out.HTML), `href="/curriculum/other"`) {
		t.Errorf("cached rendering lost the link: %s", out.HTML)
	}

	// The cache is bounded.
	for i := range cacheEntries + 10 {
		mustRender(t, r, fmt.Sprintf("page %d", i), nil)
	}
	if n := r.cache.len(); n != cacheEntries {
		t.Errorf("cache holds %d renderings, want at most %d", n, cacheEntries)
	}
}

func TestRenderConcurrently(t *testing.T) {
	r := NewRenderer()
	want := mustRender(t, r, "## A\n\n[b](b.md) \"c\"", nil).HTML
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				src := fmt.Sprintf("## A\n\n[b](b.md) \"c\"\n\n%d", (i*50+j)%7)
				if j%2 == 0 {
					src = "## A\n\n[b](b.md) \"c\""
				}
				out, err := r.Render([]byte(src), nil)
				if err != nil {
					t.Error(err)
					return
				}
				if j%2 == 0 && out.HTML != want {
					t.Errorf("got %s, want %s", out.HTML, want)
				}
			}
		}()
	}
	wg.Wait()
}

func TestRenderTooLong(t *testing.T) {
	if _, err := NewRenderer().Render(make([]byte, MaxSourceBytes+1), nil); err == nil {
		t.Error("a source over the limit was rendered")
	}
}

func TestRenderUserMarkdown(t *testing.T) {
	out := string(RenderUserMarkdown([]byte("## What I noticed\nfirst line\nsecond line <b>bold</b>\n\nSee [notes](notes.md) and https://example.com")))
	for _, want := range []string{
		"<h2>What I noticed</h2>", "first line<br>\nsecond line", "<!-- raw HTML omitted -->",
		`<a href="notes.md">notes</a>`, `<a href="https://example.com" rel="noopener noreferrer">`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("got\n%s\nwant it to hold %s", out, want)
		}
	}
}
