package progress_test

import (
	"context"
	"strings"
	"testing"

	"polyphony/courses"
	"polyphony/courses/progress"
)

// The residential rule at its edge: 17, 18 and 19 of 20 days when 18 are needed, once the
// programme is over.
func TestResidentialAtTheThreshold(t *testing.T) {
	w := newWorld(t, 3)
	days := w.occasions(courses.OccasionResidential)
	if len(days) != 20 {
		t.Fatalf("the template has %d residential days, want 20", len(days))
	}
	rule, _ := progress.DefaultRules(w.programme).Rule(progress.KindResidential)
	if rule.Days != 18 || !rule.EveryModule {
		t.Fatalf("standard residential rule %+v, want 18 days and every module", rule)
	}
	// Each trainee is absent on the last days of module 4 only, so every module has a day.
	w.attend(days, 17, 18, 19)
	w.at(w.after())
	wantState(t, "17 of 18", w.result(0, progress.KindResidential), progress.NotMet, 17)
	wantState(t, "18 of 18", w.result(1, progress.KindResidential), progress.Met, 18)
	wantState(t, "19 of 18", w.result(2, progress.KindResidential), progress.Met, 19)

	r := w.result(1, progress.KindResidential)
	if len(r.Evidence) != 20 {
		t.Fatalf("evidence: %d records, want a mark for each of the 20 days", len(r.Evidence))
	}
	counted := 0
	for _, e := range r.Evidence {
		if e.Counts {
			counted++
			if !strings.HasPrefix(e.StaffPath, "/cohorts/"+w.cohort.ID+"/register/module-") || !strings.HasPrefix(e.Path, "/schedule#occasion-module-") {
				t.Errorf("evidence %+v does not link to its register", e)
			}
		}
	}
	if counted != 18 {
		t.Errorf("%d days of evidence count, want 18", counted)
	}

	// A corrected register changes the outcome on the next request.
	w.register(days[0], map[string]courses.Mark{w.trainees[1].UserID: courses.Excused})
	wantState(t, "18 of 18 less an excused day", w.result(1, progress.KindResidential), progress.NotMet, 17)
}

// Every module needs a day: 15 days present, all in modules 1 to 3, do not meet a rule of 15
// days with every module; with module 4 still to come, the rule is not yet decided.
func TestResidentialNeedsEveryModule(t *testing.T) {
	w := newWorld(t, 1)
	w.rules(progress.Rule{Kind: progress.KindResidential, Days: 15, EveryModule: true})
	days := w.occasions(courses.OccasionResidential)
	w.attend(days[:15], 15)
	// On the first day of module 4, before its registers, its days may still count.
	w.at(days[15].Date.Add(8 * 3600e9))
	if r := w.result(0, progress.KindResidential); r.State == progress.NotMet || r.State == progress.Met {
		t.Errorf("on module 4's first day: %s, want not decided (%q)", r.State, r.Reasons)
	}
	w.attend(days[15:], 0)
	w.at(w.after())
	r := w.result(0, progress.KindResidential)
	wantState(t, "module 4 missed", r, progress.NotMet, 15)
	if len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "module 4") {
		t.Errorf("reasons %q, want module 4 named", r.Reasons)
	}
}

// Halfway through the residential days, the rule is at risk once no more days can be missed,
// and not yet decided while some can.
func TestResidentialAtRiskWhenNoMoreCanBeMissed(t *testing.T) {
	w := newWorld(t, 3)
	days := w.occasions(courses.OccasionResidential)
	// After module 2: 8, 9 and 7 of 10 days present; 10 days to come; 18 needed.
	w.attend(days[:10], 8, 9, 7)
	w.at(days[10].Date.AddDate(0, 0, -7))
	wantState(t, "8 + 10 to come = 18", w.result(0, progress.KindResidential), progress.AtRisk, 8)
	wantState(t, "9 + 10 to come = 19", w.result(1, progress.KindResidential), progress.NotYet, 9)
	wantState(t, "7 + 10 to come = 17", w.result(2, progress.KindResidential), progress.NotMet, 7)
	r := w.result(1, progress.KindResidential)
	if !strings.HasPrefix(r.Next, "Attend Module 3, day 1") || !r.NextBy.Equal(days[10].Date) {
		t.Errorf("next: %q by %s, want module 3's first day", r.Next, r.NextBy)
	}
	// A day whose register is not taken yet may still count.
	w.at(days[10].Date.Add(10 * 3600e9))
	wantState(t, "module 3 day 1 not marked yet", w.result(0, progress.KindResidential), progress.AtRisk, 8)
}

