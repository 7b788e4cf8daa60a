package assessment_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"polyphony/assessment"
)

// The examples of Moodle's documentation ("GIFT format"): the first five are the summary at
// the top of the page, the rest the per-type examples. Lines are numbered in comments.
var moodleGIFTExamples = strings.Join([]string{
	"Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}", // 1
	"", // 2
	"Grant is {~buried =entombed ~living} in Grant's tomb.", // 3
	"", // 4
	"Grant is buried in Grant's tomb.{FALSE}", // 5
	"", // 6
	"Who's buried in Grant's tomb?{=no one =nobody}", // 7
	"",                                       // 8
	"When was Ulysses S. Grant born?{#1822}", // 9
	"",                                       // 10
	"// true/false",                          // 11
	"::Q1:: 1+1=2 {T}",                       // 12
	"",                                       // 13
	"// multiple choice with specified feedback for right and wrong answers",          // 14
	"::Q2:: What's between orange and green in the spectrum? ",                        // 15
	"{ =yellow # right; good! ~red # wrong, it's yellow ~blue # wrong, it's yellow }", // 16
	"",                                       // 17
	"// fill-in-the-blank",                   // 18
	"::Q3:: Two plus {=two =2} equals four.", // 19
	"",                                       // 20
	"// matching",                            // 21
	"::Q4:: Which animal eats which food? { =cat -> cat food =dog -> dog food }", // 22
	"",                       // 23
	"// math range question", // 24
	"::Q5:: What is a number from 1 to 5? {#3:2}", // 25
	"",                       // 26
	"// essay",               // 27
	"::Q8:: How are you? {}", // 28
	"",                       // 29
	"The American holiday of Thanksgiving is celebrated on the {", // 30
	"    ~second",             // 31
	"    ~third",              // 32
	"    =fourth",             // 33
	"} Thursday of November.", // 34
	"",                        // 35
	"Japanese characters originally came from what country? {", // 36
	"    ~India",  // 37
	"    =China",  // 38
	"    ~Korea",  // 39
	"    ~Egypt}", // 40
	"",            // 41
	"What two people are entombed in Grant's tomb? {", // 42
	"   ~%-100%No one",         // 43
	"   ~%50%Grant",            // 44
	"   ~%50%Grant's wife",     // 45
	"   ~%-100%Grant's father", // 46
	"}",                        // 47
	"",                         // 48
	"What's the answer to this multiple-choice question? {",       // 49
	"~wrong answer#feedback comment on the wrong answer",          // 50
	"~another wrong answer#feedback comment on this wrong answer", // 51
	"=right answer#Very good!}",                                   // 52
	"",                                                            // 53
	"Grant was buried in a tomb in New York City.{T#No, he was buried there.#Yes, in Manhattan.}", // 54
	"", // 55
	"Match the following countries with their corresponding capitals. {", // 56
	"   =Canada -> Ottawa", // 57
	"   =Italy  -> Rome",   // 58
	"}",                    // 59
}, "\n")

type giftWant struct {
	name, stem, explanation string
	options                 []string
	feedback                []string
	right                   int
}

func TestGIFTMoodleExamples(t *testing.T) {
	qs, errs := assessment.Check(assessment.FormatGIFT, []byte(moodleGIFTExamples))
	want := []giftWant{
		{stem: "Who's buried in Grant's tomb?", options: []string{"Grant", "Jefferson", "no one"}, right: 2},
		{stem: "Grant is _____ in Grant's tomb.", options: []string{"buried", "entombed", "living"}, right: 1},
		{stem: "Grant is buried in Grant's tomb.", options: []string{"True", "False"}, right: 1},
		{name: "Q1", stem: "1+1=2", options: []string{"True", "False"}, right: 0},
		{name: "Q2", stem: "What's between orange and green in the spectrum?", options: []string{"yellow", "red", "blue"},
			feedback: []string{"right; good!", "wrong, it's yellow", "wrong, it's yellow"}, right: 0},
		{stem: "The American holiday of Thanksgiving is celebrated on the _____ Thursday of November.", options: []string{"second", "third", "fourth"}, right: 2},
		{stem: "Japanese characters originally came from what country?", options: []string{"India", "China", "Korea", "Egypt"}, right: 1},
		{stem: "What's the answer to this multiple-choice question?", options: []string{"wrong answer", "another wrong answer", "right answer"},
			feedback: []string{"feedback comment on the wrong answer", "feedback comment on this wrong answer", "Very good!"}, right: 2},
		{stem: "Grant was buried in a tomb in New York City.", options: []string{"True", "False"},
			feedback: []string{"Yes, in Manhattan.", "No, he was buried there."}, right: 0},
	}
	checkGIFT(t, qs, want)
	wantErrors := map[int]string{
		7:  "short-answer",
		9:  "numerical",
		19: "short-answer",
		22: "matching",
		25: "numerical",
		28: "essay",
		42: "multiple-answer",
		56: "matching",
	}
	got := map[int]string{}
	for _, e := range errs {
		got[e.Line] = e.Reason
	}
	if len(got) != len(wantErrors) {
		t.Errorf("errors on lines %v, want %d errors", errs, len(wantErrors))
	}
	for line, kind := range wantErrors {
		if !strings.Contains(got[line], kind) || !strings.Contains(got[line], "not supported") {
			t.Errorf("line %d: %q, want it reported as %s and not supported", line, got[line], kind)
		}
	}
}

