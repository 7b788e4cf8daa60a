// Package content turns Markdown into safe HTML and keeps the curriculum: packs of Markdown
// pages with front matter, loaded and checked as a whole, and a store of page revisions
// that editors save, compare and restore.
package content

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"html/template"
	"sync"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
)

// MaxSourceBytes is the largest Markdown source Render accepts.
const MaxSourceBytes = 1 << 20

// cacheEntries bounds the render cache.
const cacheEntries = 512

// LinkResolver maps a relative link as written in a page (other-page.md#part) to the address
// it should point at; ok false leaves the link as written.
type LinkResolver func(target string) (href string, ok bool)

// Heading is one entry of a page's contents list: an h2 or h3 and its anchor.
type Heading struct {
	Level int
	ID    string
	Text  string
}

// Rendered is a page turned into HTML, with its contents list and length in words.
type Rendered struct {
	HTML     template.HTML
	Contents []Heading
	Words    int
}

// Renderer turns curriculum Markdown into HTML and remembers recent results. It is safe for
// concurrent use.
type Renderer struct {
	md    goldmark.Markdown
	cache *renderCache
}

// NewRenderer returns a Renderer with an empty cache.
func NewRenderer() *Renderer {
	return NewRendererKeeping(cacheEntries)
}

// NewRendererKeeping returns a Renderer that keeps its n most recent results; with n 0 it
// renders afresh every time.
func NewRendererKeeping(n int) *Renderer {
	return &Renderer{md: pageMarkdown(), cache: newRenderCache(n)}
}

// newMarkdown builds the one Markdown dialect of Polyphony: CommonMark with GFM tables,
// strikethrough and bare links, footnotes and typographic punctuation. Raw HTML is never
// passed through (goldmark's safe mode), and there is deliberately no attribute syntax, so
// an author cannot add attributes either. Headings get their anchors from assignHeadingIDs, not from goldmark, so that an anchor
// follows the heading as read rather than its Markdown.
func newMarkdown(hardWraps bool) goldmark.Markdown {
	var htmlOpts []renderer.Option
	if hardWraps {
		htmlOpts = append(htmlOpts, html.WithHardWraps())
	}
	return goldmark.New(
		goldmark.WithExtensions(
			extension.Table,
			extension.Strikethrough,
			extension.NewLinkify(extension.WithLinkifyAllowedProtocols([]string{"http:", "https:", "mailto:"})),
			extension.Footnote,
			extension.Typographer,
		),
		goldmark.WithRendererOptions(htmlOpts...),
	)
}

// Render turns Markdown into HTML: links and images are made safe, relative links are
// rewritten by links (nil leaves them as written), and the h2 and h3 headings are listed.
// Results are cached by source; a cached result is reused only while links still resolves
// every relative link the same way.
func (r *Renderer) Render(src []byte, links LinkResolver) (Rendered, error) {
	if len(src) > MaxSourceBytes {
		return Rendered{}, fmt.Errorf("the text is %d KB long; at most %d KB can be shown", len(src)/1024, MaxSourceBytes/1024)
	}
	key := sha256.Sum256(src)
	if out, ok := r.cache.get(key, links); ok {
		return out, nil
	}
	out, targets, hrefs, err := r.render(src, links)
	if err != nil {
		return Rendered{}, err
	}
	r.cache.put(key, out, targets, hrefs, len(src))
	return out.clone(), nil
}

// render does the work of Render without the cache. It also returns every relative link
// target offered to links and what links made of it ("" when it declined).
func (r *Renderer) render(src []byte, links LinkResolver) (Rendered, []string, []string, error) {
	doc := parse(r.md, src)
	assignHeadingIDs(doc, src)
	res := newResolution(links)
	makeSafe(doc, src, res.resolve)
	var buf bytes.Buffer
	buf.Grow(len(src) + len(src)/2)
	if err := r.md.Renderer().Render(&buf, src, doc); err != nil {
		return Rendered{}, nil, nil, fmt.Errorf("render Markdown: %w", err)
	}
	out := Rendered{
		HTML:     template.HTML(buf.String()),
		Contents: contents(doc, src),
		Words:    countWords(doc, src),
	}
	return out, res.targets, res.hrefs, nil
}

// clone copies the contents list, so that a caller changing it does not change the cache.
func (out Rendered) clone() Rendered {
	if out.Contents != nil {
		out.Contents = append([]Heading(nil), out.Contents...)
	}
	return out
}

// resolution records what a LinkResolver made of each relative link during one render.
type resolution struct {
	links   LinkResolver
	targets []string
	hrefs   []string
}

func newResolution(links LinkResolver) *resolution { return &resolution{links: links} }

func (res *resolution) resolve(target string) (string, bool) {
	// With no resolver every link stays as written.
	href, ok := target, true
	if res.links != nil {
		href, ok = res.links(target)
	}
	if !ok {
		href = ""
	}
	res.targets = append(res.targets, target)
	res.hrefs = append(res.hrefs, href)
	return href, ok
}

var userMarkdown = sync.OnceValue(func() goldmark.Markdown { return newMarkdown(true) })

// RenderUserMarkdown turns what a person typed (a journal entry, feedback) into HTML with
// the same safety as curriculum pages. Relative links stay as written, headings get no
// anchors, and a line break is kept as a line break, as people expect in a text box.
func RenderUserMarkdown(src []byte) template.HTML {
	md := userMarkdown()
	doc := parse(md, src)
	makeSafe(doc, src, nil)
	var buf bytes.Buffer
	if err := md.Renderer().Render(&buf, src, doc); err != nil {
		// Rendering into memory does not fail; if it ever did, show nothing rather than
		// half a document.
		return ""
	}
	return template.HTML(buf.String())
}

// parse reads Markdown into a tree without rendering it, for the checks on a page.
func parse(md goldmark.Markdown, src []byte) ast.Node {
	return md.Parser().Parse(text.NewReader(src))
}
