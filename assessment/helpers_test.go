package assessment_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"polyphony/assessment"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/testclock"
)

var (
	admin    = assessment.Actor{ID: "admin-1", Role: accounts.RoleAdmin}
	assessor = assessment.Actor{ID: "assessor-1", Role: accounts.RoleAssessor}
)

func trainee(n int) assessment.Actor {
	return assessment.Actor{ID: fmt.Sprintf("trainee-%03d", n), Role: accounts.RoleTrainee}
}

var t0 = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

// openStore returns a store on a fresh database with a clock set to t0.
func openStore(tb testing.TB, opts ...assessment.StoreOption) (*assessment.Store, *testclock.Clock) {
	tb.Helper()
	s, clock, _ := openStoreDB(tb, opts...)
	return s, clock
}

// openStoreDB is openStore that also gives the database, for looking under the store.
func openStoreDB(tb testing.TB, opts ...assessment.StoreOption) (*assessment.Store, *testclock.Clock, *database.DB) {
	tb.Helper()
	clock := testclock.New(t0)
	db := dbtest.New(tb)
	s, err := assessment.NewStore(context.Background(), db, append(opts, assessment.WithClock(clock.Now))...)
	if err != nil {
		tb.Fatal(err)
	}
	return s, clock, db
}

// record is the attempt as staff see it, with the right answers.
func record(tb testing.TB, s *assessment.Store, attemptID string) assessment.AttemptRecord {
	tb.Helper()
	r, err := s.AttemptRecord(context.Background(), assessor, attemptID)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// rightOptions is the index, as shown, of each question's right option.
func rightOptions(tb testing.TB, s *assessment.Store, attemptID string) []int {
	tb.Helper()
	var out []int
	for _, q := range record(tb, s, attemptID).AttemptView.Questions {
		out = append(out, *q.RightOption)
	}
	return out
}

// question makes a question whose right option is right (of five), tagged tags.
func question(name string, right int, tags ...string) assessment.QuestionInput {
	in := assessment.QuestionInput{
		Name:        name,
		Stem:        "Stem of " + name,
		Explanation: "Explanation of " + name,
		Tags:        tags,
	}
	for i := range 5 {
		in.Options = append(in.Options, assessment.Option{
			Text:     fmt.Sprintf("Option %d of %s", i, name),
			Right:    i == right,
			Feedback: fmt.Sprintf("Feedback %d of %s", i, name),
		})
	}
	return in
}

// fillBank makes a bank with n questions; question i has option i%5 right and the tag
// "module:<i%2+1>".
func fillBank(tb testing.TB, s *assessment.Store, n int) (assessment.Bank, []assessment.Question) {
	tb.Helper()
	ctx := context.Background()
	b, err := s.CreateBank(ctx, assessor, fmt.Sprintf("Bank %d", time.Now().UnixNano()))
	if err != nil {
		tb.Fatal(err)
	}
	var qs []assessment.Question
	for i := range n {
		q, err := s.AddQuestion(ctx, assessor, b.ID, question(fmt.Sprintf("Q%02d", i), i%5, fmt.Sprintf("module:%d", i%2+1)))
		if err != nil {
			tb.Fatal(err)
		}
		qs = append(qs, q)
	}
	return b, qs
}

func ids(qs []assessment.Question) []string {
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.ID
	}
	return out
}

// settings is an assessment of the fixed questions, open from t0 for a week, 30 minutes
// long with a minute's grace, no shuffling.
func settings(bankID string, questions []string) assessment.AssessmentInput {
	return assessment.AssessmentInput{
		Title: "Module 1 knowledge check", BankID: bankID, Questions: questions,
		Opens: t0, Closes: t0.Add(7 * 24 * time.Hour), TimeLimitSeconds: 30 * 60, GraceSeconds: 60,
		PassMark: 60, ReviewAfterAttempt: assessment.ReviewScore, ReviewAfterClose: assessment.ReviewFeedback,
	}
}

func createAssessment(tb testing.TB, s *assessment.Store, in assessment.AssessmentInput) assessment.Assessment {
	tb.Helper()
	a, err := s.CreateAssessment(context.Background(), assessor, in)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func mustStart(tb testing.TB, s *assessment.Store, who assessment.Actor, assessmentID string) assessment.AttemptView {
	tb.Helper()
	v, err := s.Start(context.Background(), who, assessmentID)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func mustSave(tb testing.TB, s *assessment.Store, who assessment.Actor, attemptID string, q, o int) {
	tb.Helper()
	if _, err := s.SaveAnswer(context.Background(), who, attemptID, q, o); err != nil {
		tb.Fatalf("save answer %d=%d: %v", q, o, err)
	}
}

// bothWays runs a test with the store as the only instance writing attempts (as on embedded
// FerretDB, where it keeps open attempts in memory) and as one of several (reading back
// everything another could have written).
func bothWays(t *testing.T, f func(t *testing.T, opts ...assessment.StoreOption)) {
	t.Run("sole", func(t *testing.T) { f(t) })
	t.Run("shared", func(t *testing.T) { f(t, assessment.WithOtherInstances()) })
}
