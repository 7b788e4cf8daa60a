package curriculum

import (
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// page is one curriculum file, split into its front matter and its Markdown body.
type page struct {
	name  string            // file name, e.g. "immediate-help.md"
	meta  map[string]string // front matter keys and values
	body  string            // Markdown after the front matter
	lines []string          // the whole file, line by line
}

var frontMatterKeys = []string{"title", "slug", "module", "order", "release", "readingMinutes"}

// requiredSlugs are the pages the programme relies on.
var requiredSlugs = []string{
	"programme-overview", "reading-list",
	"module-1-overview", "module-2-overview", "module-3-overview", "module-4-overview",
	"social-network-perspective", "immediate-help", "responsibility", "psychological-continuity",
	"flexibility-and-mobility", "dialogism-and-polyphony", "tolerance-of-uncertainty",
	"mindful-approach", "cultivating-agency", "risk-and-governance", "peer-support", "evidence-base",
}

func loadPages(t *testing.T) []page {
	t.Helper()
	names, err := fs.Glob(FS, "*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no curriculum pages embedded")
	}
	var pages []page
	for _, name := range names {
		data, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := parsePage(name, string(data))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		pages = append(pages, p)
	}
	return pages
}

func parsePage(name, text string) (page, error) {
	p := page{name: name, meta: map[string]string{}, lines: strings.Split(text, "\n")}
	if !strings.HasPrefix(text, "---\n") {
		return p, fmt.Errorf("does not start with a front matter block")
	}
	end := strings.Index(text[4:], "\n---\n")
	if end < 0 {
		return p, fmt.Errorf("front matter block is not closed")
	}
	head := text[4 : 4+end]
	p.body = text[4+end+5:]
	for _, line := range strings.Split(head, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return p, fmt.Errorf("front matter line %q is not key: value", line)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if _, dup := p.meta[key]; dup {
			return p, fmt.Errorf("front matter key %q repeated", key)
		}
		p.meta[key] = value
	}
	for _, key := range frontMatterKeys {
		if p.meta[key] == "" {
			return p, fmt.Errorf("front matter lacks %q", key)
		}
	}
	if len(p.meta) != len(frontMatterKeys) {
		return p, fmt.Errorf("front matter has unknown keys: %v", p.meta)
	}
	return p, nil
}

// bodyOutsideCode returns the body's lines with fenced code blocks blanked and inline code
// spans removed, so that checks on prose and markup do not trip over code.
func bodyOutsideCode(body string) []string {
	var out []string
	fence := ""
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			out = append(out, "")
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			out = append(out, "")
			continue
		}
		out = append(out, inlineCode.ReplaceAllString(line, ""))
	}
	return out
}

var (
	inlineCode = regexp.MustCompile("`+[^`]*`+")
	heading    = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	link       = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	rawHTML    = regexp.MustCompile(`<[A-Za-z/!]`)
	release    = regexp.MustCompile(`^(immediately|\d{4}-\d{2}-\d{2}|after module ([1-4]))$`)
	footRef    = regexp.MustCompile(`\[\^([^\]]+)\]`)
	footDef    = regexp.MustCompile(`^\[\^([^\]]+)\]:`)
	scheme     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
)

// headingID turns heading text into its anchor: lower case, spaces as hyphens,
// punctuation removed.
func headingID(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

type headingInfo struct {
	level int
	text  string
}

func headings(body string) []headingInfo {
	var hs []headingInfo
	for _, line := range bodyOutsideCode(body) {
		if m := heading.FindStringSubmatch(line); m != nil {
			hs = append(hs, headingInfo{level: len(m[1]), text: m[2]})
		}
	}
	return hs
}

func wordCount(body string) int {
	n := 0
	for _, w := range strings.Fields(body) {
		if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			n++
		}
	}
	return n
}

