package assessment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"polyphony/assessment"
)

// keys collects every object key in a JSON document.
func keys(t *testing.T, v any) map[string]bool {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, v := range x {
				out[k] = true
				walk(v)
			}
		case []any:
			for _, v := range x {
				walk(v)
			}
		}
	}
	walk(doc)
	return out
}

// No answer key, right or wrong flag, feedback, explanation or score reaches a trainee
// before the review options allow it, whatever path the view comes by.
func TestTraineeViewLeaksNothing(t *testing.T) {
	ctx := context.Background()
	type want struct {
		score, answers, feedback bool
	}
	for _, tc := range []struct {
		name         string
		afterAttempt assessment.ReviewLevel
		afterClose   assessment.ReviewLevel
		submit       bool // submit the attempt (otherwise it stays open)
		pastClose    bool // read it after the assessment closes
		want         want
	}{
		{"open attempt, everything allowed later", assessment.ReviewFeedback, assessment.ReviewFeedback, false, false, want{}},
		{"closed, nothing", assessment.ReviewNone, assessment.ReviewFeedback, true, false, want{}},
		{"closed, score", assessment.ReviewScore, assessment.ReviewFeedback, true, false, want{score: true}},
		{"closed, right answers", assessment.ReviewAnswers, assessment.ReviewFeedback, true, false, want{score: true, answers: true}},
		{"closed, feedback", assessment.ReviewFeedback, assessment.ReviewNone, true, false, want{true, true, true}},
		{"after close, right answers", assessment.ReviewNone, assessment.ReviewAnswers, true, true, want{score: true, answers: true}},
		{"after close, nothing", assessment.ReviewFeedback, assessment.ReviewNone, true, true, want{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := openStore(t)
			b, qs := fillBank(t, s, 3)
			in := settings(b.ID, ids(qs))
			in.ShuffleOptions, in.ShuffleQuestions = true, true
			in.ReviewAfterAttempt, in.ReviewAfterClose = tc.afterAttempt, tc.afterClose
			a := createAssessment(t, s, in)
			me := trainee(1)
			started := mustStart(t, s, me, a.ID)
			right := rightOptions(t, s, started.ID)
			mustSave(t, s, me, started.ID, 0, right[0])
			mustSave(t, s, me, started.ID, 1, (right[1]+1)%5)

			views := map[string]any{"start": started}
			if tc.submit {
				v, err := s.Submit(ctx, me, started.ID)
				if err != nil {
					t.Fatal(err)
				}
				views["submit"] = v
			}
			if tc.pastClose {
				clock.Set(a.Closes.Add(time.Second))
			}
			v, err := s.AttemptView(ctx, me, started.ID)
			if err != nil {
				t.Fatal(err)
			}
			views["read"] = v
			mine, err := s.MyAttempts(ctx, me, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			views["list"] = mine

			secrets := []string{"Feedback ", "Explanation of"}
			for path, view := range views {
				raw, _ := json.Marshal(view)
				k := keys(t, view)
				shows := want{}
				if path == "read" || path == "list" || path == "submit" {
					shows = tc.want
				}
				if path == "submit" && tc.pastClose {
					continue // submitted before the close: checked as "read"
				}
				for _, s := range secrets {
					if strings.Contains(string(raw), s) != shows.feedback {
						t.Errorf("%s: %q in the JSON is %v, want %v:\n%s", path, s, !shows.feedback, shows.feedback, raw)
					}
				}
				for key, allowed := range map[string]bool{
					"score": shows.score, "marks": shows.score, "passed": shows.score,
					"rightOption": shows.answers, "correct": shows.answers,
					"feedback": shows.feedback, "explanation": shows.feedback,
					"right": false, "name": false, "questionRefs": false, "userId": false,
				} {
					if k[key] != allowed {
						t.Errorf("%s: key %q present %v, want %v:\n%s", path, key, k[key], allowed, raw)
					}
				}
				if path == "start" && !k["stem"] {
					t.Errorf("start: the questions are missing:\n%s", raw)
				}
			}
			read := views["read"].(assessment.AttemptView)
			if (read.Questions != nil) != tc.want.answers && tc.submit {
				t.Errorf("questions shown %v, want %v", read.Questions != nil, tc.want.answers)
			}
			if tc.want.answers {
				checkRevealed(t, read, right, tc.want.feedback)
			}
		})
	}
}

// checkRevealed checks that what a review shows is right: the right option as recorded,
// each option's own feedback and its question's explanation.
func checkRevealed(t *testing.T, v assessment.AttemptView, right []int, feedback bool) {
	t.Helper()
	for k, q := range v.Questions {
		if q.RightOption == nil || *q.RightOption != right[k] || q.Correct == nil || *q.Correct != (k == 0) {
			t.Errorf("question %d: right option %v correct %v, want %d and %v", k, q.RightOption, q.Correct, right[k], k == 0)
		}
		for _, o := range q.Options {
			var i int
			var name string
			if _, err := fmt.Sscanf(stripTags(string(o.Text)), "Option %d of %s", &i, &name); err != nil {
				t.Fatalf("option text %q: %v", o.Text, err)
			}
			if wantFB := fmt.Sprintf("Feedback %d of %s", i, name); feedback != strings.Contains(string(o.Feedback), wantFB) {
				t.Errorf("option %q has feedback %q", o.Text, o.Feedback)
			}
			if feedback && !strings.Contains(string(q.Explanation), "Explanation of "+name) {
				t.Errorf("question %s has explanation %q", name, q.Explanation)
			}
		}
	}
}

func stripTags(h string) string {
	h = strings.TrimPrefix(strings.TrimSpace(h), "<p>")
	return strings.TrimSuffix(h, "</p>")
}

// Question texts reach trainees through the safe renderer: no raw HTML, no javascript:
// links.
func TestTraineeViewRendersSafely(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	b, _ := fillBank(t, s, 0)
	in := question("Unsafe", 0)
	in.Stem = "Click [here](javascript:alert(1)) <script>alert(2)</script> **bold**"
	in.Options[1].Text = `<img src=x onerror=alert(3)>`
	q, err := s.AddQuestion(ctx, assessor, b.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	a := createAssessment(t, s, settings(b.ID, []string{q.ID}))
	v := mustStart(t, s, trainee(1), a.ID)
	raw, _ := json.Marshal(v)
	for _, bad := range []string{"javascript:", "<script", "<img", "onerror"} {
		if strings.Contains(string(raw), bad) {
			t.Errorf("%q reached the trainee: %s", bad, raw)
		}
	}
	if !strings.Contains(string(v.Questions[0].Stem), "<strong>bold</strong>") {
		t.Errorf("stem %q: Markdown not rendered", v.Questions[0].Stem)
	}
}
