package assessment

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// ReviewLevel is how much of a closed attempt a trainee may see. Each level adds to the one
// before: ReviewNone shows that the attempt is closed; ReviewScore adds the score;
// ReviewAnswers adds the questions with the trainee's answers, which were right and which
// option was; ReviewFeedback adds each option's feedback and the explanation.
type ReviewLevel string

// The review levels, from least to most.
const (
	ReviewNone     ReviewLevel = "none"
	ReviewScore    ReviewLevel = "score"
	ReviewAnswers  ReviewLevel = "answers"
	ReviewFeedback ReviewLevel = "feedback"
)

func (l ReviewLevel) rank() int {
	switch l {
	case ReviewScore:
		return 1
	case ReviewAnswers:
		return 2
	case ReviewFeedback:
		return 3
	}
	return 0
}

// allows reports whether the level shows at least what other shows.
func (l ReviewLevel) allows(other ReviewLevel) bool { return l.rank() >= other.rank() }

func (l ReviewLevel) known() bool {
	return l == ReviewNone || l == ReviewScore || l == ReviewAnswers || l == ReviewFeedback
}

// Draw takes Count questions at random, for each attempt, from the bank's questions tagged
// Tag (leaving out the fixed questions and those already drawn).
type Draw struct {
	Tag   string `bson:"tag" json:"tag"`
	Count int    `bson:"count" json:"count"`
}

// AssessmentInput is what an admin or assessor sets for an assessment.
type AssessmentInput struct {
	Title    string `bson:"title" json:"title"`
	BankID   string `bson:"bankId" json:"bankId"`
	CohortID string `bson:"cohortId,omitempty" json:"cohortId,omitempty"`
	// Questions are fixed questions of the bank, in order; Draws add questions at random.
	Questions        []string `bson:"questions" json:"questions"`
	Draws            []Draw   `bson:"draws" json:"draws"`
	ShuffleQuestions bool     `bson:"shuffleQuestions" json:"shuffleQuestions"`
	ShuffleOptions   bool     `bson:"shuffleOptions" json:"shuffleOptions"`
	// Opens and Closes bound when attempts may be started; zero means no bound.
	Opens  time.Time `bson:"opens" json:"opens,omitzero"`
	Closes time.Time `bson:"closes" json:"closes,omitzero"`
	// TimeLimitSeconds is each attempt's time (0: none); GraceSeconds is added to the
	// deadline for answers and submissions in flight.
	TimeLimitSeconds int `bson:"timeLimitSeconds" json:"timeLimitSeconds"`
	GraceSeconds     int `bson:"graceSeconds" json:"graceSeconds"`
	// AttemptsAllowed is the number of attempts each trainee may make (0: no limit).
	AttemptsAllowed int `bson:"attemptsAllowed" json:"attemptsAllowed"`
	// PassMark is the percentage of the marks needed to pass.
	PassMark float64 `bson:"passMark" json:"passMark"`
	// ReviewAfterAttempt applies once an attempt is closed, until the assessment closes;
	// ReviewAfterClose from then on.
	ReviewAfterAttempt ReviewLevel `bson:"reviewAfterAttempt" json:"reviewAfterAttempt"`
	ReviewAfterClose   ReviewLevel `bson:"reviewAfterClose" json:"reviewAfterClose"`
}

// PassMarkAdoption records that the pass mark came from standard setting.
type PassMarkAdoption struct {
	Method    string    `bson:"method" json:"method"`
	PassMark  float64   `bson:"passMark" json:"passMark"`
	Judges    int       `bson:"judges" json:"judges"`
	SD        float64   `bson:"sd" json:"sd"`
	AdoptedBy string    `bson:"adoptedBy" json:"adoptedBy"`
	AdoptedAt time.Time `bson:"adoptedAt" json:"adoptedAt"`
}

// Assessment is the latest version of an assessment's settings.
type Assessment struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	AssessmentInput
	Adoption  *PassMarkAdoption `json:"adoption,omitempty"`
	CreatedBy string            `json:"createdBy"`
	CreatedAt time.Time         `json:"createdAt"`
	SavedBy   string            `json:"savedBy"`
	SavedAt   time.Time         `json:"savedAt"`
}

