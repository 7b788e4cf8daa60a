package assessment

import (
	"fmt"
	"html/template"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"polyphony/content"
	"polyphony/internal/failure"
)

// The limits on a question.
const (
	MinOptions     = 2
	MaxOptions     = 8
	maxName        = 200
	maxStem        = 10000
	maxOptionText  = 2000
	maxFeedback    = 2000
	maxExplanation = 10000
	maxTags        = 20
	maxTag         = 100
)

// Option is one of a question's answers. Text and Feedback are Markdown.
type Option struct {
	Text     string `bson:"text" json:"text"`
	Right    bool   `bson:"right" json:"right"`
	Feedback string `bson:"feedback,omitempty" json:"feedback,omitempty"`
}

// QuestionInput is what an author writes: everything a question holds except what the
// server keeps (id, bank, revision, author, times). Stem, option texts, feedback and
// explanation are Markdown.
type QuestionInput struct {
	Name        string   `json:"name"`
	Stem        string   `json:"stem"`
	Options     []Option `json:"options"`
	Explanation string   `json:"explanation,omitempty"`
	Tags        []string `json:"tags"`
}

// Question is one revision of a question in a bank; the highest revision is the question.
type Question struct {
	ID          string    `json:"id"`
	BankID      string    `json:"bankId"`
	Revision    int       `json:"revision"`
	Name        string    `json:"name"`
	Stem        string    `json:"stem"`
	Options     []Option  `json:"options"`
	Explanation string    `json:"explanation,omitempty"`
	Tags        []string  `json:"tags"`
	Author      string    `json:"author"`
	SavedBy     string    `json:"savedBy"`
	SavedAt     time.Time `json:"savedAt"`
}

// Input returns the parts of the question an author writes.
func (q Question) Input() QuestionInput {
	return QuestionInput{
		Name: q.Name, Stem: q.Stem, Options: append([]Option(nil), q.Options...),
		Explanation: q.Explanation, Tags: append([]string{}, q.Tags...),
	}
}

// Right is the index of the right option, or -1 if there is none (never, once stored).
func (q Question) Right() int {
	for i, o := range q.Options {
		if o.Right {
			return i
		}
	}
	return -1
}

