// Package audit keeps the log of administrative changes: who changed what, when, and the
// values before and after. Administrators read it, filtered by the person or cohort changed,
// by who made the change, or by the kind of change.
package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Entry is one administrative change.
type Entry struct {
	ID string    `bson:"_id" json:"-"`
	N  int64     `bson:"n" json:"n"`
	At time.Time `bson:"at" json:"at"`
	// Actor is who made the change: an account's id, or "" for the command line.
	ActorID   string `bson:"actorId,omitempty" json:"actorId,omitempty"`
	ActorName string `bson:"actorName" json:"actorName"`
	// Action names the kind of change, as "person.edited" (see the constants).
	Action string `bson:"action" json:"action"`
	// Subject is what was changed: a person's or a cohort's id, and its name then.
	SubjectID   string `bson:"subjectId" json:"subjectId"`
	SubjectName string `bson:"subjectName" json:"subjectName"`
	// Changes are the fields that changed, each with its value before and after.
	Changes []Change `bson:"changes,omitempty" json:"changes,omitempty"`
	// Reason is what the administrator gave, where the change asks for one.
	Reason string `bson:"reason,omitempty" json:"reason,omitempty"`
}

// Change is one field's value before and after.
type Change struct {
	Field  string `bson:"field" json:"field"`
	Before string `bson:"before" json:"before"`
	After  string `bson:"after" json:"after"`
}

// The kinds of change, with the words the log's page shows for them.
const (
	PersonAdded    = "person.added"
	PersonEdited   = "person.edited"
	PersonDisabled = "person.disabled"
	PersonEnabled  = "person.enabled"
	PersonInvited  = "person.invited"
	PersonErased   = "person.erased"
	CohortAdded    = "cohort.added"
	MemberAdded    = "cohort.member-added"
	MemberChanged  = "cohort.member-changed"
	MemberRemoved  = "cohort.member-removed"
	PeopleImported = "cohort.people-imported"
	TrustAdded     = "trust.added"
	EmailDismissed = "email.dismissed"
	// ConsentDecided is a speaker agreeing to, refusing or withdrawing the use of their
	// words from a dialogue room; its subject is the speaker.
	ConsentDecided = "consent.decided"
	// CertificateSettings is a change of the diploma certificate's title or awarding
	// organisations.
	CertificateSettings = "award.certificate-settings"
	// AwardRulesChanged: a new version of a cohort's award rules.
	AwardRulesChanged = "cohort.award-rules-changed"
	// BoardOpened is an exam board opened for a cohort; its subject is the cohort.
	BoardOpened = "award.board-opened"
	// BoardDecided is an exam board's decision for a trainee; its subject is the trainee.
	BoardDecided = "award.board-decided"
	// AwardRevoked is an award of the diploma revoked; its subject is the holder.
	AwardRevoked = "award.revoked"
	// Assessed work: what administrators and assessors set up and decide (the marks
	// themselves are on each submission's own trail).
	PieceSetUp       = "marking.piece-set-up"
	PieceEdited      = "marking.piece-edited"
	ExtensionGranted = "marking.extension-granted"
	ResultsReleased  = "marking.results-released"
)

// Actions lists every kind of change with its label, in the order the filter offers them.
var Actions = []struct{ Name, Label string }{
	{PersonAdded, "Person added"}, {PersonEdited, "Person edited"}, {PersonDisabled, "Account disabled"},
	{PersonEnabled, "Account enabled"}, {PersonInvited, "Invitation sent"}, {PersonErased, "Person's data erased"},
	{CohortAdded, "Cohort set up"}, {MemberAdded, "Added to a cohort"}, {MemberChanged, "Cohort role changed"},
	{MemberRemoved, "Removed from a cohort"}, {PeopleImported, "People imported"}, {TrustAdded, "Trust added"},
	{EmailDismissed, "Undelivered email dismissed"},
	{ConsentDecided, "Consent to the use of words decided"},
	{CertificateSettings, "Certificate settings changed"},
	{AwardRulesChanged, "Award rules changed"},
	{BoardOpened, "Exam board opened"},
	{BoardDecided, "Exam board decision"},
	{AwardRevoked, "Award revoked"},
	{PieceSetUp, "Assessed piece set up"}, {PieceEdited, "Assessed piece changed"},
	{ExtensionGranted, "Extension granted"}, {ResultsReleased, "Results released"},
}

