package sso_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"polyphony/internal/dbtest"
	"polyphony/internal/sso"
	"polyphony/internal/ssotest"
)

// The tests run the protocol against a real OpenID provider on loopback (internal/ssotest);
// the redirect URI is registered with it but nothing listens there: Login stops at the
// provider's redirect to it and hands back the code and state.

const redirect = "http://127.0.0.1:1/signin/sso/callback"

var people = []ssotest.User{
	{Email: "ada@nhs.example", Password: "pass-ada"},
	{Email: "una@nhs.example", Password: "pass-una", Unverified: true},
	{Email: "out@elsewhere.example", Password: "pass-out"},
}

// newProvider is a client of op on a fresh database, covering nhs.example.
func newProvider(t *testing.T, op *ssotest.Provider, clientID string, now func() time.Time) (*sso.Provider, *dbtest.FilterLog) {
	t.Helper()
	log := dbtest.NewFilterLog("sso_")
	p, err := sso.New(context.Background(), dbtest.NewLogged(t, log), sso.Config{
		Issuer: op.Issuer, ClientID: clientID, ClientSecret: op.ClientSecret, RedirectURL: redirect,
		Domains: []string{"NHS.example"}, PasswordsOff: true, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, log
}

// signIn begins a sign-in, logs in at the provider, and answers the callback's state and code.
func signIn(t *testing.T, p *sso.Provider, op *ssotest.Provider, email, password string) (state, code string) {
	t.Helper()
	st, authURL, err := p.Begin(context.Background(), "/journal")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("state") != st || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" {
		t.Fatalf("the authorisation request lacks the state, PKCE S256 or a nonce: %s", authURL)
	}
	if len(st) < 43 { // 32 random bytes, base64url
		t.Fatalf("state %q is shorter than 256 bits", st)
	}
	cb, err := op.Login(authURL, email, password)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cb.String(), redirect+"?") {
		t.Fatalf("the provider sent the browser to %s, want the callback", cb)
	}
	return cb.Query().Get("state"), cb.Query().Get("code")
}

func TestSignInThroughProvider(t *testing.T) {
	op := ssotest.Start(t, ssotest.Options{RedirectURI: redirect, Users: people})
	p, log := newProvider(t, op, op.ClientID, nil)
	ctx := context.Background()

	log.Record(true)
	state, code := signIn(t, p, op, "ada@nhs.example", "pass-ada")
	id, err := p.Finish(ctx, state, code)
	log.Check(t, "a sign-in")
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if id.Email != "ada@nhs.example" || id.Next != "/journal" || id.Subject == "" {
		t.Errorf("identity = %+v", id)
	}

	// The same state again: used up, whatever the code.
	if _, err := p.Finish(ctx, state, code); !errors.Is(err, sso.ErrState) {
		t.Errorf("replayed state: %v, want ErrState", err)
	}
	if _, err := p.Finish(ctx, "made-up", code); !errors.Is(err, sso.ErrState) {
		t.Errorf("unknown state: %v, want ErrState", err)
	}

	t.Run("email not verified", func(t *testing.T) {
		state, code := signIn(t, p, op, "una@nhs.example", "pass-una")
		if _, err := p.Finish(ctx, state, code); !errors.Is(err, sso.ErrEmailUnverified) {
			t.Errorf("Finish: %v, want ErrEmailUnverified", err)
		}
	})
	t.Run("domain not covered", func(t *testing.T) {
		state, code := signIn(t, p, op, "out@elsewhere.example", "pass-out")
		if _, err := p.Finish(ctx, state, code); !errors.Is(err, sso.ErrDomain) {
			t.Errorf("Finish: %v, want ErrDomain", err)
		}
	})
	t.Run("code from another sign-in", func(t *testing.T) {
		// The code of one sign-in with the state (and so the PKCE verifier) of another: the
		// provider refuses to exchange it.
		stateA, _ := signIn(t, p, op, "ada@nhs.example", "pass-ada")
		_, codeB := signIn(t, p, op, "ada@nhs.example", "pass-ada")
		if _, err := p.Finish(ctx, stateA, codeB); !errors.Is(err, sso.ErrTokenInvalid) {
			t.Errorf("Finish: %v, want ErrTokenInvalid", err)
		}
	})
	t.Run("refused by the provider", func(t *testing.T) {
		state, _, err := p.Begin(ctx, "/")
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Refused(ctx, state); !errors.Is(err, sso.ErrProviderRefused) {
			t.Errorf("Refused: %v", err)
		}
		if _, err := p.Finish(ctx, state, "x"); !errors.Is(err, sso.ErrState) {
			t.Errorf("Finish after a refusal: %v, want ErrState", err)
		}
	})
}

// The state is used once even when two requests bring it at the same moment.
func TestStateUsedOnceUnderRace(t *testing.T) {
	op := ssotest.Start(t, ssotest.Options{RedirectURI: redirect, Users: people})
	p, _ := newProvider(t, op, op.ClientID, nil)
	state, code := signIn(t, p, op, "ada@nhs.example", "pass-ada")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = p.Finish(context.Background(), state, code) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, sso.ErrState):
			t.Errorf("Finish: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent uses of one state succeeded, want 1", ok, len(errs))
	}
}

