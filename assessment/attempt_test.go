package assessment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/assessment"
	"polyphony/internal/database"
	"polyphony/internal/failure"
	"polyphony/internal/testclock"
)

func TestAssessmentSettings(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	b, qs := fillBank(t, s, 6) // three tagged module:1, three module:2
	var inv *failure.InvalidError
	for _, tc := range []struct {
		name  string
		edit  func(*assessment.AssessmentInput)
		field string
	}{
		{"no title", func(in *assessment.AssessmentInput) { in.Title = " " }, "title"},
		{"no bank", func(in *assessment.AssessmentInput) { in.BankID = "nope" }, "bankId"},
		{"unknown question", func(in *assessment.AssessmentInput) { in.Questions = []string{"nope"} }, "questions[0]"},
		{"question twice", func(in *assessment.AssessmentInput) { in.Questions = []string{qs[0].ID, qs[0].ID} }, "questions[1]"},
		{"no questions", func(in *assessment.AssessmentInput) { in.Questions = nil }, "questions"},
		{"draw too many", func(in *assessment.AssessmentInput) {
			in.Draws = []assessment.Draw{{Tag: "module:1", Count: 3}} // qs[0] is fixed: two left
		}, "draws[0].count"},
		{"draws that may starve each other", func(in *assessment.AssessmentInput) {
			in.Questions = nil
			in.Draws = []assessment.Draw{{Tag: "module:2", Count: 2}, {Tag: "module:2", Count: 2}}
		}, "draws[1].count"},
		{"draw without tag", func(in *assessment.AssessmentInput) { in.Draws = []assessment.Draw{{Count: 1}} }, "draws[0].tag"},
		{"closes before opens", func(in *assessment.AssessmentInput) { in.Closes = in.Opens.Add(-time.Hour) }, "closes"},
		{"negative limit", func(in *assessment.AssessmentInput) { in.TimeLimitSeconds = -1 }, "timeLimitSeconds"},
		{"long grace", func(in *assessment.AssessmentInput) { in.GraceSeconds = 7200 }, "graceSeconds"},
		{"attempts", func(in *assessment.AssessmentInput) { in.AttemptsAllowed = -2 }, "attemptsAllowed"},
		{"pass mark", func(in *assessment.AssessmentInput) { in.PassMark = 101 }, "passMark"},
		{"review level", func(in *assessment.AssessmentInput) { in.ReviewAfterClose = "all" }, "reviewAfterClose"},
	} {
		in := settings(b.ID, []string{qs[0].ID})
		tc.edit(&in)
		if _, err := s.CreateAssessment(ctx, assessor, in); !errors.As(err, &inv) || inv.Field != tc.field {
			t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	if _, err := s.CreateAssessment(ctx, trainee(1), settings(b.ID, []string{qs[0].ID})); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("a trainee setting an assessment: %v", err)
	}

	in := settings(b.ID, []string{qs[0].ID})
	in.Draws = []assessment.Draw{{Tag: "Module:1", Count: 2}, {Tag: "module:2", Count: 1}}
	a := createAssessment(t, s, in)
	if a.Version != 1 || a.QuestionCount() != 4 || a.Draws[0].Tag != "module:1" {
		t.Errorf("created %+v", a)
	}
	in.Title = "Renamed"
	a2, err := s.UpdateAssessment(ctx, admin, a.ID, 1, in)
	if err != nil || a2.Version != 2 || a2.CreatedBy != assessor.ID || a2.SavedBy != admin.ID {
		t.Fatalf("update: %+v %v", a2, err)
	}
	if _, err := s.UpdateAssessment(ctx, admin, a.ID, 1, in); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("update from a stale version: %v, want conflict", err)
	}
	got, err := s.Assessment(ctx, assessor, a.ID)
	if err != nil || got.Title != "Renamed" || got.Version != 2 {
		t.Errorf("latest: %+v %v", got, err)
	}
	list, _ := s.Assessments(ctx, admin)
	if len(list) != 1 || list[0].Version != 2 {
		t.Errorf("list: %+v", list)
	}
	if _, err := s.Assessment(ctx, trainee(1), a.ID); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("a trainee reading the settings: %v", err)
	}
	info, err := s.AssessmentInfo(ctx, a.ID)
	if err != nil || info.Title != "Renamed" || info.Questions != 4 || info.TimeLimitSeconds != 1800 || info.PassMark != 60 {
		t.Errorf("info: %+v %v", info, err)
	}
	if raw, _ := json.Marshal(info); strings.Contains(string(raw), qs[0].ID) || strings.Contains(string(raw), b.ID) {
		t.Errorf("the info names the bank or its questions: %s", raw)
	}
}

