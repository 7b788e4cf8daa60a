package award

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"polyphony/courses"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// An exam board sits for one cohort on one day, under the version of the cohort's award
// rules that was current when it opened. It lists the cohort's trainees, those who meet every
// rule as eligible and the others with what is missing, and records one decision for each:
// awarded, deferred (with what is outstanding and by when) or not awarded. Decisions are
// never changed: each is a document inserted once, and a later decision for the same trainee
// on the same board supersedes the earlier one, which stays in the board's history. A
// trainee deferred by one board is decided again by a later one.
//
// Only administrators open, read and decide boards: the board is the programme's formal
// record of the award, and its evidence summary reads every trainee's progress, so the
// domain refuses everyone else (facilitators see the same progress on the cohort's grid).

// Board is one sitting of the exam board.
type Board struct {
	ID           string    `bson:"_id" json:"id"`
	CohortID     string    `bson:"cohortId" json:"cohortId"`
	Date         time.Time `bson:"date" json:"date"` // the day it sits, midnight UTC
	RulesVersion int       `bson:"rulesVersion" json:"rulesVersion"`
	OpenedBy     string    `bson:"openedBy" json:"openedBy"`
	OpenedAt     time.Time `bson:"openedAt" json:"openedAt"`
}

// The outcomes of a board's decision.
const (
	Awarded    = "awarded"
	Deferred   = "deferred"
	NotAwarded = "not awarded"
)

// RuleSummary is one rule's result as the board saw it when deciding: the evidence summary
// its record keeps.
type RuleSummary struct {
	Kind    string `bson:"kind" json:"kind"`
	Title   string `bson:"title" json:"title"`
	State   string `bson:"state" json:"state"`
	Summary string `bson:"summary" json:"summary"`
}

// BoardDecision is one decision of a board for one trainee, as inserted; never updated.
type BoardDecision struct {
	ID       string `bson:"_id" json:"id"`
	BoardID  string `bson:"boardId" json:"boardId"`
	CohortID string `bson:"cohortId" json:"cohortId"`
	UserID   string `bson:"userId" json:"userId"`
	Outcome  string `bson:"outcome" json:"outcome"`
	Reason   string `bson:"reason,omitempty" json:"reason,omitempty"`
	// Outstanding and Until are what a deferred trainee still has to do, and by when.
	Outstanding  string        `bson:"outstanding,omitempty" json:"outstanding,omitempty"`
	Until        time.Time     `bson:"until,omitempty" json:"until,omitzero"`
	RulesVersion int           `bson:"rulesVersion" json:"rulesVersion"`
	Eligible     bool          `bson:"eligible" json:"eligible"`
	Evidence     []RuleSummary `bson:"evidence" json:"evidence"`
	AwardID      string        `bson:"awardId,omitempty" json:"awardId,omitempty"`
	DecidedBy    string        `bson:"decidedBy" json:"decidedBy"`
	DecidedAt    time.Time     `bson:"decidedAt" json:"decidedAt"`
}

// DecisionInput is what an administrator decides for a trainee.
type DecisionInput struct {
	UserID      string    `json:"userId"`
	Outcome     string    `json:"outcome"`
	Reason      string    `json:"reason"`
	Outstanding string    `json:"outstanding"`
	Until       time.Time `json:"until"`
}

// Candidate is one trainee before the board: their standing now, the board's current
// decision for them (nil before any) and every decision, the earliest first.
type Candidate struct {
	UserID   string          `json:"userId"`
	Name     string          `json:"name"`
	Eligible bool            `json:"eligible"`
	Missing  []string        `json:"missing"`
	Evidence []RuleSummary   `json:"evidence"`
	Current  *BoardDecision  `json:"current,omitempty"`
	History  []BoardDecision `json:"history"`
	// Award is the award the current decision issued, with its state (revoked or not).
	Award *Award `json:"award,omitempty"`
	// Member is false for someone decided on who is no longer a trainee of the cohort.
	Member bool `json:"member"`
}

// BoardView is a board with its trainees; CurrentRules is the cohort's rules version now,
// which differs from the board's when the rules changed after it opened.
type BoardView struct {
	Board        Board       `json:"board"`
	CurrentRules int         `json:"currentRules"`
	Candidates   []Candidate `json:"candidates"`
}