func TestFrontMatter(t *testing.T) {
	pages := loadPages(t)
	slugs := map[string]string{}
	positions := map[string]string{}
	for _, p := range pages {
		m := p.meta
		if want := strings.TrimSuffix(p.name, ".md"); m["slug"] != want {
			t.Errorf("%s: slug %q does not match the file name", p.name, m["slug"])
		}
		if other, dup := slugs[m["slug"]]; dup {
			t.Errorf("%s: slug %q already used by %s", p.name, m["slug"], other)
		}
		slugs[m["slug"]] = p.name

		title := m["title"]
		if strings.ContainsAny(title[:1], `"'`) || strings.Contains(title, ": ") || strings.HasPrefix(title, "#") {
			t.Errorf("%s: title %q must be a plain YAML scalar", p.name, title)
		}
		if r, _ := utf8.DecodeRuneInString(title); !unicode.IsUpper(r) && !unicode.IsDigit(r) {
			t.Errorf("%s: title %q should start with a capital letter", p.name, title)
		}

		module, err := strconv.Atoi(m["module"])
		if err != nil || module < 0 || module > 4 {
			t.Errorf("%s: module %q is not 0 to 4", p.name, m["module"])
		}
		order, err := strconv.Atoi(m["order"])
		if err != nil || order < 1 {
			t.Errorf("%s: order %q is not a positive integer", p.name, m["order"])
		}
		pos := m["module"] + "/" + m["order"]
		if other, dup := positions[pos]; dup {
			t.Errorf("%s: module %s order %s already used by %s", p.name, m["module"], m["order"], other)
		}
		positions[pos] = p.name

		rel := release.FindStringSubmatch(m["release"])
		switch {
		case rel == nil:
			t.Errorf("%s: release %q is not immediately, YYYY-MM-DD or after module N", p.name, m["release"])
		case strings.Contains(rel[1], "-") && !strings.HasPrefix(rel[1], "after"):
			if _, err := time.Parse(time.DateOnly, rel[1]); err != nil {
				t.Errorf("%s: release date %q: %v", p.name, rel[1], err)
			}
		case rel[2] != "":
			if n, _ := strconv.Atoi(rel[2]); n >= module {
				t.Errorf("%s: a module %d page released %q would open too late", p.name, module, m["release"])
			}
		}

		minutes, err := strconv.Atoi(m["readingMinutes"])
		words := wordCount(p.body)
		want := int(math.Max(1, math.Round(float64(words)/200)))
		if err != nil || minutes < 1 || math.Abs(float64(minutes-want)) > 1 {
			t.Errorf("%s: readingMinutes %q, but %d words suggest %d", p.name, m["readingMinutes"], words, want)
		}
		if words < 400 || words > 1200 {
			t.Errorf("%s: %d words, want 400 to 1200", p.name, words)
		}
	}
	for _, slug := range requiredSlugs {
		if _, ok := slugs[slug]; !ok {
			t.Errorf("missing page %s.md", slug)
		}
	}
}

func TestStructure(t *testing.T) {
	for _, p := range loadPages(t) {
		hs := headings(p.body)
		var h2 []string
		for _, h := range hs {
			if h.level != 2 && h.level != 3 {
				t.Errorf("%s: heading %q is level %d; use ## and ### only", p.name, h.text, h.level)
			}
			if r, _ := utf8.DecodeRuneInString(h.text); !unicode.IsUpper(r) && !unicode.IsDigit(r) {
				t.Errorf("%s: heading %q should start with a capital letter", p.name, h.text)
			}
			if h.level == 2 {
				h2 = append(h2, h.text)
			}
		}
		if len(h2) < 2 {
			t.Errorf("%s: fewer than two ## headings, so no useful contents list", p.name)
		}
		reflective := false
		for _, h := range h2 {
			if h == "Questions to take into your journal" || h == "Reflect" {
				reflective = true
			}
		}
		if !reflective {
			t.Errorf("%s: no journal questions or Reflect section", p.name)
		}
		if p.meta["slug"] != "reading-list" && (len(h2) == 0 || h2[len(h2)-1] != "Read more") {
			t.Errorf("%s: the last ## section should be Read more", p.name)
		}
	}
}

