package assessment

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Modified Angoff standard setting: each judge (an admin or assessor) estimates, for every
// question the assessment can hold, the probability that a borderline trainee (one who
// just deserves to pass) answers it right. A judge's implied pass mark is the mean of their
// estimates as a percentage; the panel's figure is the mean of the judges' pass marks.
// Estimates are probabilities from 0 to 1.

// estimatesDoc is one judge's estimates for one assessment, under "assessmentID/judgeID".
type estimatesDoc struct {
	ID           string             `bson:"_id"`
	AssessmentID string             `bson:"assessmentId"`
	JudgeID      string             `bson:"judgeId"`
	Estimates    map[string]float64 `bson:"estimates"`
	SavedAt      time.Time          `bson:"savedAt"`
}

// Judge is one judge's part in the standard setting.
type Judge struct {
	JudgeID   string             `json:"judgeId"`
	Estimates map[string]float64 `json:"estimates"`
	// Missing is how many of the assessment's questions the judge has not estimated yet.
	Missing int `json:"missing"`
	// PassMark is the judge's implied pass mark (percent), once every question is estimated.
	PassMark *float64  `json:"passMark"`
	SavedAt  time.Time `json:"savedAt"`
}

// Panel is the standard setting of an assessment so far.
type Panel struct {
	AssessmentID string   `json:"assessmentId"`
	Questions    []string `json:"questions"`
	Judges       []Judge  `json:"judges"`
	// Complete is the number of judges who have estimated every question; Mean and SD (the
	// sample standard deviation, 0 for one judge) are of their pass marks, in percent.
	Complete int      `json:"complete"`
	Mean     *float64 `json:"mean"`
	SD       *float64 `json:"sd"`
}

// angoffQuestions is every question the assessment can hold: its fixed questions and the
// bank's questions carrying one of its draws' tags.
func (s *Store) angoffQuestions(ctx context.Context, a Assessment) ([]string, error) {
	qs, err := s.questionsOf(ctx, a.BankID)
	if err != nil {
		return nil, err
	}
	out := append([]string(nil), a.Questions...)
	in := map[string]bool{}
	for _, id := range out {
		in[id] = true
	}
	for _, d := range a.Draws {
		for _, q := range qs {
			if !in[q.ID] && q.HasTag(d.Tag) {
				out, in[q.ID] = append(out, q.ID), true
			}
		}
	}
	return out, nil
}

// SaveEstimates records the actor's estimates for some or all of the assessment's
// questions, keyed by question id; each is a probability from 0 to 1. Estimates saved
// before for other questions are kept, and those given replace earlier ones.
func (s *Store) SaveEstimates(ctx context.Context, actor Actor, assessmentID string, estimates map[string]float64) (Judge, error) {
	if err := requireStaff(actor, "judge in standard setting"); err != nil {
		return Judge{}, err
	}
	a, err := s.assessment(ctx, assessmentID)
	if err != nil {
		return Judge{}, err
	}
	questions, err := s.angoffQuestions(ctx, a)
	if err != nil {
		return Judge{}, err
	}
	known := map[string]bool{}
	for _, id := range questions {
		known[id] = true
	}
	ids := make([]string, 0, len(estimates))
	for id := range estimates {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := estimates[id]
		f := "estimates." + id
		switch {
		case !known[id]:
			return Judge{}, failure.Invalidf(f, "question %q is not one the assessment can hold", id)
		case math.IsNaN(p) || p < 0 || p > 1:
			return Judge{}, failure.Invalidf(f, "must be a probability from 0 to 1 (0.6 for 60%%), not %v", p)
		}
	}
	id := a.ID + "/" + actor.ID
	// Listed before the estimates are stored, and before their lock is taken (see list).
	if err := s.list(ctx, judgesList(a.ID), id); err != nil {
		return Judge{}, err
	}
	unlock := s.db.Serialize(estimatesCollection, id)
	defer unlock()
	doc := estimatesDoc{ID: id, AssessmentID: a.ID, JudgeID: actor.ID, Estimates: map[string]float64{}}
	if err := findOne(ctx, s.estimates, id, &doc); err != nil && !isNotFound(err) {
		return Judge{}, err
	}
	if doc.Estimates == nil {
		doc.Estimates = map[string]float64{}
	}
	for id, p := range estimates {
		doc.Estimates[id] = p
	}
	doc.SavedAt = s.clock()
	err = s.w.run(func() error {
		return s.estimates.Put(ctx, id, doc)
	})
	if err != nil {
		return Judge{}, fmt.Errorf("save estimates: %w", err)
	}
	return judge(doc, questions), nil
}