// Boards keeps the exam boards. Every request reads by _id: a board by its id, a cohort's
// boards and a board's decisions through list documents.
type Boards struct {
	db        *database.DB
	boards    *database.Collection
	decisions *database.Collection
	lists     *database.Collection // "cohort:<id>" -> board ids; "board:<id>" -> decision ids
	awards    *Store
	progress  *progress.Service
	names     func(ctx context.Context, userID string) string
	now       func() time.Time
}

// BoardOptions change how the boards behave; the zero value is the defaults.
type BoardOptions struct {
	// Names gives a person's name on their account (nil: the user id).
	Names func(ctx context.Context, userID string) string
	Now   func() time.Time
}

// NewBoards opens the exam boards' collections.
func NewBoards(ctx context.Context, db *database.DB, awards *Store, p *progress.Service, o BoardOptions) (*Boards, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Names == nil {
		o.Names = func(_ context.Context, id string) string { return id }
	}
	b := &Boards{db: db, boards: db.Collection("exam_boards"), decisions: db.Collection("exam_board_decisions"),
		lists: db.Collection("exam_board_lists"), awards: awards, progress: p, names: o.Names, now: o.Now}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

type idList struct {
	ID  string   `bson:"_id"`
	IDs []string `bson:"ids"`
}

func cohortBoards(cohortID string) string  { return "cohort:" + cohortID }
func boardDecisions(boardID string) string { return "board:" + boardID }

// reader is who the boards read progress as: the domain has decided already that the person
// asking is an administrator.
var reader = courses.Viewer{UserID: "exam-board", Role: accounts.RoleAdmin}

// adminOnly refuses everyone but administrators.
func adminOnly(v courses.Viewer) error {
	if v.UserID == "" || v.Role != accounts.RoleAdmin {
		return fmt.Errorf("exam boards are for administrators: %w", failure.ErrForbidden)
	}
	return nil
}

func newID(prefix string) (string, error) {
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(raw[:]), nil
}

// Open opens a board for the cohort on the day, under the cohort's current rules.
func (b *Boards) Open(ctx context.Context, v courses.Viewer, cohortID string, day time.Time) (Board, error) {
	if err := adminOnly(v); err != nil {
		return Board{}, err
	}
	if day.IsZero() {
		return Board{}, failure.Problem("date", "Enter the date the board sits")
	}
	rules, err := b.progress.Rules(ctx, cohortID)
	if err != nil {
		return Board{}, err
	}
	id, err := newID("eb")
	if err != nil {
		return Board{}, err
	}
	y, m, d := day.Date()
	bd := Board{ID: id, CohortID: cohortID, Date: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), RulesVersion: rules.Version,
		OpenedBy: v.UserID, OpenedAt: b.now().UTC().Truncate(time.Millisecond)}
	if err := database.Insert(ctx, b.boards, bd); err != nil {
		return Board{}, fmt.Errorf("store the exam board: %w", err)
	}
	if err := b.db.AddToList(ctx, b.lists, cohortBoards(cohortID), "ids", id); err != nil {
		return Board{}, fmt.Errorf("list the exam board: %w", err)
	}
	return bd, nil
}

// ForCohort lists the cohort's boards, the latest date first.
func (b *Boards) ForCohort(ctx context.Context, v courses.Viewer, cohortID string) ([]Board, error) {
	if err := adminOnly(v); err != nil {
		return nil, err
	}
	out, err := listed[Board](ctx, b.lists, b.boards, cohortBoards(cohortID))
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(x, y Board) int {
		if c := y.Date.Compare(x.Date); c != 0 {
			return c
		}
		return y.OpenedAt.Compare(x.OpenedAt)
	})
	return out, nil
}

// listed reads the documents a list document names, in the list's order.
func listed[T any](ctx context.Context, lists, coll *database.Collection, listID string) ([]T, error) {
	l, err := database.FindByID[idList](ctx, lists, listID)
	if errors.Is(err, failure.ErrNotFound) {
		return []T{}, nil
	}
	if err != nil {
		return nil, err
	}
	out, err := database.FindEachByID[T](ctx, coll, l.IDs)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []T{}
	}
	return out, nil
}

