package assessment

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/dbtest"
)

// paperOf makes a paper of n five-option questions; question i has option i%5 right.
func paperOf(n int) *paper {
	d := paperDoc{ID: "bench"}
	for i := range n {
		r := revisionDoc{QuestionID: fmt.Sprintf("q%02d", i), Revision: 1, Stem: "Stem"}
		for o := range 5 {
			r.Options = append(r.Options, Option{Text: fmt.Sprintf("option %d", o), Right: o == i%5})
		}
		d.Questions = append(d.Questions, r)
	}
	return newPaper(d)
}

// The answers are read through the order in which options were shown.
func TestMarkFollowsTheShownOrder(t *testing.T) {
	p := paperOf(3)
	items := []item{
		{Q: 2, Options: []int{2, 0, 1, 4, 3}}, // question 2 (right: option 2) shown first, option 2 first
		{Q: 0, Options: []int{4, 3, 2, 1, 0}}, // question 0 (right: option 0) shown last
		{Q: 1, Options: []int{0, 1, 2, 3, 4}},
	}
	marks, out := mark(p, items, []int{0, 0, noAnswer})
	if marks != 1 {
		t.Errorf("marks %d, want 1", marks)
	}
	want := []markedItem{
		{QuestionID: "q02", Revision: 1, Shown: 0, Chosen: 2, Right: 2, Options: 5, Correct: true},
		{QuestionID: "q00", Revision: 1, Shown: 0, Chosen: 4, Right: 0, Options: 5, Correct: false},
		{QuestionID: "q01", Revision: 1, Shown: noAnswer, Chosen: noAnswer, Right: 1, Options: 5, Correct: false},
	}
	for i := range want {
		if out[i] != want[i] {
			t.Errorf("item %d: %+v, want %+v", i, out[i], want[i])
		}
	}
}

// BenchmarkMark50 marks a 50-question attempt with shuffled options, every question
// answered.
func BenchmarkMark50(b *testing.B) {
	p := paperOf(50)
	items := make([]item, 50)
	answers := make([]int, 50)
	for i := range items {
		items[i] = item{Q: 49 - i, Options: []int{4, 2, 0, 1, 3}}
		answers[i] = i % 5
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		marks, _ := mark(p, items, answers)
		if marks < 0 {
			b.Fatal(marks)
		}
	}
}

// On FerretDB the store writes one at a time and keeps open attempts in memory; the tests
// run on FerretDB, so they exercise that mode unless told otherwise.
func TestFerretDBIsRecognised(t *testing.T) {
	s, err := NewStore(context.Background(), dbtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	if !s.w.serial || !s.sole {
		t.Errorf("serial %v, sole %v on FerretDB; want both", s.w.serial, s.sole)
	}
	shared, err := NewStore(context.Background(), dbtest.New(t), WithOtherInstances())
	if err != nil {
		t.Fatal(err)
	}
	if !shared.w.serial || shared.sole {
		t.Errorf("with other instances: serial %v, sole %v; want serial only", shared.w.serial, shared.sole)
	}
}

// A result is stored with its items packed into one string and read back as it was marked;
// a result stored before, with its items as documents, is read as well.
func TestResultItemsStoredPacked(t *testing.T) {
	ctx := context.Background()
	s, err := NewStore(ctx, dbtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	p := paperOf(4)
	items := []item{{Q: 3, Options: []int{4, 3, 2, 1, 0}}, {Q: 0, Options: []int{0, 1, 2, 3, 4}}, {Q: 1, Options: []int{1, 0, 2, 3, 4}}, {Q: 2, Options: []int{0, 1, 2, 3, 4}}}
	marks, marked := mark(p, items, []int{1, 0, noAnswer, 3})
	at := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	packed := resultDoc{ID: "packed", AssessmentID: "a", UserID: "u", Number: 1, StartedAt: at, ClosedAt: at.Add(time.Minute), Reason: ClosedSubmitted, Marks: marks, Max: len(marked), Items: marked}
	earlier := packed
	earlier.ID = "earlier"
	if err := s.w.insert(ctx, s.results, packed.stored()); err != nil {
		t.Fatal(err)
	}
	if err := s.w.insert(ctx, s.results, earlier); err != nil { // items as documents
		t.Fatal(err)
	}
	var raw bson.M
	if err := s.results.Get(ctx, "packed", &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["items"]; ok || raw["packed"] != "q03 1 1 3 3 5;q00 1 0 0 0 5;q01 1 -1 -1 1 5;q02 1 3 3 2 5" {
		t.Errorf("stored as %v, want the items packed", raw)
	}
	for _, id := range []string{"packed", "earlier"} {
		got, err := s.result(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := packed
		want.ID = id
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("%s read back as\n%+v\nwant\n%+v", id, *got, want)
		}
	}
	if _, ok := packItems([]markedItem{{QuestionID: "a b"}}); ok {
		t.Error("an id with a space was packed")
	}
}
