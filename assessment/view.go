package assessment

import (
	"context"
	"html/template"
	"time"
)

// AttemptState says whether an attempt still takes answers.
type AttemptState string

// The states of an attempt.
const (
	StateOpen   AttemptState = "open"
	StateClosed AttemptState = "closed"
)

// AttemptView is an attempt as its trainee may see it, and the only shape in which attempts
// are sent to trainees. While the attempt is open it holds the questions and options in the
// order the trainee was given them, with the trainee's own answers, and nothing that tells
// which option is right. Once it is closed, the assessment's review level in force decides
// what is added: the score, then the questions with the right answers, then the feedback
// and explanations. Parts that are not allowed are left out of the value (and so of its
// JSON), not merely emptied.
type AttemptView struct {
	ID           string       `json:"id"`
	AssessmentID string       `json:"assessmentId"`
	Title        string       `json:"title"`
	Number       int          `json:"number"`
	State        AttemptState `json:"state"`
	StartedAt    time.Time    `json:"startedAt"`
	// EndsAt is when the time allowed runs out; Deadline, a grace period later, is when
	// answers stop being taken. Both are absent when the attempt has no time limit.
	EndsAt     *time.Time `json:"endsAt,omitempty"`
	Deadline   *time.Time `json:"deadline,omitempty"`
	ServerTime time.Time  `json:"serverTime"`
	ClosedAt   *time.Time `json:"closedAt,omitempty"`
	// ClosedBy is "submitted" or "timeout".
	ClosedBy string `json:"closedBy,omitempty"`
	// Review is the review level in force; it is "none" while the attempt is open.
	Review    ReviewLevel    `json:"review"`
	Score     *Score         `json:"score,omitempty"`
	Questions []QuestionView `json:"questions,omitempty"`
}

// Score is a closed attempt's mark.
type Score struct {
	Marks    int     `json:"marks"`
	Max      int     `json:"max"`
	Percent  float64 `json:"percent"`
	PassMark float64 `json:"passMark"`
	// Passed is null while the assessment has no pass mark (a pass mark of 0): without one,
	// nobody has passed or failed.
	Passed *bool `json:"passed"`
}

// QuestionView is one question of an attempt as shown to its trainee.
type QuestionView struct {
	// Index is the question's position, from 0, as SaveAnswer takes it.
	Index   int           `json:"index"`
	Stem    template.HTML `json:"stem"`
	Options []OptionView  `json:"options"`
	// Chosen is the index of the option the trainee chose, or null.
	Chosen *int `json:"chosen"`
	// Correct and RightOption (the index of the right option) come with ReviewAnswers.
	Correct     *bool `json:"correct,omitempty"`
	RightOption *int  `json:"rightOption,omitempty"`
	// Explanation comes with ReviewFeedback.
	Explanation template.HTML `json:"explanation,omitempty"`
}

// OptionView is one option as shown: Index (from 0) is what SaveAnswer takes, Label the
// letter shown. Feedback comes with ReviewFeedback.
type OptionView struct {
	Index    int           `json:"index"`
	Label    string        `json:"label"`
	Text     template.HTML `json:"text"`
	Feedback template.HTML `json:"feedback,omitempty"`
}

// traineeView builds the view of an attempt that its trainee may see at now: the one
// function through which attempts reach trainees. answers are the saved answers of an open
// attempt; res is the result of a closed one (nil while open).
func traineeView(a Assessment, at *attemptDoc, p *paper, answers []int, res *resultDoc, now time.Time) AttemptView {
	v := AttemptView{
		ID: at.ID, AssessmentID: at.AssessmentID, Title: a.Title, Number: at.Number,
		StartedAt: at.StartedAt, ServerTime: now, Review: ReviewNone,
	}
	if res == nil {
		v.State, v.EndsAt, v.Deadline = StateOpen, at.Ends, at.deadline()
		v.Questions = questionViews(p, at.Items, answers, ReviewNone)
		return v
	}
	closedAt := res.ClosedAt
	v.State, v.ClosedAt, v.ClosedBy = StateClosed, &closedAt, res.Reason
	v.Review = a.review(now)
	if v.Review.allows(ReviewScore) {
		v.Score = score(res, a.PassMark)
	}
	if v.Review.allows(ReviewAnswers) {
		v.Questions = questionViews(p, at.Items, shownAnswers(res), v.Review)
	}
	return v
}

func score(res *resultDoc, passMark float64) *Score {
	sc := &Score{Marks: res.Marks, Max: res.Max, PassMark: passMark}
	if res.Max > 0 {
		sc.Percent = 100 * float64(res.Marks) / float64(res.Max)
	}
	if passMark > 0 {
		// Compared in whole marks, so that 3 of 5 passes a pass mark of 60 exactly.
		passed := float64(res.Marks)*100 >= passMark*float64(res.Max)-1e-9
		sc.Passed = &passed
	}
	return sc
}

func shownAnswers(res *resultDoc) []int {
	out := make([]int, len(res.Items))
	for i, m := range res.Items {
		out[i] = m.Shown
	}
	return out
}

