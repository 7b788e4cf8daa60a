package assessment_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"polyphony/assessment"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/testclock"
)

// secondInstance opens another store on the same database through its own connection, as
// another process would: it shares nothing in memory with the first, not even its locks.
func secondInstance(t *testing.T, db *database.DB, clock *testclock.Clock) *assessment.Store {
	t.Helper()
	ctx := context.Background()
	other, err := database.Open(ctx, database.Config{URI: dbtest.URI(t), Name: db.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close(context.Background()) })
	s, err := assessment.NewStore(ctx, other, assessment.WithOtherInstances(), assessment.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A trainee's requests may reach two instances in turn: each sees what the other stored.
func TestTwoInstancesTakeTurns(t *testing.T) {
	ctx := context.Background()
	one, clock, db := openStoreDB(t, assessment.WithOtherInstances())
	two := secondInstance(t, db, clock)
	b, qs := fillBank(t, one, 4)
	a := createAssessment(t, one, settings(b.ID, ids(qs)))
	me := trainee(1)
	v := mustStart(t, one, me, a.ID)
	if again := mustStart(t, two, me, a.ID); again.ID != v.ID {
		t.Fatalf("the other instance started %s, want the open %s", again.ID, v.ID)
	}
	right := rightOptions(t, one, v.ID)
	mustSave(t, one, me, v.ID, 0, right[0])
	mustSave(t, two, me, v.ID, 1, right[1])
	mustSave(t, one, me, v.ID, 2, right[2]) // the first instance last knew one answer
	got, err := two.AttemptView(ctx, me, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	for q := range 3 {
		if c := got.Questions[q].Chosen; c == nil || *c != right[q] {
			t.Errorf("question %d shows %v on the other instance, want %d", q, c, right[q])
		}
	}
	done, err := two.Submit(ctx, me, v.ID)
	if err != nil || done.Score == nil || done.Score.Marks != 3 {
		t.Fatalf("submit on the other instance: %+v %v, want 3 marks", done.Score, err)
	}
	if _, err := one.SaveAnswer(ctx, me, v.ID, 3, right[3]); !errors.Is(err, assessment.ErrAttemptClosed) {
		t.Errorf("answer on the first instance after the other closed the attempt: %v", err)
	}
	if again, err := one.Submit(ctx, me, v.ID); err != nil || again.Score.Marks != 3 {
		t.Errorf("submitting again on the first instance: %+v %v", again.Score, err)
	}
}

// Answers saved through one instance while another submits: every answer acknowledged is in
// the mark (or a later answer to the same question, saved but refused as too late).
func TestSaveOnOneInstanceWhileAnotherSubmits(t *testing.T) {
	ctx := context.Background()
	one, clock, db := openStoreDB(t, assessment.WithOtherInstances())
	two := secondInstance(t, db, clock)
	b, qs := fillBank(t, one, 3)
	a := createAssessment(t, one, settings(b.ID, ids(qs)))
	for n := range 8 {
		me := trainee(n)
		v := mustStart(t, one, me, a.ID)
		acked := []int{-1, -1, -1}
		tried := make([][]int, 3) // options tried since the last acknowledgement
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				q, o := i%3, i%5
				_, err := one.SaveAnswer(ctx, me, v.ID, q, o)
				if err != nil {
					tried[q] = append(tried[q], o)
					if !errors.Is(err, assessment.ErrAttemptClosed) {
						t.Error(err)
					}
					return
				}
				acked[q], tried[q] = o, nil
			}
		}()
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(5+n*3) * time.Millisecond)
			if _, err := two.Submit(ctx, me, v.ID); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		rec := record(t, one, v.ID)
		for q, want := range acked {
			got := rec.AttemptView.Questions[q].Chosen
			if want < 0 {
				continue
			}
			if got == nil || (*got != want && !slices.Contains(tried[q], *got)) {
				marked := "nothing"
				if got != nil {
					marked = fmt.Sprint(*got)
				}
				t.Errorf("trainee %d question %d: marked %s, but %d was acknowledged (then tried %v)", n, q, marked, want, tried[q])
			}
		}
	}
}
