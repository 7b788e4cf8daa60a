package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

func (s *Server) signinCookieName() string {
	if s.secure {
		return "__Host-polyphony-signin"
	}
	return "polyphony-signin"
}

// signinToken issues the double-submit token that protects the sign-in form itself.
func (s *Server) signinToken(c echo.Context) string {
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	c.SetCookie(&http.Cookie{
		Name: s.signinCookieName(), Value: tok, Path: "/", HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600,
	})
	return tok
}

// localPath keeps a post-sign-in redirect on this site: it answers p's path and query when
// p is nothing but a path on this site, and "/" otherwise. Browsers drop tabs and newlines
// from a URL and read a backslash as a slash, so "/\t/evil.example" and "/\\evil.example"
// would leave the site: p is refused when it names a scheme or a host, or when it or its
// decoded path holds a control character or a backslash or starts with "//". The answer is
// rebuilt from the parsed URL, never copied from p.
func localPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	for _, s := range []string{p, u.Path} {
		if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsFunc(s, urlTrick) {
			return "/"
		}
	}
	return (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}).RequestURI()
}

// urlTrick reports whether r is a character a browser drops from a URL or reads as another:
// a control character (tab, CR, LF and the rest) or a backslash.
func urlTrick(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }

func (s *Server) signinPage(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	data := pageData{Title: "Sign in", CSRF: s.signinToken(c), Values: map[string]string{"next": c.QueryParam("next")}, Data: s.signinOptions()}
	if c.QueryParam("ended") != "" {
		data.Notice = "Your session has ended. Sign in again to carry on."
	}
	if c.QueryParam("signedout") != "" {
		data.Notice = "You have signed out."
	}
	if c.QueryParam("password") == "set" {
		data.Notice = "Your password is set. Sign in with it."
		data.Values["email"] = c.QueryParam("email")
	}
	return s.render(c, "signin", data)
}

func (s *Server) signin(c echo.Context) error {
	email, password := strings.TrimSpace(c.FormValue("email")), c.FormValue("password")
	data := pageData{Title: "Sign in", Values: map[string]string{"email": email, "next": c.FormValue("next")}, Data: s.signinOptions()}
	fail := func(status int, errs ...fieldError) error {
		data.CSRF = s.signinToken(c)
		data.Errors = errs
		return s.renderStatus(c, status, "signin", data)
	}
	if !s.anonymousFormOK(c) {
		return fail(http.StatusForbidden, fieldError{Field: "email", Message: "The sign-in form had expired. Enter your details again."})
	}
	var errs []fieldError
	if email == "" {
		errs = append(errs, fieldError{Field: "email", Message: "Enter your email address"})
	}
	if password == "" {
		errs = append(errs, fieldError{Field: "password", Message: "Enter your password"})
	}
	if errs != nil {
		return fail(http.StatusBadRequest, errs...)
	}
	u, err := s.login(c, email, password)
	var throttled *failure.ThrottledError
	switch {
	case errors.As(err, &throttled):
		c.Response().Header().Set("Retry-After", retryAfter(throttled))
		return fail(http.StatusTooManyRequests, fieldError{Field: "email", Message: "Too many attempts to sign in. Wait " + throttled.RetryAfter.String() + " and try again."})
	case errors.Is(err, accounts.ErrDisabled):
		return fail(http.StatusForbidden, fieldError{Field: "email", Message: "This account is disabled. Ask your programme administrator."})
	case errors.Is(err, errPasswordsOff):
		return fail(http.StatusForbidden, fieldError{Field: "email", Message: passwordsOffMessage})
	case errors.Is(err, failure.ErrUnauthenticated):
		return fail(http.StatusUnauthorized, fieldError{Field: "email", Message: "The email address or password is not right"})
	case err != nil:
		return err
	}
	s.log.Info("signed in", "user", u.ID, "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, localPath(c.FormValue("next")))
}

// login checks the credentials and starts a new session (see startSession). A person whose
// organisation signs them in, with passwords turned off for it, is refused before the
// password is looked at.
func (s *Server) login(c echo.Context, email, password string) (accounts.User, error) {
	if s.passwordsOff(email) {
		return accounts.User{}, errPasswordsOff
	}
	return s.startSession(c, func(ctx context.Context) (accounts.User, string, accounts.Session, error) {
		return s.deps.Accounts.Login(ctx, email, password, c.RealIP(), c.Request().UserAgent())
	})
}

// startSession signs in with begin, which checks who the person is and starts their
// session, and sets the session cookie. Any session the browser already had is ended first,
// so a session id is never carried across a sign-in. Both password sign-in and the
// organisation's sign-in (sso.go) come through here.
func (s *Server) startSession(c echo.Context, begin func(ctx context.Context) (accounts.User, string, accounts.Session, error)) (accounts.User, error) {
	ctx := c.Request().Context()
	if old, err := c.Cookie(s.sessionCookieName()); err == nil && old.Value != "" {
		if err := s.deps.Accounts.Logout(ctx, old.Value); err != nil {
			return accounts.User{}, err
		}
	}
	u, secret, sess, err := begin(ctx)
	if err != nil {
		return accounts.User{}, err
	}
	s.setSessionCookie(c, secret)
	c.Set(ctxUser, &u)
	c.Set(ctxSession, &sess)
	return u, nil
}

func (s *Server) signout(c echo.Context) error {
	if cookie, err := c.Cookie(s.sessionCookieName()); err == nil {
		if err := s.deps.Accounts.Logout(c.Request().Context(), cookie.Value); err != nil {
			return err
		}
	}
	s.closeRooms(currentUser(c))
	s.clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/signin?signedout=1")
}

// closeRooms ends the person's live room connections when they sign out.
func (s *Server) closeRooms(u *accounts.User) {
	if s.deps.Rooms != nil && u != nil {
		s.deps.Rooms.DisconnectUser(u.ID)
	}
}
