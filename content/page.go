package content

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/yuin/goldmark"

	"polyphony/internal/failure"
)

// Limits on a page's fields.
const (
	MaxTitle  = 120
	MaxSlug   = 100
	MaxModule = 4
)

// Page is one revision of a curriculum page.
type Page struct {
	Slug           string
	Title          string
	Module         int // 0 for the whole programme, 1 to 4 for a residential module
	Order          int // position within its module
	ReadingMinutes int // 0 when saving: worked out from the length
	Release        Release
	Body           string // Markdown, without front matter
	Revision       int
	SavedAt        time.Time
	SavedBy        string
	Hash           string // of the content: equal hashes, equal pages
}

// Released reports whether trainees may read the page at now. moduleEnd gives the last day
// of a residential module of the reader's cohort, when known; a page released after a module
// whose dates are unknown is not released.
func (p Page) Released(now time.Time, moduleEnd func(module int) (time.Time, bool)) bool {
	return p.Release.released(now, moduleEnd)
}

// ConflictError is returned by a save whose base revision is no longer the latest: someone
// else saved the page meanwhile, or created it. Nothing was overwritten; Current is what is
// stored now.
type ConflictError struct {
	Current Page
	created bool // the save meant to create the page
}

func (e *ConflictError) Error() string {
	if e.created {
		return fmt.Sprintf("a page with the slug %q exists already; nothing was overwritten", e.Current.Slug)
	}
	return fmt.Sprintf("page %q is now at revision %d, saved by someone else meanwhile; nothing was overwritten",
		e.Current.Slug, e.Current.Revision)
}

// Is makes errors.Is(err, failure.ErrConflict) true for a ConflictError.
func (e *ConflictError) Is(target error) bool { return target == failure.ErrConflict }

// pageMarkdown is the dialect of curriculum pages, shared by every reader of them.
var pageMarkdown = sync.OnceValue(func() goldmark.Markdown { return newMarkdown(false) })

var slugPattern = regexp.MustCompile(`^[a-z0-9-]+$`)

// Reasons a field is wrong, written to follow the field's name for the person who typed it;
// "" when it is right.

func slugProblem(slug string) string {
	switch {
	case slug == "":
		return "is missing"
	case len(slug) > MaxSlug:
		return fmt.Sprintf("is %d characters long; at most %d", len(slug), MaxSlug)
	case !slugPattern.MatchString(slug):
		return fmt.Sprintf("%q may hold only lower-case letters, digits and hyphens", slug)
	}
	return ""
}

func titleProblem(title string) string {
	switch n := utf8.RuneCountInString(title); {
	case strings.TrimSpace(title) == "":
		return "is missing"
	case n > MaxTitle:
		return fmt.Sprintf("is %d characters long; at most %d", n, MaxTitle)
	}
	return ""
}

func moduleProblem(module int) string {
	if module < 0 || module > MaxModule {
		return fmt.Sprintf("must be 0 for the whole programme or 1 to %d for a residential module, not %d", MaxModule, module)
	}
	return ""
}

// normalize checks a page's fields as a pack or a form gives them and fills in what is
// worked out: the reading time when it is 0, and the hash. It returns the links to other
// pages for the caller to check.
func (p Page) normalize() (Page, []linkRef, error) {
	p.Slug = strings.TrimSpace(p.Slug)
	p.Title = strings.TrimSpace(p.Title)
	p.Body = strings.ReplaceAll(p.Body, "\r\n", "\n")
	for _, f := range []struct{ field, reason string }{
		{"slug", slugProblem(p.Slug)}, {"title", titleProblem(p.Title)}, {"module", moduleProblem(p.Module)},
	} {
		if f.reason != "" {
			return p, nil, failure.Invalid(f.field, f.reason)
		}
	}
	rel, err := p.Release.normalize()
	if err != nil {
		return p, nil, failure.Invalid("release", err.Error())
	}
	p.Release = rel
	if p.ReadingMinutes < 0 {
		return p, nil, failure.Invalid("readingMinutes", "must be a whole number of minutes, or 0 to work it out from the length")
	}
	if len(p.Body) > MaxSourceBytes {
		return p, nil, failure.Invalidf("body", "is %d KB long; at most %d KB", len(p.Body)/1024, MaxSourceBytes/1024)
	}
	body := []byte(p.Body)
	doc := parse(pageMarkdown(), body)
	if p.ReadingMinutes == 0 {
		p.ReadingMinutes = readingMinutes(countWords(doc, body))
	}
	p.Hash = p.contentHash()
	return p, pageLinks(doc, body), nil
}

// checkLinks reports the links to pages that do not exist, all in one error.
func checkLinks(slug string, links []linkRef, known func(slug string) bool) error {
	var broken []string
	for _, l := range links {
		if l.Name != slug && !known(l.Name) {
			broken = append(broken, fmt.Sprintf("%s (line %d)", l.Target, l.Line))
		}
	}
	switch len(broken) {
	case 0:
		return nil
	case 1:
		return failure.Invalidf("body", "the link to %s points at no page", broken[0])
	default:
		return failure.Invalidf("body", "these links point at no page: %s", strings.Join(broken, ", "))
	}
}

// contentHash is a digest of everything a reader sees of the page.
func (p Page) contentHash() string {
	h := sha256.New()
	for _, field := range []string{p.Slug, p.Title, strconv.Itoa(p.Module), strconv.Itoa(p.Order),
		strconv.Itoa(p.ReadingMinutes), p.Release.String(), p.Body} {
		// Each field is preceded by its length, so that no two pages hash alike by
		// moving text from one field to the next.
		fmt.Fprintf(h, "%d:", len(field))
		h.Write([]byte(field))
	}
	return hex.EncodeToString(h.Sum(nil))
}
