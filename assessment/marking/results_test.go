package marking_test

import (
	"context"
	"testing"
	"time"

	"polyphony/assessment/marking"
)

// Standings gives each piece of the cohort with the trainee's deadline (their extension
// included), whether they submitted, and only once released, the outcome: an agreed result
// not released yet says nothing of itself.
func TestStandings(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a := newPiece(t, f, marking.SchemeSingle)
	b := newPiece(t, f, marking.SchemeSingle, func(in *marking.PieceInput) { in.Title = "Key elements" })
	late := b.Due.Add(72 * time.Hour)
	_, err := f.s.GrantExtension(ctx, admin, b.ID, "t1", late, "Illness")
	must(t, "extension", err)
	standing := func(who string) []marking.PieceStanding {
		t.Helper()
		got, err := f.s.Standings(ctx, cohort, who)
		must(t, "standings", err)
		if len(got) != 2 || got[0].PieceID != a.ID || got[1].PieceID != b.ID || got[1].Title != "Key elements" {
			t.Fatalf("standings of %s: %+v, want both pieces in the order set", who, got)
		}
		return got
	}
	got := standing("t1")
	if got[0].Submitted || got[0].Released || !got[0].Deadline.Equal(a.Due) || !got[1].Deadline.Equal(late) {
		t.Errorf("nothing submitted: %+v, want the extension as the second deadline", got)
	}

	sub := submitted(t, f, a, "t1", "m1")
	submitted(t, f, a, "t2", "m1")
	mark(t, f, marker1, marking.Ref(a, sub), "merit", "pass")
	mark(t, f, marker1, a.ID+"/t2", "refer", "pass")
	got = standing("t1")
	if !got[0].Submitted || got[0].Released || got[0].Outcome != "" {
		t.Errorf("agreed, not released: %+v, want submitted and no outcome", got[0])
	}

	_, err = f.s.Release(ctx, admin, a.ID, "")
	must(t, "release", err)
	if got := standing("t1")[0]; !got.Released || got.Outcome != marking.OutcomePass {
		t.Errorf("released as pass: %+v", got)
	}
	if got := standing("t2")[0]; !got.Released || got.Outcome != marking.OutcomeRefer {
		t.Errorf("released as refer: %+v", got)
	}
	if got := standing("t3"); got[0].Submitted || got[0].Released {
		t.Errorf("a trainee who submitted nothing: %+v", got)
	}
	if got, err := f.s.Standings(ctx, "other", "t1"); err != nil || len(got) != 0 {
		t.Errorf("another cohort's standings: %+v, %v; want none", got, err)
	}
}
