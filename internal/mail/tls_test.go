package mail

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"polyphony/internal/dbtest"
	"polyphony/internal/mailtest"
)

// STARTTLS and implicit TLS both reach a server that insists on them, signing in with the
// user and password it knows.
func TestDeliversOverSTARTTLSAndImplicitTLSWithSignIn(t *testing.T) {
	for _, mode := range []TLSMode{STARTTLS, ImplicitTLS} {
		t.Run(string(mode), func(t *testing.T) {
			ctx := context.Background()
			srv := mailtest.Start(t, mailtest.Options{TLS: mode == STARTTLS, ImplicitTLS: mode == ImplicitTLS,
				Users: map[string]string{"polyphony": "s3cret-pass"}})
			cfg := testConfig(srv)
			cfg.TLS, cfg.User, cfg.Password = mode, "polyphony", "s3cret-pass"
			cfg.TLSConfig = &tls.Config{RootCAs: srv.CertPool(), MinVersion: tls.VersionTLS12}
			q, err := New(ctx, dbtest.New(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			run(t, q)
			id, err := q.Send(ctx, sample(KindAssessmentOpen, "ann@trust.example", "u1"))
			if err != nil {
				t.Fatal(err)
			}
			waitState(t, q, id, StateSent, 15*time.Second)
			if got := srv.WaitForCount(t, 1, 5*time.Second); got[0].Subject != "Assessment open: Module 1 MCQ" {
				t.Errorf("received %+v", got)
			}
		})
	}
}

// A server the worker cannot use as configured (a wrong password; no STARTTLS offered where
// it is required) is a problem of the platform's settings, not of the message: the message
// waits, with the reason, and is never sent in plain text.
func TestMisconfiguredServerKeepsTheMessageWaiting(t *testing.T) {
	ctx := context.Background()
	secure := mailtest.Start(t, mailtest.Options{TLS: true, Users: map[string]string{"polyphony": "right"}})
	plain := mailtest.Start(t)
	cases := []struct {
		name string
		srv  *mailtest.Server
		cfg  func(*Config)
		want string
	}{
		{"wrong password", secure, func(c *Config) {
			c.TLS, c.User, c.Password = STARTTLS, "polyphony", "wrong"
			c.TLSConfig = &tls.Config{RootCAs: secure.CertPool()}
		}, "535"},
		{"no STARTTLS offered", plain, func(c *Config) { c.TLS = STARTTLS }, "STARTTLS"},
	}
	for _, tc := range cases {
		cfg := testConfig(tc.srv)
		tc.cfg(&cfg)
		q, err := New(ctx, dbtest.New(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		id, err := q.Send(ctx, sample(KindMarksReleased, "ann@trust.example", "u1"))
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Tend(ctx); err != nil {
			t.Fatal(err)
		}
		s, err := q.Status(ctx, id)
		if err != nil || s.State != StatePending || s.Tries != 1 || !strings.Contains(s.LastError, tc.want) {
			t.Errorf("%s: %+v, %v; want it pending after one try, the reason naming %s", tc.name, s, err, tc.want)
		}
		if got := tc.srv.Messages(t); len(got) != 0 {
			t.Errorf("%s: the server received %d emails", tc.name, len(got))
		}
	}
}