// Board returns one board.
func (b *Boards) Board(ctx context.Context, v courses.Viewer, id string) (Board, error) {
	if err := adminOnly(v); err != nil {
		return Board{}, err
	}
	bd, err := database.FindByID[Board](ctx, b.boards, id)
	if err != nil {
		return Board{}, fmt.Errorf("exam board %s: %w", id, err)
	}
	return bd, nil
}

// summarise is a trainee's progress as the board's record keeps it, and what is missing.
func summarise(p progress.Progress) (evidence []RuleSummary, missing []string) {
	evidence, missing = []RuleSummary{}, []string{}
	for _, r := range p.Results {
		evidence = append(evidence, RuleSummary{Kind: string(r.Kind), Title: r.Title, State: string(r.State), Summary: r.Summary})
		if r.State != progress.Met {
			missing = append(missing, r.Title+": "+r.Summary)
		}
	}
	return evidence, missing
}

// View is the board with every trainee of its cohort, eligible or with what is missing as
// the records stand now, and its decisions.
func (b *Boards) View(ctx context.Context, v courses.Viewer, id string) (BoardView, error) {
	bd, err := b.Board(ctx, v, id)
	if err != nil {
		return BoardView{}, err
	}
	grid, err := b.progress.Cohort(ctx, reader, bd.CohortID)
	if err != nil {
		return BoardView{}, err
	}
	ds, err := listed[BoardDecision](ctx, b.lists, b.decisions, boardDecisions(bd.ID))
	if err != nil {
		return BoardView{}, err
	}
	byUser := map[string][]BoardDecision{}
	for _, d := range ds {
		byUser[d.UserID] = append(byUser[d.UserID], d)
	}
	out := BoardView{Board: bd, CurrentRules: grid.Rules.Version, Candidates: []Candidate{}}
	seen := map[string]bool{}
	add := func(c Candidate) error {
		c.History = byUser[c.UserID]
		if c.History == nil {
			c.History = []BoardDecision{}
		}
		slices.SortStableFunc(c.History, func(x, y BoardDecision) int { return x.DecidedAt.Compare(y.DecidedAt) })
		if n := len(c.History); n > 0 {
			cur := c.History[n-1]
			c.Current = &cur
			if cur.AwardID != "" {
				a, err := b.awards.ByID(ctx, cur.AwardID)
				if err != nil {
					return err
				}
				c.Award = &a
			}
		}
		c.Name = b.names(ctx, c.UserID)
		seen[c.UserID] = true
		out.Candidates = append(out.Candidates, c)
		return nil
	}
	for _, p := range grid.Trainees {
		ev, missing := summarise(p)
		if err := add(Candidate{UserID: p.TraineeID, Eligible: p.Eligible(), Missing: missing, Evidence: ev, Member: true}); err != nil {
			return BoardView{}, err
		}
	}
	for _, d := range ds {
		if !seen[d.UserID] {
			// Decided on, and no longer a trainee of the cohort: the record stays.
			if err := add(Candidate{UserID: d.UserID, Missing: []string{}, Evidence: d.Evidence}); err != nil {
				return BoardView{}, err
			}
		}
	}
	return out, nil
}

