package assessment

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// GIFT, as Moodle's qformat_gift reads it, for the two kinds of question that are single
// best answer:
//
//   - multiple choice: Stem{=right ~wrong ~wrong}, with one "=" answer; "#" after an answer
//     starts its feedback, "####" before the closing brace the general feedback (our
//     explanation); "~%100%" counts as right and "~%0%" as wrong, as in Moodle;
//   - true/false: Stem{T}, {TRUE}, {F} or {FALSE}, with "#feedback if wrong#feedback if
//     right"; it becomes two options, True and False.
//
// Questions are separated by blank lines; "::name::" names a question; lines starting "//"
// are comments, in which Moodle's "[tag:…]" marks give tags; "$CATEGORY: path" sets the
// category of the questions after it, which becomes the tag "category:path" (our draws by
// tag play the part of Moodle's random questions from a category); "[markdown]", "[plain]",
// "[moodle]" or "[html]" before a text gives its format (HTML is turned into plain text).
// The escapes \~ \= \# \{ \} \: \\ and \n (a line break) work as in Moodle. Text after the
// answer block makes a missing-word question: the block becomes "_____" in the stem.
//
// Other kinds (short answer, matching, numerical, essay, description, multiple answers, or
// partial-credit weights) are reported as not supported, each with its line.

// Escaped characters are replaced by runes of the private use area while a question is
// taken apart, and put back in its texts.
const giftEscapable = "\\:#={}~n"

func giftPlaceholder(c byte) string {
	return string(rune(0xE000 + strings.IndexByte(giftEscapable, c)))
}

var giftRestore = func() *strings.Replacer {
	var pairs []string
	for i := 0; i < len(giftEscapable); i++ {
		c := string(giftEscapable[i])
		if c == "n" {
			c = "\n"
		}
		pairs = append(pairs, giftPlaceholder(giftEscapable[i]), c)
	}
	return strings.NewReplacer(pairs...)
}()

