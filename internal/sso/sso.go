// Package sso signs people in through their organisation's OpenID Connect provider (Microsoft
// Entra ID for NHSmail, or any other): the authorisation code flow with PKCE (S256). The
// provider's answer is checked by go-oidc (the id token's signature, issuer, audience and
// expiry) and here (the nonce, and that the provider has verified the email address); the
// package answers with the verified email address, and the caller decides whether that
// person may sign in.
//
// Each sign-in is a state record in the database, under a random id of 256 bits that goes to
// the provider as the OAuth state. It holds the PKCE verifier, the nonce and where to go
// afterwards; it lasts StateLifetime and is deleted on first use, so any instance can finish
// a sign-in another began and a state is never accepted twice.
package sso

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// DefaultStateLifetime is how long a person has to sign in at their provider.
const DefaultStateLifetime = 10 * time.Minute

// defaultTimeout bounds each request to the provider.
const defaultTimeout = 15 * time.Second

// Config is how Polyphony reaches its organisation's provider.
type Config struct {
	// Issuer is the provider's issuer URL, where /.well-known/openid-configuration is found.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is Polyphony's callback, registered with the provider.
	RedirectURL string
	// Domains are the email domains the provider covers ("nhs.net"); an email address
	// outside them is refused even if the provider vouches for it. Empty, any domain.
	Domains []string
	// PasswordsOff turns password sign-in off for the addresses in Domains.
	PasswordsOff bool
	// StateLifetime bounds a sign-in in progress; zero is DefaultStateLifetime.
	StateLifetime time.Duration
	// HTTPClient reaches the provider; nil is a client that gives up after 15 s, so a
	// provider that hangs does not hold a sign-in for ever.
	HTTPClient *http.Client
	// Now is the clock for states and token expiry; nil is time.Now.
	Now func() time.Time
}

// The ways a sign-in is refused. The server shows each with its own page.
var (
	// ErrState: the state is unknown, already used, expired, or from another browser.
	ErrState = fmt.Errorf("%w: this sign-in has expired or was already used", failure.ErrUnauthenticated)
	// ErrProviderRefused: the provider answered with an error instead of a code.
	ErrProviderRefused = fmt.Errorf("%w: the organisation's sign-in did not sign the person in", failure.ErrUnauthenticated)
	// ErrTokenExpired: the id token had expired when it arrived.
	ErrTokenExpired = fmt.Errorf("%w: the organisation's answer had expired", failure.ErrUnauthenticated)
	// ErrTokenInvalid: the code exchange failed, or the id token did not pass the checks
	// (signature, issuer, audience, nonce).
	ErrTokenInvalid = fmt.Errorf("%w: the organisation's answer could not be trusted", failure.ErrUnauthenticated)
	// ErrEmailUnverified: the provider does not say it has verified the email address.
	ErrEmailUnverified = fmt.Errorf("%w: the organisation has not verified the email address", failure.ErrUnauthenticated)
	// ErrDomain: the email address is not in a domain this provider covers.
	ErrDomain = fmt.Errorf("%w: the email address is not in a domain the organisation's sign-in covers", failure.ErrUnauthenticated)
	// ErrUnavailable: the provider could not be reached to begin a sign-in.
	ErrUnavailable = errors.New("the organisation's sign-in cannot be reached")
)

// Identity is who the provider says signed in.
type Identity struct {
	Email   string
	Subject string
	// Next is the local path the person was going to when they began.
	Next string
}

// Provider is one configured OpenID provider.
type Provider struct {
	cfg    Config
	states *states

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New checks cfg and opens the state store on db. The provider's discovery document is read
// on the first sign-in (and again until it has been read once), so Polyphony starts while
// the provider is unreachable.
func New(ctx context.Context, db *database.DB, cfg Config) (*Provider, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("sso: the issuer, client id and redirect URL are required")
	}
	if cfg.StateLifetime <= 0 {
		cfg.StateLifetime = DefaultStateLifetime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	domains := make([]string, 0, len(cfg.Domains))
	for _, d := range cfg.Domains {
		if d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@")); d != "" {
			domains = append(domains, d)
		}
	}
	cfg.Domains = domains
	st, err := newStates(ctx, db)
	if err != nil {
		return nil, err
	}
	return &Provider{cfg: cfg, states: st}, nil
}

