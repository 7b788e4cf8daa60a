package browsertest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
)

// Problem is something a page reported as wrong while a test used it: an error written to
// its console, an exception that no script caught, or a resource that the browser refused,
// such as one that the Content-Security-Policy blocks.
type Problem struct {
	Kind string // "console", "exception" or the browser's source: "security", "network", …
	Text string
	URL  string // the script or resource the message is about, when the browser says
	Page string // the page that was open
}

func (p Problem) String() string {
	s := p.Kind + ": " + p.Text
	if p.URL != "" && p.URL != p.Page {
		s += " (" + p.URL + ")"
	}
	return s + " on " + p.Page
}

// problems is what a tab has collected and not yet reported.
type problems struct {
	pending []Problem
	allowed []string
	// docs are the requests of documents that a frame loaded. The browser logs a document
	// that answers with an error status as a failed resource; a test that goes to such a
	// page means to, and reads its status with Status.
	docs map[network.RequestID]bool
	page string // the URL of the last document loaded
}

// onProblemEvent records the events of a tab that report a problem. It runs in the event
// loop of the tab, with tb.mu held.
func (tb *tab) onProblemEvent(ev any) {
	switch e := ev.(type) {
	case *network.EventResponseReceived:
		if e.Type == network.ResourceTypeDocument {
			tb.problems.docs[e.RequestID] = true
			if e.Response != nil {
				tb.problems.page = e.Response.URL
			}
		}
	case *runtime.EventExceptionThrown:
		if d := e.ExceptionDetails; d != nil {
			tb.addProblem(Problem{Kind: "exception", Text: exceptionText(d), URL: d.URL})
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			tb.addProblem(Problem{Kind: "console", Text: consoleText(e.Args)})
		}
	case *log.EventEntryAdded:
		en := e.Entry
		if en == nil || en.Level != log.EntryLevelError {
			return
		}
		if en.Source == log.EntrySourceNetwork && tb.problems.docs[en.NetworkRequestID] {
			return
		}
		tb.addProblem(Problem{Kind: string(en.Source), Text: en.Text, URL: en.URL})
	}
}

func (tb *tab) addProblem(p Problem) {
	for _, a := range tb.problems.allowed {
		if strings.Contains(p.Text, a) {
			return
		}
	}
	p.Page = tb.problems.page
	tb.problems.pending = append(tb.problems.pending, p)
}

// exceptionText is the message of an uncaught exception, as the console shows it.
func exceptionText(d *runtime.ExceptionDetails) string {
	text := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		text += " " + d.Exception.Description
	}
	return strings.TrimSpace(text)
}

// consoleText joins the arguments of a console call as the console prints them.
func consoleText(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		switch {
		case a.Description != "":
			parts = append(parts, a.Description)
		case len(a.Value) > 0:
			parts = append(parts, strings.Trim(string(a.Value), `"`))
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// AllowConsoleError keeps problems whose text contains substr from failing the test, for
// the rest of the tab's life. A test that cuts the network off on purpose allows the
// browser's "net::ERR_INTERNET_DISCONNECTED", and nothing else.
func (b *Browser) AllowConsoleError(substr string) {
	b.tab.mu.Lock()
	defer b.tab.mu.Unlock()
	b.tab.problems.allowed = append(b.tab.problems.allowed, substr)
}

// Problems returns the problems that the pages of the tab reported since the last call,
// and forgets them: the test then does not fail for them.
func (b *Browser) Problems() []Problem {
	b.tab.mu.Lock()
	defer b.tab.mu.Unlock()
	out := b.tab.problems.pending
	b.tab.problems.pending = nil
	return out
}

// reportProblems fails t with every problem that the tab's pages reported and no earlier
// report took. Every tab reports at the end of the test that opened it, and every view of
// For at the end of its own test, so a problem fails the test in which it happened.
func (b *Browser) reportProblems(t testing.TB) {
	t.Helper()
	ps := b.Problems()
	if len(ps) == 0 {
		return
	}
	var sb strings.Builder
	for i, p := range ps {
		fmt.Fprintf(&sb, "%d. %s\n", i+1, p)
	}
	t.Errorf("browsertest: the pages reported %d problem(s) (console errors, uncaught exceptions, refused resources):\n%s", len(ps), sb.String())
}