func TestStartShufflesAndRecordsTheOrder(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	b, qs := fillBank(t, s, 10)
	in := settings(b.ID, ids(qs))
	in.ShuffleQuestions, in.ShuffleOptions = true, true
	a := createAssessment(t, s, in)
	orders := map[string]bool{}
	for n := range 4 {
		v := mustStart(t, s, trainee(n), a.ID)
		rec := record(t, s, v.ID)
		if len(v.Questions) != 10 || len(rec.Refs) != 10 {
			t.Fatalf("%d questions, want 10", len(v.Questions))
		}
		var order []string
		seen := map[string]bool{}
		for k, q := range v.Questions {
			ref := rec.Refs[k]
			if seen[ref.ID] {
				t.Errorf("question %s twice", ref.ID)
			}
			seen[ref.ID] = true
			order = append(order, ref.Name)
			// The stem and the options shown are those of the question recorded for the
			// place, in the order recorded.
			if !strings.Contains(string(q.Stem), "Stem of "+ref.Name) {
				t.Errorf("question %d shows %q, recorded as %s", k, q.Stem, ref.Name)
			}
			for j, o := range q.Options {
				if !strings.Contains(string(o.Text), " of "+ref.Name) || o.Label != assessment.Label(j) || o.Index != j {
					t.Errorf("question %d option %d: %+v", k, j, o)
				}
			}
		}
		orders[strings.Join(order, ",")] = true
		// Read again, the attempt shows the same order.
		again, err := s.AttemptView(ctx, trainee(n), v.ID)
		if err != nil || !reflect.DeepEqual(again.Questions, v.Questions) {
			t.Errorf("attempt read again differs: %v", err)
		}
	}
	if len(orders) < 2 {
		t.Errorf("four trainees all got the questions in the order %v: not shuffled", orders)
	}
}

func TestRandomDrawByTag(t *testing.T) {
	s, _ := openStore(t)
	b, qs := fillBank(t, s, 9) // Q00, Q02… tagged module:1; Q01, Q03… module:2
	in := settings(b.ID, []string{qs[0].ID})
	in.Draws = []assessment.Draw{{Tag: "module:1", Count: 2}, {Tag: "module:2", Count: 3}}
	a := createAssessment(t, s, in)
	for n := range 5 {
		rec := record(t, s, mustStart(t, s, trainee(n), a.ID).ID)
		var got []string
		for _, r := range rec.Refs {
			got = append(got, r.Name)
		}
		if len(got) != 6 || got[0] != "Q00" {
			t.Fatalf("attempt has %v, want Q00 and five drawn", got)
		}
		for i, name := range got[1:] {
			var num int
			fmt.Sscanf(name, "Q%d", &num)
			wantOdd := i >= 2
			if num == 0 || (num%2 == 1) != wantOdd {
				t.Errorf("draw gave %v: want two more of module:1 (even) then three of module:2 (odd)", got)
			}
		}
	}
}