// Covers reports whether email is in a domain the provider covers (any, when no domains
// are configured).
func (p *Provider) Covers(email string) bool {
	if len(p.cfg.Domains) == 0 {
		return true
	}
	_, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	return ok && slices.Contains(p.cfg.Domains, domain)
}

// PasswordsOff reports whether the person with this email address must sign in through the
// provider, their password being refused. It needs domains: with none configured, passwords
// stay on for everyone.
func (p *Provider) PasswordsOff(email string) bool {
	return p.cfg.PasswordsOff && len(p.cfg.Domains) > 0 && p.Covers(email)
}

// StateLifetime is how long a sign-in begun now may take.
func (p *Provider) StateLifetime() time.Duration { return p.cfg.StateLifetime }

// Domains lists the email domains the provider covers.
func (p *Provider) Domains() []string { return slices.Clone(p.cfg.Domains) }

// discover reads the provider's discovery document once.
func (p *Provider) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.oauth != nil {
		return p.oauth, p.verifier, nil
	}
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, p.cfg.HTTPClient), p.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	p.oauth = &oauth2.Config{
		ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, RedirectURL: p.cfg.RedirectURL,
		Endpoint: op.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
	p.verifier = op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: p.cfg.Now})
	return p.oauth, p.verifier, nil
}

// Begin starts a sign-in that will end at next (a local path, checked by the caller): it
// stores a new state with its PKCE verifier and nonce, and answers the state and the
// provider's address to send the browser to.
func (p *Provider) Begin(ctx context.Context, next string) (state, authURL string, err error) {
	oc, _, err := p.discover(ctx)
	if err != nil {
		return "", "", err
	}
	now := p.cfg.Now()
	st := stateRecord{ID: randomString(32), Verifier: oauth2.GenerateVerifier(), Nonce: randomString(32),
		Next: next, Created: now, Expires: now.Add(p.cfg.StateLifetime)}
	if err := p.states.insert(ctx, st); err != nil {
		return "", "", err
	}
	return st.ID, oc.AuthCodeURL(st.ID, oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce)), nil
}

// claims are the id token's claims that Polyphony reads.
type claims struct {
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"`
}

// verified reads email_verified, which some providers send as the string "true".
func (c claims) verified() bool {
	switch v := c.EmailVerified.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// Finish completes the sign-in that state began, with the provider's code: the state is
// used up first (a second call with it is ErrState whatever happens next), then the code is
// exchanged with the state's PKCE verifier and the id token checked.
func (p *Provider) Finish(ctx context.Context, state, code string) (Identity, error) {
	st, err := p.states.take(ctx, state, p.cfg.Now())
	if err != nil {
		return Identity{}, err
	}
	oc, verifier, err := p.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	ctx = oidc.ClientContext(ctx, p.cfg.HTTPClient)
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: code exchange: %v", ErrTokenInvalid, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return Identity{}, fmt.Errorf("%w: no id token in the answer", ErrTokenInvalid)
	}
	idt, err := verifier.Verify(ctx, raw)
	var expired *oidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		return Identity{}, fmt.Errorf("%w: %v", ErrTokenExpired, err)
	case err != nil:
		return Identity{}, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	if idt.Nonce == "" || !equal(idt.Nonce, st.Nonce) {
		return Identity{}, fmt.Errorf("%w: the nonce does not match", ErrTokenInvalid)
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	if c.Email == "" || !c.verified() {
		return Identity{}, ErrEmailUnverified
	}
	if !p.Covers(c.Email) {
		return Identity{}, fmt.Errorf("%w: %s", ErrDomain, c.Email)
	}
	return Identity{Email: c.Email, Subject: idt.Subject, Next: st.Next}, nil
}

// Refused ends a sign-in the provider answered with an error: its state is used up, so it
// cannot be finished afterwards.
func (p *Provider) Refused(ctx context.Context, state string) error {
	if _, err := p.states.take(ctx, state, p.cfg.Now()); err != nil {
		return err
	}
	return ErrProviderRefused
}

// Sweep removes the states that expired before now, unused.
func (p *Provider) Sweep(ctx context.Context) (int64, error) {
	return p.states.sweep(ctx, p.cfg.Now())
}

// SweepEvery sweeps every interval until ctx ends.
func (p *Provider) SweepEvery(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := p.Sweep(ctx); err != nil && ctx.Err() == nil {
				onErr(err)
			}
		}
	}
}

// randomString is n random bytes, base64url without padding.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