// ActionLabel is the words for an action.
func ActionLabel(action string) string {
	for _, a := range Actions {
		if a.Name == action {
			return a.Label
		}
	}
	return action
}

// Diff lists the fields whose values differ between before and after, in the order of
// fields.
func Diff(fields []string, before, after map[string]string) []Change {
	var out []Change
	for _, f := range fields {
		if before[f] != after[f] {
			out = append(out, Change{Field: f, Before: before[f], After: after[f]})
		}
	}
	return out
}

// Log stores the entries, each under "entry/<n>" numbered from 1: an entry takes the first
// number no other writer has taken, by an insert under a unique _id (atomic on every engine,
// from any process). The document "head" notes the last number written, a hint that a reader
// goes past while a later entry is stored. Lists under "subject/<id>" and "actor/<id>" name
// the numbers of each one's entries, so that filtering by them reads only those entries.
type Log struct {
	db      *database.DB
	entries *database.Collection
	lists   *database.Collection
	now     func() time.Time
}

const (
	entriesCollection = "audit_log"
	listsCollection   = "audit_lists"
	headID            = "head"
)

func entryID(n int64) string { return "entry/" + strconv.FormatInt(n, 10) }

// subjectList and actorList name the list documents of a subject's and an actor's entries.
func subjectList(id string) string { return "subject/" + id }
func actorList(id string) string   { return "actor/" + id }

type head struct {
	ID string `bson:"_id"`
	N  int64  `bson:"n"`
}

type numbers struct {
	ID string  `bson:"_id"`
	Ns []int64 `bson:"ns"`
}

// New opens the log.
func New(ctx context.Context, db *database.DB) (*Log, error) {
	l := &Log{db: db, entries: db.Collection(entriesCollection), lists: db.Collection(listsCollection), now: time.Now}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// last reads the number of the last entry stored: the head's hint, then past it.
func (l *Log) last(ctx context.Context) (int64, error) {
	h, err := database.FindByID[head](ctx, l.entries, headID)
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return 0, err
	}
	n := h.N
	for {
		_, err := database.FindByID[Entry](ctx, l.entries, entryID(n+1))
		if errors.Is(err, failure.ErrNotFound) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		n++
	}
}

// Record stores an entry; its number and time are filled in.
func (l *Log) Record(ctx context.Context, e Entry) (Entry, error) {
	if e.Action == "" || e.SubjectID == "" {
		return Entry{}, fmt.Errorf("audit: an entry needs an action and a subject")
	}
	if e.ActorName == "" {
		e.ActorName = "the command line"
	}
	e.At = l.now().UTC().Truncate(time.Millisecond)
	n, err := l.last(ctx)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: %w", err)
	}
	for attempt := 0; ; attempt++ {
		n++
		e.N, e.ID = n, entryID(n)
		err := database.Insert(ctx, l.entries, e)
		if err == nil {
			break
		}
		if !errors.Is(err, database.ErrDuplicate) || attempt > 1000 {
			return Entry{}, fmt.Errorf("audit: %w", err)
		}
	}
	// The hint, the lists: an entry missing from a list is still in the whole log.
	_ = l.entries.Upsert(ctx, headID, bson.M{"$max": bson.M{"n": e.N}})
	if err := l.db.AddToList(ctx, l.lists, subjectList(e.SubjectID), "ns", e.N); err != nil {
		return e, fmt.Errorf("audit: list the entry: %w", err)
	}
	if e.ActorID != "" {
		if err := l.db.AddToList(ctx, l.lists, actorList(e.ActorID), "ns", e.N); err != nil {
			return e, fmt.Errorf("audit: list the entry: %w", err)
		}
	}
	return e, nil
}

