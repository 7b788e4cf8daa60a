package progress

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/courses"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Kind is the kind of an award rule; each kind reads one sort of record.
type Kind string

// The kinds of rule.
const (
	// KindResidential: present on at least Days of the residential days, and (EveryModule)
	// on at least one day of every module.
	KindResidential Kind = "residential"
	// KindDialogue: present at at least Sessions of the programme's facilitated dialogue
	// sessions.
	KindDialogue Kind = "dialogue"
	// KindTests: each knowledge test (multiple choice) passed at its pass mark; the tests
	// named by AssessmentIDs, or every test set for the cohort when it names none.
	KindTests Kind = "tests"
	// KindPieces: each assessed piece of work agreed and released as a pass.
	KindPieces Kind = "pieces"
	// KindSupervision: at least Hours of supervision confirmed by the supervisor.
	KindSupervision Kind = "supervision"
	// KindPractice: personal practice logged in at least Weeks of the programme's weeks, as
	// far as the trainee shares their practice totals with their supervisor.
	KindPractice Kind = "practice"
)

// Kinds lists every kind in the order pages show the rules.
var Kinds = []Kind{KindResidential, KindDialogue, KindTests, KindPieces, KindSupervision, KindPractice}

// Title is the rule's name as pages show it.
func (k Kind) Title() string {
	switch k {
	case KindResidential:
		return "Residential attendance"
	case KindDialogue:
		return "Facilitated dialogue sessions"
	case KindTests:
		return "Knowledge tests"
	case KindPieces:
		return "Assessed practice"
	case KindSupervision:
		return "Supervision"
	case KindPractice:
		return "Personal practice"
	}
	return string(k)
}

// Rule is one award rule: a kind and its parameters (only those of its kind are used).
type Rule struct {
	Kind          Kind     `bson:"kind" json:"kind"`
	Days          int      `bson:"days,omitempty" json:"days,omitempty"`
	EveryModule   bool     `bson:"everyModule,omitempty" json:"everyModule,omitempty"`
	Sessions      int      `bson:"sessions,omitempty" json:"sessions,omitempty"`
	AssessmentIDs []string `bson:"assessmentIds,omitempty" json:"assessmentIds,omitempty"`
	Hours         int      `bson:"hours,omitempty" json:"hours,omitempty"`
	Weeks         int      `bson:"weeks,omitempty" json:"weeks,omitempty"`
}

// Rules is one version of a cohort's award rules. Version 0 is the standard rules, which
// nobody has saved.
type Rules struct {
	CohortID string    `bson:"cohortId" json:"cohortId"`
	Rules    []Rule    `bson:"rules" json:"rules"`
	Version  int       `bson:"version" json:"version"`
	SavedAt  time.Time `bson:"savedAt" json:"savedAt,omitzero"`
	SavedBy  string    `bson:"savedBy" json:"savedBy,omitempty"`
}

// Rule finds the cohort's rule of the kind.
func (r Rules) Rule(k Kind) (Rule, bool) {
	for _, x := range r.Rules {
		if x.Kind == k {
			return x, true
		}
	}
	return Rule{}, false
}

// The standard rules' shares of the programme.
const (
	defaultResidentialMisses = 2  // days of the residential modules one may miss: 18 of 20
	defaultDialoguePercent   = 80 // of the facilitated dialogue sessions
	defaultSupervisionHours  = 18 // about an hour a fortnight through the three periods
	defaultPracticePercent   = 75 // of the programme's weeks
)

// DefaultRules is the standard template's rules for a cohort with the programme p: at least
// all but two of the residential days and a day of every module; 80% of the dialogue
// sessions (rounded up); every knowledge test and every assessed piece passed; 18 hours of
// confirmed supervision; practice in three quarters of the programme's weeks (rounded up).
func DefaultRules(p courses.Programme) Rules {
	days, sessions := 0, 0
	for _, o := range p.Occasions() {
		if o.Kind == courses.OccasionResidential {
			days++
		} else {
			sessions++
		}
	}
	weeks := len(programmeWeeks(p))
	return Rules{CohortID: p.CohortID, Rules: []Rule{
		{Kind: KindResidential, Days: max(days-defaultResidentialMisses, 0), EveryModule: true},
		{Kind: KindDialogue, Sessions: ceilShare(sessions, defaultDialoguePercent)},
		{Kind: KindTests},
		{Kind: KindPieces},
		{Kind: KindSupervision, Hours: defaultSupervisionHours},
		{Kind: KindPractice, Weeks: ceilShare(weeks, defaultPracticePercent)},
	}}
}