// Decide records the board's decision for a trainee, from the trainee's progress as the
// records stand now, which the decision keeps. "Awarded" needs every rule met under the
// board's rules version, and issues the award (idempotently: deciding again changes
// nothing about it); once awarded, a trainee's decision on that board is final, and the way
// back is to revoke the award. "Deferred" needs a reason, what is outstanding and a date
// after the board's; "not awarded" a reason.
func (b *Boards) Decide(ctx context.Context, v courses.Viewer, boardID string, in DecisionInput) (BoardDecision, error) {
	bd, err := b.Board(ctx, v, boardID)
	if err != nil {
		return BoardDecision{}, err
	}
	in.Reason, in.Outstanding = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Outstanding)
	var errs []error
	switch in.Outcome {
	case Awarded:
	case Deferred:
		if in.Outstanding == "" {
			errs = append(errs, failure.Problem("outstanding", "Say what is outstanding"))
		}
		if in.Until.IsZero() {
			errs = append(errs, failure.Problem("until", "Enter the date by which it is due"))
		} else if !in.Until.After(bd.Date) {
			errs = append(errs, failure.Problem("until", "The date it is due must be after the board's date"))
		}
	case NotAwarded:
	default:
		errs = append(errs, failure.Problem("outcome", "Choose awarded, deferred or not awarded"))
	}
	if (in.Outcome == Deferred || in.Outcome == NotAwarded) && in.Reason == "" {
		errs = append(errs, failure.Problem("reason", "Give the reason for the decision"))
	}
	if len(errs) > 0 {
		return BoardDecision{}, failure.Problems(errs...)
	}
	// One decision at a time per trainee and board, so that an award is never decided
	// beside a deferral made at the same moment.
	defer b.db.Serialize(b.decisions.Name(), bd.ID+"\x00"+in.UserID)()
	p, err := b.progress.Trainee(ctx, reader, bd.CohortID, in.UserID)
	if errors.Is(err, failure.ErrNotFound) {
		return BoardDecision{}, failure.Problem("userId", "Choose a trainee of the cohort")
	}
	if err != nil {
		return BoardDecision{}, err
	}
	if p.RulesVersion != bd.RulesVersion {
		return BoardDecision{}, failure.Conflict(fmt.Sprintf("The award rules changed after the board opened (version %d now, the board's is %d): open a new board", p.RulesVersion, bd.RulesVersion))
	}
	ds, err := listed[BoardDecision](ctx, b.lists, b.decisions, boardDecisions(bd.ID))
	if err != nil {
		return BoardDecision{}, err
	}
	for _, d := range ds {
		if d.UserID == in.UserID && d.Outcome == Awarded {
			return BoardDecision{}, failure.Conflict("This board awarded the diploma already: revoke the award instead")
		}
	}
	ev, missing := summarise(p)
	if in.Outcome == Awarded && !p.Eligible() {
		return BoardDecision{}, failure.Problem("outcome", "Not every rule is met, so the diploma cannot be awarded: "+strings.Join(missing, "; "))
	}
	id, err := newID("bd")
	if err != nil {
		return BoardDecision{}, err
	}
	now := b.now().UTC().Truncate(time.Millisecond)
	d := BoardDecision{ID: id, BoardID: bd.ID, CohortID: bd.CohortID, UserID: in.UserID, Outcome: in.Outcome, Reason: in.Reason,
		RulesVersion: bd.RulesVersion, Eligible: p.Eligible(), Evidence: ev, DecidedBy: v.UserID, DecidedAt: now}
	if in.Outcome == Deferred {
		y, m, dd := in.Until.Date()
		d.Outstanding, d.Until = in.Outstanding, time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	}
	if in.Outcome == Awarded {
		// Issued first: issuing is idempotent, so a decision whose insert failed is decided
		// again to the same award.
		a, err := b.awards.Issue(ctx, Decision{UserID: in.UserID, CohortID: bd.CohortID, BoardID: bd.ID, RulesVersion: bd.RulesVersion,
			DecidedBy: v.UserID, AccountName: b.names(ctx, in.UserID), AwardedAt: now})
		if err != nil {
			return BoardDecision{}, err
		}
		d.AwardID = a.ID
	}
	if err := database.Insert(ctx, b.decisions, d); err != nil {
		return BoardDecision{}, fmt.Errorf("store the board's decision: %w", err)
	}
	if err := b.db.AddToList(ctx, b.lists, boardDecisions(bd.ID), "ids", d.ID); err != nil {
		return BoardDecision{}, fmt.Errorf("list the board's decision: %w", err)
	}
	return d, nil
}

// Revoke revokes an award with the reason, for an administrator; it stays, revoked.
func (b *Boards) Revoke(ctx context.Context, v courses.Viewer, awardID, reason string) (Award, error) {
	if err := adminOnly(v); err != nil {
		return Award{}, err
	}
	return b.awards.Revoke(ctx, awardID, reason, v.UserID)
}
