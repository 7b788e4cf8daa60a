package marking_test

import (
	"context"
	"sync"
	"testing"

	"polyphony/assessment/marking"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

func smallRubric() marking.Rubric {
	lv := func(id string, marks int, outcome string) marking.Level {
		return marking.Level{ID: id, Title: id, Marks: marks, Outcome: outcome}
	}
	crit := func(id string) marking.Criterion {
		return marking.Criterion{ID: id, Title: id, Levels: []marking.Level{
			lv("refer", 0, marking.OutcomeRefer), lv("pass", 2, marking.OutcomePass), lv("merit", 3, marking.OutcomePass),
		}}
	}
	return marking.Rubric{Title: "Small", Rule: marking.RuleSum, PassMark: 4, Criteria: []marking.Criterion{crit("a"), crit("b")}}
}

func TestRubricValidation(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(r *marking.Rubric)
		field string
	}{
		{"no title", func(r *marking.Rubric) { r.Title = " " }, "title"},
		{"unknown rule", func(r *marking.Rubric) { r.Rule = "best" }, "rule"},
		{"pass mark above the maximum", func(r *marking.Rubric) { r.PassMark = 7 }, "passMark"},
		{"no criteria", func(r *marking.Rubric) { r.Criteria = nil }, "criteria"},
		{"criterion without id", func(r *marking.Rubric) { r.Criteria[1].ID = "" }, "criteria[1].id"},
		{"two criteria with one id", func(r *marking.Rubric) { r.Criteria[1].ID = "a" }, "criteria[1].id"},
		{"criterion without title", func(r *marking.Rubric) { r.Criteria[0].Title = "" }, "criteria[0].title"},
		{"one level only", func(r *marking.Rubric) { r.Criteria[0].Levels = r.Criteria[0].Levels[:1] }, "criteria[0].levels"},
		{"negative marks", func(r *marking.Rubric) { r.Criteria[1].Levels[0].Marks = -1 }, "criteria[1].levels[0].marks"},
		{"level outcome unknown", func(r *marking.Rubric) { r.Criteria[0].Levels[2].Outcome = "merit" }, "criteria[0].levels[2].outcome"},
		{"duplicate level", func(r *marking.Rubric) { r.Criteria[0].Levels[2].ID = "pass" }, "criteria[0].levels[2].id"},
		{"all-pass with no passing level", func(r *marking.Rubric) {
			r.Rule = marking.RuleAllPass
			for i := range r.Criteria[1].Levels {
				r.Criteria[1].Levels[i].Outcome = marking.OutcomeRefer
			}
		}, "criteria[1].levels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := smallRubric()
			c.edit(&r)
			wantField(t, c.name, r.Validate(), c.field)
		})
	}
	if err := smallRubric().Validate(); err != nil {
		t.Fatalf("valid rubric: %v", err)
	}
}

func TestShippedRubrics(t *testing.T) {
	seven, keys := marking.SevenPrinciplesRubric(), marking.KeyElementsRubric()
	for _, r := range []marking.Rubric{seven, keys} {
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
	}
	if len(seven.Criteria) != 7 || seven.Rule != marking.RuleSum || seven.CitesTurns {
		t.Errorf("seven principles: %d criteria, rule %s, cites turns %v", len(seven.Criteria), seven.Rule, seven.CitesTurns)
	}
	if len(keys.Criteria) != 12 || !keys.CitesTurns || keys.Rule != marking.RuleSum {
		t.Errorf("key elements: %d criteria, cites turns %v", len(keys.Criteria), keys.CitesTurns)
	}
	for _, c := range keys.Criteria {
		for i, l := range c.Levels {
			if l.Marks != i || len(c.Levels) != 4 {
				t.Errorf("key element %s level %d has marks %d of %d levels", c.ID, i, l.Marks, len(c.Levels))
			}
		}
	}
}

func TestRubricVersions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r, err := f.s.SaveRubric(ctx, assessor, smallRubric())
	must(t, "save", err)
	if r.Version != 1 || r.ID == "" {
		t.Fatalf("got version %d id %q, want version 1 with an id", r.Version, r.ID)
	}
	r2 := r
	r2.Title = "Small, revised"
	r2, err = f.s.SaveRubric(ctx, assessor, r2)
	must(t, "revise", err)
	if r2.Version != 2 {
		t.Fatalf("got version %d, want 2", r2.Version)
	}
	stale := r
	stale.Title = "Stale"
	_, err = f.s.SaveRubric(ctx, assessor, stale)
	wantErr(t, "save on version 1 again", err, failure.ErrConflict)
	v1, err := f.s.Rubric(ctx, r.ID, 1)
	must(t, "version 1", err)
	if v1.Title != "Small" {
		t.Errorf("version 1 reads %q, want the title it was saved with", v1.Title)
	}
	latest, err := f.s.LatestRubric(ctx, r.ID)
	must(t, "latest", err)
	if latest.Version != 2 || latest.Title != "Small, revised" {
		t.Errorf("latest is version %d %q", latest.Version, latest.Title)
	}
	_, err = f.s.SaveRubric(ctx, trainee("t1"), smallRubric())
	wantErr(t, "trainee saves a rubric", err, failure.ErrNotFound)
	bad := smallRubric()
	bad.Criteria[0].Levels[1].Marks = -2
	_, err = f.s.SaveRubric(ctx, assessor, bad)
	wantField(t, "bad rubric", err, "criteria[0].levels[1].marks")
}

// TestEnsureExamplesOnce starts two stores on one database at once, as two instances would:
// both succeed and each shipped rubric is stored once, as version 1.
func TestEnsureExamplesOnce(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	stores := []*fixture{newFixtureOn(t, db), newFixtureOn(t, db)}
	f := stores[0]
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = stores[i%2].s.EnsureExamples(ctx)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		must(t, "ensure examples", err)
	}
	rs, err := f.s.Rubrics(ctx, admin)
	must(t, "rubrics", err)
	if len(rs) != 2 {
		t.Fatalf("got %d rubrics, want 2", len(rs))
	}
	for _, r := range rs {
		if r.Version != 1 {
			t.Errorf("%s is at version %d, want 1", r.ID, r.Version)
		}
	}
}
