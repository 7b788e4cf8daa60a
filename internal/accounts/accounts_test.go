package accounts

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

func newService(t *testing.T) *Service {
	t.Helper()
	db := dbtest.New(t)
	svc, err := NewService(context.Background(), db, Config{
		Session:  SessionConfig{Idle: 30 * time.Minute, Absolute: 12 * time.Hour},
		Throttle: ThrottleConfig{PerAccount: 5, PerIP: 8, Window: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func mustUser(t *testing.T, svc *Service, email string, role Role) User {
	t.Helper()
	u, err := svc.Users.Create(context.Background(), NewUser{Email: email, Name: "Test " + string(role), Role: role, Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q: want argon2id with m=19456,t=2,p=1 in PHC form", h)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"a long enough password", true}, {"a long enough passwor", false}, {"a long enough password ", false}, {"", false}} {
		got, err := VerifyPassword(h, tc.pw)
		if err != nil || got != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tc.pw, got, err, tc.want)
		}
	}
	// No truncation: two long passwords that differ only at the end are told apart.
	long := strings.Repeat("x", 127)
	h2, _ := HashPassword(long + "a")
	if ok, _ := VerifyPassword(h2, long+"b"); ok {
		t.Error("passwords differing in the 128th character verified as equal")
	}
	if _, err := VerifyPassword("$argon2id$v=19$m=x$$", "a"); err == nil {
		t.Error("malformed hash: want an error")
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		pw, email string
		ok        bool
	}{
		{"short", "", false},
		{"12345678", "", false},
		{"Password1", "", false},
		{"a@example.org", "a@example.org", false},
		{strings.Repeat("é", 129), "", false},
		{strings.Repeat("é", 128), "", true},
		{"tolerate uncertainty", "", true},
		{"abcdefgz", "", true},
	} {
		err := CheckPassword(tc.pw, tc.email)
		var inv *failure.InvalidError
		if tc.ok && err != nil || !tc.ok && !errors.As(err, &inv) {
			t.Errorf("CheckPassword(%q) = %v; want ok=%v", tc.pw, err, tc.ok)
		}
	}
}

func TestCreateUser(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	u := mustUser(t, svc, "Ana@Example.org", RoleTrainee)
	if u.Email != "ana@example.org" || u.Version != 1 || u.PasswordHash == "" {
		t.Errorf("created %+v", u)
	}
	_, err := svc.Users.Create(ctx, NewUser{Email: "ANA@example.org", Name: "Other", Role: RoleAdmin, Password: "another good one"})
	if !errors.Is(err, failure.ErrConflict) {
		t.Errorf("duplicate email: got %v, want ErrConflict", err)
	}
	for _, nu := range []NewUser{
		{Email: "not-an-email", Name: "x", Role: RoleTrainee, Password: "good password"},
		{Email: "b@example.org", Name: " ", Role: RoleTrainee, Password: "good password"},
		{Email: "b@example.org", Name: "B", Role: "superuser", Password: "good password"},
		{Email: "b@example.org", Name: "B", Role: RoleTrainee, Password: "password"},
	} {
		var inv *failure.InvalidError
		if _, err := svc.Users.Create(ctx, nu); !errors.As(err, &inv) {
			t.Errorf("Create(%+v) = %v; want an InvalidError", nu, err)
		}
	}
	if n, _ := svc.Users.Count(ctx); n != 1 {
		t.Errorf("count = %d, want 1: refused input must store nothing", n)
	}
}

func TestLogin(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	u := mustUser(t, svc, "facil@example.org", RoleFacilitator)

	_, _, _, errWrong := svc.Login(ctx, "facil@example.org", "wrong password", "10.0.0.1", "")
	_, _, _, errUnknown := svc.Login(ctx, "nobody@example.org", "wrong password", "10.0.0.1", "")
	if !errors.Is(errWrong, ErrBadCredentials) || errWrong.Error() != errUnknown.Error() {
		t.Errorf("wrong password %v and unknown user %v: want the same ErrBadCredentials", errWrong, errUnknown)
	}

	got, secret, sess, err := svc.Login(ctx, "FACIL@example.org", "correct horse battery", "10.0.0.1", "test")
	if err != nil || got.ID != u.ID {
		t.Fatalf("login: %v", err)
	}
	if len(secret) < 43 || sess.ID == secret {
		t.Errorf("session secret %q (want ≥ 256 bits, stored only hashed)", secret)
	}
	who, _, err := svc.FromSession(ctx, secret)
	if err != nil || who.ID != u.ID {
		t.Errorf("FromSession = %v, %v", who.ID, err)
	}
	if err := svc.Logout(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.FromSession(ctx, secret); !errors.Is(err, failure.ErrUnauthenticated) {
		t.Errorf("after logout: %v, want ErrUnauthenticated", err)
	}

	_, secret, _, _ = svc.Login(ctx, "facil@example.org", "correct horse battery", "10.0.0.1", "")
	if _, err := svc.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.FromSession(ctx, secret); err == nil {
		t.Error("session of a disabled account still works")
	}
	if _, _, _, err := svc.Login(ctx, "facil@example.org", "correct horse battery", "10.0.0.1", ""); !errors.Is(err, ErrDisabled) {
		t.Errorf("login to disabled account: %v, want ErrDisabled", err)
	}
}

func TestThrottle(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	mustUser(t, svc, "t@example.org", RoleTrainee)
	var throttled *failure.ThrottledError
	for i := 1; i <= 5; i++ {
		if _, _, _, err := svc.Login(ctx, "t@example.org", "nope nope", "10.0.0.2", ""); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v, want ErrBadCredentials", i, err)
		}
	}
	_, _, _, err := svc.Login(ctx, "t@example.org", "correct horse battery", "10.0.0.2", "")
	if !errors.As(err, &throttled) || throttled.RetryAfter <= 0 || throttled.RetryAfter > time.Minute+time.Second {
		t.Fatalf("6th attempt, even with the right password: %v, want ThrottledError within the window", err)
	}
	// The address limit (8) catches a run over many accounts.
	for i := range 3 {
		svc.Login(ctx, "other"+string(rune('a'+i))+"@example.org", "nope nope", "10.0.0.2", "")
	}
	if _, _, _, err := svc.Login(ctx, "fresh@example.org", "nope nope", "10.0.0.2", ""); !errors.As(err, &throttled) {
		t.Errorf("after 8 failures from one address: %v, want ThrottledError", err)
	}
	// Another address may still sign in to another account.
	mustUser(t, svc, "u@example.org", RoleTrainee)
	if _, _, _, err := svc.Login(ctx, "u@example.org", "correct horse battery", "10.0.0.3", ""); err != nil {
		t.Errorf("other address and account: %v", err)
	}
	// When the window has passed the account may try again.
	svc.Throttle.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	if _, _, _, err := svc.Login(ctx, "t@example.org", "correct horse battery", "10.0.0.9", ""); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

// Concurrent failures are all counted: single-document updates, no lost increments.
func TestThrottleCountsConcurrentFailures(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := svc.Throttle.Fail(ctx, "c@example.org", ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var throttled *failure.ThrottledError
	if err := svc.Throttle.Check(ctx, "c@example.org", ""); !errors.As(err, &throttled) {
		t.Errorf("after 5 concurrent failures: %v, want throttled", err)
	}
}

func TestSessionTimeouts(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	u := mustUser(t, svc, "s@example.org", RoleTrainee)
	start := time.Now()
	clock := start
	svc.Sessions.now = func() time.Time { return clock }

	secret, _, err := svc.Sessions.Create(ctx, u.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	// Active use keeps it alive past the idle timeout.
	for range 3 {
		clock = clock.Add(20 * time.Minute)
		if _, err := svc.Sessions.Lookup(ctx, secret); err != nil {
			t.Fatalf("active session at %s: %v", clock.Sub(start), err)
		}
	}
	clock = clock.Add(31 * time.Minute)
	if _, err := svc.Sessions.Lookup(ctx, secret); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("idle 31m: %v, want ErrSessionExpired", err)
	}

	clock = start
	secret, _, _ = svc.Sessions.Create(ctx, u.ID, "", "")
	for clock.Sub(start) < 12*time.Hour {
		clock = clock.Add(25 * time.Minute)
		svc.Sessions.Lookup(ctx, secret)
	}
	if _, err := svc.Sessions.Lookup(ctx, secret); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("past the absolute timeout: %v, want ErrSessionExpired", err)
	}

	clock = start
	svc.Sessions.Create(ctx, u.ID, "", "")
	clock = start.Add(time.Hour)
	if n, err := svc.Sessions.Sweep(ctx); err != nil || n < 1 {
		t.Errorf("sweep removed %d, %v; want ≥ 1", n, err)
	}
}

func TestTokens(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	u := mustUser(t, svc, "api@example.org", RoleAdmin)
	other := mustUser(t, svc, "other@example.org", RoleTrainee)
	secret, tok, err := svc.Tokens.Create(ctx, u.ID, "nightly export", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) {
		t.Errorf("token %q lacks prefix %q", secret, TokenPrefix)
	}
	if who, err := svc.FromToken(ctx, secret); err != nil || who.ID != u.ID {
		t.Errorf("FromToken = %v, %v", who.ID, err)
	}
	if _, err := svc.FromToken(ctx, secret+"x"); !errors.Is(err, failure.ErrUnauthenticated) {
		t.Errorf("altered token: %v", err)
	}
	if err := svc.Tokens.Revoke(ctx, other.ID, tok.ID); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("revoke by another user: %v, want ErrNotFound", err)
	}
	if err := svc.Tokens.Revoke(ctx, u.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.FromToken(ctx, secret); !errors.Is(err, failure.ErrUnauthenticated) {
		t.Errorf("revoked token: %v", err)
	}
	if _, _, err := svc.Tokens.Create(ctx, u.ID, " ", 0); err == nil {
		t.Error("token without a name: want an error")
	}
}

// Of concurrent changes based on one version, from this process and another, exactly one is
// applied; the rest are told of the conflict.
func TestUserUpdateCompareAndSet(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	here, err := NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	u, err := here.Create(ctx, NewUser{Email: "cas@example.org", Name: "Cas", Role: RoleTrainee, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	stores := []*Users{here, usersInAnotherProcess(t, db)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := stores[i%2].change(ctx, u.ID, u.Version, "name", func(u *User) { u.Name = "Name " + string(rune('A'+i)) })
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, failure.ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || conflicts != 9 {
		t.Errorf("10 updates on version %d: %d applied, %d conflicts; want 1 and 9", u.Version, wins, conflicts)
	}
	got, _ := here.ByID(ctx, u.ID)
	if got.Version != u.Version+1 {
		t.Errorf("version %d, want %d", got.Version, u.Version+1)
	}
}