// questionViews shows the questions in the attempt's order with the answers given (as
// shown). A level of ReviewAnswers or more adds which option is right and whether the
// answer was; ReviewFeedback adds the feedback and the explanation.
func questionViews(p *paper, items []item, answers []int, level ReviewLevel) []QuestionView {
	out := make([]QuestionView, len(items))
	for k, it := range items {
		stem, options, explanation := p.questionHTML(it)
		qv := QuestionView{Index: k, Stem: stem, Options: make([]OptionView, len(options))}
		for j, o := range options {
			qv.Options[j] = OptionView{Index: j, Label: Label(j), Text: o.Text}
			if level.allows(ReviewFeedback) {
				qv.Options[j].Feedback = o.Feedback
			}
		}
		chosen := noAnswer
		if k < len(answers) && answers[k] >= 0 {
			chosen = answers[k]
			qv.Chosen = &chosen
		}
		if level.allows(ReviewAnswers) {
			for j, o := range it.Options {
				if o == p.right[it.Q] {
					right := j
					qv.RightOption = &right
					correct := chosen == j
					qv.Correct = &correct
				}
			}
		}
		if level.allows(ReviewFeedback) {
			qv.Explanation = explanation
		}
		out[k] = qv
	}
	return out
}

// traineeViewOf loads what traineeView needs.
func (s *Store) traineeViewOf(ctx context.Context, at *attemptDoc, res *resultDoc, now time.Time) (AttemptView, error) {
	a, p, answers, err := s.viewParts(ctx, at, res)
	if err != nil {
		return AttemptView{}, err
	}
	return traineeView(a, at, p, answers, res, now), nil
}

func (s *Store) viewParts(ctx context.Context, at *attemptDoc, res *resultDoc) (Assessment, *paper, []int, error) {
	a, err := s.assessment(ctx, at.AssessmentID)
	if err != nil {
		return Assessment{}, nil, nil, err
	}
	p, err := s.paper(ctx, at.PaperID)
	if err != nil {
		return Assessment{}, nil, nil, err
	}
	var answers []int
	if res == nil {
		snap, err := s.answersNow(ctx, at)
		if err != nil {
			return Assessment{}, nil, nil, err
		}
		answers = snap.Answers
	}
	return a, p, answers, nil
}

// AttemptView returns the trainee's attempt as they may see it now. An attempt found past
// its deadline is closed and marked first.
func (s *Store) AttemptView(ctx context.Context, actor Actor, attemptID string) (AttemptView, error) {
	at, err := s.ownAttempt(ctx, actor, attemptID)
	if err != nil {
		return AttemptView{}, err
	}
	now := s.clock()
	res, err := s.settle(ctx, at, now)
	if err != nil {
		return AttemptView{}, err
	}
	return s.traineeViewOf(ctx, at, res, now)
}

// MyAttempts lists the trainee's attempts at the assessment, first first, each as they may
// see it now.
func (s *Store) MyAttempts(ctx context.Context, actor Actor, assessmentID string) ([]AttemptView, error) {
	if err := requireTrainee(actor); err != nil {
		return nil, err
	}
	if _, err := s.assessment(ctx, assessmentID); err != nil {
		return nil, err
	}
	n, _, err := s.latestAttempt(ctx, assessmentID, actor.ID)
	if err != nil {
		return nil, err
	}
	out := []AttemptView{}
	for i := 1; i <= n; i++ {
		v, err := s.AttemptView(ctx, actor, attemptID(assessmentID, actor.ID, i))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// AttemptRecord is an attempt as staff see it: everything, whatever the review options,
// with whose it is and the question revisions it was made from.
type AttemptRecord struct {
	AttemptView
	UserID string        `json:"userId"`
	Refs   []QuestionRef `json:"questionRefs"`
}

// QuestionRef names the revision of a question an attempt showed, in the attempt's order.
type QuestionRef struct {
	ID       string `json:"id"`
	Revision int    `json:"revision"`
	Name     string `json:"name"`
}

// AttemptRecord returns any trainee's attempt with everything in it, for admins and
// assessors.
func (s *Store) AttemptRecord(ctx context.Context, actor Actor, attemptID string) (AttemptRecord, error) {
	if err := requireStaff(actor, "read trainees' attempts"); err != nil {
		return AttemptRecord{}, err
	}
	at, err := s.attempt(ctx, attemptID)
	if err != nil {
		return AttemptRecord{}, err
	}
	now := s.clock()
	res, err := s.settle(ctx, at, now)
	if err != nil {
		return AttemptRecord{}, err
	}
	a, p, answers, err := s.viewParts(ctx, at, res)
	if err != nil {
		return AttemptRecord{}, err
	}
	// Staff see what the fullest review shows, whatever the review options, and the answer
	// key of an open attempt too.
	a.ReviewAfterAttempt, a.ReviewAfterClose = ReviewFeedback, ReviewFeedback
	v := traineeView(a, at, p, answers, res, now)
	if res == nil {
		v.Questions = questionViews(p, at.Items, answers, ReviewFeedback)
	}
	rec := AttemptRecord{AttemptView: v, UserID: at.UserID}
	for _, it := range at.Items {
		q := p.questions[it.Q]
		rec.Refs = append(rec.Refs, QuestionRef{ID: q.ID, Revision: q.Revision, Name: q.Name})
	}
	return rec, nil
}