func TestOneOpenAttemptAtATime(t *testing.T) {
	bothWays(t, func(t *testing.T, opts ...assessment.StoreOption) {
		ctx := context.Background()
		s, clock, db := openStoreDB(t, opts...)
		b, qs := fillBank(t, s, 3)
		in := settings(b.ID, ids(qs))
		in.AttemptsAllowed = 2
		a := createAssessment(t, s, in)
		me := trainee(1)

		// Twenty starts at once give one attempt.
		started := make([]assessment.AttemptView, 20)
		var wg sync.WaitGroup
		for i := range started {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := s.Start(ctx, me, a.ID)
				if err != nil {
					t.Error(err)
				}
				started[i] = v
			}()
		}
		wg.Wait()
		for _, v := range started {
			if v.ID != started[0].ID || v.Number != 1 || v.State != assessment.StateOpen {
				t.Fatalf("parallel starts gave %s (number %d, %s) and %s", v.ID, v.Number, v.State, started[0].ID)
			}
		}
		if n := count(t, db, "attempts", bson.M{}); n != 1 {
			t.Errorf("%d attempts stored, want 1", n)
		}
		mustSave(t, s, me, started[0].ID, 0, 2)
		clock.Advance(time.Minute)
		again := mustStart(t, s, me, a.ID)
		if again.ID != started[0].ID || *again.Questions[0].Chosen != 2 {
			t.Errorf("a second start gave %s with answer %v, want the open attempt with its answer", again.ID, again.Questions[0].Chosen)
		}
		if _, err := s.Submit(ctx, me, again.ID); err != nil {
			t.Fatal(err)
		}
		second := mustStart(t, s, me, a.ID)
		if second.Number != 2 || second.ID == again.ID {
			t.Errorf("after submitting, start gave %+v, want attempt 2", second)
		}
		if _, err := s.Submit(ctx, me, second.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Start(ctx, me, a.ID); !errors.Is(err, failure.ErrConflict) || !strings.Contains(err.Error(), "2 attempt(s) allowed") {
			t.Errorf("a third start with two allowed: %v", err)
		}
		mine, err := s.MyAttempts(ctx, me, a.ID)
		if err != nil || len(mine) != 2 || mine[0].Number != 1 || mine[1].State != assessment.StateClosed {
			t.Errorf("my attempts: %+v %v", mine, err)
		}
		if _, err := s.Start(ctx, assessor, a.ID); !errors.Is(err, failure.ErrForbidden) {
			t.Errorf("an assessor starting an attempt: %v", err)
		}
	})
}

func TestStartOnlyWhileOpen(t *testing.T) {
	ctx := context.Background()
	s, clock := openStore(t)
	b, qs := fillBank(t, s, 2)
	a := createAssessment(t, s, settings(b.ID, ids(qs)))
	clock.Set(t0.Add(-time.Second))
	if _, err := s.Start(ctx, trainee(1), a.ID); !errors.Is(err, failure.ErrConflict) || !strings.Contains(err.Error(), "opens on 1 March 2027 at 09:00") {
		t.Errorf("before it opens: %v", err)
	}
	clock.Set(a.Closes)
	if _, err := s.Start(ctx, trainee(1), a.ID); !errors.Is(err, failure.ErrConflict) || !strings.Contains(err.Error(), "closed on") {
		t.Errorf("once closed: %v", err)
	}
}