// QuestionCount is the number of questions in each attempt.
func (a Assessment) QuestionCount() int {
	n := len(a.Questions)
	for _, d := range a.Draws {
		n += d.Count
	}
	return n
}

// review is the level in force at now for a closed attempt.
func (a Assessment) review(now time.Time) ReviewLevel {
	if !a.Closes.IsZero() && !now.Before(a.Closes) {
		return a.ReviewAfterClose
	}
	return a.ReviewAfterAttempt
}

func (a Assessment) clone() Assessment {
	a.Questions = append([]string(nil), a.Questions...)
	a.Draws = append([]Draw(nil), a.Draws...)
	if a.Adoption != nil {
		adoption := *a.Adoption
		a.Adoption = &adoption
	}
	return a
}

func cloneAssessments(as []Assessment) []Assessment {
	out := make([]Assessment, len(as))
	for i, a := range as {
		out[i] = a.clone()
	}
	return out
}

// versionDoc is one stored version of an assessment, under "assessmentID/version". Nothing
// in assessment_versions is updated.
type versionDoc struct {
	ID              string `bson:"_id"`
	AssessmentID    string `bson:"assessmentId"`
	Version         int    `bson:"version"`
	AssessmentInput `bson:",inline"`
	Adoption        *PassMarkAdoption `bson:"adoption,omitempty"`
	CreatedBy       string            `bson:"createdBy"`
	CreatedAt       time.Time         `bson:"createdAt"`
	SavedBy         string            `bson:"savedBy"`
	SavedAt         time.Time         `bson:"savedAt"`
}

func versionID(id string, version int) string { return id + "/" + strconv.Itoa(version) }

