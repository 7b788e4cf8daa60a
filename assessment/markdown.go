package assessment

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// The Markdown question format holds everything a question has, reads well as Markdown, and
// survives a round trip exactly: WriteMarkdown then ParseMarkdown gives back the same
// questions. The specification, also in FORMAT.md:
//
//	# Any title                      (optional; before the first question only a "# " title,
//	                                  blank lines and <!-- comments --> may appear)
//	## Name of the question          a line starting "## " starts a question and names it
//	Tags: principle:dialogism, module:1
//	                                 optional, the first line after the name; commas between
//	The stem, in Markdown, over as many lines and paragraphs as it needs.
//
//	- [ ] A wrong option             "- [ ] " starts an option, "- [x] " the right one
//	  Feedback: Why it is wrong.     optional, indented by two spaces
//	- [x] The best answer, which may
//	  continue on lines indented by two spaces.
//	  Feedback: Why it is best.
//
//	Explanation:
//	The general explanation, in Markdown, up to the next "## " line.
//
// Structure is recognised only at the start of a line (after the two spaces of an option's
// continuation): "## ", "- [ ]", "- [x]", "Tags:", "Feedback:" and "Explanation:" (the words
// in any case). A line of text that begins with one of these is written with a backslash in
// front ("\## not a question"); reading removes one backslash from a line that begins with
// backslashes followed by one of these, and leaves every other line as it is. The text on
// the same line as "- [ ]", "Feedback:" or "Explanation:" is taken as written.
//
// Every text is trimmed, and the spaces at the ends of its lines removed (line breaks are
// kept as line breaks when shown, so they carry no meaning). A question has 2 to 8 options and
// exactly one marked [x].

var (
	mdHeading     = regexp.MustCompile(`^##(\s|$)`)
	mdOption      = regexp.MustCompile(`^- \[([ xX])\](\s|$)`)
	mdStructure   = regexp.MustCompile(`(?i)^(##(\s|$)|- \[[ x]\](\s|$)|tags:|feedback:|explanation:)`)
	mdEscaped     = regexp.MustCompile(`(?i)^\\+(##(\s|$)|- \[[ x]\](\s|$)|tags:|feedback:|explanation:)`)
	mdTags        = regexp.MustCompile(`(?i)^tags:`)
	mdFeedback    = regexp.MustCompile(`(?i)^feedback:`)
	mdExplanation = regexp.MustCompile(`(?i)^explanation:`)
)

