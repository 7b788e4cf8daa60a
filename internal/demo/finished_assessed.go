package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"polyphony/assessment"
	"polyphony/assessment/marking"
	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// The finished cohort's knowledge test and assessed piece, found by these titles.
const (
	finishedBank  = "Finished demo cohort: knowledge test questions"
	finishedTest  = "Knowledge test"
	finishedPiece = "Reflective account"
)

// knowledgeTest sets the cohort a test of five questions, passed at 60%, and has each trainee
// who has not sat it yet sit it once with four answers right.
func (f *finished) knowledgeTest(ctx context.Context) error {
	ash := assessment.Actor{ID: f.ash, Role: accounts.RoleAssessor}
	a, err := f.findOrSetTest(ctx, ash)
	if err != nil {
		return err
	}
	results, err := f.Tests.Results(ctx, assessment.Actor{ID: f.admin, Role: accounts.RoleAdmin}, a, assessment.PickBest)
	if err != nil {
		return err
	}
	sat := map[string]bool{}
	for _, r := range results {
		sat[r.UserID] = true
	}
	for _, id := range f.trainees {
		if sat[id] {
			continue
		}
		actor := assessment.Actor{ID: id, Role: accounts.RoleTrainee}
		at, _, err := f.Tests.StartOrResume(ctx, actor, a)
		if err != nil {
			return fmt.Errorf("finished demo attempt: %w", err)
		}
		rec, err := f.Tests.AttemptRecord(ctx, ash, at.ID)
		if err != nil {
			return err
		}
		for i, q := range rec.Questions {
			choice := *q.RightOption
			if i == len(rec.Questions)-1 {
				choice = (choice + 1) % len(q.Options)
			}
			if _, err := f.Tests.SaveAnswer(ctx, actor, at.ID, q.Index, choice); err != nil {
				return fmt.Errorf("finished demo answer: %w", err)
			}
		}
		if _, err := f.Tests.Submit(ctx, actor, at.ID); err != nil {
			return fmt.Errorf("finished demo attempt submitted: %w", err)
		}
	}
	return nil
}

// findOrSetTest finds the cohort's knowledge test, or sets it with its bank of questions.
func (f *finished) findOrSetTest(ctx context.Context, ash assessment.Actor) (string, error) {
	infos, err := f.Tests.AssessmentInfos(ctx)
	if err != nil {
		return "", err
	}
	for _, a := range infos {
		if a.CohortID == f.cohort.ID && a.Title == finishedTest {
			return a.ID, nil
		}
	}
	b, err := f.Tests.CreateBank(ctx, ash, finishedBank)
	if err != nil {
		return "", err
	}
	questions := []struct{ stem, right, wrong string }{
		{"Who is invited to a network meeting?", "Whoever the person in crisis wants there", "Only the professionals involved"},
		{"When does the first meeting take place?", "Within a day of the first contact", "Once an assessment is complete"},
		{"What do the professionals' reflections do?", "Let the network hear the staff think aloud", "Settle the treatment plan"},
		{"What does tolerating uncertainty mean?", "Not rushing to conclusions or decisions", "Waiting for a diagnosis"},
		{"Who keeps the responsibility for a meeting's follow-up?", "The team that first met the network", "Whoever is on duty"},
	}
	var qs []string
	for i, q := range questions {
		in := assessment.QuestionInput{Name: fmt.Sprintf("Principles %d", i+1), Stem: q.stem, Tags: []string{"principles"},
			Options: []assessment.Option{{Text: q.right, Right: true}, {Text: q.wrong}}}
		added, err := f.Tests.AddQuestion(ctx, ash, b.ID, in)
		if err != nil {
			return "", err
		}
		qs = append(qs, added.ID)
	}
	a, err := f.Tests.CreateAssessment(ctx, ash, assessment.AssessmentInput{
		Title: finishedTest, BankID: b.ID, CohortID: f.cohort.ID, Questions: qs, AttemptsAllowed: 2, PassMark: 60,
		ReviewAfterAttempt: assessment.ReviewScore, ReviewAfterClose: assessment.ReviewScore,
	})
	if err != nil {
		return "", err
	}
	return a.ID, nil
}

// assessedPiece sets the cohort's reflective account, due on the last day of the programme,
// and has each trainee submit a journal entry that Ash marks as a pass and an administrator
// releases. Each step is taken only when the submission has not reached it yet.
func (f *finished) assessedPiece(ctx context.Context) error {
	admin := marking.Actor{UserID: f.admin, Role: accounts.RoleAdmin}
	ms, err := f.Courses.MembershipsOf(ctx, f.ash)
	if err != nil {
		return err
	}
	ash := marking.Actor{UserID: f.ash, Role: accounts.RoleAssessor}
	for _, m := range ms {
		ash.CohortIDs = append(ash.CohortIDs, m.CohortID)
	}
	p, err := f.findOrSetPiece(ctx, admin)
	if err != nil {
		return err
	}
	for _, id := range f.trainees {
		tr := marking.Actor{UserID: id, Role: accounts.RoleTrainee, CohortIDs: []string{f.cohort.ID}}
		sub, err := f.Marking.Submission(ctx, admin, p.ID, id)
		if errors.Is(err, failure.ErrNotFound) || err == nil && !sub.Active {
			sub, err = f.submit(ctx, tr, p)
		}
		if err != nil {
			return err
		}
		if len(sub.Markers) == 0 {
			if sub, err = f.Marking.Allocate(ctx, admin, sub.ID, []string{f.ash}); err != nil {
				return fmt.Errorf("finished demo allocation: %w", err)
			}
		}
		if err := f.markAsPass(ctx, ash, p, sub); err != nil {
			return err
		}
		if _, err := f.Marking.Release(ctx, admin, p.ID, id); err != nil {
			return fmt.Errorf("finished demo release: %w", err)
		}
	}
	return nil
}