func (d versionDoc) assessment() Assessment {
	a := Assessment{
		ID: d.AssessmentID, Version: d.Version, AssessmentInput: d.AssessmentInput, Adoption: d.Adoption,
		CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt.UTC(), SavedBy: d.SavedBy, SavedAt: d.SavedAt.UTC(),
	}
	a.Opens, a.Closes = utcOrZero(a.Opens), utcOrZero(a.Closes)
	if a.Questions == nil {
		a.Questions = []string{}
	}
	if a.Draws == nil {
		a.Draws = []Draw{}
	}
	if a.Adoption != nil {
		a.Adoption.AdoptedAt = a.Adoption.AdoptedAt.UTC()
	}
	return a
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func toVersionDoc(a Assessment) versionDoc {
	return versionDoc{
		ID: versionID(a.ID, a.Version), AssessmentID: a.ID, Version: a.Version, AssessmentInput: a.AssessmentInput,
		Adoption: a.Adoption, CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt, SavedBy: a.SavedBy, SavedAt: a.SavedAt,
	}
}

// The limits on an assessment.
const (
	maxAssessmentQuestions = 200
	maxTimeLimit           = 7 * 24 * 3600
	maxGrace               = 3600
	maxAttempts            = 100
)

// CheckSettings checks settings as CreateAssessment would, storing nothing, and returns
// every problem found: a form that could not read some fields lists them with the others.
func (s *Store) CheckSettings(ctx context.Context, actor Actor, in AssessmentInput) error {
	if err := requireStaff(actor, "set assessments"); err != nil {
		return err
	}
	_, err := s.normalizeAssessment(ctx, in)
	return err
}

// normalizeAssessment checks the settings against the bank's current questions and
// returns every problem found.
func (s *Store) normalizeAssessment(ctx context.Context, in AssessmentInput) (AssessmentInput, error) {
	var problems []error
	in.Title = strings.Join(strings.Fields(in.Title), " ")
	switch n := utf8.RuneCountInString(in.Title); {
	case n == 0:
		problems = append(problems, failure.Problem("title", "Enter a title for the assessment"))
	case n > 120:
		problems = append(problems, failure.Problem("title", "The title must be 120 characters or fewer"))
	}
	var qs []Question
	switch _, err := s.bank(ctx, in.BankID); {
	case in.BankID == "":
		problems = append(problems, failure.Problem("bankId", "Choose the question bank"))
	case isNotFound(err):
		problems = append(problems, failure.Problem("bankId", "Choose a question bank from the list"))
	case err != nil:
		return in, err
	default:
		if qs, err = s.questionsOf(ctx, in.BankID); err != nil {
			return in, err
		}
		problems = append(problems, checkSelection(&in, qs))
	}
	problems = append(problems, checkTimes(&in)...)
	if in.AttemptsAllowed < 0 || in.AttemptsAllowed > maxAttempts {
		problems = append(problems, failure.Problemf("attemptsAllowed", "Attempts allowed must be from 0 (no limit) to %d", maxAttempts))
	}
	if math.IsNaN(in.PassMark) || in.PassMark < 0 || in.PassMark > 100 {
		problems = append(problems, failure.Problem("passMark", "The pass mark must be a percentage from 0 to 100"))
	}
	for _, r := range []struct {
		field string
		level *ReviewLevel
	}{{"reviewAfterAttempt", &in.ReviewAfterAttempt}, {"reviewAfterClose", &in.ReviewAfterClose}} {
		if *r.level == "" {
			*r.level = ReviewNone
		}
		if !r.level.known() {
			problems = append(problems, failure.Problemf(r.field, "Choose what trainees see: none, score, answers or feedback, not %q", *r.level))
		}
	}
	return in, failure.Problems(problems...)
}

// checkSelection checks the fixed questions and the draws against the bank. A draw must be
// possible whatever the draws before it take, so that no attempt can fail to start.
func checkSelection(in *AssessmentInput, qs []Question) error {
	byID := map[string]Question{}
	for _, q := range qs {
		byID[q.ID] = q
	}
	fixed := map[string]bool{}
	if in.Questions == nil {
		in.Questions = []string{}
	}
	for i, id := range in.Questions {
		f := fmt.Sprintf("questions[%d]", i)
		if _, ok := byID[id]; !ok {
			return failure.Problem(f, "Choose fixed questions from the bank: one of those chosen is not in it")
		}
		if fixed[id] {
			return failure.Problem(f, "Choose each fixed question once: one is chosen twice")
		}
		fixed[id] = true
	}
	if in.Draws == nil {
		in.Draws = []Draw{}
	}
	pools := make([]map[string]bool, len(in.Draws))
	for i := range in.Draws {
		d := &in.Draws[i]
		f := fmt.Sprintf("draws[%d]", i)
		d.Tag = normalizeTag(d.Tag)
		if d.Tag == "" {
			return failure.Problemf(f+".tag", "Enter a tag for draw %d, the tag of the questions to draw", i+1)
		}
		if d.Count < 1 {
			return failure.Problemf(f+".count", "Draw at least 1 question tagged %q", d.Tag)
		}
		pools[i] = map[string]bool{}
		for _, q := range qs {
			if q.HasTag(d.Tag) && !fixed[q.ID] {
				pools[i][q.ID] = true
			}
		}
		// The draws before this one may take up to their count from its pool.
		left := len(pools[i])
		for j := 0; j < i; j++ {
			overlap := 0
			for id := range pools[j] {
				if pools[i][id] {
					overlap++
				}
			}
			left -= min(overlap, in.Draws[j].Count)
		}
		if left < d.Count {
			return failure.Problemf(f+".count", "Draw at most %d question(s) tagged %q: that is all the bank has left once the fixed questions and the draws before are taken, not %d", max(left, 0), d.Tag, d.Count)
		}
	}
	switch n := (Assessment{AssessmentInput: *in}).QuestionCount(); {
	case n == 0:
		return failure.Problem("questions", "Choose at least one question, or draw some by tag")
	case n > maxAssessmentQuestions:
		return failure.Problemf("questions", "Choose at most %d questions: this assessment would have %d", maxAssessmentQuestions, n)
	}
	return nil
}

// checkTimes checks the opening times, the time limit and the grace.
func checkTimes(in *AssessmentInput) []error {
	var problems []error
	in.Opens, in.Closes = utcOrZero(in.Opens).Truncate(time.Second), utcOrZero(in.Closes).Truncate(time.Second)
	if !in.Opens.IsZero() && !in.Closes.IsZero() && !in.Closes.After(in.Opens) {
		problems = append(problems, failure.Problem("closes", "The closing time must be after the opening time"))
	}
	if in.TimeLimitSeconds < 0 || in.TimeLimitSeconds > maxTimeLimit {
		problems = append(problems, failure.Problemf("timeLimitSeconds", "The time limit must be from 0 (no limit) to %d minutes (a week)", maxTimeLimit/60))
	}
	if in.GraceSeconds < 0 || in.GraceSeconds > maxGrace {
		problems = append(problems, failure.Problemf("graceSeconds", "The grace must be from 0 to %d seconds (an hour)", maxGrace))
	}
	return problems
}

// CreateAssessment checks the settings and stores them as version 1.
func (s *Store) CreateAssessment(ctx context.Context, actor Actor, in AssessmentInput) (Assessment, error) {
	if err := requireStaff(actor, "set assessments"); err != nil {
		return Assessment{}, err
	}
	in, err := s.normalizeAssessment(ctx, in)
	if err != nil {
		return Assessment{}, err
	}
	now := s.clock()
	a := Assessment{ID: database.NewID(), Version: 1, AssessmentInput: in, CreatedBy: actor.ID, CreatedAt: now, SavedBy: actor.ID, SavedAt: now}
	if err := s.list(ctx, versionsList, versionID(a.ID, a.Version)); err != nil {
		return Assessment{}, err
	}
	if err := s.w.insert(ctx, s.versions, toVersionDoc(a)); err != nil {
		return Assessment{}, fmt.Errorf("insert assessment: %w", err)
	}
	return a, s.touch(ctx, versionsCollection)
}

// UpdateAssessment stores new settings as the version after baseVersion; if someone saved
// a version after it meanwhile, nothing is stored and the error is a conflict. Attempts
// already started keep the questions and the deadline they started with. A pass mark
// adopted from standard setting is kept only if the pass mark is unchanged.
func (s *Store) UpdateAssessment(ctx context.Context, actor Actor, id string, baseVersion int, in AssessmentInput) (Assessment, error) {
	if err := requireStaff(actor, "set assessments"); err != nil {
		return Assessment{}, err
	}
	base, err := s.assessmentVersion(ctx, id, baseVersion)
	if err != nil {
		return Assessment{}, err
	}
	in, err = s.normalizeAssessment(ctx, in)
	if err != nil {
		return Assessment{}, err
	}
	next := base
	next.AssessmentInput = in
	if base.Adoption != nil && base.PassMark != in.PassMark {
		next.Adoption = nil
	}
	return s.saveVersion(ctx, next, actor.ID)
}

// saveVersion stores a as the version after a.Version.
func (s *Store) saveVersion(ctx context.Context, a Assessment, by string) (Assessment, error) {
	base := a.Version
	a.Version, a.SavedBy, a.SavedAt = base+1, by, s.clock()
	// Listed before it is stored; should another save store this version first, the id
	// listed is that one's.
	if err := s.list(ctx, versionsList, versionID(a.ID, a.Version)); err != nil {
		return Assessment{}, err
	}
	if err := s.w.insert(ctx, s.versions, toVersionDoc(a)); err != nil {
		if errors.Is(err, errExists) {
			return Assessment{}, failure.Conflict(fmt.Sprintf("the assessment was changed after version %d, which this change was made to; reload it and make the change again", base))
		}
		return Assessment{}, fmt.Errorf("insert assessment version: %w", err)
	}
	return a, s.touch(ctx, versionsCollection)
}

// assessmentVersion reads one version; a missing one is not found, or invalid if the
// assessment exists.
func (s *Store) assessmentVersion(ctx context.Context, id string, version int) (Assessment, error) {
	var d versionDoc
	err := findOne(ctx, s.versions, versionID(id, version), &d)
	if isNotFound(err) {
		if _, err := s.assessment(ctx, id); err != nil {
			return Assessment{}, err
		}
		return Assessment{}, failure.Invalidf("baseVersion", "the assessment has no version %d", version)
	}
	if err != nil {
		return Assessment{}, err
	}
	return d.assessment(), nil
}

// Assessment returns the latest version of the assessment's settings, for admins and
// assessors; trainees are shown AssessmentInfo.
func (s *Store) Assessment(ctx context.Context, actor Actor, id string) (Assessment, error) {
	if err := requireStaff(actor, "read an assessment's settings"); err != nil {
		return Assessment{}, err
	}
	return s.assessment(ctx, id)
}

func (s *Store) assessment(ctx context.Context, id string) (Assessment, error) {
	all, err := s.allAssessments(ctx)
	if err != nil {
		return Assessment{}, err
	}
	for _, a := range all {
		if a.ID == id {
			return a, nil
		}
	}
	return Assessment{}, fmt.Errorf("assessment %s: %w", id, failure.ErrNotFound)
}

// Assessments lists the latest version of every assessment, those opening last first, for
// admins and assessors.
func (s *Store) Assessments(ctx context.Context, actor Actor) ([]Assessment, error) {
	// A list exists for everyone; only its contents are for staff.
	if !actor.staff() {
		return nil, fmt.Errorf("%w: only administrators and assessors may read assessments' settings", failure.ErrForbidden)
	}
	return s.allAssessments(ctx)
}

// AssessmentInfo returns what anyone signed in may know of the assessment.
func (s *Store) AssessmentInfo(ctx context.Context, id string) (AssessmentInfo, error) {
	a, err := s.assessment(ctx, id)
	if err != nil {
		return AssessmentInfo{}, err
	}
	return a.Info(), nil
}

// AssessmentInfos lists what anyone signed in may know of every assessment, those opening
// last first; the HTTP layer shows a trainee those of their cohorts.
func (s *Store) AssessmentInfos(ctx context.Context) ([]AssessmentInfo, error) {
	all, err := s.allAssessments(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]AssessmentInfo, len(all))
	for i, a := range all {
		out[i] = a.Info()
	}
	return out, nil
}

