// Package award keeps the diploma's awards: who was awarded it, by which exam board, under
// which version of the rules, with the name they want on the certificate and the
// verification code printed on it. It makes the certificate (a PDF with a QR code) and
// answers the public verification of a code. An award is never deleted: revoked, it stays,
// saying so, and erasing a person's account keeps it, so a certificate goes on answering.
package award

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// DefaultTitle is the award's title until an administrator sets another.
const DefaultTitle = "Foundation Diploma in Peer-supported Open Dialogue"

// Award is one person's diploma, as the exam board decided it.
type Award struct {
	ID       string `bson:"_id" json:"id"`
	UserID   string `bson:"userId" json:"userId"`
	CohortID string `bson:"cohortId" json:"cohortId"`
	// ShownName is the name as the person wants it on the certificate.
	ShownName string `bson:"shownName" json:"shownName"`
	Title     string `bson:"title" json:"title"`
	// Organisations are the awarding organisations, as the settings named them at the award.
	Organisations []string  `bson:"organisations" json:"organisations"`
	AwardedAt     time.Time `bson:"awardedAt" json:"awardedAt"`
	DecidedBy     string    `bson:"decidedBy" json:"decidedBy"`
	BoardID       string    `bson:"boardId" json:"boardId"`
	RulesVersion  int       `bson:"rulesVersion" json:"rulesVersion"`
	// Code is the verification code printed on the certificate.
	Code string `bson:"code" json:"code"`
	// Status is "valid" or "revoked": what a revocation's conditional update checks.
	Status  string      `bson:"status" json:"status"`
	Revoked *Revocation `bson:"revoked,omitempty" json:"revoked,omitempty"`
}

// Revocation says when an award was revoked, why and by whom.
type Revocation struct {
	At     time.Time `bson:"at" json:"at"`
	Reason string    `bson:"reason" json:"reason"`
	By     string    `bson:"by" json:"by"`
}

// The states of an award.
const (
	Valid   = "valid"
	Revoked = "revoked"
)

// Decision is what an exam board decided for one person: the award's facts besides those
// the store adds (title, organisations, code).
type Decision struct {
	UserID       string
	CohortID     string
	BoardID      string
	RulesVersion int
	DecidedBy    string
	// AccountName is the person's name on their account, shown on the certificate unless
	// they have chosen another (SetShownName).
	AccountName string
	AwardedAt   time.Time
}

// Store keeps the awards. Every request reads by _id: an award by its id, a code's document
// by the hash of the code, a person's awards through their list document.
type Store struct {
	db       *database.DB
	awards   *database.Collection
	codes    *database.Collection // codeID -> award id
	lists    *database.Collection // "user:<id>" -> the person's award ids
	names    *database.Collection // user id -> the name they want shown
	settings *database.Collection // settingsID -> Settings
	throttle *accounts.ClientThrottle
	now      func() time.Time
	log      *slog.Logger
}