func TestMarkingAndPinnedRevisions(t *testing.T) {
	bothWays(t, func(t *testing.T, opts ...assessment.StoreOption) {
		ctx := context.Background()
		s, _ := openStore(t, opts...)
		b, qs := fillBank(t, s, 5)
		a := createAssessment(t, s, settings(b.ID, ids(qs)))
		me := trainee(1)
		v := mustStart(t, s, me, a.ID)
		right := rightOptions(t, s, v.ID)
		// Right on questions 0, 1 and 2, wrong on 3, none on 4.
		for q := range 3 {
			mustSave(t, s, me, v.ID, q, right[q])
		}
		mustSave(t, s, me, v.ID, 3, (right[3]+1)%5)
		mustSave(t, s, me, v.ID, 4, right[4])
		mustSave(t, s, me, v.ID, 4, -1) // cleared

		// The author changes the key of question 0 while the attempt is open: the attempt is
		// marked by the revision it started with.
		changed := qs[0].Input()
		for i := range changed.Options {
			changed.Options[i].Right = i == 4
		}
		if _, err := s.ReviseQuestion(ctx, assessor, qs[0].ID, 1, changed); err != nil {
			t.Fatal(err)
		}
		done, err := s.Submit(ctx, me, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if done.Score == nil || done.Score.Marks != 3 || done.Score.Max != 5 || done.Score.Percent != 60 || done.Score.Passed == nil || !*done.Score.Passed {
			t.Errorf("score %+v, want 3 of 5, 60%%, passed at 60", done.Score)
		}
		rec := record(t, s, v.ID)
		if rec.Refs[0].Revision != 1 {
			t.Errorf("question 0 recorded at revision %d, want 1", rec.Refs[0].Revision)
		}
		if rec.AttemptView.Questions[4].Chosen != nil || !*rec.AttemptView.Questions[0].Correct || *rec.AttemptView.Questions[3].Correct {
			t.Errorf("record: %+v", rec.AttemptView.Questions)
		}
		// A new attempt is made from the new revision.
		v2 := mustStart(t, s, trainee(2), a.ID)
		if r := record(t, s, v2.ID); r.Refs[0].Revision != 2 || *r.AttemptView.Questions[0].RightOption != 4 {
			t.Errorf("a later attempt has question 0 at revision %d with right option %d, want 2 and 4", r.Refs[0].Revision, *r.AttemptView.Questions[0].RightOption)
		}
	})
}

func TestAnswersRefused(t *testing.T) {
	bothWays(t, func(t *testing.T, opts ...assessment.StoreOption) {
		ctx := context.Background()
		s, _ := openStore(t, opts...)
		b, qs := fillBank(t, s, 3)
		a := createAssessment(t, s, settings(b.ID, ids(qs)))
		me := trainee(1)
		v := mustStart(t, s, me, a.ID)
		mustSave(t, s, me, v.ID, 1, 1)
		var inv *failure.InvalidError
		for _, tc := range []struct {
			q, o  int
			field string
		}{{3, 0, "question"}, {-1, 0, "question"}, {0, 5, "option"}, {0, -2, "option"}} {
			if _, err := s.SaveAnswer(ctx, me, v.ID, tc.q, tc.o); !errors.As(err, &inv) || inv.Field != tc.field {
				t.Errorf("answer %d=%d: %v, want invalid %s", tc.q, tc.o, err, tc.field)
			}
		}
		if _, err := s.SaveAnswer(ctx, trainee(2), v.ID, 0, 0); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("another trainee answering: %v, want not found", err)
		}
		if _, err := s.AttemptView(ctx, trainee(2), v.ID); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("another trainee reading: %v, want not found", err)
		}
		if _, err := s.Submit(ctx, trainee(2), v.ID); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("another trainee submitting: %v, want not found", err)
		}
		if _, err := s.Submit(ctx, me, v.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.SaveAnswer(ctx, me, v.ID, 1, 2)
		var conflict *failure.ConflictError
		if !errors.Is(err, assessment.ErrAttemptClosed) || !errors.As(err, &conflict) || !strings.Contains(conflict.Message, "submitted") {
			t.Errorf("answer after submitting: %v", err)
		}
		if got := record(t, s, v.ID).AttemptView.Questions[1].Chosen; got == nil || *got != 1 {
			t.Errorf("after a refused answer the attempt shows %v, want 1 as before", got)
		}
	})
}

