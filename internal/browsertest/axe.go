package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// AxeTags are the axe-core rule tags that Axe runs: WCAG 2.0, 2.1 and 2.2 at
// levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// axeTimeout is how long one run of axe-core may take. A long page takes
// several seconds on a slow machine.
const axeTimeout = 60 * time.Second

// Violation is one axe-core rule that the page breaks.
type Violation struct {
	ID          string          `json:"id"`     // rule id, such as "image-alt"
	Impact      string          `json:"impact"` // "minor", "moderate", "serious" or "critical"
	Description string          `json:"description"`
	Help        string          `json:"help"`    // one line on what the rule wants
	HelpURL     string          `json:"helpUrl"` // the page of the rule at Deque
	Tags        []string        `json:"tags"`
	Nodes       []ViolationNode `json:"nodes"`
}

// ViolationNode is one element that breaks a rule.
type ViolationNode struct {
	// Target holds the CSS selectors of the element. It has more than one
	// when the element is inside an iframe or a shadow root: each selector
	// then selects inside the element of the one before it.
	Target         []string `json:"target"`
	HTML           string   `json:"html"`
	FailureSummary string   `json:"failureSummary"`
}

// String describes the violation and each of its elements, on several lines.
func (v Violation) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s (%s): %s\n  %s\n", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&sb, "  - %s\n      %s\n", strings.Join(n.Target, " >>> "), abbreviate(n.HTML, 200))
		for line := range strings.SplitSeq(strings.TrimSpace(n.FailureSummary), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				fmt.Fprintf(&sb, "      %s\n", line)
			}
		}
	}
	return sb.String()
}

// FormatViolations describes the violations, one numbered entry each.
func FormatViolations(vs []Violation) string {
	var sb strings.Builder
	for i, v := range vs {
		fmt.Fprintf(&sb, "%d. %s", i+1, v.String())
	}
	return sb.String()
}

// axeRunJS runs axe-core on the document and returns the violations in the
// form of []Violation. The tags are its one argument.
const axeRunJS = `async (tags) => {
	const result = await axe.run(document, {
		runOnly: {type: 'tag', values: tags},
		resultTypes: ['violations'],
	});
	return result.violations.map((v) => ({
		id: v.id,
		impact: v.impact || '',
		description: v.description || '',
		help: v.help || '',
		helpUrl: v.helpUrl || '',
		tags: v.tags || [],
		nodes: v.nodes.map((n) => ({
			target: n.target.map((t) => Array.isArray(t) ? t.join(' ') : String(t)),
			html: n.html || '',
			failureSummary: n.failureSummary || '',
		})),
	}));
}`

// Axe runs axe-core on the current page with the rules of AxeTags (WCAG 2.2
// A and AA) and returns the violations; none is an empty slice. Failures go
// to t. The source of axe-core is read from POLYPHONY_AXE_JS, or else from
// node_modules/axe-core/axe.min.js at the root of the module. When it is
// missing, Axe skips the test, or fails it when CI is "true".
//
// The script is added through the DevTools protocol, which the
// Content-Security-Policy of the page does not restrict, so the page keeps
// its real policy.
func (b *Browser) Axe(t testing.TB) []Violation {
	t.Helper()
	src := axeSource(t)
	if src == "" {
		return nil
	}
	page := b.location()
	ctx, cancel := context.WithTimeout(b.tab.ctx, axeTimeout)
	defer cancel()

	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object' && typeof window.axe.run === 'function'`))
	if err == nil && !loaded {
		err = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src))
	}
	if err != nil {
		t.Fatalf("browsertest: loading axe-core into %s: %v", page, err)
	}

	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](
		fmt.Sprintf("(%s)(%s)", axeRunJS, mustJSON(AxeTags)), chromedp.EvalAwaitPromise))
	if err == nil && len(raw) == 0 {
		err = errors.New("axe.run gave no result")
	}
	var vs []Violation
	if err == nil {
		err = json.Unmarshal(raw, &vs)
	}
	if err != nil {
		t.Fatalf("browsertest: running axe-core on %s: %v", page, err)
	}
	if vs == nil {
		vs = []Violation{}
	}
	return vs
}

// AssertNoAxeViolations runs Axe and reports every violation on t, with its
// rule, impact, help and the selector and HTML of each element. The test is
// marked failed when there is any, and goes on.
func (b *Browser) AssertNoAxeViolations(t testing.TB) {
	t.Helper()
	vs := b.Axe(t)
	if len(vs) == 0 {
		return
	}
	t.Errorf("axe-core found %d accessibility violation(s) (WCAG 2.2 A/AA) on %s:\n%s",
		len(vs), b.location(), FormatViolations(vs))
}

// axeSources caches the source of axe-core by path.
var axeSources sync.Map

// axeSource returns the source of axe-core, or skips or fails t when it is
// missing.
func axeSource(t testing.TB) string {
	t.Helper()
	path := os.Getenv("POLYPHONY_AXE_JS")
	if path == "" {
		root, err := moduleRoot()
		if err != nil {
			missing(t, "axe-core missing: run `npm ci` (`make test` does): %v", err)
			return ""
		}
		path = filepath.Join(root, "node_modules", "axe-core", "axe.min.js")
	}
	if src, ok := axeSources.Load(path); ok {
		return src.(string)
	}
	data, err := os.ReadFile(path)
	if err == nil && len(data) == 0 {
		err = fmt.Errorf("%s is empty", path)
	}
	if err != nil {
		missing(t, "axe-core missing: run `npm ci` (`make test` does): %v", err)
		return ""
	}
	axeSources.Store(path, string(data))
	return string(data)
}

// moduleRoot returns the nearest directory at or above the working directory
// that holds a go.mod.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod in %s or above", wd)
		}
		dir = parent
	}
}

// mustJSON returns v as JSON.
func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}