// HasTag reports whether the question carries the tag (tags are kept in lower case).
func (q Question) HasTag(tag string) bool {
	tag = normalizeTag(tag)
	for _, t := range q.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

func (q Question) clone() Question {
	q.Options = append([]Option(nil), q.Options...)
	q.Tags = append([]string(nil), q.Tags...)
	return q
}

// Normalize checks a question as written and returns it tidied: text trimmed (and trailing
// spaces removed from every line, which the renderer ignores), the name's spaces collapsed
// or, when there is none, a name made from the stem, tags in lower case without repeats.
// A problem is a *failure.InvalidError naming the field, such as "options[2].text".
func (in QuestionInput) Normalize() (QuestionInput, error) {
	out := QuestionInput{
		Name:        strings.Join(strings.Fields(in.Name), " "),
		Stem:        tidy(in.Stem),
		Explanation: tidy(in.Explanation),
	}
	var problems []error
	if out.Stem == "" {
		problems = append(problems, failure.Problem("stem", "Enter the stem: the question trainees answer"))
	} else {
		problems = append(problems, checkText("stem", "the stem", out.Stem, maxStem))
	}
	if out.Name == "" && out.Stem != "" {
		out.Name = nameFromStem(out.Stem)
	}
	problems = append(problems, checkText("name", "the name", out.Name, maxName))
	options, optionProblems := normalizeOptions(in.Options)
	problems = append(problems, optionProblems...)
	problems = append(problems, checkText("explanation", "the explanation", out.Explanation, maxExplanation))
	tags, err := normalizeTags(in.Tags)
	problems = append(problems, err)
	if err := failure.Problems(problems...); err != nil {
		return QuestionInput{}, err
	}
	out.Options, out.Tags = options, tags
	return out, nil
}

// normalizeOptions tidies the options and returns every problem with them.
func normalizeOptions(in []Option) ([]Option, []error) {
	switch n := len(in); {
	case n < MinOptions:
		return nil, []error{failure.Problemf("options", "Give at least %d options: this question has %d", MinOptions, n)}
	case n > MaxOptions:
		return nil, []error{failure.Problemf("options", "Give at most %d options: this question has %d", MaxOptions, n)}
	}
	out := make([]Option, len(in))
	seen := map[string]int{}
	right := -1
	var problems []error
	for i, o := range in {
		f := fmt.Sprintf("options[%d]", i)
		o.Text, o.Feedback = tidy(o.Text), tidy(o.Feedback)
		switch key := strings.ToLower(strings.Join(strings.Fields(o.Text), " ")); {
		case o.Text == "":
			problems = append(problems, failure.Problemf(f+".text", "Enter option %s", Label(i)))
		default:
			if j, dup := seen[key]; dup {
				problems = append(problems, failure.Problemf(f+".text", "Option %s must differ from option %s: they are the same", Label(i), Label(j)))
			}
			seen[key] = i
			problems = append(problems, checkText(f+".text", "option "+Label(i), o.Text, maxOptionText))
		}
		problems = append(problems, checkText(f+".feedback", "the feedback on option "+Label(i), o.Feedback, maxFeedback))
		if o.Right {
			if right >= 0 {
				problems = append(problems, failure.Problemf(f+".right", "Choose one best answer: options %s and %s are both marked", Label(right), Label(i)))
			} else {
				right = i
			}
		}
		out[i] = o
	}
	if right < 0 {
		problems = append(problems, failure.Problem("options", "Choose which option is the best answer"))
	}
	return out, dropNil(problems)
}

// dropNil keeps the problems found.
func dropNil(errs []error) []error {
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

func normalizeTags(in []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for i, t := range in {
		t = normalizeTag(t)
		f := fmt.Sprintf("tags[%d]", i)
		switch {
		case t == "":
			return nil, failure.Problem(f, "Remove the empty tag, or write it")
		case utf8.RuneCountInString(t) > maxTag:
			return nil, failure.Problemf(f, "Each tag must be %d characters or fewer: %q is longer", maxTag, t)
		case strings.ContainsAny(t, ",[]<>") || strings.IndexFunc(t, unicode.IsControl) >= 0:
			return nil, failure.Problemf(f, "Tags must not contain commas, square or angle brackets: change %q", t)
		}
		if seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > maxTags {
		return nil, failure.Problemf("tags", "Give at most %d tags: this question has %d", maxTags, len(out))
	}
	return out, nil
}

func normalizeTag(t string) string {
	return strings.ToLower(strings.Join(strings.Fields(t), " "))
}

// tidy trims a text and the trailing spaces of each of its lines, and turns Windows line
// ends into newlines.
func tidy(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// checkText refuses unreadable text, control characters and text over max characters;
// what names the text in the editor's words ("the stem", "option B").
func checkText(field, what, s string, max int) error {
	what = strings.ToUpper(what[:1]) + what[1:]
	if !utf8.ValidString(s) {
		return failure.Problemf(field, "%s contains characters that cannot be read: type it again", what)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }); i >= 0 {
		return failure.Problemf(field, "%s contains a character that cannot be shown (%U): remove it", what, []rune(s[i:])[0])
	}
	if n := utf8.RuneCountInString(s); n > max {
		return failure.Problemf(field, "%s must be %d characters or fewer: it has %d", what, max, n)
	}
	return nil
}

// nameFromStem makes a name for a question that has none, as Moodle does: the start of the
// stem, cut at a word.
func nameFromStem(stem string) string {
	words := strings.Fields(stem)
	var b strings.Builder
	for _, w := range words {
		if b.Len() > 0 && utf8.RuneCountInString(b.String())+1+utf8.RuneCountInString(w) > 60 {
			b.WriteString("…")
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	name := b.String()
	if utf8.RuneCountInString(name) > 80 {
		name = string([]rune(name)[:79]) + "…"
	}
	return name
}

// Label is an option's letter as trainees see it: A for the first, B for the second.
func Label(i int) string {
	if i < 0 || i >= 26 {
		return "?"
	}
	return string(rune('A' + i))
}

// QuestionHTML is a question rendered for staff: every text turned into safe HTML.
type QuestionHTML struct {
	Stem        template.HTML `json:"stem"`
	Options     []OptionHTML  `json:"options"`
	Explanation template.HTML `json:"explanation,omitempty"`
}

// OptionHTML is one option rendered, with whether it is the right one.
type OptionHTML struct {
	Label    string        `json:"label"`
	Text     template.HTML `json:"text"`
	Right    bool          `json:"right"`
	Feedback template.HTML `json:"feedback,omitempty"`
}

// Render turns the question's Markdown into HTML with the platform's safe renderer (no raw
// HTML, no javascript: links). It shows the answer key: it is for staff pages only.
func (q Question) Render() QuestionHTML {
	out := QuestionHTML{Stem: renderMarkdown(q.Stem), Explanation: renderMarkdown(q.Explanation)}
	for i, o := range q.Options {
		out.Options = append(out.Options, OptionHTML{Label: Label(i), Text: renderMarkdown(o.Text), Right: o.Right, Feedback: renderMarkdown(o.Feedback)})
	}
	return out
}

func renderMarkdown(s string) template.HTML {
	if s == "" {
		return ""
	}
	return content.RenderUserMarkdown([]byte(s))
}
