package assessment

import (
	"errors"
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
	for _, f := range []struct {
		field, text string
		max         int
	}{{"stem", out.Stem, maxStem}, {"explanation", out.Explanation, maxExplanation}} {
		if err := checkText(f.field, f.text, f.max); err != nil {
			return QuestionInput{}, err
		}
	}
	if out.Stem == "" {
		return QuestionInput{}, failure.Invalid("stem", "is required: write the question")
	}
	if out.Name == "" {
		out.Name = nameFromStem(out.Stem)
	}
	if err := checkText("name", out.Name, maxName); err != nil {
		return QuestionInput{}, err
	}
	options, err := normalizeOptions(in.Options)
	if err != nil {
		return QuestionInput{}, err
	}
	out.Options = options
	tags, err := normalizeTags(in.Tags)
	if err != nil {
		return QuestionInput{}, err
	}
	out.Tags = tags
	return out, nil
}

func normalizeOptions(in []Option) ([]Option, error) {
	switch n := len(in); {
	case n < MinOptions:
		return nil, failure.Invalidf("options", "a question needs at least %d options, and has %d", MinOptions, n)
	case n > MaxOptions:
		return nil, failure.Invalidf("options", "a question has at most %d options, and this one has %d", MaxOptions, n)
	}
	out := make([]Option, len(in))
	seen := map[string]int{}
	right := -1
	for i, o := range in {
		f := fmt.Sprintf("options[%d]", i)
		o.Text, o.Feedback = tidy(o.Text), tidy(o.Feedback)
		if o.Text == "" {
			return nil, failure.Invalid(f+".text", "is empty: write the option")
		}
		if err := checkText(f+".text", o.Text, maxOptionText); err != nil {
			return nil, err
		}
		if err := checkText(f+".feedback", o.Feedback, maxFeedback); err != nil {
			return nil, err
		}
		key := strings.ToLower(strings.Join(strings.Fields(o.Text), " "))
		if j, dup := seen[key]; dup {
			return nil, failure.Invalidf(f+".text", "is the same as option %s", Label(j))
		}
		seen[key] = i
		if o.Right {
			if right >= 0 {
				return nil, failure.Invalidf(f+".right", "option %s is already the right answer: a question has exactly one best answer", Label(right))
			}
			right = i
		}
		out[i] = o
	}
	if right < 0 {
		return nil, failure.Invalid("options", "mark one option as the right answer")
	}
	return out, nil
}

func normalizeTags(in []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for i, t := range in {
		t = normalizeTag(t)
		f := fmt.Sprintf("tags[%d]", i)
		switch {
		case t == "":
			return nil, failure.Invalid(f, "is empty")
		case utf8.RuneCountInString(t) > maxTag:
			return nil, failure.Invalidf(f, "must be at most %d characters", maxTag)
		case strings.ContainsAny(t, ",[]<>") || strings.IndexFunc(t, unicode.IsControl) >= 0:
			return nil, failure.Invalid(f, "must not contain commas, square or angle brackets, or control characters")
		}
		if seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > maxTags {
		return nil, failure.Invalidf("tags", "a question has at most %d tags", maxTags)
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

func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return failure.Invalid(field, "is not valid UTF-8 text")
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }); i >= 0 {
		return failure.Invalidf(field, "contains a control character (%U)", []rune(s[i:])[0])
	}
	if n := utf8.RuneCountInString(s); n > max {
		return failure.Invalidf(field, "must be at most %d characters, not %d", max, n)
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

// invalidField returns the field of an InvalidError, or "".
func invalidField(err error) string {
	var inv *failure.InvalidError
	if errors.As(err, &inv) {
		return inv.Field
	}
	return ""
}