func ceilShare(n, percent int) int { return (n*percent + 99) / 100 }

// maxRuleNumber bounds a rule's count: more than any programme has.
const maxRuleNumber = 1000

// Validate checks the rules: known kinds, each at most once, counts from 1 (supervision and
// practice from 0) and no more than the programme p holds.
func (r Rules) Validate(p courses.Programme) error {
	var errs []error
	seen := map[Kind]bool{}
	days, sessions := 0, 0
	for _, o := range p.Occasions() {
		if o.Kind == courses.OccasionResidential {
			days++
		} else {
			sessions++
		}
	}
	weeks := len(programmeWeeks(p))
	for i, x := range r.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		if !slices.Contains(Kinds, x.Kind) {
			errs = append(errs, failure.Invalidf(f+".kind", "%q is not a kind of rule; use residential, dialogue, tests, pieces, supervision or practice", x.Kind))
			continue
		}
		if seen[x.Kind] {
			errs = append(errs, failure.Invalidf(f+".kind", "the rules have %s twice; keep one", strings.ToLower(x.Kind.Title())))
		}
		seen[x.Kind] = true
		count := func(field string, n, most int, what string) {
			switch {
			case n < 0 || n > maxRuleNumber:
				errs = append(errs, failure.Invalidf(f+"."+field, "must be from 0 to %d", maxRuleNumber))
			case most >= 0 && n > most:
				errs = append(errs, failure.Invalidf(f+"."+field, "is %d, but the programme has only %d %s", n, most, what))
			}
		}
		switch x.Kind {
		case KindResidential:
			count("days", x.Days, days, "residential days")
		case KindDialogue:
			count("sessions", x.Sessions, sessions, "dialogue sessions")
		case KindSupervision:
			count("hours", x.Hours, -1, "")
		case KindPractice:
			count("weeks", x.Weeks, weeks, "weeks")
		case KindTests:
			for j, id := range x.AssessmentIDs {
				if strings.TrimSpace(id) == "" {
					errs = append(errs, failure.Invalidf(fmt.Sprintf("%s.assessmentIds[%d]", f, j), "is empty"))
				}
			}
		}
	}
	return failure.Problems(errs...)
}

// normalised is r with its rules in the pages' order and no parameter of another kind.
func (r Rules) normalised() Rules {
	out := r
	out.Rules = make([]Rule, 0, len(r.Rules))
	for _, k := range Kinds {
		for _, x := range r.Rules {
			if x.Kind != k {
				continue
			}
			y := Rule{Kind: k}
			switch k {
			case KindResidential:
				y.Days, y.EveryModule = x.Days, x.EveryModule
			case KindDialogue:
				y.Sessions = x.Sessions
			case KindTests:
				for _, id := range x.AssessmentIDs {
					y.AssessmentIDs = append(y.AssessmentIDs, strings.TrimSpace(id))
				}
			case KindSupervision:
				y.Hours = x.Hours
			case KindPractice:
				y.Weeks = x.Weeks
			}
			out.Rules = append(out.Rules, y)
			break
		}
	}
	return out
}

// rulesDoc is a stored version of a cohort's rules, under rulesID.
type rulesDoc struct {
	ID    string `bson:"_id"`
	Rules `bson:",inline"`
}

// rulesHead hints at the cohort's latest version; a stale or missing hint costs reads, never
// a wrong answer, since the reader goes on from it while the next version exists.
type rulesHead struct {
	ID      string `bson:"_id"`
	Version int    `bson:"version"`
}

func rulesID(cohortID string, n int) string { return fmt.Sprintf("%s/%06d", cohortID, n) }
func rulesHeadID(cohortID string) string    { return "head/" + cohortID }

// Rules is the cohort's latest award rules: the last version saved, or the standard rules of
// its programme as version 0. A cohort without a programme is failure.ErrNotFound.
func (s *Service) Rules(ctx context.Context, cohortID string) (Rules, error) {
	p, err := s.courses.Programme(ctx, cohortID)
	if err != nil {
		return Rules{}, err
	}
	return s.rulesOf(ctx, p)
}

func (s *Service) rulesOf(ctx context.Context, p courses.Programme) (Rules, error) {
	r, err := s.latestRules(ctx, p.CohortID)
	if errors.Is(err, failure.ErrNotFound) {
		return DefaultRules(p), nil
	}
	return r, err
}