func TestStateExpires(t *testing.T) {
	op := ssotest.Start(t, ssotest.Options{RedirectURI: redirect, Users: people})
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p, _ := newProvider(t, op, op.ClientID, clock)
	state, code := signIn(t, p, op, "ada@nhs.example", "pass-ada")
	stale, _, err := p.Begin(context.Background(), "/")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(sso.DefaultStateLifetime + time.Second)
	mu.Unlock()
	if _, err := p.Finish(context.Background(), state, code); !errors.Is(err, sso.ErrState) {
		t.Errorf("Finish after the state's lifetime: %v, want ErrState", err)
	}
	// The sweep removes the one left unused.
	if n, err := p.Sweep(context.Background()); err != nil || n != 1 {
		t.Errorf("Sweep = %d, %v; want 1 (the unused state)", n, err)
	}
	if _, err := p.Finish(context.Background(), stale, "x"); !errors.Is(err, sso.ErrState) {
		t.Errorf("swept state: %v, want ErrState", err)
	}
}

func TestWrongAudienceRefused(t *testing.T) {
	op := ssotest.Start(t, ssotest.Options{RedirectURI: redirect, Users: people, Audience: "another-service"})
	p, _ := newProvider(t, op, op.ClientID, nil)
	state, code := signIn(t, p, op, "ada@nhs.example", "pass-ada")
	_, err := p.Finish(context.Background(), state, code)
	if !errors.Is(err, sso.ErrTokenInvalid) || !strings.Contains(err.Error(), "audience") {
		t.Errorf("Finish: %v, want ErrTokenInvalid for the audience", err)
	}
}

func TestExpiredTokenRefused(t *testing.T) {
	op := ssotest.Start(t, ssotest.Options{RedirectURI: redirect, Users: people, IDTokenLifetime: -time.Minute})
	p, _ := newProvider(t, op, op.ClientID, nil)
	state, code := signIn(t, p, op, "ada@nhs.example", "pass-ada")
	if _, err := p.Finish(context.Background(), state, code); !errors.Is(err, sso.ErrTokenExpired) {
		t.Errorf("Finish: %v, want ErrTokenExpired", err)
	}
}

func TestUnreachableProvider(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	ln.Close() // nothing answers there now
	p, err := sso.New(context.Background(), dbtest.New(t), sso.Config{Issuer: issuer, ClientID: "c", RedirectURL: redirect})
	if err != nil {
		t.Fatalf("New must not need the provider: %v", err)
	}
	if _, _, err := p.Begin(context.Background(), "/"); !errors.Is(err, sso.ErrUnavailable) {
		t.Errorf("Begin: %v, want ErrUnavailable", err)
	}
}

func TestDomains(t *testing.T) {
	p, err := sso.New(context.Background(), dbtest.New(t), sso.Config{Issuer: "http://127.0.0.1:1", ClientID: "c", RedirectURL: redirect,
		Domains: []string{" @NHS.net", "trust.nhs.uk"}, PasswordsOff: true})
	if err != nil {
		t.Fatal(err)
	}
	for email, want := range map[string]bool{"a@nhs.net": true, "A@NHS.NET": true, "b@trust.nhs.uk": true,
		"c@sub.nhs.net": false, "d@nhs.net.evil.example": false, "nhs.net": false, "e@example.org": false} {
		if got := p.PasswordsOff(email); got != want {
			t.Errorf("PasswordsOff(%q) = %v, want %v", email, got, want)
		}
	}
	open, err := sso.New(context.Background(), dbtest.New(t), sso.Config{Issuer: "http://127.0.0.1:1", ClientID: "c", RedirectURL: redirect, PasswordsOff: true})
	if err != nil {
		t.Fatal(err)
	}
	if open.PasswordsOff("a@nhs.net") || !open.Covers("a@nhs.net") {
		t.Error("with no domains, every address is covered and no password is turned off")
	}
}

// A sign-in begun on one instance finishes on another sharing the database, once.
func TestAnotherInstanceFinishes(t *testing.T) {
	op := ssotest.Start(t, ssotest.Options{RedirectURI: redirect, Users: people})
	db := dbtest.New(t)
	instance := func() *sso.Provider {
		p, err := sso.New(context.Background(), db, sso.Config{Issuer: op.Issuer, ClientID: op.ClientID,
			ClientSecret: op.ClientSecret, RedirectURL: redirect, Domains: []string{"nhs.example"}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	one, two := instance(), instance()
	state, code := signIn(t, one, op, "ada@nhs.example", "pass-ada")
	if id, err := two.Finish(context.Background(), state, code); err != nil || id.Email != "ada@nhs.example" {
		t.Fatalf("the other instance: %+v, %v", id, err)
	}
	if _, err := one.Finish(context.Background(), state, code); !errors.Is(err, sso.ErrState) {
		t.Errorf("the first instance after the other used the state: %v, want ErrState", err)
	}
}

func TestOtherNonceRefused(t *testing.T) {
	op := ssotest.Start(t, ssotest.Options{RedirectURI: redirect, Users: people, Nonce: "a-nonce-of-another-sign-in"})
	p, _ := newProvider(t, op, op.ClientID, nil)
	state, code := signIn(t, p, op, "ada@nhs.example", "pass-ada")
	_, err := p.Finish(context.Background(), state, code)
	if !errors.Is(err, sso.ErrTokenInvalid) || !strings.Contains(err.Error(), "nonce") {
		t.Errorf("Finish: %v, want ErrTokenInvalid for the nonce", err)
	}
}
