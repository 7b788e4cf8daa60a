package assessment_test

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"polyphony/assessment"
)

// trickyQuestions are questions whose texts look like the structure of the formats, hold
// their special characters, and have line breaks and blank lines everywhere they can.
func trickyQuestions(t *testing.T) []assessment.Question {
	t.Helper()
	ins := []assessment.QuestionInput{
		{
			Name: "Q: 1 = {x} # ~ \\ [tag:no]",
			Stem: strings.Join([]string{
				"First paragraph with *emphasis*, a [link](https://example.org/a#b) and 100%.",
				"",
				"## not a question",
				"- [ ] not an option",
				"- [x] not a right option",
				"Tags: not tags",
				"Feedback: not feedback",
				"Explanation: not the explanation",
				`\## already escaped once`,
				`\\- [X] escaped twice`,
				"    indented code",
				"  Feedback: indented in a stem",
				"### a real heading",
			}, "\n"),
			Options: []assessment.Option{
				{Text: "Plain option"},
				{Text: "Right option\nover two lines\n\nand a paragraph", Right: true, Feedback: "Feedback over\n\nparagraphs\nFeedback: inside feedback\n  Feedback: indented inside"},
				{Text: "Option with\n- [ ] a list-like line\n## and a heading-like line", Feedback: `\Explanation: escaped`},
				{Text: "Option = ~ # { } : \\ with GIFT's specials", Feedback: "#### not general feedback"},
				{Text: "Ω ≠ ∞ — “quoted” 😊"},
			},
			Explanation: "Explanation with\n## a heading-like line\n- [x] and an option-like one\n\nTags: and tags",
			Tags:        []string{"principle:dialogism", "module:1", "category:module 1/dialogism"},
		},
		{
			Name:    "Bare",
			Stem:    "Two options, no feedback, no tags.",
			Options: []assessment.Option{{Text: "Yes", Right: true}, {Text: "No"}},
		},
		{
			Stem:    "Tags: a stem that starts like tags, and a question with no name",
			Options: []assessment.Option{{Text: "One"}, {Text: "Two", Right: true}, {Text: "Explanation: three"}},
		},
	}
	var out []assessment.Question
	for i, in := range ins {
		n, err := in.Normalize()
		if err != nil {
			t.Fatalf("question %d: %v", i, err)
		}
		out = append(out, assessment.Question{Name: n.Name, Stem: n.Stem, Options: n.Options, Explanation: n.Explanation, Tags: n.Tags})
	}
	return out
}

func compareInputs(t *testing.T, got []assessment.QuestionInput, want []assessment.Question, file string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read back %d questions, want %d\n%s", len(got), len(want), file)
	}
	for i := range want {
		if w := want[i].Input(); !reflect.DeepEqual(got[i], w) {
			t.Errorf("question %d changed in the round trip:\n got %#v\nwant %#v\nfile:\n%s", i, got[i], w, file)
		}
	}
}

func TestMarkdownRoundTrip(t *testing.T) {
	qs := trickyQuestions(t)
	var buf bytes.Buffer
	if err := assessment.WriteMarkdown(&buf, "Tricky bank", qs); err != nil {
		t.Fatal(err)
	}
	back, errs := assessment.Check(assessment.FormatMarkdown, buf.Bytes())
	if len(errs) != 0 {
		t.Fatalf("errors reading back: %v\n%s", errs, buf.String())
	}
	compareInputs(t, back, qs, buf.String())
	// Written twice, the file is the same: nothing drifts.
	var again bytes.Buffer
	var qs2 []assessment.Question
	for _, in := range back {
		qs2 = append(qs2, assessment.Question{Name: in.Name, Stem: in.Stem, Options: in.Options, Explanation: in.Explanation, Tags: in.Tags})
	}
	assessment.WriteMarkdown(&again, "Tricky bank", qs2)
	if again.String() != buf.String() {
		t.Errorf("second export differs:\n%s\n---\n%s", buf.String(), again.String())
	}
}

// The example in FORMAT.md is a valid file and means what the text says it means.
func TestMarkdownFormatExample(t *testing.T) {
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```markdown\n")
	example, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("FORMAT.md has no ```markdown example")
	}
	qs, errs := assessment.Check(assessment.FormatMarkdown, []byte(example))
	if len(errs) != 0 || len(qs) != 1 {
		t.Fatalf("%d questions, errors %v", len(qs), errs)
	}
	q := qs[0]
	if q.Name != "Responding to a request for a diagnosis" {
		t.Errorf("name %q", q.Name)
	}
	if want := []string{"principle:tolerance of uncertainty", "module:1"}; !reflect.DeepEqual(q.Tags, want) {
		t.Errorf("tags %q, want %q", q.Tags, want)
	}
	if !strings.HasPrefix(q.Stem, "At the first network meeting") || !strings.HasSuffix(q.Stem, "in an open dialogue approach?") {
		t.Errorf("stem %q", q.Stem)
	}
	if len(q.Options) != 5 || !q.Options[1].Right || q.Options[0].Right {
		t.Fatalf("options %+v, want five with the second right", q.Options)
	}
	if q.Options[0].Feedback != "A diagnosis this early closes down the conversation\nbefore every voice has been heard." || q.Options[2].Feedback != "" {
		t.Errorf("feedback %q / %q", q.Options[0].Feedback, q.Options[2].Feedback)
	}
	if !strings.HasPrefix(q.Explanation, "Tolerating uncertainty means") || !strings.HasSuffix(q.Explanation, "(tolerance-of-uncertainty.md).") {
		t.Errorf("explanation %q", q.Explanation)
	}
}

func TestMarkdownErrors(t *testing.T) {
	src := strings.Join([]string{
		"# Title",                    // 1
		"Stray text",                 // 2
		"## Two right",               // 3
		"Stem",                       // 4
		"- [x] a",                    // 5
		"- [x] b",                    // 6
		"## Unindented continuation", // 7
		"Stem",                       // 8
		"- [ ] a",                    // 9
		"not indented",               // 10
		"- [x] b",                    // 11
		"## Two feedbacks",           // 12
		"Stem",                       // 13
		"- [x] a",                    // 14
		"  Feedback: one",            // 15
		"  Feedback: two",            // 16
		"- [ ] b",                    // 17
		"## No stem",                 // 18
		"- [x] a",                    // 19
		"- [ ] b",                    // 20
		"## Empty option",            // 21
		"Stem",                       // 22
		"- [x] a",                    // 23
		"- [ ]",                      // 24
		"## Good",                    // 25
		"Stem",                       // 26
		"- [x] a",                    // 27
		"- [ ] b",                    // 28
	}, "\n")
	qs, errs := assessment.Check(assessment.FormatMarkdown, []byte(src))
	want := map[int]string{2: "before the first question", 6: "Choose one best answer: options A and B are both marked", 10: "indented by two spaces", 16: "already has its feedback", 18: "Enter the stem", 24: "Enter option B"}
	if len(errs) != len(want) {
		t.Errorf("errors %v, want %d", errs, len(want))
	}
	for _, e := range errs {
		if w, ok := want[e.Line]; !ok || !strings.Contains(e.Reason, w) {
			t.Errorf("line %d: %q, want %q", e.Line, e.Reason, w)
		}
	}
	if len(qs) != 1 || qs[0].Name != "Good" {
		t.Errorf("valid questions %+v, want only Good", qs)
	}
}
