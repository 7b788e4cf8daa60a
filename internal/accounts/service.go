package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// ErrBadCredentials is the one answer to an unknown email and to a wrong password.
var ErrBadCredentials = fmt.Errorf("%w: the email address or password is not right", failure.ErrUnauthenticated)

// ErrDisabled means the account exists and the password was right, but it is disabled.
var ErrDisabled = fmt.Errorf("%w: this account is disabled; ask an administrator", failure.ErrForbidden)

// Service ties the stores together for signing in and out and for resolving credentials.
type Service struct {
	Users    *Users
	Sessions *Sessions
	Tokens   *Tokens
	Throttle *Throttle
	// OnUserEnded is called after a user's sessions are ended (sign-out everywhere, disable),
	// so that live connections of that person can be closed too.
	OnUserEnded func(userID string)
}

// Config holds the account settings.
type Config struct {
	Session  SessionConfig
	Throttle ThrottleConfig
}

// NewService opens every account store on db.
func NewService(ctx context.Context, db *database.DB, cfg Config) (*Service, error) {
	users, err := NewUsers(ctx, db)
	if err != nil {
		return nil, err
	}
	sessions, err := NewSessions(ctx, db, cfg.Session)
	if err != nil {
		return nil, err
	}
	tokens, err := NewTokens(ctx, db)
	if err != nil {
		return nil, err
	}
	throttle, err := NewThrottle(ctx, db, cfg.Throttle)
	if err != nil {
		return nil, err
	}
	return &Service{Users: users, Sessions: sessions, Tokens: tokens, Throttle: throttle}, nil
}

// Login checks the credentials under the throttle and starts a new session. Unknown email
// and wrong password give the same error and take the same time.
func (s *Service) Login(ctx context.Context, email, password, ip, userAgent string) (User, string, Session, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		norm = email // still throttled and answered like any other miss
	}
	if password == "" {
		return User{}, "", Session{}, failure.Invalid("password", "is required")
	}
	if err := s.Throttle.Check(ctx, norm, ip); err != nil {
		return User{}, "", Session{}, err
	}
	u, err := s.Users.ByEmail(ctx, norm)
	hash := u.PasswordHash
	if errors.Is(err, failure.ErrNotFound) {
		hash = dummyHash
	} else if err != nil {
		return User{}, "", Session{}, err
	}
	ok, verr := VerifyPassword(hash, password)
	if err != nil || verr != nil || !ok {
		if ferr := s.Throttle.Fail(ctx, norm, ip); ferr != nil {
			return User{}, "", Session{}, ferr
		}
		return User{}, "", Session{}, ErrBadCredentials
	}
	if u.Disabled {
		return User{}, "", Session{}, ErrDisabled
	}
	if err := s.Throttle.Reset(ctx, norm); err != nil {
		return User{}, "", Session{}, err
	}
	secret, sess, err := s.Sessions.Create(ctx, u.ID, ip, userAgent)
	if err != nil {
		return User{}, "", Session{}, err
	}
	return u, secret, sess, nil
}

// FromSession resolves a session cookie's secret to its live session and enabled user.
func (s *Service) FromSession(ctx context.Context, secret string) (User, Session, error) {
	sess, err := s.Sessions.Lookup(ctx, secret)
	if err != nil {
		return User{}, Session{}, err
	}
	u, err := s.Users.ByID(ctx, sess.UserID)
	if errors.Is(err, failure.ErrNotFound) {
		return User{}, Session{}, ErrSessionExpired
	}
	if err != nil {
		return User{}, Session{}, err
	}
	if u.Disabled {
		return User{}, Session{}, ErrDisabled
	}
	return u, sess, nil
}

// FromToken resolves a personal API token to its enabled user.
func (s *Service) FromToken(ctx context.Context, secret string) (User, error) {
	t, err := s.Tokens.Lookup(ctx, secret)
	if err != nil {
		return User{}, err
	}
	u, err := s.Users.ByID(ctx, t.UserID)
	if err != nil {
		return User{}, fmt.Errorf("%w: the API token's account is gone", failure.ErrUnauthenticated)
	}
	if u.Disabled {
		return User{}, ErrDisabled
	}
	return u, nil
}

// Logout ends one session.
func (s *Service) Logout(ctx context.Context, secret string) error {
	return s.Sessions.Delete(ctx, secret)
}

// SetDisabled disables or enables an account; disabling ends every session and revokes no
// tokens (they stop working while the account is disabled, and work again if re-enabled).
func (s *Service) SetDisabled(ctx context.Context, id string, disabled bool) (User, error) {
	u, err := s.Users.SetDisabled(ctx, id, disabled)
	if err != nil {
		return User{}, err
	}
	if disabled {
		if err := s.Sessions.DeleteForUser(ctx, id); err != nil {
			return User{}, err
		}
		if s.OnUserEnded != nil {
			s.OnUserEnded(id)
		}
	}
	return u, nil
}

// SweepEvery removes expired sessions and old sign-in failures every interval until ctx ends.
func (s *Service) SweepEvery(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sessions.Sweep(ctx); err != nil && ctx.Err() == nil {
				onErr(err)
			}
			if err := s.Throttle.Sweep(ctx); err != nil && ctx.Err() == nil {
				onErr(err)
			}
		}
	}
}