// giftHide replaces each escape with its placeholder.
func giftHide(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(giftEscapable, s[i+1]) >= 0 {
			b.WriteString(giftPlaceholder(s[i+1]))
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var (
	giftWeight = regexp.MustCompile(`^%(-*)([0-9]{1,2}\.?[0-9]*)%`)
	giftTag    = regexp.MustCompile(`\[tag:((?:\\\]|[^\]<>\x00-\x1f])+)\]`)
	giftFormat = map[string]bool{"moodle": true, "html": true, "plain": true, "markdown": true}
)

// giftBlock is one question's lines: from one blank line to the next.
type giftBlock struct {
	start    int      // line number of lines[0]
	lines    []string // trimmed, with comment lines left empty
	comments []string
}

// ParseGIFT reads multiple-choice and true/false questions in Moodle's GIFT format.
func ParseGIFT(src []byte) ([]ParsedQuestion, []ImportError) {
	lines, errs := sourceLines(src)
	if errs != nil {
		return nil, errs
	}
	var (
		out      []ParsedQuestion
		category string
		block    *giftBlock
	)
	flush := func() {
		if block == nil {
			return
		}
		q, cat, err := parseGIFTBlock(*block, category)
		switch {
		case err != nil:
			errs = append(errs, *err)
		case cat != "":
			category = cat
		case q != nil:
			out = append(out, *q)
		}
		block = nil
	}
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		if line == "" {
			flush()
			continue
		}
		if block == nil {
			block = &giftBlock{start: i + 1}
		}
		if strings.HasPrefix(line, "//") {
			block.comments = append(block.comments, line)
			line = ""
		}
		block.lines = append(block.lines, line)
	}
	flush()
	return out, errs
}

// parseGIFTBlock reads one block: a question, a category (returned as cat), or nothing
// (comments only).
func parseGIFTBlock(b giftBlock, category string) (q *ParsedQuestion, cat string, ierr *ImportError) {
	t := giftSource{text: giftHide(strings.Join(b.lines, "\n")), first: b.start}
	start := len(t.text) - len(strings.TrimLeft(t.text, " \t\n"))
	if start == len(t.text) {
		return nil, "", nil
	}
	qline := t.lineAt(start)
	if rest, ok := strings.CutPrefix(t.text[start:], "$CATEGORY:"); ok {
		first, more, _ := strings.Cut(rest, "\n")
		c := giftCategory(giftRestore.Replace(strings.TrimSpace(first)))
		switch {
		case strings.TrimSpace(more) != "":
			return nil, "", t.fail(qline+1, "leave a blank line between a $CATEGORY line and the question after it")
		case c == "":
			return nil, "", t.fail(qline, "$CATEGORY: gives no category")
		}
		return nil, c, nil
	}
	p := &ParsedQuestion{Line: qline}
	body := start
	if strings.HasPrefix(t.text[start:], "::") {
		end := strings.Index(t.text[start+2:], "::")
		if end < 0 {
			return nil, "", t.fail(qline, "the question name is not closed with ::")
		}
		p.Input.Name = giftRestore.Replace(strings.TrimSpace(t.text[start+2 : start+2+end]))
		body = start + 2 + end + 2
	}
	open, close, ierr := t.answerBlock(body, qline)
	if ierr != nil {
		return nil, "", ierr
	}
	stem := t.text[body:open]
	if after := t.text[close+1:]; strings.TrimSpace(after) != "" {
		stem += "_____" + after // Moodle's missing-word format
	}
	format, stem := giftText(stem, "moodle")
	p.Input.Stem = stem
	answers := t.text[open+1 : close]
	if gf := strings.LastIndex(answers, "####"); gf >= 0 {
		_, p.Input.Explanation = giftText(answers[gf+4:], format)
		answers = answers[:gf]
	}
	trimmed := strings.TrimSpace(answers)
	switch kind := giftKind(trimmed); kind {
	case "true/false":
		giftTrueFalse(p, trimmed, format)
	case "multiple choice":
		if ierr := giftChoices(p, answers, format, func(pos int) int { return t.lineAt(open + 1 + pos) }); ierr != nil {
			return nil, "", ierr
		}
	default:
		return nil, "", t.fail(qline, "%s is not supported: only single-best-answer multiple-choice questions (one = answer) and true/false questions can be imported", kind)
	}
	p.Input.Tags = giftTags(b.comments)
	if category != "" {
		p.Input.Tags = append(p.Input.Tags, "category:"+category)
	}
	return p, "", nil
}

// giftSource is a block's text, with its escapes hidden, and the line it starts on.
type giftSource struct {
	text  string
	first int
}

func (t giftSource) lineAt(pos int) int { return t.first + strings.Count(t.text[:pos], "\n") }

func (t giftSource) fail(line int, format string, args ...any) *ImportError {
	return &ImportError{Line: line, Reason: fmt.Sprintf(format, args...)}
}

// answerBlock finds the one answer block after body: the positions of its braces.
func (t giftSource) answerBlock(body, qline int) (open, close int, ierr *ImportError) {
	open = strings.IndexByte(t.text[body:], '{')
	close = strings.IndexByte(t.text[body:], '}')
	switch {
	case open < 0 && close < 0:
		return 0, 0, t.fail(qline, "the text has no answer block {…}: a description is not a question, and only multiple-choice and true/false questions can be imported")
	case open < 0 || close < 0 || close < open:
		return 0, 0, t.fail(qline, "the braces do not match: a question has one answer block {…}; write \\{ or \\} for a brace in the text")
	}
	open, close = body+open, body+close
	if more := strings.IndexAny(t.text[close+1:], "{}"); more >= 0 {
		return 0, 0, t.fail(t.lineAt(close+1+more), "a question has one answer block {…}; write \\{ or \\} for a brace in the text")
	}
	return open, close, nil
}

// giftKind says what kind of question an answer block makes, as Moodle decides it.
func giftKind(answers string) string {
	switch {
	case answers == "":
		return "an essay question"
	case answers[0] == '#':
		return "a numerical question"
	case strings.Contains(answers, "~"):
		if !strings.Contains(answers, "=") {
			return "a multiple-answer question (Moodle makes a choice question with no = answer one where several answers can be ticked)"
		}
		return "multiple choice"
	case strings.Contains(answers, "=") && strings.Contains(answers, "->"):
		return "a matching question"
	}
	tf, _, _ := strings.Cut(answers, "#")
	switch strings.TrimSpace(tf) {
	case "T", "TRUE", "F", "FALSE":
		return "true/false"
	}
	return "a short-answer question"
}

// giftChoices reads the answers of a multiple-choice question into p.
func giftChoices(p *ParsedQuestion, answers, format string, lineAt func(int) int) *ImportError {
	type piece struct {
		at    int
		right bool
		text  string
	}
	var pieces []piece
	from, right := 0, false
	cut := func(to int) {
		if t := answers[from:to]; strings.TrimSpace(t) != "" || from > 0 {
			pieces = append(pieces, piece{at: from, right: right, text: t})
		}
	}
	for i := 0; i < len(answers); i++ {
		if c := answers[i]; c == '~' || c == '=' {
			cut(i)
			from, right = i+1, c == '='
		}
	}
	cut(len(answers))
	rights := 0
	for _, pc := range pieces {
		text := strings.TrimSpace(pc.text)
		line := lineAt(pc.at + len(pc.text) - len(strings.TrimLeft(pc.text, " \t\n")))
		right := pc.right
		if m := giftWeight.FindStringSubmatch(text); m != nil && !pc.right {
			w, _ := strconv.ParseFloat(m[2], 64)
			switch {
			case m[1] == "" && w == 100:
				right = true
			case w != 0:
				return &ImportError{Line: line, Reason: fmt.Sprintf("answer weights (%s) give partial credit, which a single-best-answer question does not have: mark the best answer with = and the others with ~", m[0])}
			}
			text = text[len(m[0]):]
		}
		if right {
			rights++
			if rights > 1 {
				return &ImportError{Line: line, Reason: "a second right answer: only questions with one best answer are supported (multiple-answer questions are not)"}
			}
		}
		opt, fb, _ := strings.Cut(text, "#")
		o := Option{Right: right}
		_, o.Text = giftText(opt, format)
		_, o.Feedback = giftText(fb, format)
		p.Input.Options = append(p.Input.Options, o)
		p.OptionLines = append(p.OptionLines, line)
	}
	return nil
}

// giftTrueFalse makes a true/false question into two options, True and False; the first
// feedback is for a wrong answer, the second for a right one, as in Moodle.
func giftTrueFalse(p *ParsedQuestion, answers, format string) {
	parts := strings.SplitN(answers, "#", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	isTrue := strings.HasPrefix(strings.TrimSpace(parts[0]), "T")
	_, wrong := giftText(parts[1], format)
	_, right := giftText(parts[2], format)
	t, f := Option{Text: "True", Right: isTrue}, Option{Text: "False", Right: !isTrue}
	if isTrue {
		t.Feedback, f.Feedback = right, wrong
	} else {
		t.Feedback, f.Feedback = wrong, right
	}
	p.Input.Options = []Option{t, f}
	p.OptionLines = []int{p.Line, p.Line}
}

// giftText reads a text with an optional [format] in front (def when there is none), puts
// back its escaped characters and turns HTML into plain text.
func giftText(s, def string) (format, text string) {
	s = strings.TrimSpace(s)
	format = def
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s, ']'); end > 0 && giftFormat[s[1:end]] {
			format, s = s[1:end], s[end+1:]
		}
	}
	text = strings.TrimSpace(giftRestore.Replace(s))
	if format == "html" {
		text = htmlToText(text)
	}
	return format, text
}

