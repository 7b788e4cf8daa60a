package content

import (
	"sort"
	"strings"

	"github.com/yuin/goldmark/ast"
)

// curriculumPath is where a page is read on the site.
const curriculumPath = "/curriculum/"

// pageLink reads a link to another page as written in Markdown (other-page.md, or
// ./other-page.md#part) and returns the page's name (the file name without .md, which is the
// page's slug) and the fragment. ok is false for anything else: other sites, fragments of
// this page, files that are not Markdown.
func pageLink(dest string) (name, fragment string, ok bool) {
	if !resolvable(dest) {
		return "", "", false
	}
	file, fragment, _ := strings.Cut(dest, "#")
	file, _, _ = strings.Cut(file, "?")
	file = strings.TrimPrefix(file, "./")
	name, isMarkdown := strings.CutSuffix(file, ".md")
	if !isMarkdown || name == "" {
		return "", "", false
	}
	return name, fragment, true
}

// CurriculumLinks is the LinkResolver for curriculum pages: a link to other-page.md#part
// becomes /curriculum/other-page#part when known reports that the page exists.
func CurriculumLinks(known func(slug string) bool) LinkResolver {
	return func(target string) (string, bool) {
		name, fragment, ok := pageLink(target)
		if !ok || !known(name) {
			return "", false
		}
		href := curriculumPath + name
		if fragment != "" {
			href += "#" + fragment
		}
		return href, true
	}
}

// linkRef is a link to another page found in a page's Markdown.
type linkRef struct {
	Target   string // as written
	Name     string // the linked page's file name without .md
	Fragment string // the anchor on that page, if any
	Line     int    // in the Markdown, from 1
}

// pageLinks lists the links to other pages in a parsed page, with the line each is on.
func pageLinks(doc ast.Node, src []byte) []linkRef {
	lines := newLineIndex(src)
	var out []linkRef
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		l, ok := n.(*ast.Link)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		target := unescapeText(l.Destination)
		if name, fragment, ok := pageLink(target); ok {
			out = append(out, linkRef{Target: target, Name: name, Fragment: fragment, Line: lines.line(offsetOf(l))})
		}
		return ast.WalkContinue, nil
	})
	return out
}

// offsetOf finds where an inline node starts in the source: at its first piece of text, or
// failing that at the start of the block that holds it. -1 when nothing tells.
func offsetOf(n ast.Node) int {
	offset := -1
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering && t.Segment.Len() > 0 {
			offset = t.Segment.Start
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	for p := n; offset < 0 && p != nil; p = p.Parent() {
		if p.Type() == ast.TypeBlock && p.Lines() != nil && p.Lines().Len() > 0 {
			offset = p.Lines().At(0).Start
		}
	}
	return offset
}

// lineIndex turns byte offsets into line numbers.
type lineIndex []int // offsets at which lines start

func newLineIndex(src []byte) lineIndex {
	starts := lineIndex{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// line is the line, from 1, holding offset; 1 for an unknown offset.
func (li lineIndex) line(offset int) int {
	if offset < 0 {
		return 1
	}
	return sort.Search(len(li), func(i int) bool { return li[i] > offset })
}
