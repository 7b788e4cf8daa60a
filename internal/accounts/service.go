package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
	"polyphony/internal/ttlcache"
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
	// Links are the one-time links that set a password (a forgotten one, an invitation);
	// ResetThrottle counts the requests for a forgotten password's link.
	Links         *Links
	ResetThrottle *Throttle
	// OnUserEnded is called after a user's sessions are ended (sign-out everywhere, disable),
	// so that live connections of that person can be closed too.
	OnUserEnded func(userID string)
	// Peers, when set, carries what this instance forgets to the other instances (see
	// DefaultCacheFor); each of them passes what it receives to ForgetHere.
	Peers Peers

	cache *ttlcache.Cache[resolved]
}

// Config holds the account settings.
type Config struct {
	Session  SessionConfig
	Throttle ThrottleConfig
	// ResetThrottle limits requests for a forgotten password's link; zero is
	// DefaultResetThrottle.
	ResetThrottle ThrottleConfig
	// CacheFor is how long a resolved session is used without asking the database again:
	// 0 is DefaultCacheFor, and a negative lifetime asks every time.
	CacheFor time.Duration
	// Logger receives what the service does once at start-up to bring older records to the
	// current layout; nil is slog.Default().
	Logger *slog.Logger
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
	resetCfg := cfg.ResetThrottle
	if resetCfg == (ThrottleConfig{}) {
		resetCfg = DefaultResetThrottle
	}
	resetThrottle, err := NewResetThrottle(ctx, db, resetCfg)
	if err != nil {
		return nil, err
	}
	links, err := NewLinks(ctx, db, users)
	if err != nil {
		return nil, err
	}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	svc := &Service{Users: users, Sessions: sessions, Tokens: tokens, Throttle: throttle, Links: links, ResetThrottle: resetThrottle}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := svc.migrateLayout(ctx, log); err != nil {
		return nil, err
	}
	ttl := cfg.CacheFor
	if ttl == 0 {
		ttl = DefaultCacheFor
	}
	svc.cache = ttlcache.New[resolved](ttl, maxCachedSessions)
	users.onChange = func(id string) { svc.forget(forgetUserPrefix + id) }
	return svc, nil
}

// Login checks the credentials under the throttle and starts a new session. Unknown email
// and wrong password give the same error and take the same time.
func (s *Service) Login(ctx context.Context, email, password, ip, userAgent string) (User, string, Session, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		norm = email // still throttled and answered like any other miss
	}
	if password == "" {
		return User{}, "", Session{}, failure.Problem("password", "Enter your password")
	}
	if err := s.Throttle.Check(ctx, norm, ip); err != nil {
		return User{}, "", Session{}, err
	}
	u, err := s.Users.ByEmail(ctx, norm)
	hash := u.PasswordHash
	switch {
	case errors.Is(err, failure.ErrNotFound):
		hash = dummyHash
	case err != nil:
		return User{}, "", Session{}, err
	case hash == "":
		// Invited, no password set yet: answered like a wrong password, in the same time.
		hash, err = dummyHash, failure.ErrNotFound
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
// A resolved session is kept for the cache's lifetime; the timeouts are still checked on
// every call, and LastSeen is still written once a minute.
func (s *Service) FromSession(ctx context.Context, secret string) (User, Session, error) {
	if secret == "" {
		return User{}, Session{}, failure.ErrUnauthenticated
	}
	id := secretID(secret)
	now := s.Sessions.now()
	if e, ok := s.cache.Get(id, now); ok {
		if !s.Sessions.timedOut(e.sess, now) {
			sess, err := s.Sessions.keepAlive(ctx, e.sess, now)
			if err != nil {
				return User{}, Session{}, err
			}
			if sess.LastSeen != e.sess.LastSeen {
				s.cache.Update(id, func(r resolved) resolved { r.sess.LastSeen = sess.LastSeen; return r })
			}
			return e.user, sess, nil
		}
		// Timed out by this clock: the database path below ends it.
		s.cache.Forget(id)
	}
	gen := s.cache.Generation()
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
	s.cache.PutIfUnchanged(id, resolved{sess: sess, user: u}, now, gen)
	return u, sess, nil
}

// ForgetHere drops what this instance cached under a key another instance sent through
// Peers.
func (s *Service) ForgetHere(key string) {
	switch {
	case strings.HasPrefix(key, forgetSessionPrefix):
		s.cache.Forget(strings.TrimPrefix(key, forgetSessionPrefix))
	case strings.HasPrefix(key, forgetUserPrefix):
		userID := strings.TrimPrefix(key, forgetUserPrefix)
		s.cache.ForgetWhere(func(r resolved) bool { return r.sess.UserID == userID })
	}
}

// forget drops the key here and tells the other instances to drop it too.
func (s *Service) forget(key string) {
	s.ForgetHere(key)
	if s.Peers != nil {
		if err := s.Peers.Forget(key); err != nil {
			slog.Warn("accounts: could not tell the other instances to forget a cached session", "err", err)
		}
	}
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

// Logout ends one session, here and on every instance.
func (s *Service) Logout(ctx context.Context, secret string) error {
	err := s.Sessions.Delete(ctx, secret)
	s.forget(forgetSessionPrefix + secretID(secret))
	return err
}

// SetDisabled disables or enables an account; disabling ends every session and revokes no
// tokens (they stop working while the account is disabled, and work again if re-enabled).
func (s *Service) SetDisabled(ctx context.Context, id string, disabled bool) (User, error) {
	return s.SetDisabledBecause(ctx, id, disabled, "")
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
