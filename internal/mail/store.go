package mail

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Every read and write here is by _id. The worker finds what to send through the list
// document pendingList, not by a filter on the messages: a message is listed before it is
// stored and taken off once it is sent or has failed for good, so the list may name a
// message not stored yet (passed over, and dropped once it is old), never miss one.

const (
	messagesColl = "mailMessages"
	listsColl    = "mailLists"
	claimsColl   = "mailClaims"
	prefsColl    = "mailPreferences"

	pendingList = "pending"
	failedList  = "failed"
	// daysList names the days that have a dayList of finished messages.
	daysList = "days"
)

// dayList lists the messages that finished (were sent or failed) on day (2006-01-02, UTC).
func dayList(day string) string { return "done/" + day }

// The states of a stored message.
const (
	StatePending = "pending"
	StateSent    = "sent"
	StateFailed  = "failed"
)

// record is a message as the queue stores it: the typed fields it is rendered from when it
// is delivered, and how its delivery goes.
type record struct {
	ID     string `bson:"_id"`
	Kind   Kind   `bson:"kind"`
	To     string `bson:"to"`
	UserID string `bson:"userId,omitempty"`
	Name   string `bson:"name"`
	// Link is emptied once the message is sent or has failed: it may hold a one-time token.
	Link      string    `bson:"link"`
	Values    Values    `bson:"values"`
	State     string    `bson:"state"`
	Tries     int       `bson:"tries"`
	NextAt    time.Time `bson:"nextAt"`
	CreatedAt time.Time `bson:"createdAt"`
	DoneAt    time.Time `bson:"doneAt,omitempty"`
	LastError string    `bson:"lastError,omitempty"`
}

func (r record) message() Message {
	return Message{Kind: r.Kind, To: r.To, UserID: r.UserID, Name: r.Name, Link: r.Link, Values: r.Values}
}

// claim is one attempt at delivering a message: whoever inserts claimID(message, n) makes
// attempt n, alone, until Until; past it (its instance stopped or died) the attempt is
// abandoned and the next one may be claimed.
type claim struct {
	ID       string    `bson:"_id"`
	Instance string    `bson:"instance"`
	Until    time.Time `bson:"until"`
}

func claimID(messageID string, attempt int) string { return fmt.Sprintf("%s/%d", messageID, attempt) }

type idList struct {
	ID  string   `bson:"_id"`
	IDs []string `bson:"ids"`
}

// prefsDoc is one person's email preferences, under their user id.
type prefsDoc struct {
	ID  string `bson:"_id"`
	Off []Kind `bson:"off"`
	// On are the kinds off until chosen that the person turned on.
	On        []Kind    `bson:"on,omitempty"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

type store struct {
	db       *database.DB
	messages *database.Collection
	lists    *database.Collection
	claims   *database.Collection
	prefs    *database.Collection
}

func newStore(ctx context.Context, db *database.DB) (*store, error) {
	s := &store{db: db, messages: db.Collection(messagesColl), lists: db.Collection(listsColl),
		claims: db.Collection(claimsColl), prefs: db.Collection(prefsColl)}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return s, nil
}

// queue lists and then stores a new message.
func (s *store) queue(ctx context.Context, r record) error {
	if err := s.db.AddToList(ctx, s.lists, pendingList, "ids", r.ID); err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	if err := database.Insert(ctx, s.messages, r); err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	return nil
}

func (s *store) listed(ctx context.Context, list string) ([]string, error) {
	d, err := database.FindByID[idList](ctx, s.lists, list)
	if errors.Is(err, failure.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ids := slices.Clone(d.IDs)
	slices.Sort(ids) // ids begin with their time: oldest first
	return ids, nil
}

func (s *store) unlist(ctx context.Context, list, id string) error {
	return s.db.RemoveFromList(ctx, s.lists, list, "ids", id)
}

func (s *store) list(ctx context.Context, list, id string) error {
	return s.db.AddToList(ctx, s.lists, list, "ids", id)
}

// listDone lists message id under the day it finished, at.
func (s *store) listDone(ctx context.Context, at time.Time, id string) error {
	day := at.UTC().Format(time.DateOnly)
	if err := s.db.AddToList(ctx, s.lists, daysList, "ids", day); err != nil {
		return err
	}
	return s.db.AddToList(ctx, s.lists, dayList(day), "ids", id)
}

// removeDone deletes the record of a finished message (and takes it off the failed list).
// A message listed under a day but not finished (its state was never written) is left.
func (s *store) removeDone(ctx context.Context, id string) error {
	r, err := s.record(ctx, id)
	switch {
	case errors.Is(err, failure.ErrNotFound):
		return nil
	case err != nil:
		return err
	case r.State == StatePending:
		return nil
	case r.State == StateFailed:
		if err := s.unlist(ctx, failedList, id); err != nil {
			return err
		}
	}
	return database.DeleteByID(ctx, s.messages, id)
}

// dropDay removes a day's list once its records are gone.
func (s *store) dropDay(ctx context.Context, day string) error {
	if err := database.DeleteByID(ctx, s.lists, dayList(day)); err != nil {
		return err
	}
	return s.unlist(ctx, daysList, day)
}

func (s *store) record(ctx context.Context, id string) (record, error) {
	return database.FindByID[record](ctx, s.messages, id)
}

// update sets fields of message id. Only the holder of the message's current claim writes
// it, so the write needs no condition.
func (s *store) update(ctx context.Context, id string, set bson.M) error {
	return s.messages.Update(ctx, id, bson.M{"$set": set})
}

// claim inserts c; a claim already stored under its id is database.ErrDuplicate.
func (s *store) claim(ctx context.Context, c claim) error {
	return database.Insert(ctx, s.claims, c)
}

func (s *store) claimAt(ctx context.Context, id string) (claim, error) {
	return database.FindByID[claim](ctx, s.claims, id)
}

func (s *store) dropClaim(ctx context.Context, id string) error {
	return database.DeleteByID(ctx, s.claims, id)
}

func (s *store) preferences(ctx context.Context, userID string) (prefsDoc, error) {
	d, err := database.FindByID[prefsDoc](ctx, s.prefs, userID)
	if errors.Is(err, failure.ErrNotFound) {
		return prefsDoc{ID: userID}, nil
	}
	return d, err
}

// setPreferences replaces the person's preferences; the last of two saves at once wins,
// which for a person's own settings is what they saw last.
func (s *store) setPreferences(ctx context.Context, d prefsDoc) error {
	defer s.db.Serialize(prefsColl, d.ID)()
	replace := func() error {
		return s.prefs.Put(ctx, d.ID, d)
	}
	err := replace()
	if errors.Is(err, database.ErrDuplicate) {
		// Two first saves raced to make the document (two instances): it exists now.
		err = replace()
	}
	if err != nil {
		return fmt.Errorf("save email preferences: %w", err)
	}
	return nil
}