func mdEscape(line string) string {
	if mdStructure.MatchString(strings.TrimLeft(line, `\`)) {
		return `\` + line
	}
	return line
}

func mdUnescape(line string) string {
	if mdEscaped.MatchString(line) {
		return line[1:]
	}
	return line
}

type mdState int

const (
	mdPreamble mdState = iota
	mdNamed            // after "## ", where Tags: may come
	mdStem
	mdOptionText
	mdFeedbackText
	mdExplanationText
)

// mdReader is ParseMarkdown's state while it goes through the lines.
type mdReader struct {
	out   []ParsedQuestion
	errs  []ImportError
	state mdState
	cur   *ParsedQuestion
	field *strings.Builder // the text being read
	// Texts of the question being read; option i's text is opts[i], its feedback fbs[i].
	stem, expl strings.Builder
	opts, fbs  []*strings.Builder
	broken     bool
	saidIntro  bool
}

// ParseMarkdown reads questions in the Markdown format described in FORMAT.md.
func ParseMarkdown(src []byte) ([]ParsedQuestion, []ImportError) {
	lines, errs := sourceLines(src)
	if errs != nil {
		return nil, errs
	}
	r := &mdReader{}
	for i, line := range lines {
		r.line(i+1, line)
	}
	r.finish()
	return r.out, r.errs
}

func (r *mdReader) fail(line int, format string, args ...any) {
	r.errs = append(r.errs, ImportError{Line: line, Reason: fmt.Sprintf(format, args...)})
}

func (r *mdReader) line(n int, line string) {
	if mdHeading.MatchString(line) {
		r.finish()
		r.cur = &ParsedQuestion{Line: n, Input: QuestionInput{Name: strings.TrimSpace(line[2:])}}
		r.state = mdNamed
		return
	}
	blank := strings.TrimSpace(line) == ""
	switch r.state {
	case mdPreamble:
		if !blank && !strings.HasPrefix(line, "# ") && !strings.HasPrefix(strings.TrimSpace(line), "<!--") && !r.saidIntro {
			r.fail(n, "text before the first question: start each question with a line \"## name\"")
			r.saidIntro = true
		}
	case mdNamed:
		switch {
		case blank:
		case mdTags.MatchString(line):
			for _, t := range strings.Split(line[len("tags:"):], ",") {
				if t = strings.TrimSpace(t); t != "" {
					r.cur.Input.Tags = append(r.cur.Input.Tags, t)
				}
			}
			r.state = mdStem
		default:
			r.state = mdStem
			r.line(n, line)
		}
	case mdStem:
		if r.structure(n, line) {
			return
		}
		r.add(&r.stem, mdUnescape(line))
	case mdOptionText, mdFeedbackText:
		if r.structure(n, line) {
			return
		}
		switch {
		case blank:
			r.add(r.field, "")
		case strings.HasPrefix(line, "  "):
			text := line[2:]
			if mdFeedback.MatchString(text) {
				r.feedback(n, text)
				return
			}
			r.add(r.field, mdUnescape(text))
		default:
			r.fail(n, "continue an option or its feedback on lines indented by two spaces, or start the general explanation with \"Explanation:\"")
			r.broken = true
		}
	case mdExplanationText:
		r.add(&r.expl, mdUnescape(line))
	}
}

// structure handles a line that starts an option, a feedback or the explanation, reporting
// whether it was one.
func (r *mdReader) structure(n int, line string) bool {
	switch {
	case mdOption.MatchString(line):
		m := mdOption.FindStringSubmatch(line)
		b := &strings.Builder{}
		b.WriteString(strings.TrimSpace(line[len(m[0]):]))
		r.opts, r.fbs = append(r.opts, b), append(r.fbs, nil)
		r.cur.Input.Options = append(r.cur.Input.Options, Option{Right: m[1] != " "})
		r.cur.OptionLines = append(r.cur.OptionLines, n)
		r.field, r.state = b, mdOptionText
	case mdExplanation.MatchString(line):
		if r.state == mdExplanationText {
			return false
		}
		r.expl.WriteString(strings.TrimSpace(line[len("explanation:"):]))
		r.state = mdExplanationText
	case mdFeedback.MatchString(line) && r.state != mdStem:
		r.feedback(n, line)
	default:
		return false
	}
	return true
}

func (r *mdReader) feedback(n int, text string) {
	i := len(r.opts) - 1
	if r.fbs[i] != nil {
		r.fail(n, "option %s already has its feedback", Label(i))
		r.broken = true
		return
	}
	b := &strings.Builder{}
	b.WriteString(strings.TrimSpace(text[len("feedback:"):]))
	r.fbs[i] = b
	r.field, r.state = b, mdFeedbackText
}

// add appends a line to a text; blank lines before its first line are dropped.
func (r *mdReader) add(b *strings.Builder, line string) {
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	b.WriteString(line)
}

// finish completes the question being read, if any.
func (r *mdReader) finish() {
	if r.cur != nil && !r.broken {
		q := *r.cur
		q.Input.Stem = r.stem.String()
		q.Input.Explanation = r.expl.String()
		for i := range q.Input.Options {
			q.Input.Options[i].Text = r.opts[i].String()
			if r.fbs[i] != nil {
				q.Input.Options[i].Feedback = r.fbs[i].String()
			}
		}
		if q.Input.Tags == nil {
			q.Input.Tags = []string{}
		}
		r.out = append(r.out, q)
	}
	r.cur, r.field, r.opts, r.fbs, r.broken = nil, nil, nil, nil, false
	r.stem.Reset()
	r.expl.Reset()
	r.state = mdPreamble
}

// WriteMarkdown writes the questions in the Markdown format, under a "# title" if title is
// not empty. Nothing a question holds is lost except its id, revision and author.
func WriteMarkdown(w io.Writer, title string, qs []Question) error {
	bw := bufio.NewWriter(w)
	if title = oneLine(title); title != "" {
		bw.WriteString("# " + title + "\n\n")
	}
	for _, q := range qs {
		writeMarkdownQuestion(bw, q.Input())
	}
	return bw.Flush()
}

func writeMarkdownQuestion(bw *bufio.Writer, q QuestionInput) {
	bw.WriteString("## " + oneLine(q.Name) + "\n\n")
	if len(q.Tags) > 0 {
		bw.WriteString("Tags: " + strings.Join(q.Tags, ", ") + "\n\n")
	}
	for _, l := range strings.Split(q.Stem, "\n") {
		bw.WriteString(mdEscape(l) + "\n")
	}
	bw.WriteString("\n")
	for _, o := range q.Options {
		mark := "- [ ] "
		if o.Right {
			mark = "- [x] "
		}
		writeIndented(bw, mark, o.Text)
		if o.Feedback != "" {
			writeIndented(bw, "  Feedback: ", o.Feedback)
		}
	}
	if q.Explanation != "" {
		bw.WriteString("\nExplanation:\n")
		for _, l := range strings.Split(q.Explanation, "\n") {
			bw.WriteString(mdEscape(l) + "\n")
		}
	}
	bw.WriteString("\n")
}

// writeIndented writes a text's first line after lead and the others indented by two spaces.
func writeIndented(bw *bufio.Writer, lead, text string) {
	lines := strings.Split(text, "\n")
	bw.WriteString(lead + lines[0] + "\n")
	for _, l := range lines[1:] {
		if l == "" {
			bw.WriteString("\n")
			continue
		}
		bw.WriteString("  " + mdEscape(l) + "\n")
	}
}