// Options change how the store behaves; the zero value is the defaults.
type Options struct {
	// VerifyLimit is how many verifications one client address may ask for in VerifyWindow
	// (zero: 60 in 15 minutes).
	VerifyLimit  int
	VerifyWindow time.Duration
	// Now is the clock (nil: time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// NewStore opens the awards' collections.
func NewStore(ctx context.Context, db *database.DB, o Options) (*Store, error) {
	if o.VerifyLimit <= 0 {
		o.VerifyLimit = 60
	}
	if o.VerifyWindow <= 0 {
		o.VerifyWindow = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{db: db, awards: db.Collection("awards"), codes: db.Collection("award_codes"),
		lists: db.Collection("award_lists"), names: db.Collection("award_names"),
		settings: db.Collection("award_settings"), now: o.Now, log: o.Logger}
	var err error
	if s.throttle, err = accounts.NewClientThrottle(ctx, db, "verify", o.VerifyLimit, o.VerifyWindow, o.Now); err != nil {
		return nil, err
	}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// awardID is the id of the award of a person by a board: one award per person and board,
// whoever issues it and however often.
func awardID(boardID, userID string) string {
	sum := sha256.Sum256([]byte(boardID + "\x00" + userID))
	return hex.EncodeToString(sum[:12])
}

func userList(userID string) string { return "user:" + userID }

// codeDoc points a verification code at its award.
type codeDoc struct {
	ID      string    `bson:"_id"`
	AwardID string    `bson:"awardId"`
	At      time.Time `bson:"at"`
}

type awardList struct {
	ID     string   `bson:"_id"`
	Awards []string `bson:"awards"`
}

// Issue records the award a board decided. It is idempotent: issued again for the same
// person and board, it returns the award already stored, unchanged.
//
// The code's document is stored before the award, and removed again when the award turns
// out to be there already: a code whose award was never stored, or names another code, is
// not found (ByCode checks both), so an interrupted issue leaves nothing that verifies.
func (s *Store) Issue(ctx context.Context, d Decision) (Award, error) {
	var errs []error
	for _, f := range []struct{ field, value string }{{"userId", d.UserID}, {"cohortId", d.CohortID}, {"boardId", d.BoardID}, {"decidedBy", d.DecidedBy}} {
		if strings.TrimSpace(f.value) == "" {
			errs = append(errs, failure.Invalid(f.field, "is required"))
		}
	}
	if len(errs) > 0 {
		return Award{}, failure.Problems(errs...)
	}
	id := awardID(d.BoardID, d.UserID)
	if a, err := database.FindByID[Award](ctx, s.awards, id); err == nil {
		return a, nil
	} else if !errors.Is(err, failure.ErrNotFound) {
		return Award{}, err
	}
	set, err := s.Settings(ctx)
	if err != nil {
		return Award{}, err
	}
	name, err := s.preferredName(ctx, d.UserID)
	if err != nil {
		return Award{}, err
	}
	if name == "" {
		name = strings.TrimSpace(d.AccountName)
	}
	code, err := NewCode()
	if err != nil {
		return Award{}, err
	}
	at := d.AwardedAt
	if at.IsZero() {
		at = s.now()
	}
	a := Award{ID: id, UserID: d.UserID, CohortID: d.CohortID, ShownName: name, Title: set.Title,
		Organisations: set.Organisations, AwardedAt: at.UTC().Truncate(time.Millisecond), DecidedBy: d.DecidedBy,
		BoardID: d.BoardID, RulesVersion: d.RulesVersion, Code: code, Status: Valid}
	if err := database.Insert(ctx, s.codes, codeDoc{ID: codeID(code), AwardID: id, At: s.now().UTC()}); err != nil {
		return Award{}, fmt.Errorf("store the verification code: %w", err)
	}
	err = database.Insert(ctx, s.awards, a)
	if errors.Is(err, database.ErrDuplicate) {
		// Another issue of the same decision stored it first; its code is the one.
		if err := database.DeleteByID(ctx, s.codes, codeID(code)); err != nil {
			s.log.Warn("award: an unused verification code was not removed", "err", err)
		}
		return database.FindByID[Award](ctx, s.awards, id)
	}
	if err != nil {
		return Award{}, fmt.Errorf("store the award: %w", err)
	}
	if err := s.db.AddToList(ctx, s.lists, userList(d.UserID), "awards", id); err != nil {
		return Award{}, fmt.Errorf("list the award: %w", err)
	}
	return a, nil
}

// ByID returns one award.
func (s *Store) ByID(ctx context.Context, id string) (Award, error) {
	a, err := database.FindByID[Award](ctx, s.awards, id)
	if err != nil {
		return Award{}, fmt.Errorf("award %s: %w", id, err)
	}
	return a, nil
}

// ByCode returns the award whose certificate carries the code, typed in any case with or
// without dashes. Every code that is not an award's, malformed or unknown, is the same
// failure.ErrNotFound.
func (s *Store) ByCode(ctx context.Context, typed string) (Award, error) {
	code, ok := ParseCode(typed)
	if !ok {
		return Award{}, failure.ErrNotFound
	}
	c, err := database.FindByID[codeDoc](ctx, s.codes, codeID(code))
	if errors.Is(err, failure.ErrNotFound) {
		return Award{}, failure.ErrNotFound // nothing of the look-up in the answer
	}
	if err != nil {
		return Award{}, err
	}
	a, err := database.FindByID[Award](ctx, s.awards, c.AwardID)
	if errors.Is(err, failure.ErrNotFound) {
		return Award{}, failure.ErrNotFound
	}
	if err != nil {
		return Award{}, err
	}
	if a.Code != code {
		return Award{}, failure.ErrNotFound
	}
	return a, nil
}

// ForUser returns a person's awards, the first awarded first; revoked ones are among them.
func (s *Store) ForUser(ctx context.Context, userID string) ([]Award, error) {
	l, err := database.FindByID[awardList](ctx, s.lists, userList(userID))
	if errors.Is(err, failure.ErrNotFound) {
		return []Award{}, nil
	}
	if err != nil {
		return nil, err
	}
	out, err := database.FindEachByID[Award](ctx, s.awards, l.Awards)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []Award{}
	}
	return out, nil
}

// HasAward reports whether the person has an award record, revoked or not: erasure keeps it
// and says so (courses.AwardRecords).
func (s *Store) HasAward(ctx context.Context, userID string) (bool, error) {
	as, err := s.ForUser(ctx, userID)
	return len(as) > 0, err
}

// Revoke revokes an award, with the reason, by whom; it stays stored and verifies as
// revoked. An award already revoked is a conflict, and keeps its first revocation.
func (s *Store) Revoke(ctx context.Context, id, reason, by string) (Award, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Award{}, failure.Problem("reason", "Say why the award is revoked")
	}
	if strings.TrimSpace(by) == "" {
		return Award{}, failure.Invalid("by", "is required")
	}
	if _, err := s.ByID(ctx, id); err != nil {
		return Award{}, err
	}
	r := Revocation{At: s.now().UTC().Truncate(time.Millisecond), Reason: reason, By: by}
	ok, err := s.awards.UpdateIf(ctx, id, bson.M{"status": Valid}, bson.M{"$set": bson.M{"status": Revoked, "revoked": r}})
	if err != nil {
		return Award{}, fmt.Errorf("revoke award %s: %w", id, err)
	}
	if !ok {
		return Award{}, failure.Conflict("the award is revoked already")
	}
	return s.ByID(ctx, id)
}
