// Command polyphony-testop is a real OpenID provider for Polyphony's tests: the OpenID
// provider of github.com/zitadel/oidc (its op package, with the in-memory storage and login
// page of its example server), configured by flags for one client and a few people. It
// listens on loopback, prints "issuer <url>" on its first line of output once it answers,
// and runs until it is sent SIGTERM or SIGINT.
//
// Three flags make it misbehave on purpose, so that tests can show Polyphony refusing what a
// broken or hostile provider sends: -audience issues id tokens for another client, -nonce
// puts another nonce in them, and a negative -id-token-lifetime issues them already expired.
//
//	polyphony-testop -client-id polyphony -client-secret s \
//	    -redirect-uri http://127.0.0.1:8080/signin/sso/callback \
//	    -user ada@nhs.example:pass -user bob@nhs.example:pass:unverified
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "polyphony-testop:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("polyphony-testop", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on (port 0: any free port)")
	clientID := fs.String("client-id", "polyphony", "the one client's id")
	secret := fs.String("client-secret", "secret", "the client's secret")
	audience := fs.String("audience", "", "audience of the id tokens issued (default: the client id); another value makes tokens for another client")
	lifetime := fs.Duration("id-token-lifetime", time.Hour, "how long an id token is valid; negative issues tokens already expired")
	nonce := fs.String("nonce", "", "a nonce to put in every id token instead of the client's (default: the client's, as it should be)")
	var redirects, users listFlag
	fs.Var(&redirects, "redirect-uri", "a redirect URI registered for the client (repeatable)")
	fs.Var(&users, "user", "a person who can sign in, as email:password or email:password:unverified (repeatable); the email is also the username")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(redirects) == 0 {
		return errors.New("give at least one -redirect-uri")
	}
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q is not a loopback address", *addr)
	}
	people, err := parseUsers(users)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	issuer := "http://" + ln.Addr().String()

	storage.RegisterClients(storage.WebClient(*clientID, *secret, redirects...))
	store := &testStorage{Storage: storage.NewStorage(people), audience: *audience, nonce: *nonce, lifetime: *lifetime}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	router := exampleop.SetupServer(issuer, store, logger, false)

	// A browser asks for a favicon on the login page; a 404 would be reported by the browser
	// tests as a failed resource.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.Handle("/", router)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("issuer %s\n", issuer)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// people is the user store: each person's username is their email address.
type people map[string]*storage.User

func parseUsers(specs []string) (people, error) {
	out := people{}
	for i, spec := range specs {
		parts := strings.Split(spec, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" || (len(parts) == 3 && parts[2] != "unverified") {
			return nil, fmt.Errorf("-user %q is not email:password or email:password:unverified", spec)
		}
		id := fmt.Sprintf("user%d", i+1)
		out[id] = &storage.User{ID: id, Username: parts[0], Password: parts[1], Email: parts[0],
			EmailVerified: len(parts) == 2, FirstName: "Test", LastName: fmt.Sprintf("Person %d", i+1)}
	}
	return out, nil
}

func (p people) GetUserByID(id string) *storage.User { return p[id] }

func (p people) GetUserByUsername(username string) *storage.User {
	for _, u := range p {
		if u.Username == username {
			return u
		}
	}
	return nil
}

func (p people) ExampleClientID() string { return storage.ServiceUserID }

// testStorage is the example storage with the id token's audience and lifetime as the flags
// say, and the email claims put into the id token itself (as Entra ID does) rather than only
// at the userinfo endpoint.
type testStorage struct {
	*storage.Storage
	audience string
	nonce    string
	lifetime time.Duration
}

func (s *testStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return testClient{Client: c, lifetime: s.lifetime, id: s.audience}, nil
}

func (s *testStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.Storage.AuthRequestByCode(ctx, code)
	if err != nil || (s.audience == "" && s.nonce == "") {
		return r, err
	}
	return altered{AuthRequest: r, audience: s.audience, nonce: s.nonce}, nil
}

type testClient struct {
	op.Client
	lifetime time.Duration
	id       string // when set, the client the tokens are issued to
}

func (c testClient) GetID() string {
	if c.id != "" {
		return c.id
	}
	return c.Client.GetID()
}

func (c testClient) IDTokenLifetime() time.Duration       { return c.lifetime }
func (c testClient) IDTokenUserinfoClaimsAssertion() bool { return true }

// altered is an authorisation request whose tokens are for another client (their audience
// and authorised party name it, and nothing else) or carry another nonce, as set.
type altered struct {
	op.AuthRequest
	audience, nonce string
}

func (r altered) GetAudience() []string {
	if r.audience == "" {
		return r.AuthRequest.GetAudience()
	}
	return []string{r.audience}
}

func (r altered) GetClientID() string {
	if r.audience == "" {
		return r.AuthRequest.GetClientID()
	}
	return r.audience
}

func (r altered) GetNonce() string {
	if r.nonce == "" {
		return r.AuthRequest.GetNonce()
	}
	return r.nonce
}