// Filter picks entries: by what was changed, by who changed it, by kind; Before pages on
// (only entries numbered below it).
type Filter struct {
	SubjectID string
	ActorID   string
	Action    string
	Before    int64
}

// PageSize is how many entries a page of the log shows.
const PageSize = 50

// maxRead bounds the entries one page reads when filtering by kind alone, so a rare kind
// costs a bounded page; the page then offers the older entries.
const maxRead = 1000

// Page is one page of the log, newest first, and the number to page on from (0: no more).
type Page struct {
	Entries []Entry
	Next    int64
}

// List reads a page of entries matching f, newest first.
func (l *Log) List(ctx context.Context, f Filter) (Page, error) {
	var candidates []int64
	switch {
	case f.SubjectID != "" || f.ActorID != "":
		var sets [][]int64
		for _, id := range []string{subjectList(f.SubjectID), actorList(f.ActorID)} {
			if strings.HasSuffix(id, "/") {
				continue
			}
			list, err := database.FindByID[numbers](ctx, l.lists, id)
			if err != nil && !errors.Is(err, failure.ErrNotFound) {
				return Page{}, err
			}
			sets = append(sets, list.Ns)
		}
		candidates = sets[0]
		if len(sets) == 2 {
			candidates = slices.DeleteFunc(slices.Clone(sets[0]), func(n int64) bool { return !slices.Contains(sets[1], n) })
		}
		slices.Sort(candidates)
		slices.Reverse(candidates)
		if f.Before > 0 {
			candidates = slices.DeleteFunc(candidates, func(n int64) bool { return n >= f.Before })
		}
	default:
		top, err := l.last(ctx)
		if err != nil {
			return Page{}, err
		}
		if f.Before > 0 && f.Before-1 < top {
			top = f.Before - 1
		}
		for n := top; n > 0 && n > top-maxRead; n-- {
			candidates = append(candidates, n)
		}
	}
	var page Page
	for i, n := range candidates {
		if i >= maxRead {
			page.Next = n + 1
			break
		}
		e, err := database.FindByID[Entry](ctx, l.entries, entryID(n))
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			return Page{}, err
		}
		if f.Action != "" && e.Action != f.Action {
			continue
		}
		if len(page.Entries) == PageSize {
			page.Next = n + 1
			break
		}
		page.Entries = append(page.Entries, e)
	}
	if page.Next == 0 && f.SubjectID == "" && f.ActorID == "" && len(candidates) == maxRead && candidates[len(candidates)-1] > 1 {
		page.Next = candidates[len(candidates)-1]
	}
	return page, nil
}

// Erased is what stands in the log for an erased person's name and details.
const Erased = "(erased)"

// Redact removes an erased person's name and details from the log: from the entries about
// them (their name, and every value changed) and from those they made (their name). What
// happened, and when, stays.
func (l *Log) Redact(ctx context.Context, personID string) error {
	for _, list := range []string{subjectList(personID), actorList(personID)} {
		ns, err := database.FindByID[numbers](ctx, l.lists, list)
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		for _, n := range ns.Ns {
			e, err := database.FindByID[Entry](ctx, l.entries, entryID(n))
			if errors.Is(err, failure.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("audit: %w", err)
			}
			set := bson.M{}
			if e.SubjectID == personID {
				set["subjectName"] = Erased
				changes := make([]Change, len(e.Changes))
				for i, c := range e.Changes {
					changes[i] = Change{Field: c.Field, Before: redacted(c.Before), After: redacted(c.After)}
				}
				set["changes"] = changes
				set["reason"] = redacted(e.Reason)
			}
			if e.ActorID == personID {
				set["actorName"] = Erased
			}
			if err := l.entries.Update(ctx, e.ID, bson.M{"$set": set}); err != nil {
				return fmt.Errorf("audit: %w", err)
			}
		}
	}
	return nil
}

func redacted(v string) string {
	if v == "" {
		return ""
	}
	return Erased
}
