package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// SeedProgress gives the demo cohort's trainees records to see progress with, as far as the
// programme has gone at now: Tara Trainee is on track (present every day and at every
// session, supervision confirmed fortnightly, practice logged every week and shared as
// totals); Pat Peer is at risk (present on the residential days but absent from the last two
// dialogue sessions, and no supervision). Running it again adds nothing: a register already
// taken for a trainee is left alone, and the logs are written with fixed idempotency keys.
func SeedProgress(ctx context.Context, users *accounts.Users, store *courses.Store, journals *courses.Journals, now time.Time) error {
	cohort, err := store.CohortByName(ctx, CohortName)
	if err != nil {
		return fmt.Errorf("demo cohort: %w", err)
	}
	p, err := store.Programme(ctx, cohort.ID)
	if err != nil {
		return fmt.Errorf("demo programme: %w", err)
	}
	id := func(email string) (string, error) {
		u, err := users.ByEmail(ctx, email)
		return u.ID, err
	}
	tara, err := id("trainee@polyphony.example")
	if err != nil {
		return err
	}
	pat, err := id("peer@polyphony.example")
	if err != nil {
		return err
	}
	sam, err := id("supervisor@polyphony.example")
	if err != nil {
		return err
	}
	fran, err := id("facilitator@polyphony.example")
	if err != nil {
		return err
	}
	var held []courses.Occasion
	for _, o := range p.Occasions() {
		if o.Date.Before(now.AddDate(0, 0, -1)) {
			held = append(held, o)
		}
	}
	lastTwo := map[string]bool{}
	for i := len(held) - 1; i >= 0 && len(lastTwo) < 2; i-- {
		if held[i].Kind == courses.OccasionDialogue {
			lastTwo[held[i].ID] = true
		}
	}
	marked := map[string]map[string]bool{}
	for _, who := range []string{tara, pat} {
		recs, err := store.AttendanceOf(ctx, cohort.ID, who)
		if err != nil {
			return err
		}
		marked[who] = map[string]bool{}
		for _, r := range recs {
			marked[who][r.Occasion] = r.Mark != ""
		}
	}
	for _, o := range held {
		var entries []courses.AttendanceEntry
		if !marked[tara][o.ID] {
			entries = append(entries, courses.AttendanceEntry{UserID: tara, Mark: courses.Present})
		}
		if !marked[pat][o.ID] {
			mark := courses.Present
			if lastTwo[o.ID] {
				mark = courses.Absent
			}
			entries = append(entries, courses.AttendanceEntry{UserID: pat, Mark: mark})
		}
		if len(entries) > 0 {
			if err := store.TakeRegister(ctx, cohort.ID, o.ID, entries, fran); err != nil {
				return fmt.Errorf("demo register of %s: %w", o.ID, err)
			}
		}
	}
	// Tara: an hour of supervision a fortnight, and ten minutes of practice on Tuesdays, from
	// the programme's first day to yesterday.
	trainee := courses.Viewer{UserID: tara, Role: accounts.RoleTrainee}
	supervisor := courses.Viewer{UserID: sam, Role: accounts.RoleSupervisor}
	start := p.Modules[0].Start
	yesterday := now.AddDate(0, 0, -1)
	for i, d := 0, start.AddDate(0, 0, 3); d.Before(yesterday); i, d = i+1, d.AddDate(0, 0, 14) {
		s, err := journals.LogSupervision(ctx, trainee, courses.NewSupervision{Date: d, Minutes: 75, SupervisorID: sam,
			Kind: courses.SupervisionIndividual, Reflection: "A demo session.", Key: fmt.Sprintf("demo-supervision-%03d", i)})
		if err != nil {
			return fmt.Errorf("demo supervision: %w", err)
		}
		if _, err := journals.ConfirmSupervision(ctx, supervisor, s.ID); err != nil && !errors.Is(err, failure.ErrConflict) {
			return fmt.Errorf("demo supervision confirmed: %w", err)
		}
	}
	for i, d := 0, start.AddDate(0, 0, 1); d.Before(yesterday); i, d = i+1, d.AddDate(0, 0, 7) {
		if _, err := journals.LogPractice(ctx, trainee, courses.NewPractice{Date: d, Minutes: 10, Kind: courses.PracticeSitting, Key: fmt.Sprintf("demo-practice-%03d", i)}); err != nil {
			return fmt.Errorf("demo practice: %w", err)
		}
	}
	return journals.SetPracticeVisibility(ctx, trainee, courses.PracticeTotalsOnly)
}