// RulesVersion is version n of the cohort's rules (0: the standard rules of its current
// programme), as an award decided under it records.
func (s *Service) RulesVersion(ctx context.Context, cohortID string, n int) (Rules, error) {
	if n == 0 {
		p, err := s.courses.Programme(ctx, cohortID)
		if err != nil {
			return Rules{}, err
		}
		return DefaultRules(p), nil
	}
	d, err := database.FindByID[rulesDoc](ctx, s.rules, rulesID(cohortID, n))
	if err != nil {
		return Rules{}, fmt.Errorf("award rules %d of cohort %s: %w", n, cohortID, err)
	}
	return d.loaded(), nil
}

func (d rulesDoc) loaded() Rules {
	r := d.Rules
	r.SavedAt = r.SavedAt.UTC()
	if r.Rules == nil {
		r.Rules = []Rule{}
	}
	return r
}

// latestRules reads the newest saved version: from the hint, then on by id while the next
// version exists. failure.ErrNotFound when none is saved.
func (s *Service) latestRules(ctx context.Context, cohortID string) (Rules, error) {
	n := 0
	h, err := database.FindByID[rulesHead](ctx, s.rules, rulesHeadID(cohortID))
	switch {
	case err == nil:
		n = h.Version
	case !errors.Is(err, failure.ErrNotFound):
		return Rules{}, err
	}
	var last *rulesDoc
	if n > 0 {
		d, err := database.FindByID[rulesDoc](ctx, s.rules, rulesID(cohortID, n))
		switch {
		case err == nil:
			last = &d
		case errors.Is(err, failure.ErrNotFound):
			n = 0 // a hint ahead of the versions: start again from the first
		default:
			return Rules{}, err
		}
	}
	for {
		d, err := database.FindByID[rulesDoc](ctx, s.rules, rulesID(cohortID, n+1))
		if errors.Is(err, failure.ErrNotFound) {
			break
		}
		if err != nil {
			return Rules{}, err
		}
		n, last = n+1, &d
	}
	if last == nil {
		return Rules{}, fmt.Errorf("award rules of cohort %s: %w", cohortID, failure.ErrNotFound)
	}
	if n > h.Version {
		_ = s.rules.Upsert(ctx, rulesHeadID(cohortID), bson.M{"$max": bson.M{"version": n}})
	}
	return last.loaded(), nil
}

// SaveRules stores r as the version after baseVersion (0 when the cohort has only the
// standard rules), after checking it against the cohort's programme. When someone saved
// another version since baseVersion, it is refused with failure.ErrConflict: of two saves on
// one base exactly one wins, since versions are inserted under ids made from the cohort and
// the version, never updated.
func (s *Service) SaveRules(ctx context.Context, r Rules, baseVersion int, by string) (Rules, error) {
	if baseVersion < 0 {
		return Rules{}, failure.Invalid("version", "must be 0 or more")
	}
	p, err := s.courses.Programme(ctx, r.CohortID)
	if errors.Is(err, failure.ErrNotFound) {
		return Rules{}, failure.Invalid("cohortId", "the cohort has no programme yet, so its award rules cannot be set")
	}
	if err != nil {
		return Rules{}, err
	}
	if err := r.Validate(p); err != nil {
		return Rules{}, err
	}
	r = r.normalised()
	latest, err := s.latestRules(ctx, r.CohortID)
	switch {
	case errors.Is(err, failure.ErrNotFound):
		latest = Rules{}
	case err != nil:
		return Rules{}, err
	}
	stale := func(current int) error {
		return failure.Conflict(fmt.Sprintf("someone else saved the award rules (now version %d) after you opened version %d: reload them and make your changes again", current, baseVersion))
	}
	if latest.Version != baseVersion {
		return Rules{}, stale(latest.Version)
	}
	r.Version, r.SavedAt, r.SavedBy = baseVersion+1, s.now().UTC().Truncate(time.Millisecond), by
	if err := database.Insert(ctx, s.rules, rulesDoc{ID: rulesID(r.CohortID, r.Version), Rules: r}); err != nil {
		if errors.Is(err, database.ErrDuplicate) {
			return Rules{}, stale(r.Version)
		}
		return Rules{}, fmt.Errorf("save award rules of cohort %s: %w", r.CohortID, err)
	}
	_ = s.rules.Upsert(ctx, rulesHeadID(r.CohortID), bson.M{"$max": bson.M{"version": r.Version}})
	return r, nil
}
