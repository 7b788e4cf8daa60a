package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

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

// Sessions stores sign-in sessions in the "sessions" collection.
type Sessions struct {
	coll *mongo.Collection
	cfg  SessionConfig
	now  func() time.Time
}

// touchEvery is how stale LastSeen may get before a request writes it again: reads stay
// reads on most requests, and the idle timeout is off by at most this much.
const touchEvery = time.Minute

// NewSessions returns the session store, creating its indexes if they are missing.
func NewSessions(ctx context.Context, db *database.DB, cfg SessionConfig) (*Sessions, error) {
	coll := db.Collection("sessions")
	if err := database.EnsureIndexes(ctx, coll,
		mongo.IndexModel{Keys: bson.D{{Key: "userId", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "expiresAt", Value: 1}}},
	); err != nil {
		return nil, err
	}
	return &Sessions{coll: coll, cfg: cfg, now: time.Now}, nil
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
	if _, err := s.coll.InsertOne(ctx, sess); err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", database.Translate(err))
	}
	return secret, sess, nil
}

// Lookup returns the live session for a cookie's secret, ending it if it has timed out.
func (s *Sessions) Lookup(ctx context.Context, secret string) (Session, error) {
	if secret == "" {
		return Session{}, failure.ErrUnauthenticated
	}
	var sess Session
	err := s.coll.FindOne(ctx, bson.M{"_id": secretID(secret)}).Decode(&sess)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Session{}, ErrSessionExpired
	}
	if err != nil {
		return Session{}, fmt.Errorf("find session: %w", err)
	}
	now := s.now()
	if s.timedOut(sess, now) {
		if _, err := s.coll.DeleteOne(ctx, bson.M{"_id": sess.ID}); err != nil {
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
	if _, err := s.coll.UpdateOne(ctx, bson.M{"_id": sess.ID}, bson.M{"$set": bson.M{"lastSeen": sess.LastSeen}}); err != nil {
		return Session{}, fmt.Errorf("touch session: %w", err)
	}
	return sess, nil
}

// Delete ends the session with this secret; ending one that is gone already is not an error.
func (s *Sessions) Delete(ctx context.Context, secret string) error {
	_, err := s.coll.DeleteOne(ctx, bson.M{"_id": secretID(secret)})
	return err
}

// DeleteForUser ends every session of the user.
func (s *Sessions) DeleteForUser(ctx context.Context, userID string) error {
	_, err := s.coll.DeleteMany(ctx, bson.M{"userId": userID})
	return err
}

// Sweep removes sessions past their absolute expiry or idle for longer than the idle timeout.
func (s *Sessions) Sweep(ctx context.Context) (int64, error) {
	now := s.now().UTC()
	res, err := s.coll.DeleteMany(ctx, bson.M{"$or": bson.A{
		bson.M{"expiresAt": bson.M{"$lt": now}},
		bson.M{"lastSeen": bson.M{"$lt": now.Add(-s.cfg.Idle)}},
	}})
	if err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	return res.DeletedCount, nil
}