func checkGIFT(t *testing.T, qs []assessment.QuestionInput, want []giftWant) {
	t.Helper()
	if len(qs) != len(want) {
		t.Fatalf("%d questions, want %d: %+v", len(qs), len(want), qs)
	}
	for i, w := range want {
		q := qs[i]
		var opts, fbs []string
		right := -1
		for j, o := range q.Options {
			opts, fbs = append(opts, o.Text), append(fbs, o.Feedback)
			if o.Right {
				right = j
			}
		}
		if w.feedback == nil {
			w.feedback = make([]string, len(w.options))
		}
		if w.name != "" && q.Name != w.name {
			t.Errorf("question %d: name %q, want %q", i, q.Name, w.name)
		}
		if q.Stem != w.stem || q.Explanation != w.explanation || !reflect.DeepEqual(opts, w.options) || !reflect.DeepEqual(fbs, w.feedback) || right != w.right {
			t.Errorf("question %d:\n got stem %q options %q feedback %q right %d explanation %q\nwant stem %q options %q feedback %q right %d explanation %q",
				i, q.Stem, opts, fbs, right, q.Explanation, w.stem, w.options, w.feedback, w.right, w.explanation)
		}
	}
}

func TestGIFTEscapesCategoriesTagsAndFormats(t *testing.T) {
	src := strings.Join([]string{
		"$CATEGORY: $course$/top/Module 1/Dialogism", // 1
		"", // 2
		"// [tag:principle:dialogism] [tag:Module 1]",                                         // 3
		`::Escapes\: all::[markdown]What does \{x\} mean in 1 \= 1 \# 2 \~ 3?\nSecond line {`, // 4
		`  =It is \{braced\}#yes\: right`,                                                     // 5
		`  ~A \\ backslash`,                                                                   // 6
		`  ~%0%Weight nought`,                                                                 // 7
		`  ~%100%Full weight is right too`,                                                    // 8
		"  ####The *general* feedback",                                                        // 9
		"}",                                                                                   // 10
		"",                                                                                    // 11
		"::HTML::[html]<p>Is <b>this</b> &amp; that</p><p>plain?</p>{=Yes ~No}", // 12
	}, "\n")
	qs, errs := assessment.Check(assessment.FormatGIFT, []byte(src))
	if len(errs) != 1 || errs[0].Line != 8 || !strings.Contains(errs[0].Reason, "second right answer") {
		t.Fatalf("errors %v, want one: a second right answer on line 8", errs)
	}
	src = strings.Replace(src, "  ~%100%Full weight is right too", "  ~%0%No weight", 1)
	qs, errs = assessment.Check(assessment.FormatGIFT, []byte(src))
	if len(errs) != 0 {
		t.Fatalf("errors %v", errs)
	}
	checkGIFT(t, qs, []giftWant{
		{name: "Escapes: all", stem: "What does {x} mean in 1 = 1 # 2 ~ 3?\nSecond line", explanation: "The *general* feedback",
			options:  []string{"It is {braced}", `A \ backslash`, "Weight nought", "No weight"},
			feedback: []string{"yes: right", "", "", ""}, right: 0},
		{name: "HTML", stem: "Is this & that\nplain?", options: []string{"Yes", "No"}, right: 0},
	})
	if want := []string{"principle:dialogism", "module 1", "category:module 1/dialogism"}; !reflect.DeepEqual(qs[0].Tags, want) {
		t.Errorf("tags %q, want %q", qs[0].Tags, want)
	}
	if want := []string{"category:module 1/dialogism"}; !reflect.DeepEqual(qs[1].Tags, want) {
		t.Errorf("second question's tags %q, want %q (the category holds until the next)", qs[1].Tags, want)
	}
}

func TestGIFTErrors(t *testing.T) {
	src := strings.Join([]string{
		"::Unclosed name What? {=a ~b}",  // 1
		"",                               // 2
		"No answers at all",              // 3
		"",                               // 4
		"Open brace only {=a ~b",         // 5
		"",                               // 6
		"Two blocks {=a ~b} and {=c ~d}", // 7
		"",                               // 8
		"Partial credit {=a ~%50%b}",     // 9
		"",                               // 10
		"Empty option {",                 // 11
		"=a ~}",                          // 12
		"",                               // 13
		"Two right {=a",                  // 14
		"=b ~c}",                         // 15
		"",                               // 16
		"$CATEGORY: top/x",               // 17
		"Fine {=yes ~no}",                // 18
	}, "\n")
	_, errs := assessment.Check(assessment.FormatGIFT, []byte(src))
	want := map[int]string{1: "not closed with ::", 3: "no answer block", 5: "braces do not match", 7: "one answer block", 9: "partial credit", 12: "Enter option B", 15: "second right answer", 18: "blank line"}
	if len(errs) != len(want) {
		t.Errorf("errors %v, want %d", errs, len(want))
	}
	for _, e := range errs {
		if w, ok := want[e.Line]; !ok || !strings.Contains(e.Reason, w) {
			t.Errorf("line %d: %q, want %q", e.Line, e.Reason, w)
		}
	}
}

// GIFT export keeps everything, so reading it back gives the same questions.
func TestGIFTRoundTrip(t *testing.T) {
	qs := trickyQuestions(t)
	var buf bytes.Buffer
	if err := assessment.WriteGIFT(&buf, qs); err != nil {
		t.Fatal(err)
	}
	back, errs := assessment.Check(assessment.FormatGIFT, buf.Bytes())
	if len(errs) != 0 {
		t.Fatalf("errors reading back:\n%s\n%v", buf.String(), errs)
	}
	compareInputs(t, back, qs, buf.String())
}