// findOrSetPiece finds the cohort's reflective account, or sets it.
func (f *finished) findOrSetPiece(ctx context.Context, admin marking.Actor) (marking.Piece, error) {
	ps, err := f.Marking.Pieces(ctx, admin, f.cohort.ID)
	if err != nil {
		return marking.Piece{}, err
	}
	for _, p := range ps {
		if p.Title == finishedPiece {
			return p, nil
		}
	}
	last := f.programme.Modules[len(f.programme.Modules)-1].End
	due := time.Date(last.Year(), last.Month(), last.Day(), 17, 0, 0, 0, time.UTC)
	return f.Marking.CreatePiece(ctx, admin, f.cohort.ID, marking.PieceInput{
		Title: finishedPiece, Guidance: "Write about a network meeting you took part in, in the light of the seven principles.",
		Due: due, Accepts: marking.Accepts{Entries: true}, RubricID: marking.SevenPrinciplesRubricID, Scheme: marking.SchemeSingle,
	})
}

// submit writes the trainee's reflective account in their journal and submits that revision.
func (f *finished) submit(ctx context.Context, tr marking.Actor, p marking.Piece) (marking.Submission, error) {
	e, err := f.Journals.Create(ctx, courses.Viewer{UserID: tr.UserID, Role: accounts.RoleTrainee},
		courses.Draft{Title: "A network meeting", Body: "What I noticed about the seven principles in a meeting I joined."}, "demo-finished-reflective-account")
	if err != nil {
		return marking.Submission{}, fmt.Errorf("finished demo journal entry: %w", err)
	}
	sub, err := f.Marking.Submit(ctx, tr, p.ID, marking.Items{Entries: []marking.EntryItem{{EntryID: e.ID, Version: e.Version, Title: e.Title}}})
	if err != nil {
		return marking.Submission{}, fmt.Errorf("finished demo submission: %w", err)
	}
	return sub, nil
}

// markAsPass saves and submits Ash's marking of the submission, every principle at "pass",
// unless Ash submitted it before.
func (f *finished) markAsPass(ctx context.Context, ash marking.Actor, p marking.Piece, sub marking.Submission) error {
	ref := marking.Ref(p, sub)
	base := 0
	m, err := f.Marking.ReadMark(ctx, ash, ref, f.ash)
	switch {
	case err == nil && m.Submitted:
		return nil
	case err == nil:
		base = m.Version
	case !errors.Is(err, failure.ErrNotFound):
		return err
	}
	in := marking.MarkInput{Feedback: "A clear account of the meeting, with each principle in view."}
	for _, c := range marking.SevenPrinciplesRubric().Criteria {
		in.Levels = append(in.Levels, marking.CriterionMark{CriterionID: c.ID, LevelID: "pass"})
	}
	if m, err = f.Marking.SaveDraft(ctx, ash, ref, base, in); err != nil {
		return fmt.Errorf("finished demo marking: %w", err)
	}
	if _, err := f.Marking.SubmitMark(ctx, ash, ref, m.Version); err != nil {
		return fmt.Errorf("finished demo marking submitted: %w", err)
	}
	return nil
}

// board opens the cohort's exam board, two weeks after its last module, unless it has one,
// and decides for Ada (awarded) and Dev (deferred) unless they are decided; Erin, eligible,
// waits for an administrator to decide.
func (f *finished) board(ctx context.Context) error {
	admin := courses.Viewer{UserID: f.admin, Role: accounts.RoleAdmin}
	bs, err := f.Boards.ForCohort(ctx, admin, f.cohort.ID)
	if err != nil {
		return err
	}
	var b award.Board
	if len(bs) > 0 {
		b = bs[0]
	} else {
		last := f.programme.Modules[len(f.programme.Modules)-1].End
		if b, err = f.Boards.Open(ctx, admin, f.cohort.ID, last.AddDate(0, 0, 14)); err != nil {
			return fmt.Errorf("finished demo exam board: %w", err)
		}
	}
	v, err := f.Boards.View(ctx, admin, b.ID)
	if err != nil {
		return err
	}
	decided := map[string]bool{}
	for _, c := range v.Candidates {
		decided[c.UserID] = c.Current != nil
	}
	decisions := map[string]award.DecisionInput{
		"awarded@polyphony.example": {Outcome: award.Awarded},
		"deferred@polyphony.example": {Outcome: award.Deferred, Reason: "Supervision hours are short of the 18 needed.",
			Outstanding: "The rest of the supervision hours, confirmed by the supervisor", Until: b.Date.AddDate(0, 3, 0)},
	}
	for email, in := range decisions {
		in.UserID = f.trainees[email]
		if decided[in.UserID] {
			continue
		}
		if _, err := f.Boards.Decide(ctx, admin, b.ID, in); err != nil {
			return fmt.Errorf("finished demo decision for %s: %w", email, err)
		}
	}
	return nil
}
