package assessment_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"polyphony/assessment"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// Three judges estimate four questions; by hand:
//
//	judge 1: .6 .5 .7 .4 → mean .55 → 55%
//	judge 2: .7 .6 .8 .5 → mean .65 → 65%
//	judge 3: .5 .4 .6 .3 → mean .45 → 45%
//
// Panel mean (55 + 65 + 45)/3 = 55; deviations 0, 10, −10; sample SD √(200/2) = 10. A
// fourth judge who has estimated two questions is not counted.
func TestModifiedAngoff(t *testing.T) {
	ctx := context.Background()
	s, clock := openStore(t)
	b, qs := fillBank(t, s, 4)
	a := createAssessment(t, s, settings(b.ID, ids(qs)))
	judges := []assessment.Actor{
		assessor,
		admin,
		{ID: "assessor-3", Role: accounts.RoleAssessor},
		{ID: "assessor-4", Role: accounts.RoleAssessor},
	}
	estimates := [][]float64{{.6, .5, .7, .4}, {.7, .6, .8, .5}, {.5, .4, .6, .3}, {.9, .9}}

	if _, err := s.AdoptPassMark(ctx, admin, a.ID); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("adopting with no estimates: %v, want conflict", err)
	}
	for j, judge := range judges {
		// Each judge saves in two goes; the second keeps the first.
		first, rest := map[string]float64{}, map[string]float64{}
		for i, p := range estimates[j] {
			if i < 2 {
				first[qs[i].ID] = p
			} else {
				rest[qs[i].ID] = p
			}
		}
		if _, err := s.SaveEstimates(ctx, judge, a.ID, first); err != nil {
			t.Fatal(err)
		}
		got, err := s.SaveEstimates(ctx, judge, a.ID, rest)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Estimates) != len(estimates[j]) || got.Missing != 4-len(estimates[j]) {
			t.Errorf("judge %d: %+v", j, got)
		}
	}
	var inv *failure.InvalidError
	for _, bad := range []map[string]float64{{qs[0].ID: 1.2}, {qs[0].ID: -0.1}, {qs[0].ID: math.NaN()}, {"not-a-question": 0.5}} {
		if _, err := s.SaveEstimates(ctx, assessor, a.ID, bad); !errors.As(err, &inv) {
			t.Errorf("estimates %v: %v, want invalid", bad, err)
		}
	}
	if _, err := s.SaveEstimates(ctx, trainee(1), a.ID, map[string]float64{qs[0].ID: .5}); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("a trainee judging: %v", err)
	}

	p, err := s.StandardSetting(ctx, assessor, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Judges) != 4 || p.Complete != 3 || p.Mean == nil || math.Abs(*p.Mean-55) > 1e-9 || math.Abs(*p.SD-10) > 1e-9 {
		t.Fatalf("panel: %d judges, %d complete, mean %v sd %v; want 4, 3, 55 and 10", len(p.Judges), p.Complete, p.Mean, p.SD)
	}
	want := map[string]float64{assessor.ID: 55, admin.ID: 65, "assessor-3": 45}
	for _, j := range p.Judges {
		w, complete := want[j.JudgeID]
		if complete != (j.PassMark != nil) || complete && math.Abs(*j.PassMark-w) > 1e-9 {
			t.Errorf("judge %s: pass mark %v, want %v (complete %v)", j.JudgeID, j.PassMark, w, complete)
		}
	}

	if _, err := s.AdoptPassMark(ctx, assessor, a.ID); !errors.Is(err, failure.ErrForbidden) {
		t.Errorf("an assessor adopting: %v, want forbidden", err)
	}
	clock.Set(t0.Add(48 * time.Hour))
	adopted, err := s.AdoptPassMark(ctx, admin, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if adopted.PassMark != 55 || adopted.Version != 2 || adopted.Adoption == nil || adopted.Adoption.AdoptedBy != admin.ID ||
		!adopted.Adoption.AdoptedAt.Equal(t0.Add(48*time.Hour)) || adopted.Adoption.Judges != 3 || math.Abs(adopted.Adoption.SD-10) > 1e-9 {
		t.Errorf("adopted: %+v %+v", adopted, adopted.Adoption)
	}
	stored, _ := s.Assessment(ctx, admin, a.ID)
	if stored.PassMark != 55 || stored.Adoption == nil || stored.Adoption.AdoptedBy != admin.ID {
		t.Errorf("stored: pass mark %v, adoption %+v", stored.PassMark, stored.Adoption)
	}
	// Changing the pass mark by hand drops the record of its adoption.
	in := stored.AssessmentInput
	in.PassMark = 50
	changed, err := s.UpdateAssessment(ctx, assessor, a.ID, stored.Version, in)
	if err != nil || changed.Adoption != nil {
		t.Errorf("after a change by hand: %+v %v", changed.Adoption, err)
	}
}