// allAssessments is the latest version of each assessment, read through the list of
// versions, from the cache while no version has been saved since.
func (s *Store) allAssessments(ctx context.Context) ([]Assessment, error) {
	return s.assessments.Get(ctx, "", func(ctx context.Context) ([]Assessment, error) {
		ids, err := s.listed(ctx, versionsList)
		if err != nil {
			return nil, err
		}
		docs, err := latestListed(ctx, func(ctx context.Context, id string) (versionDoc, error) {
			return database.FindByID[versionDoc](ctx, s.versions, id)
		}, ids)
		if err != nil {
			return nil, err
		}
		out := make([]Assessment, len(docs))
		for i, d := range docs {
			out[i] = d.assessment()
		}
		sort.Slice(out, func(i, j int) bool {
			if !out[i].Opens.Equal(out[j].Opens) {
				return out[i].Opens.After(out[j].Opens)
			}
			return out[i].ID > out[j].ID
		})
		return out, nil
	})
}

// AssessmentInfo is what a trainee is told about an assessment before and between attempts.
type AssessmentInfo struct {
	ID               string    `json:"id"`
	Title            string    `json:"title"`
	CohortID         string    `json:"cohortId,omitempty"`
	Opens            time.Time `json:"opens,omitzero"`
	Closes           time.Time `json:"closes,omitzero"`
	Questions        int       `json:"questions"`
	TimeLimitSeconds int       `json:"timeLimitSeconds"`
	AttemptsAllowed  int       `json:"attemptsAllowed"`
	PassMark         float64   `json:"passMark"`
}

// Info is the assessment as trainees may see it.
func (a Assessment) Info() AssessmentInfo {
	return AssessmentInfo{
		ID: a.ID, Title: a.Title, CohortID: a.CohortID, Opens: a.Opens, Closes: a.Closes, Questions: a.QuestionCount(),
		TimeLimitSeconds: a.TimeLimitSeconds, AttemptsAllowed: a.AttemptsAllowed, PassMark: a.PassMark,
	}
}
