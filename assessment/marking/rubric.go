package marking

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// The rules for a rubric's overall result.
const (
	// RuleSum adds the marks of the levels given and passes at PassMark or more.
	RuleSum = "sum"
	// RuleAllPass passes when every criterion is at a level whose outcome is pass.
	RuleAllPass = "all-pass"
)

// The outcomes of a level and of a result.
const (
	OutcomePass  = "pass"
	OutcomeRefer = "refer"
)

// Rubric is what a piece is marked against. It is versioned: saving it adds a version and
// keeps every earlier one, so that a piece marked with version 2 is still read with it.
type Rubric struct {
	ID       string      `bson:"rubric_id" json:"id"`
	Version  int         `bson:"version" json:"version"`
	Title    string      `bson:"title" json:"title"`
	Criteria []Criterion `bson:"criteria" json:"criteria"`
	Rule     string      `bson:"rule" json:"rule"`
	// PassMark is the lowest total that passes under RuleSum.
	PassMark int `bson:"pass_mark" json:"passMark"`
	// CitesTurns says that a level is shown by citing transcript turns (by sequence number),
	// as the key elements of dialogic practice are rated.
	CitesTurns bool      `bson:"cites_turns" json:"citesTurns"`
	SavedBy    string    `bson:"saved_by" json:"savedBy"`
	SavedAt    time.Time `bson:"saved_at" json:"savedAt"`
}

// Criterion is one thing the work is judged on, with the levels a marker chooses from, in
// order from lowest to highest.
type Criterion struct {
	ID       string  `bson:"id" json:"id"`
	Title    string  `bson:"title" json:"title"`
	Guidance string  `bson:"guidance" json:"guidance"`
	Levels   []Level `bson:"levels" json:"levels"`
}

// Level is one level of a criterion: what work at that level shows, its marks, and whether
// it passes that criterion.
type Level struct {
	ID         string `bson:"id" json:"id"`
	Title      string `bson:"title" json:"title"`
	Descriptor string `bson:"descriptor" json:"descriptor"`
	Marks      int    `bson:"marks" json:"marks"`
	Outcome    string `bson:"outcome" json:"outcome"`
}

// Criterion returns the criterion with the id and its index.
func (r Rubric) Criterion(id string) (Criterion, int, bool) {
	for i, c := range r.Criteria {
		if c.ID == id {
			return c, i, true
		}
	}
	return Criterion{}, -1, false
}

// Level returns the level with the id and its index (its place on the ordinal scale).
func (c Criterion) Level(id string) (Level, int, bool) {
	for i, l := range c.Levels {
		if l.ID == id {
			return l, i, true
		}
	}
	return Level{}, -1, false
}

// MaxTotal is the highest total the rubric can give: the top marks of every criterion.
func (r Rubric) MaxTotal() int {
	total := 0
	for _, c := range r.Criteria {
		top := 0
		for _, l := range c.Levels {
			top = max(top, l.Marks)
		}
		total += top
	}
	return total
}

// Validate reports every problem with the rubric, each naming its field as a form would
// ("criteria[2].levels[0].marks").
func (r Rubric) Validate() error {
	var errs []error
	if strings.TrimSpace(r.Title) == "" {
		errs = append(errs, failure.Problem("title", "Enter a title for the rubric"))
	}
	switch r.Rule {
	case RuleSum:
		if r.PassMark < 0 || r.PassMark > r.MaxTotal() {
			errs = append(errs, failure.Problemf("passMark", "Enter a pass mark from 0 to %d, the highest total", r.MaxTotal()))
		}
	case RuleAllPass:
	default:
		errs = append(errs, failure.Problem("rule", `Choose the rule for the result: "sum" with a pass mark, or "all-pass"`))
	}
	if len(r.Criteria) == 0 {
		errs = append(errs, failure.Problem("criteria", "Add at least one criterion"))
	}
	criteria := map[string]bool{}
	for i, c := range r.Criteria {
		f := fmt.Sprintf("criteria[%d]", i)
		switch {
		case strings.TrimSpace(c.ID) == "":
			errs = append(errs, failure.Problem(f+".id", "Give the criterion an id"))
		case criteria[c.ID]:
			errs = append(errs, failure.Problemf(f+".id", "Another criterion has the id %q already", c.ID))
		}
		criteria[c.ID] = true
		if strings.TrimSpace(c.Title) == "" {
			errs = append(errs, failure.Problem(f+".title", "Enter a title for the criterion"))
		}
		if len(c.Levels) < 2 {
			errs = append(errs, failure.Problem(f+".levels", "Give the criterion at least two levels"))
		}
		levels := map[string]bool{}
		passes := false
		for j, l := range c.Levels {
			lf := fmt.Sprintf("%s.levels[%d]", f, j)
			switch {
			case strings.TrimSpace(l.ID) == "":
				errs = append(errs, failure.Problem(lf+".id", "Give the level an id"))
			case levels[l.ID]:
				errs = append(errs, failure.Problemf(lf+".id", "Another level of this criterion has the id %q already", l.ID))
			}
			levels[l.ID] = true
			if strings.TrimSpace(l.Title) == "" {
				errs = append(errs, failure.Problem(lf+".title", "Enter a title for the level"))
			}
			if l.Marks < 0 || l.Marks > 1000 {
				errs = append(errs, failure.Problem(lf+".marks", "Enter marks from 0 to 1000"))
			}
			if l.Outcome != OutcomePass && l.Outcome != OutcomeRefer {
				errs = append(errs, failure.Problem(lf+".outcome", `Choose the outcome of the level: "pass" or "refer"`))
			}
			passes = passes || l.Outcome == OutcomePass
		}
		if r.Rule == RuleAllPass && len(c.Levels) > 0 && !passes {
			errs = append(errs, failure.Problem(f+".levels", "Under the all-pass rule every criterion needs a level that passes"))
		}
	}
	return failure.Problems(errs...)
}

