package assessment_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"polyphony/assessment"
)

// moodleAikenExample is the example of Moodle's documentation ("Aiken format"), both label
// styles; the API and CLI tests import the same file.
var moodleAikenExample = readTestdata("moodle-aiken.txt")

func readTestdata(name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestAikenMoodleExample(t *testing.T) {
	qs, errs := assessment.Check(assessment.FormatAiken, []byte(moodleAikenExample))
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(qs) != 2 {
		t.Fatalf("%d questions, want 2", len(qs))
	}
	want := []struct {
		stem    string
		options []string
		right   int
	}{
		{"What is the correct answer to this question?", []string{"Is it this one?", "Maybe this answer?", "Possibly this one?", "Must be this one!"}, 3},
		{"Which LMS has the most quiz import formats?", []string{"Moodle", "ATutor", "Claroline", "Blackboard", "WebCT", "Ilias"}, 0},
	}
	for i, w := range want {
		q := qs[i]
		if q.Stem != w.stem || q.Name != w.stem {
			t.Errorf("question %d: stem %q name %q, want both %q (Moodle names a question by its text)", i, q.Stem, q.Name, w.stem)
		}
		var texts []string
		right := -1
		for j, o := range q.Options {
			texts = append(texts, o.Text)
			if o.Right {
				right = j
			}
		}
		if !reflect.DeepEqual(texts, w.options) || right != w.right {
			t.Errorf("question %d: options %q right %d, want %q right %d", i, texts, right, w.options, w.right)
		}
	}
}

// Moodle takes an option's label with or without a space after it, and skips lines of one
// character.
func TestAikenLabelsWithoutSpace(t *testing.T) {
	src := "Which principle keeps every voice in the room?\r\nA.Dialogism\r\nB)Immediate help\r\n.\r\nC) Flexibility\r\nANSWER: A\r\n"
	qs, errs := assessment.Check(assessment.FormatAiken, []byte(src))
	if len(errs) != 0 || len(qs) != 1 {
		t.Fatalf("questions %d, errors %v", len(qs), errs)
	}
	got := []string{qs[0].Options[0].Text, qs[0].Options[1].Text, qs[0].Options[2].Text}
	if !reflect.DeepEqual(got, []string{"Dialogism", "Immediate help", "Flexibility"}) || !qs[0].Options[0].Right {
		t.Errorf("options %q, first right %v", got, qs[0].Options[0].Right)
	}
}

func TestAikenErrors(t *testing.T) {
	src := strings.Join([]string{
		"A. An option with no question", // 1
		"First question",                // 2
		"A) one",                        // 3
		"B) two",                        // 4
		"answer: B",                     // 5
		"ANSWER: B",                     // 6: fine after all
		"",                              // 7
		"A question over",               // 8
		"two lines",                     // 9
		"A) one",                        // 10
		"B) two",                        // 11
		"ANSWER: A",                     // 12
		"",                              // 13
		"Letters out of order",          // 14
		"A) one",                        // 15
		"C) two",                        // 16
		"ANSWER: A",                     // 17
		"",                              // 18
		"Answer past the options",       // 19
		"A) one",                        // 20
		"B) two",                        // 21
		"ANSWER: E",                     // 22
		"",                              // 23
		"One option only",               // 24
		"A) one",                        // 25
		"ANSWER: A",                     // 26
		"",                              // 27
		"No answer line",                // 28
		"A) one",                        // 29
		"B) one",                        // 30
	}, "\n")
	qs, errs := assessment.Check(assessment.FormatAiken, []byte(src))
	wantLines := []int{1, 5, 8, 16, 22, 24, 28}
	var got []int
	for _, e := range errs {
		got = append(got, e.Line)
	}
	if !reflect.DeepEqual(got, wantLines) {
		t.Errorf("error lines %v, want %v; errors: %v", got, wantLines, errs)
	}
	// The valid ones: "First question" and "two lines" (the second line taken as a question
	// of its own, as Moodle does).
	if len(qs) != 2 || qs[0].Stem != "First question" || qs[1].Stem != "two lines" {
		t.Errorf("valid questions: %+v", qs)
	}
	if !strings.Contains(errs[1].Reason, "capitals") || !strings.Contains(errs[3].Reason, "should be B") || !strings.Contains(errs[6].Reason, "no ANSWER") {
		t.Errorf("reasons: %v", errs)
	}
}

func TestAikenExportLosesOnlyWhatAikenCannotHold(t *testing.T) {
	q := assessment.Question{
		Name: "A name", Stem: "A stem\nover two lines", Explanation: "Lost",
		Tags:    []string{"module:1"},
		Options: []assessment.Option{{Text: "One", Feedback: "lost"}, {Text: "Two", Right: true}, {Text: "Three\nlines"}},
	}
	var buf bytes.Buffer
	if err := assessment.WriteAiken(&buf, []assessment.Question{q, q}); err != nil {
		t.Fatal(err)
	}
	want := "A stem over two lines\nA) One\nB) Two\nC) Three lines\nANSWER: B\n\nA stem over two lines\nA) One\nB) Two\nC) Three lines\nANSWER: B\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	back, errs := assessment.Check(assessment.FormatAiken, buf.Bytes())
	if len(errs) != 0 || len(back) != 2 || back[0].Stem != "A stem over two lines" || !back[0].Options[1].Right {
		t.Errorf("read back: %+v %v", back, errs)
	}
}