// The deadline is start + limit (or the close, if sooner) + grace. Past it, every path
// refuses the trainee, closes the attempt and marks it from the answers saved in time.
func TestDeadlineOnEveryPath(t *testing.T) {
	bothWays(t, func(t *testing.T, opts ...assessment.StoreOption) {
		ctx := context.Background()
		type setup struct {
			s     *assessment.Store
			clock *testclock.Clock
			db    *database.DB
			a     assessment.Assessment
			v     assessment.AttemptView
			right []int
		}
		begin := func(t *testing.T) setup {
			s, clock, db := openStoreDB(t, opts...)
			b, qs := fillBank(t, s, 4)
			a := createAssessment(t, s, settings(b.ID, ids(qs))) // 30 minutes, a minute's grace
			v := mustStart(t, s, trainee(1), a.ID)
			right := rightOptions(t, s, v.ID)
			clock.Set(t0.Add(10 * time.Minute))
			mustSave(t, s, trainee(1), v.ID, 0, right[0])
			clock.Set(t0.Add(30*time.Minute + 59*time.Second)) // in the grace period
			mustSave(t, s, trainee(1), v.ID, 1, right[1])
			clock.Set(t0.Add(31*time.Minute + time.Millisecond)) // past the deadline
			return setup{s, clock, db, a, v, right}
		}
		// check asserts the attempt is closed by timeout at the deadline, marked from the two
		// answers saved in time.
		check := func(t *testing.T, st setup) {
			t.Helper()
			rec := record(t, st.s, st.v.ID)
			v := rec.AttemptView
			if v.State != assessment.StateClosed || v.ClosedBy != assessment.ClosedTimeout || !v.ClosedAt.Equal(t0.Add(31*time.Minute)) {
				t.Errorf("attempt %s, closed by %q at %v; want closed by timeout at the deadline", v.State, v.ClosedBy, v.ClosedAt)
			}
			if v.Score == nil || v.Score.Marks != 2 || v.Questions[2].Chosen != nil {
				t.Errorf("score %+v, question 2 chose %v: want the two answers saved in time, and no other", v.Score, v.Questions[2].Chosen)
			}
		}
		refused := func(t *testing.T, err error) {
			t.Helper()
			var conflict *failure.ConflictError
			if !errors.Is(err, assessment.ErrAttemptClosed) || !errors.As(err, &conflict) || !strings.Contains(conflict.Message, "ran out at 09:31:00 UTC") {
				t.Errorf("got %v, want a refusal saying the time ran out at 09:31:00", err)
			}
		}
		t.Run("answer", func(t *testing.T) {
			st := begin(t)
			_, err := st.s.SaveAnswer(ctx, trainee(1), st.v.ID, 2, st.right[2])
			refused(t, err)
			check(t, st)
		})
		t.Run("submit", func(t *testing.T) {
			st := begin(t)
			_, err := st.s.Submit(ctx, trainee(1), st.v.ID)
			refused(t, err)
			check(t, st)
			_, err = st.s.Submit(ctx, trainee(1), st.v.ID)
			refused(t, err)
		})
		t.Run("read", func(t *testing.T) {
			st := begin(t)
			v, err := st.s.AttemptView(ctx, trainee(1), st.v.ID)
			if err != nil || v.State != assessment.StateClosed || v.Score == nil || v.Score.Marks != 2 {
				t.Errorf("read past the deadline: %+v %v, want closed with 2 marks", v, err)
			}
			check(t, st)
		})
		t.Run("sweep", func(t *testing.T) {
			st := begin(t)
			if n := count(t, st.db, "attempt_results", bson.M{"_id": st.v.ID}); n != 0 {
				t.Fatalf("marked before the sweep")
			}
			// A sweep before the deadline closes nothing.
			if n, err := st.s.Sweep(ctx, t0.Add(31*time.Minute)); err != nil || n != 0 {
				t.Errorf("sweep at the deadline: %d closed, %v; want 0", n, err)
			}
			n, err := st.s.Sweep(ctx, st.clock.Now())
			if err != nil || n != 1 {
				t.Errorf("sweep: %d closed, %v; want 1", n, err)
			}
			if n := count(t, st.db, "attempt_results", bson.M{"_id": st.v.ID}); n != 1 {
				t.Errorf("%d results after the sweep, want 1", n)
			}
			if n := count(t, st.db, "open_attempts", bson.M{}); n != 0 {
				t.Errorf("%d attempts still listed as open", n)
			}
			check(t, st)
			if n, _ := st.s.Sweep(ctx, st.clock.Now()); n != 0 {
				t.Errorf("a second sweep closed %d", n)
			}
		})
		t.Run("start", func(t *testing.T) {
			st := begin(t)
			v, err := st.s.Start(ctx, trainee(1), st.a.ID)
			if err != nil || v.Number != 2 {
				t.Errorf("starting again past the deadline: %+v %v, want attempt 2", v, err)
			}
			check(t, st)
		})
		t.Run("results", func(t *testing.T) {
			st := begin(t)
			res, err := st.s.Results(ctx, assessor, st.a.ID, assessment.PickFirst)
			if err != nil || len(res) != 1 || res[0].Marks != 2 || res[0].ClosedBy != assessment.ClosedTimeout {
				t.Errorf("results: %+v %v", res, err)
			}
			check(t, st)
		})
	})
}

