package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// ErrSessionExpired means the session timed out (idle or absolute) or was ended.
var ErrSessionExpired = fmt.Errorf("%w: your session has ended; sign in again", failure.ErrUnauthenticated)

// Session is one signed-in browser or API client. Its secret lives only in the cookie; the
// record is keyed by the secret's hash.
type Session struct {
	ID        string    `bson:"_id"`
	UserID    string    `bson:"userId"`
	CSRF      string    `bson:"csrf"`
	CreatedAt time.Time `bson:"createdAt"`
	LastSeen  time.Time `bson:"lastSeen"`
	ExpiresAt time.Time `bson:"expiresAt"`
	IP        string    `bson:"ip,omitempty"`
	UserAgent string    `bson:"userAgent,omitempty"`
}

// SessionConfig holds the timeouts.
type SessionConfig struct {
	Idle     time.Duration
	Absolute time.Duration
}

// Sessions stores sign-in sessions in the "sessions" collection, each under its secret's
// hash, and lists each person's sessions in a document of userSessionsCollection, so that
// every request reaches a session, and ending all of a person's sessions reaches them, by
// _id.
type Sessions struct {
	db    *database.DB
	coll  *database.Collection
	lists *database.Collection
	cfg   SessionConfig
	now   func() time.Time
}

// userSessionsCollection holds, under a person's account id, the ids of their sessions.
// A session is stored first and listed second (a session whose listing fails is ended), so
// a live session is always listed; an id whose session has ended may stay listed until
// Logout or Sweep takes it off. The lists are changed under the list's lock
// (database.DB.AddToList), which holds across processes: the command line ends a person's
// sessions by deleting the listed ones, which leaves the list as it is.
const userSessionsCollection = "user_sessions"

// sessionList is one person's list of sessions.
type sessionList struct {
	ID       string   `bson:"_id"`
	Sessions []string `bson:"sessions"`
}

// touchEvery is how stale LastSeen may get before a request writes it again: reads stay
// reads on most requests, and the idle timeout is off by at most this much.
const touchEvery = time.Minute

// NewSessions returns the session store, creating its indexes if they are missing.
func NewSessions(ctx context.Context, db *database.DB, cfg SessionConfig) (*Sessions, error) {
	coll := db.Collection("sessions")
	if err := database.EnsureIndexes(ctx, coll,
		database.Index{Keys: []string{"userId"}},
		database.Index{Keys: []string{"expiresAt"}},
	); err != nil {
		return nil, err
	}
	return &Sessions{db: db, coll: coll, lists: db.Collection(userSessionsCollection), cfg: cfg, now: time.Now}, nil
}