func judge(d estimatesDoc, questions []string) Judge {
	j := Judge{JudgeID: d.JudgeID, Estimates: map[string]float64{}, SavedAt: d.SavedAt.UTC()}
	var sum float64
	for _, id := range questions {
		p, ok := d.Estimates[id]
		if !ok {
			j.Missing++
			continue
		}
		j.Estimates[id] = p
		sum += p
	}
	if j.Missing == 0 && len(questions) > 0 {
		pm := 100 * sum / float64(len(questions))
		j.PassMark = &pm
	}
	return j
}

// StandardSetting returns the panel's estimates and figures for the assessment.
func (s *Store) StandardSetting(ctx context.Context, actor Actor, assessmentID string) (Panel, error) {
	if err := requireStaff(actor, "read standard setting"); err != nil {
		return Panel{}, err
	}
	a, err := s.assessment(ctx, assessmentID)
	if err != nil {
		return Panel{}, err
	}
	return s.panel(ctx, a)
}

func (s *Store) panel(ctx context.Context, a Assessment) (Panel, error) {
	questions, err := s.angoffQuestions(ctx, a)
	if err != nil {
		return Panel{}, err
	}
	ids, err := s.listed(ctx, judgesList(a.ID))
	if err != nil {
		return Panel{}, err
	}
	docs, err := database.FindEachByID[estimatesDoc](ctx, s.estimates, ids)
	if err != nil {
		return Panel{}, err
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].JudgeID < docs[j].JudgeID })
	p := Panel{AssessmentID: a.ID, Questions: questions, Judges: []Judge{}}
	var marks []float64
	for _, d := range docs {
		j := judge(d, questions)
		p.Judges = append(p.Judges, j)
		if j.PassMark != nil {
			marks = append(marks, *j.PassMark)
		}
	}
	p.Complete = len(marks)
	if len(marks) > 0 {
		mean, _ := meanSD(marks)
		var ss float64
		for _, m := range marks {
			ss += (m - mean) * (m - mean)
		}
		sd := 0.0
		if len(marks) > 1 {
			sd = math.Sqrt(ss / float64(len(marks)-1))
		}
		p.Mean, p.SD = &mean, &sd
	}
	return p, nil
}

// AdoptPassMark makes the panel's mean pass mark (rounded to two decimal places) the
// assessment's pass mark, as a new version recording who adopted it and when. Only admins
// may; at least one judge must have estimated every question.
func (s *Store) AdoptPassMark(ctx context.Context, actor Actor, assessmentID string) (Assessment, error) {
	if err := requireAdmin(actor, "adopt a pass mark"); err != nil {
		return Assessment{}, err
	}
	a, err := s.assessment(ctx, assessmentID)
	if err != nil {
		return Assessment{}, err
	}
	p, err := s.panel(ctx, a)
	if err != nil {
		return Assessment{}, err
	}
	if p.Mean == nil {
		return Assessment{}, failure.Conflict("no judge has estimated every question yet, so the panel has no pass mark to adopt")
	}
	mark := math.Round(*p.Mean*100) / 100
	a.PassMark = mark
	a.Adoption = &PassMarkAdoption{Method: "modified Angoff", PassMark: mark, Judges: p.Complete, SD: *p.SD, AdoptedBy: actor.ID, AdoptedAt: s.clock()}
	return s.saveVersion(ctx, a, actor.ID)
}
