package assessment

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Aiken, as Moodle reads it: a question's text on one line, then its options one to a line,
// each a capital letter, "." or ")", an optional space and the text, then "ANSWER: X".
// Lines shorter than two characters are skipped. A line that is not an option or an ANSWER
// starts a new question, so a question whose text runs onto a second line is reported as
// incomplete, as Moodle reports it. Unlike Moodle, which maps the answer letter to a
// position, the letters must run A, B, C in order, so that a slip cannot key the wrong
// option.
var (
	aikenOption        = regexp.MustCompile(`^[A-Z][).][ \t]?`)
	aikenAnswer        = regexp.MustCompile(`^ANSWER:`)
	aikenAnswerAnyCase = regexp.MustCompile(`(?i)^answer\s*:`)
)

// ParseAiken reads questions in Moodle's Aiken format.
func ParseAiken(src []byte) ([]ParsedQuestion, []ImportError) {
	lines, errs := sourceLines(src)
	if errs != nil {
		return nil, errs
	}
	var (
		out []ParsedQuestion
		cur *ParsedQuestion
		// broken marks a question already reported, which is not returned.
		broken bool
	)
	fail := func(line int, format string, args ...any) {
		errs = append(errs, ImportError{Line: line, Reason: fmt.Sprintf(format, args...)})
	}
	for i, raw := range lines {
		n := i + 1
		line := strings.TrimSpace(raw)
		if len(line) < 2 {
			continue
		}
		switch {
		case aikenOption.MatchString(line):
			if cur == nil {
				fail(n, "option %s comes before any question text", line[:1])
				continue
			}
			if want := Label(len(cur.Input.Options)); line[:1] != want {
				fail(n, "option %s is out of order: the options of the question on line %d must be lettered A, B, C… and this one should be %s", line[:1], cur.Line, want)
				broken = true
			}
			cur.Input.Options = append(cur.Input.Options, Option{Text: strings.TrimSpace(line[2:])})
			cur.OptionLines = append(cur.OptionLines, n)
		case aikenAnswer.MatchString(line):
			if cur == nil {
				fail(n, "ANSWER comes before any question text")
				continue
			}
			q, wasBroken := *cur, broken
			cur, broken = nil, false
			if wasBroken {
				continue
			}
			if err := aikenKey(&q, line, n); err != nil {
				errs = append(errs, *err)
				continue
			}
			out = append(out, q)
		case aikenAnswerAnyCase.MatchString(line):
			fail(n, "write the answer line as \"ANSWER: X\", in capitals, as Moodle expects")
		default:
			if cur != nil {
				fail(cur.Line, "the question has no ANSWER line before line %d (in Aiken the question text must be on one line, followed by its options and ANSWER: X)", n)
			}
			cur, broken = &ParsedQuestion{Line: n, Input: QuestionInput{Stem: line}}, false
		}
	}
	if cur != nil {
		fail(cur.Line, "the question has no ANSWER line")
	}
	return out, errs
}

// aikenKey marks the option the ANSWER line on line n names as right.
func aikenKey(q *ParsedQuestion, line string, n int) *ImportError {
	letter := strings.TrimSpace(line[len("ANSWER:"):])
	if letter == "" {
		return &ImportError{Line: n, Reason: "ANSWER: gives no letter"}
	}
	if len(q.Input.Options) < MinOptions {
		return &ImportError{Line: q.Line, Reason: fmt.Sprintf("the question has %d option(s) before its ANSWER line on line %d; it needs at least %d", len(q.Input.Options), n, MinOptions)}
	}
	right := int(letter[0]) - 'A'
	if right < 0 || right >= len(q.Input.Options) {
		return &ImportError{Line: n, Reason: fmt.Sprintf("ANSWER: %s is not one of the options A to %s", letter[:1], Label(len(q.Input.Options)-1))}
	}
	q.Input.Options[right].Right = true
	return nil
}

// WriteAiken writes the questions in Aiken. Aiken holds only the stem, the options and which
// is right: names, feedback, explanations and tags are left out, and the line breaks of a
// stem or an option become spaces.
func WriteAiken(w io.Writer, qs []Question) error {
	bw := bufio.NewWriter(w)
	for i, q := range qs {
		if i > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString(oneLine(q.Stem) + "\n")
		for j, o := range q.Options {
			fmt.Fprintf(bw, "%s) %s\n", Label(j), oneLine(o.Text))
		}
		fmt.Fprintf(bw, "ANSWER: %s\n", Label(q.Right()))
	}
	return bw.Flush()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