// Create starts a session for the user and returns its secret, for the cookie.
func (s *Sessions) Create(ctx context.Context, userID, ip, userAgent string) (string, Session, error) {
	secret := newSecret()
	now := s.now().UTC().Truncate(time.Millisecond)
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	sess := Session{
		ID: secretID(secret), UserID: userID, CSRF: newSecret(),
		CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(s.cfg.Absolute),
		IP: ip, UserAgent: userAgent,
	}
	if err := database.Insert(ctx, s.coll, sess); err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	if err := s.db.AddToList(ctx, s.lists, userID, "sessions", sess.ID); err != nil {
		// Unlisted, it would outlive a sign-out everywhere: it never starts.
		_ = database.DeleteByID(ctx, s.coll, sess.ID)
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	return secret, sess, nil
}

// Lookup returns the live session for a cookie's secret, ending it if it has timed out.
func (s *Sessions) Lookup(ctx context.Context, secret string) (Session, error) {
	if secret == "" {
		return Session{}, failure.ErrUnauthenticated
	}
	var sess Session
	err := s.coll.Get(ctx, secretID(secret), &sess)
	if errors.Is(err, failure.ErrNotFound) {
		return Session{}, ErrSessionExpired
	}
	if err != nil {
		return Session{}, fmt.Errorf("find session: %w", err)
	}
	now := s.now()
	if s.timedOut(sess, now) {
		if _, err := s.coll.Delete(ctx, sess.ID); err != nil {
			return Session{}, fmt.Errorf("end expired session: %w", err)
		}
		return Session{}, ErrSessionExpired
	}
	return s.keepAlive(ctx, sess, now)
}

// timedOut says whether the session is past its absolute expiry or idle for too long.
func (s *Sessions) timedOut(sess Session, now time.Time) bool {
	return now.After(sess.ExpiresAt) || now.Sub(sess.LastSeen) > s.cfg.Idle
}

// keepAlive writes a new LastSeen when the stored one is more than touchEvery old.
func (s *Sessions) keepAlive(ctx context.Context, sess Session, now time.Time) (Session, error) {
	if now.Sub(sess.LastSeen) <= touchEvery {
		return sess, nil
	}
	sess.LastSeen = now.UTC().Truncate(time.Millisecond)
	if err := s.coll.Update(ctx, sess.ID, bson.M{"$set": bson.M{"lastSeen": sess.LastSeen}}); err != nil {
		return Session{}, fmt.Errorf("touch session: %w", err)
	}
	return sess, nil
}

// Delete ends the session with this secret and takes it off its person's list; ending one
// that is gone already is not an error.
func (s *Sessions) Delete(ctx context.Context, secret string) error {
	id := secretID(secret)
	sess, err := database.FindByID[Session](ctx, s.coll, id)
	if errors.Is(err, failure.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := database.DeleteByID(ctx, s.coll, id); err != nil {
		return err
	}
	return s.db.RemoveFromList(ctx, s.lists, sess.UserID, "sessions", id)
}

// DeleteForUser ends every session of the user: each listed one, by _id. It leaves the list
// as it is; Sweep takes the ended sessions off.
func (s *Sessions) DeleteForUser(ctx context.Context, userID string) error {
	return s.DeleteOthers(ctx, userID, "")
}

// DeleteOthers ends every session of the user but the one with the secret keep (none when
// keep is empty), as a new password does.
func (s *Sessions) DeleteOthers(ctx context.Context, userID, keep string) error {
	kept := ""
	if keep != "" {
		kept = secretID(keep)
	}
	list, err := database.FindByID[sessionList](ctx, s.lists, userID)
	if errors.Is(err, failure.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	for _, id := range list.Sessions {
		if id == kept {
			continue
		}
		if err := database.DeleteByID(ctx, s.coll, id); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
	}
	return nil
}

// Sweep removes sessions past their absolute expiry or idle for longer than the idle
// timeout, and takes sessions that have ended off their people's lists. It runs in the
// background every few minutes and reads the whole of both collections to do it (on
// embedded FerretDB any query but one by _id does), which no request waits for.
func (s *Sessions) Sweep(ctx context.Context) (int64, error) {
	now := s.now().UTC()
	all, err := findAll[Session](ctx, s.coll, bson.M{})
	if err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	live := make(map[string]bool, len(all))
	var n int64
	for _, sess := range all {
		if !s.timedOut(sess, now) {
			live[sess.ID] = true
			continue
		}
		if err := database.DeleteByID(ctx, s.coll, sess.ID); err != nil {
			return n, fmt.Errorf("sweep sessions: %w", err)
		}
		n++
		if err := s.db.RemoveFromList(ctx, s.lists, sess.UserID, "sessions", sess.ID); err != nil {
			return n, fmt.Errorf("sweep sessions: %w", err)
		}
	}
	lists, err := findAll[sessionList](ctx, s.lists, bson.M{})
	if err != nil {
		return n, fmt.Errorf("sweep sessions: %w", err)
	}
	for _, l := range lists {
		for _, id := range l.Sessions {
			if live[id] {
				continue
			}
			// Not read above: ended, or started since (stored before it was listed).
			switch _, err := database.FindByID[Session](ctx, s.coll, id); {
			case err == nil:
				continue
			case !errors.Is(err, failure.ErrNotFound):
				return n, fmt.Errorf("sweep sessions: %w", err)
			}
			if err := s.db.RemoveFromList(ctx, s.lists, l.ID, "sessions", id); err != nil {
				return n, fmt.Errorf("sweep sessions: %w", err)
			}
		}
	}
	return n, nil
}

// migrateLists lists every stored session under its person, for sessions stored before
// the lists were kept, and returns how many it read.
func (s *Sessions) migrateLists(ctx context.Context) (int, error) {
	all, err := findAll[Session](ctx, s.coll, bson.M{})
	if err != nil {
		return 0, err
	}
	for _, sess := range all {
		if err := s.db.AddToList(ctx, s.lists, sess.UserID, "sessions", sess.ID); err != nil {
			return 0, err
		}
	}
	return len(all), nil
}