func TestLinks(t *testing.T) {
	pages := loadPages(t)
	ids := map[string]map[string]bool{}
	for _, p := range pages {
		ids[p.name] = map[string]bool{}
		for _, h := range headings(p.body) {
			ids[p.name][headingID(h.text)] = true
		}
	}
	for _, p := range pages {
		for _, line := range bodyOutsideCode(p.body) {
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if scheme.MatchString(target) || strings.HasPrefix(target, "//") {
					continue // an external address
				}
				file, anchor, _ := strings.Cut(target, "#")
				if file == "" {
					file = p.name
				} else if !strings.HasSuffix(file, ".md") || strings.ContainsAny(file, `/\`) {
					t.Errorf("%s: link %q is not a relative link to a page of this folder", p.name, target)
					continue
				}
				headingIDs, ok := ids[file]
				if !ok {
					t.Errorf("%s: link %q points at a page that does not exist", p.name, target)
					continue
				}
				if anchor != "" && !headingIDs[anchor] {
					t.Errorf("%s: link %q points at a heading that %s does not have", p.name, target, file)
				}
			}
		}
	}
}

func TestNoRawHTML(t *testing.T) {
	for _, p := range loadPages(t) {
		for i, line := range bodyOutsideCode(p.body) {
			if loc := rawHTML.FindStringIndex(line); loc != nil {
				t.Errorf("%s: body line %d has raw HTML at %q", p.name, i+1, line[loc[0]:min(len(line), loc[0]+20)])
			}
		}
	}
}

func TestLineLength(t *testing.T) {
	for _, p := range loadPages(t) {
		for i, line := range p.lines {
			if n := utf8.RuneCountInString(line); n > 400 {
				t.Errorf("%s:%d: line is %d characters, at most 400 allowed", p.name, i+1, n)
			}
		}
	}
}

func TestFootnotes(t *testing.T) {
	for _, p := range loadPages(t) {
		refs, defs := map[string]bool{}, map[string]bool{}
		for _, line := range bodyOutsideCode(p.body) {
			if m := footDef.FindStringSubmatch(line); m != nil {
				defs[m[1]] = true
				line = line[len(m[0]):]
			}
			for _, m := range footRef.FindAllStringSubmatch(line, -1) {
				refs[m[1]] = true
			}
		}
		for r := range refs {
			if !defs[r] {
				t.Errorf("%s: footnote [^%s] has no definition", p.name, r)
			}
		}
		for d := range defs {
			if !refs[d] {
				t.Errorf("%s: footnote [^%s] is defined but never used", p.name, d)
			}
		}
	}
}

// tableRows returns the cells of every GFM table row in the body, trimmed.
func tableRows(body string) [][]string {
	var rows [][]string
	for _, line := range bodyOutsideCode(body) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") || !strings.HasSuffix(line, "|") {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.TrimSpace(c))
		}
		rows = append(rows, cells)
	}
	return rows
}

func TestEvidenceTable(t *testing.T) {
	data, err := fs.ReadFile(FS, "evidence-base.md")
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePage("evidence-base.md", string(data))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Outcome", "Open dialogue approach, n = 23", "Treatment as usual, n = 14"},
		{"Mild/no symptoms", "19 (82%)", "7 (50%)"},
		{"Relapse", "6 (26%)", "10 (71%)"},
		{"Studying, working or job seeking", "19 (83%)", "4 (30%)"},
		{"Antipsychotic use", "8 (35%)", "14 (100%)"},
		{"Mean hospital admissions, days", "14.3", "116.9"},
	}
	rows := tableRows(p.body)
	for _, w := range want {
		found := false
		for _, r := range rows {
			if strings.Join(r, "|") == strings.Join(w, "|") {
				found = true
			}
		}
		if !found {
			t.Errorf("evidence-base.md: no table row | %s |", strings.Join(w, " | "))
		}
	}
	if !strings.Contains(p.body, "Source: Seikkula et al (2003)") {
		t.Error("evidence-base.md: the table does not give its source, Seikkula et al (2003)")
	}
}
