package marking_test

import (
	"context"
	"fmt"
	"testing"

	"polyphony/assessment/marking"
	"polyphony/internal/failure"
)

func TestDrawAndConfirmSample(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeSingle) // pass mark 4, borderline 1, sample 10%
	levelsOf := map[int][2]string{6: {"refer", "merit"}, 7: {"pass", "pass"}}
	var refs []string
	for i := range 10 {
		sub := submitted(t, f, p, fmt.Sprintf("t%d", i), "m1")
		lv, ok := levelsOf[i]
		if !ok {
			lv = [2]string{"merit", "merit"}
		}
		mark(t, f, marker1, sub.ID, lv[0], lv[1])
		refs = append(refs, sub.ID)
	}
	draw := func(seed int64) marking.Sample {
		t.Helper()
		s, err := f.s.DrawSample(ctx, assessor, p.ID, seed)
		must(t, "draw", err)
		return s
	}
	randoms := map[string]bool{}
	for seed := int64(1); seed <= 12; seed++ {
		s := draw(seed)
		why := map[string]string{}
		for _, it := range s.Items {
			why[it.Ref] = it.Reason
			if it.Reason == "random" {
				randoms[it.Ref] = true
			}
		}
		if why[refs[6]] != "refer" || why[refs[7]] != "borderline" {
			t.Fatalf("seed %d: sample %+v lacks the refer or the borderline result", seed, s.Items)
		}
		if n := len(s.Items); n < 2 || n > 3 {
			t.Fatalf("seed %d: %d drawn, want the refer, the borderline and 10%% of 10", seed, n)
		}
		if again := draw(seed); fmt.Sprint(again.Items) != fmt.Sprint(s.Items) {
			t.Fatalf("seed %d drew %v then %v", seed, s.Items, again.Items)
		}
	}
	if len(randoms) < 2 {
		t.Errorf("twelve seeds drew the same random submission: %v", randoms)
	}
	_, err := f.s.DrawSample(ctx, trainee("t1"), p.ID, 1)
	wantErr(t, "a trainee draws", err, failure.ErrNotFound)

	_, err = f.s.ConfirmSample(ctx, marker1, p.ID, "Fine")
	wantField(t, "the marker confirms", err, "sample")
	_, err = f.s.ConfirmSample(ctx, marker3, p.ID, " ")
	wantField(t, "confirm without a comment", err, "comment")
	s, err := f.s.ConfirmSample(ctx, marker3, p.ID, "Marking is consistent")
	must(t, "confirm", err)
	if s.Confirmed == nil || s.Confirmed.By != "m3" {
		t.Errorf("confirmed %+v", s.Confirmed)
	}
	_, err = f.s.ConfirmSample(ctx, admin, p.ID, "Again")
	wantField(t, "confirm twice", err, "sample")
	_, err = f.s.DrawSample(ctx, assessor, p.ID, 99)
	wantField(t, "draw after confirming", err, "sample")
	got, err := f.s.ReadSample(ctx, assessor, p.ID)
	must(t, "read", err)
	if got.Confirmed == nil || got.Seed != 12 {
		t.Errorf("read back seed %d confirmed %v", got.Seed, got.Confirmed)
	}
}
