package content

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"unicode/utf8"
)

// Pack is a checked set of curriculum pages, ready to import.
type Pack struct {
	Pages []PackPage // by module, then order, then slug
}

// PackPage is one page of a pack, as read from its file.
type PackPage struct {
	File           string
	Slug           string
	Title          string
	Module         int
	Order          int
	ReadingMinutes int // as written, or worked out from the length
	Release        Release
	Body           string // Markdown, without front matter
	Source         []byte // the whole file
}

// Problem is one thing wrong in a pack, at a line of a file.
type Problem struct {
	File   string
	Line   int
	Reason string
}

// String gives the problem as file:line: reason, the way compilers do.
func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Reason) }

// PackError lists everything wrong with a pack; a pack with any problem is refused whole.
type PackError struct {
	Problems []Problem
}

// Error gives the problems one to a line.
func (e *PackError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// loadedPage is a file read on its own, before the checks across the pack.
type loadedPage struct {
	PackPage
	slugLine int       // where the slug was given (1 when it comes from the file name)
	slugOK   bool      // the slug is well formed and the page can be linked to
	links    []linkRef // lines are file lines
	anchors  map[string]bool
}

// LoadPack reads every .md file at the top of fsys (folders are not read) and checks them
// as a whole: front matter, slugs, and the links between pages. When anything is wrong it
// returns a *PackError listing every problem, and no pages.
func LoadPack(fsys fs.FS) (Pack, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return Pack{}, fmt.Errorf("read content pack: %w", err)
	}
	var pages []*loadedPage
	var problems []Problem
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		src, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return Pack{}, fmt.Errorf("read content pack: %w", err)
		}
		lp, probs := loadPage(e.Name(), src)
		pages = append(pages, lp)
		problems = append(problems, probs...)
	}
	if len(pages) == 0 {
		return Pack{}, errors.New("the content pack holds no .md files")
	}
	problems = append(problems, checkPack(pages)...)
	if len(problems) > 0 {
		sort.SliceStable(problems, func(i, j int) bool {
			if problems[i].File != problems[j].File {
				return problems[i].File < problems[j].File
			}
			return problems[i].Line < problems[j].Line
		})
		return Pack{}, &PackError{Problems: problems}
	}
	var pack Pack
	for _, lp := range pages {
		pack.Pages = append(pack.Pages, lp.PackPage)
	}
	sort.Slice(pack.Pages, func(i, j int) bool {
		a, b := pack.Pages[i], pack.Pages[j]
		if a.Module != b.Module {
			return a.Module < b.Module
		}
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.Slug < b.Slug
	})
	return pack, nil
}