var (
	htmlBreaks = regexp.MustCompile(`(?i)<br\s*/?>|</(p|div|li|h[1-6])\s*>`)
	htmlTags   = regexp.MustCompile(`<[^>]*>`)
	blankRuns  = regexp.MustCompile(`\n{3,}`)
)

// htmlToText keeps the words of HTML and its paragraph breaks; the rest of its formatting
// is lost.
func htmlToText(s string) string {
	s = htmlBreaks.ReplaceAllString(s, "\n")
	s = htmlTags.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	return strings.TrimSpace(blankRuns.ReplaceAllString(s, "\n\n"))
}

// giftTags reads Moodle's [tag:…] marks from a question's comments.
func giftTags(comments []string) []string {
	tags := []string{}
	for _, c := range comments {
		for _, m := range giftTag.FindAllStringSubmatch(c, -1) {
			tags = append(tags, strings.TrimSpace(strings.ReplaceAll(m[1], `\]`, "]")))
		}
	}
	return tags
}

// giftCategory turns a Moodle category path ("$course$/top/Module 1/Dialogism") into the
// part that names it ("Module 1/Dialogism").
func giftCategory(path string) string {
	if strings.HasPrefix(path, "$") {
		if i := strings.Index(path[1:], "$"); i >= 0 {
			path = strings.TrimPrefix(path[i+2:], "/")
		}
	}
	path = strings.TrimPrefix(path, "top/")
	if path == "top" {
		path = ""
	}
	return strings.TrimSpace(path)
}

var giftEscaper = strings.NewReplacer(`\`, `\\`, "~", `\~`, "=", `\=`, "#", `\#`, "{", `\{`, "}", `\}`, ":", `\:`, "\n", `\n`, "\r", "")

// giftWrite escapes a text; one that begins with "[" or "%" gets "[markdown]" in front, so
// that it is not taken for a format or an answer weight.
func giftWrite(s string) string {
	if strings.HasPrefix(s, "[") || strings.HasPrefix(s, "%") {
		return "[markdown]" + giftEscaper.Replace(s)
	}
	return giftEscaper.Replace(s)
}

// WriteGIFT writes the questions in GIFT as Moodle's exporter does: tags as "// [tag:…]"
// comments, the name, the stem marked [markdown], the options with = for the right one and
// ~ for the others, feedback after #, and the explanation as the general feedback after
// ####. Line breaks in a text are written \n. Nothing is lost: ParseGIFT reads it all back.
func WriteGIFT(w io.Writer, qs []Question) error {
	bw := bufio.NewWriter(w)
	for i, q := range qs {
		if i > 0 {
			bw.WriteString("\n")
		}
		if len(q.Tags) > 0 {
			bw.WriteString("//")
			for _, t := range q.Tags {
				bw.WriteString(" [tag:" + strings.ReplaceAll(t, "]", `\]`) + "]")
			}
			bw.WriteString("\n")
		}
		fmt.Fprintf(bw, "::%s::[markdown]%s{\n", giftEscaper.Replace(q.Name), giftEscaper.Replace(q.Stem))
		for _, o := range q.Options {
			mark := "~"
			if o.Right {
				mark = "="
			}
			bw.WriteString("\t" + mark + giftWrite(o.Text))
			if o.Feedback != "" {
				bw.WriteString("#" + giftWrite(o.Feedback))
			}
			bw.WriteString("\n")
		}
		if q.Explanation != "" {
			bw.WriteString("\t####" + giftWrite(q.Explanation) + "\n")
		}
		bw.WriteString("}\n")
	}
	return bw.Flush()
}