// The dialogue rule at its edge: N-1, N and N+1 of the sessions when N are needed.
func TestDialogueAtTheThreshold(t *testing.T) {
	w := newWorld(t, 3)
	sessions := w.occasions(courses.OccasionDialogue)
	rule, _ := progress.DefaultRules(w.programme).Rule(progress.KindDialogue)
	n := rule.Sessions
	if n < 2 || n >= len(sessions) || n != (len(sessions)*80+99)/100 {
		t.Fatalf("standard dialogue rule %d of %d sessions, want 80%% rounded up", n, len(sessions))
	}
	w.attend(sessions, n-1, n, n+1)
	w.at(w.after())
	wantState(t, "N-1", w.result(0, progress.KindDialogue), progress.NotMet, float64(n-1))
	wantState(t, "N", w.result(1, progress.KindDialogue), progress.Met, float64(n))
	wantState(t, "N+1", w.result(2, progress.KindDialogue), progress.Met, float64(n+1))
	for _, e := range w.result(1, progress.KindDialogue).Evidence {
		if e.Counts && !strings.Contains(e.StaffPath, "/register/p") {
			t.Errorf("evidence %+v does not link to the session's register", e)
		}
	}
}

// Two sessions missed in a row put the rule at risk; a session attended after them ends it.
func TestDialogueTwoMissedInARow(t *testing.T) {
	w := newWorld(t, 2)
	sessions := w.occasions(courses.OccasionDialogue)
	a, b := w.trainees[0].UserID, w.trainees[1].UserID
	w.register(sessions[0], map[string]courses.Mark{a: courses.Present, b: courses.Present})
	w.register(sessions[1], map[string]courses.Mark{a: courses.Absent, b: courses.Absent})
	w.register(sessions[2], map[string]courses.Mark{a: courses.Excused, b: courses.Present})
	w.at(sessions[3].Date.Add(-3600e9))
	r := w.result(0, progress.KindDialogue)
	wantState(t, "absent then excused", r, progress.AtRisk, 1)
	if len(r.Reasons) == 0 || !strings.Contains(r.Reasons[0], "last two") {
		t.Errorf("reasons %q", r.Reasons)
	}
	wantState(t, "absent then present", w.result(1, progress.KindDialogue), progress.NotYet, 2)
	w.register(sessions[3], map[string]courses.Mark{a: courses.Present})
	w.at(sessions[4].Date.Add(-3600e9))
	wantState(t, "present again", w.result(0, progress.KindDialogue), progress.NotYet, 2)
}

// Only trainees of the cohort have progress, and only those allowed see it: the trainee
// themself, the cohort's facilitators and administrators, and the trainee's supervisors.
func TestWhoSeesProgress(t *testing.T) {
	w := newWorld(t, 2)
	ctx := context.Background()
	first, second := w.trainees[0], w.trainees[1]
	for _, tc := range []struct {
		name    string
		viewer  courses.Viewer
		trainee courses.Viewer
		sees    bool
	}{
		{"the trainee, their own", first, first, true},
		{"a trainee, another's", second, first, false},
		{"the supervisor, their trainee's", w.supervisor, first, true},
		{"the supervisor, another trainee's", w.supervisor, second, false},
		{"a facilitator", w.facilitator, second, true},
		{"an administrator", w.admin, second, true},
		{"an assessor", w.assessor, first, false},
		{"nobody signed in", courses.Viewer{}, first, false},
		{"the facilitator, of someone not a trainee", w.facilitator, w.supervisor, false},
	} {
		_, err := w.svc.Trainee(ctx, tc.viewer, w.cohort.ID, tc.trainee.UserID)
		if (err == nil) != tc.sees {
			t.Errorf("%s: error %v, want seen %v", tc.name, err, tc.sees)
		}
	}
	for _, tc := range []struct {
		name   string
		viewer courses.Viewer
		rows   int // -1: refused
	}{
		{"facilitator", w.facilitator, 2},
		{"admin", w.admin, 2},
		{"supervisor", w.supervisor, 1},
		{"trainee", first, -1},
		{"assessor", w.assessor, -1},
	} {
		g, err := w.svc.Cohort(ctx, tc.viewer, w.cohort.ID)
		switch {
		case tc.rows < 0 && err == nil:
			t.Errorf("%s sees the grid of %d trainees, want refused", tc.name, len(g.Trainees))
		case tc.rows >= 0 && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.rows >= 0 && len(g.Trainees) != tc.rows:
			t.Errorf("%s sees %d trainees, want %d", tc.name, len(g.Trainees), tc.rows)
		case tc.name == "supervisor" && g.Trainees[0].TraineeID != first.UserID:
			t.Errorf("the supervisor sees %s, not their trainee", g.Trainees[0].TraineeID)
		}
	}
}