// loadPage reads one file. The page it returns always has a slug to check links against
// (the file name when nothing better is known), even when the file has problems.
func loadPage(file string, src []byte) (*loadedPage, []Problem) {
	lp := &loadedPage{PackPage: PackPage{File: file, Slug: strings.TrimSuffix(file, ".md"), Source: src}, slugLine: 1}
	if !utf8.Valid(src) {
		return lp, []Problem{{File: file, Line: firstInvalidUTF8Line(src), Reason: "the file is not UTF-8 text: save it as UTF-8"}}
	}
	text := bytes.ReplaceAll(bytes.TrimPrefix(src, []byte("\uFEFF")), []byte("\r\n"), []byte("\n"))
	fmSrc, body, bodyLine, reason := splitFrontMatter(text)
	if reason != "" {
		return lp, []Problem{{File: file, Line: 1, Reason: reason}}
	}
	if len(body) > MaxSourceBytes {
		return lp, []Problem{{File: file, Line: bodyLine, Reason: fmt.Sprintf("the page is %d KB long; at most %d KB", len(body)/1024, MaxSourceBytes/1024)}}
	}
	lp.Body = string(body)
	doc := parse(pageMarkdown(), body)
	lp.anchors = map[string]bool{}
	for _, id := range assignHeadingIDs(doc, body) {
		lp.anchors[id] = true
	}
	for _, l := range pageLinks(doc, body) {
		l.Line += bodyLine - 1
		lp.links = append(lp.links, l)
	}

	fm, problems, ok := parseFrontMatter(file, fmSrc)
	if !ok {
		return lp, problems
	}
	add := func(key, reason string) {
		problems = append(problems, Problem{File: file, Line: fm.line(key), Reason: reason})
	}
	if fm.has("slug") {
		lp.Slug, lp.slugLine = fm.slug, fm.line("slug")
	}
	if fm.has("slug") || fm.written["slug"] == 0 { // not a slug of the wrong type, reported already
		switch r := slugProblem(lp.Slug); {
		case r == "":
			lp.slugOK = true
		case fm.has("slug"):
			add("slug", "slug "+r)
		default:
			add("slug", "slug "+r+" (it comes from the file name; rename the file or add a slug: line)")
		}
	}
	if fm.written["title"] == 0 || fm.has("title") {
		lp.Title = strings.TrimSpace(fm.title)
		if r := titleProblem(lp.Title); r != "" {
			add("title", "title "+r)
		}
	}
	lp.Module, lp.Order = fm.module, fm.order
	if r := moduleProblem(lp.Module); r != "" && fm.has("module") {
		add("module", "module "+r)
	}
	if fm.has("release") {
		rel, err := ParseRelease(fm.release)
		if err != nil {
			add("release", "release "+err.Error())
		}
		lp.Release = rel
	}
	lp.ReadingMinutes = readingMinutes(countWords(doc, body))
	if fm.has("readingMinutes") {
		lp.ReadingMinutes = fm.minute
		if fm.minute < 1 {
			add("readingMinutes", fmt.Sprintf("readingMinutes must be 1 or more, not %d (leave it out to work it out from the length)", fm.minute))
		}
	}
	return lp, problems
}

// checkPack finds what is wrong between pages: two pages with one slug, and links to pages
// that are not in the pack.
func checkPack(pages []*loadedPage) []Problem {
	var problems []Problem
	bySlug := map[string]*loadedPage{}
	byFile := map[string]*loadedPage{}
	for _, lp := range pages {
		byFile[lp.File] = lp
		first, taken := bySlug[lp.Slug]
		switch {
		case taken && lp.slugOK && first.slugOK:
			problems = append(problems, Problem{File: lp.File, Line: lp.slugLine,
				Reason: fmt.Sprintf("slug %q is also the slug of %s; each page needs its own", lp.Slug, first.File)})
		case !taken:
			bySlug[lp.Slug] = lp
		}
	}
	for _, lp := range pages {
		for _, l := range lp.links {
			if target, ok := bySlug[l.Name]; ok {
				if l.Fragment != "" && target.anchors != nil && !target.anchors[l.Fragment] {
					problems = append(problems, Problem{File: lp.File, Line: l.Line,
						Reason: fmt.Sprintf("broken link to %s: %s has no heading with the anchor %q", l.Target, target.File, l.Fragment)})
				}
				continue
			}
			reason := fmt.Sprintf("broken link to %s: there is no such page in the pack", l.Target)
			if other, ok := byFile[l.Name+".md"]; ok {
				reason = fmt.Sprintf("link to %s: the page in that file has the slug %q, and pages link to each other by slug: write %s.md",
					l.Target, other.Slug, other.Slug)
			}
			problems = append(problems, Problem{File: lp.File, Line: l.Line, Reason: reason})
		}
	}
	return problems
}

// firstInvalidUTF8Line is the line holding the first byte that is not UTF-8.
func firstInvalidUTF8Line(src []byte) int {
	line := 1
	for len(src) > 0 {
		r, size := utf8.DecodeRune(src)
		if r == utf8.RuneError && size == 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		src = src[size:]
	}
	return line
}