func rubricDocID(id string, version int) string { return fmt.Sprintf("%s/v%06d", id, version) }
func rubricVersionsList(id string) string       { return "rubric:" + id }

const rubricsList = "rubrics"

// rubricDoc is a stored version of a rubric.
type rubricDoc struct {
	ID     string `bson:"_id"`
	Rubric `bson:",inline"`
}

// SaveRubric stores r as a new version of its rubric: r.Version is the version the change was
// based on (0 for a new rubric, whose id is made when r.ID is empty). A version saved since
// is failure.ErrConflict and nothing is written. Administrators and assessors keep rubrics.
func (s *Store) SaveRubric(ctx context.Context, a Actor, r Rubric) (Rubric, error) {
	if !a.admin() && a.Role != accounts.RoleAssessor {
		return Rubric{}, fmt.Errorf("%w: only administrators and assessors keep rubrics", failure.ErrNotFound)
	}
	if r.ID == "" {
		if r.Version != 0 {
			return Rubric{}, failure.Problem("id", "Say which rubric this is a version of")
		}
		r.ID = database.NewID()
	}
	if strings.ContainsAny(r.ID, "/ ") {
		return Rubric{}, failure.Problem("id", "A rubric's id has no slashes or spaces")
	}
	if err := r.Validate(); err != nil {
		return Rubric{}, err
	}
	if r.Version > 0 {
		latest, err := s.LatestRubric(ctx, r.ID)
		if err != nil {
			return Rubric{}, err
		}
		if latest.Version != r.Version {
			return Rubric{}, failure.Conflict(fmt.Sprintf("The rubric was changed (version %d) since you opened version %d", latest.Version, r.Version))
		}
	}
	r.Version++
	r.SavedBy, r.SavedAt = a.UserID, s.now().UTC()
	if err := s.insertRubric(ctx, r); err != nil {
		if errors.Is(err, database.ErrDuplicate) {
			return Rubric{}, failure.Conflict(fmt.Sprintf("Version %d of the rubric was saved by someone else just now", r.Version))
		}
		return Rubric{}, err
	}
	return r, nil
}

// insertRubric lists the version, then inserts it (a list may name a version never stored;
// readers fall back), so that no stored version goes unlisted.
func (s *Store) insertRubric(ctx context.Context, r Rubric) error {
	if err := s.db.AddToList(ctx, s.lists, rubricsList, "ids", r.ID); err != nil {
		return err
	}
	if err := s.db.AddToList(ctx, s.lists, rubricVersionsList(r.ID), "ids", strconv.Itoa(r.Version)); err != nil {
		return err
	}
	return database.Insert(ctx, s.rubrics, rubricDoc{ID: rubricDocID(r.ID, r.Version), Rubric: r})
}

// Rubric reads one version of a rubric.
func (s *Store) Rubric(ctx context.Context, id string, version int) (Rubric, error) {
	d, err := database.FindByID[rubricDoc](ctx, s.rubrics, rubricDocID(id, version))
	if err != nil {
		return Rubric{}, fmt.Errorf("rubric %s version %d: %w", id, version, err)
	}
	return d.Rubric, nil
}

// LatestRubric reads the highest stored version of a rubric.
func (s *Store) LatestRubric(ctx context.Context, id string) (Rubric, error) {
	versions, err := s.listed(ctx, rubricVersionsList(id))
	if err != nil {
		return Rubric{}, err
	}
	best := []int{}
	for _, v := range versions {
		if n, err := strconv.Atoi(v); err == nil {
			best = append(best, n)
		}
	}
	// Highest first; a listed version whose insert failed is skipped.
	for len(best) > 0 {
		top, at := best[0], 0
		for i, n := range best {
			if n > top {
				top, at = n, i
			}
		}
		r, err := s.Rubric(ctx, id, top)
		if err == nil || !errors.Is(err, failure.ErrNotFound) {
			return r, err
		}
		best = append(best[:at], best[at+1:]...)
	}
	return Rubric{}, fmt.Errorf("rubric %s: %w", id, failure.ErrNotFound)
}

// Rubrics lists the latest version of every rubric, for choosing one for a piece.
func (s *Store) Rubrics(ctx context.Context, a Actor) ([]Rubric, error) {
	if !a.admin() && a.Role != accounts.RoleAssessor {
		return nil, fmt.Errorf("%w: only administrators and assessors keep rubrics", failure.ErrNotFound)
	}
	ids, err := s.listed(ctx, rubricsList)
	if err != nil {
		return nil, err
	}
	out := make([]Rubric, 0, len(ids))
	for _, id := range ids {
		r, err := s.LatestRubric(ctx, id)
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// EnsureExamples stores the two shipped rubrics as version 1 unless they are stored already;
// two instances starting together both succeed and store them once.
func (s *Store) EnsureExamples(ctx context.Context) error {
	for _, r := range []Rubric{SevenPrinciplesRubric(), KeyElementsRubric()} {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("shipped rubric %s: %w", r.ID, err)
		}
		r.SavedAt = s.now().UTC()
		if err := s.insertRubric(ctx, r); err != nil && !errors.Is(err, database.ErrDuplicate) {
			return err
		}
	}
	return nil
}