// An assessment's close cuts an attempt's time short; the grace still applies.
func TestDeadlineCappedByClose(t *testing.T) {
	ctx := context.Background()
	s, clock := openStore(t)
	b, qs := fillBank(t, s, 2)
	in := settings(b.ID, ids(qs))
	in.Closes = t0.Add(2 * time.Hour)
	a := createAssessment(t, s, in)
	clock.Set(t0.Add(100 * time.Minute))
	v := mustStart(t, s, trainee(1), a.ID)
	if !v.EndsAt.Equal(in.Closes) || !v.Deadline.Equal(in.Closes.Add(time.Minute)) {
		t.Errorf("ends %v, deadline %v; want the close and a minute after", v.EndsAt, v.Deadline)
	}
	clock.Set(in.Closes.Add(30 * time.Second))
	mustSave(t, s, trainee(1), v.ID, 0, 0)
	clock.Set(in.Closes.Add(61 * time.Second))
	if _, err := s.SaveAnswer(ctx, trainee(1), v.ID, 1, 0); !errors.Is(err, assessment.ErrAttemptClosed) {
		t.Errorf("answer after the close and its grace: %v", err)
	}
}

// Fifty submissions of one attempt at once give one mark, and all see it.
func TestFiftyParallelSubmitsOneMark(t *testing.T) {
	bothWays(t, func(t *testing.T, opts ...assessment.StoreOption) {
		ctx := context.Background()
		s, _, db := openStoreDB(t, opts...)
		b, qs := fillBank(t, s, 5)
		a := createAssessment(t, s, settings(b.ID, ids(qs)))
		me := trainee(1)
		v := mustStart(t, s, me, a.ID)
		right := rightOptions(t, s, v.ID)
		mustSave(t, s, me, v.ID, 0, right[0])
		mustSave(t, s, me, v.ID, 1, right[1])
		views := make([]assessment.AttemptView, 50)
		var wg sync.WaitGroup
		for i := range views {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := s.Submit(ctx, me, v.ID)
				if err != nil {
					t.Error(err)
				}
				views[i] = got
			}()
		}
		wg.Wait()
		for i, got := range views {
			if got.Score == nil || got.Score.Marks != 2 || !got.ClosedAt.Equal(views[0].ClosedAt.UTC()) {
				t.Fatalf("submission %d saw %+v, want the one mark of 2", i, got.Score)
			}
		}
		if n := count(t, db, "attempt_results", bson.M{}); n != 1 {
			t.Errorf("%d results stored, want 1", n)
		}
		if n := count(t, db, "attempt_closes", bson.M{}); n != 1 {
			t.Errorf("%d closes stored, want 1", n)
		}
	})
}

func count(tb testing.TB, db *database.DB, collection string, filter bson.M) int64 {
	tb.Helper()
	n, err := db.Collection(collection).Count(context.Background(), filter)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// Without opening or closing times or a time limit, an attempt has no deadline and stays
// open until it is submitted.
func TestAttemptWithoutDeadline(t *testing.T) {
	ctx := context.Background()
	s, clock := openStore(t)
	b, qs := fillBank(t, s, 2)
	in := settings(b.ID, ids(qs))
	in.Opens, in.Closes, in.TimeLimitSeconds, in.GraceSeconds = time.Time{}, time.Time{}, 0, 0
	a := createAssessment(t, s, in)
	if got, _ := s.Assessment(ctx, admin, a.ID); !got.Opens.IsZero() || !got.Closes.IsZero() {
		t.Errorf("stored times %v %v, want none", got.Opens, got.Closes)
	}
	v := mustStart(t, s, trainee(1), a.ID)
	if v.EndsAt != nil || v.Deadline != nil {
		t.Errorf("ends %v, deadline %v; want none", v.EndsAt, v.Deadline)
	}
	clock.Advance(400 * 24 * time.Hour)
	if n, err := s.Sweep(ctx, clock.Now()); err != nil || n != 0 {
		t.Errorf("sweep a year on: %d closed, %v", n, err)
	}
	mustSave(t, s, trainee(1), v.ID, 0, 1)
	done, err := s.Submit(ctx, trainee(1), v.ID)
	if err != nil || done.ClosedBy != assessment.ClosedSubmitted {
		t.Errorf("submit: %+v %v", done, err)
	}
}
