package accounts

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/dbtest"
)

// loopPeers hands what one service forgets to the others, as the NATS bus does between
// instances.
type loopPeers struct{ others []*Service }

func (p *loopPeers) Forget(key string) error {
	for _, s := range p.others {
		s.ForgetHere(key)
	}
	return nil
}

// Two instances on one database, each with its own session cache.
func twoInstances(t *testing.T) (*Service, *Service) {
	t.Helper()
	db := dbtest.New(t)
	cfg := Config{
		Session:  SessionConfig{Idle: 30 * time.Minute, Absolute: 12 * time.Hour},
		Throttle: ThrottleConfig{PerAccount: 5, PerIP: 8, Window: time.Minute},
	}
	a, err := NewService(context.Background(), db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewService(context.Background(), db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Peers = &loopPeers{others: []*Service{b}}
	b.Peers = &loopPeers{others: []*Service{a}}
	return a, b
}

func signedIn(t *testing.T, svc *Service, email string) (User, string) {
	t.Helper()
	u := mustUser(t, svc, email, RoleTrainee)
	_, secret, _, err := svc.Login(context.Background(), email, "correct horse battery", "", "")
	if err != nil {
		t.Fatal(err)
	}
	return u, secret
}

// Signing out and disabling end a session on every instance at once, even where it is cached.
func TestCachedSessionEndsEverywhere(t *testing.T) {
	ctx := context.Background()
	a, b := twoInstances(t)
	u, secret := signedIn(t, a, "cached@example.org")
	_, other := signedIn(t, a, "other@example.org")
	for _, svc := range []*Service{a, b} {
		for _, s := range []string{secret, other} {
			if _, _, err := svc.FromSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if a.cache.Len() != 2 || b.cache.Len() != 2 {
		t.Fatalf("cached sessions: %d and %d, want 2 each", a.cache.Len(), b.cache.Len())
	}

	if err := a.Logout(ctx, secret); err != nil {
		t.Fatal(err)
	}
	for name, svc := range map[string]*Service{"the instance signed out on": a, "the other instance": b} {
		if _, _, err := svc.FromSession(ctx, secret); !errors.Is(err, ErrSessionExpired) {
			t.Errorf("%s right after sign-out: %v, want ErrSessionExpired", name, err)
		}
		if got, _, err := svc.FromSession(ctx, other); err != nil || got.Email != "other@example.org" {
			t.Errorf("%s: another person's session after the sign-out: %v %v", name, got.Email, err)
		}
	}

	_, again, _, err := a.Login(ctx, "cached@example.org", "correct horse battery", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.FromSession(ctx, again); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	for name, svc := range map[string]*Service{"the instance that disabled": b, "the other instance": a} {
		if _, _, err := svc.FromSession(ctx, again); err == nil {
			t.Errorf("%s right after disabling: the session still works", name)
		}
	}
}

// A change that no instance hears of (another process on the same database) is seen once
// the cache's lifetime has passed, and the timeouts apply to cached sessions too.
func TestCachedSessionLifetime(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	_, secret := signedIn(t, svc, "life@example.org")
	start := time.Now()
	clock := start
	svc.Sessions.now = func() time.Time { return clock }
	if _, _, err := svc.FromSession(ctx, secret); err != nil {
		t.Fatal(err)
	}
	// Another process deletes every session behind this one's back.
	if _, err := svc.Sessions.coll.DeleteWhere(ctx, bson.M{}); err != nil {
		t.Fatal(err)
	}
	clock = start.Add(DefaultCacheFor / 2)
	if _, _, err := svc.FromSession(ctx, secret); err != nil {
		t.Errorf("inside the cache's lifetime the cached session should still answer: %v", err)
	}
	clock = start.Add(DefaultCacheFor)
	if _, _, err := svc.FromSession(ctx, secret); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("after the cache's lifetime: %v, want ErrSessionExpired", err)
	}

	// The idle timeout is checked against the cached copy too.
	_, idle, _, err := svc.Login(ctx, "life@example.org", "correct horse battery", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.FromSession(ctx, idle); err != nil {
		t.Fatal(err)
	}
	svc.Sessions.cfg.Idle = time.Second
	clock = clock.Add(1500 * time.Millisecond)
	if _, _, err := svc.FromSession(ctx, idle); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("idle past the timeout while cached: %v, want ErrSessionExpired", err)
	}
}

// A cached session still writes LastSeen once a minute, so an active person is not timed out.
func TestCachedSessionKeepsAlive(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	svc, err := NewService(ctx, db, Config{
		Session:  SessionConfig{Idle: 30 * time.Minute, Absolute: 12 * time.Hour},
		Throttle: ThrottleConfig{PerAccount: 5, PerIP: 8, Window: time.Minute},
		CacheFor: time.Hour, // longer than the test, so every call below is a cache hit
	})
	if err != nil {
		t.Fatal(err)
	}
	_, secret := signedIn(t, svc, "alive@example.org")
	start := time.Now()
	clock := start
	svc.Sessions.now = func() time.Time { return clock }
	if _, _, err := svc.FromSession(ctx, secret); err != nil {
		t.Fatal(err)
	}
	clock = start.Add(2 * time.Minute)
	if _, _, err := svc.FromSession(ctx, secret); err != nil {
		t.Fatal(err)
	}
	var stored Session
	if err := svc.Sessions.coll.Get(ctx, secretID(secret), &stored); err != nil {
		t.Fatal(err)
	}
	if stored.LastSeen.Before(start.Add(time.Minute)) {
		t.Errorf("stored LastSeen %s, want the cached call's time %s", stored.LastSeen, clock)
	}
}
