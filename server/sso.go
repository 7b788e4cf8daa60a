package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/internal/accounts"
	"polyphony/internal/failure"
	"polyphony/internal/sso"
)

// Sign-in through the organisation's OpenID provider (internal/sso does the protocol):
// GET /signin/sso begins, sending the browser to the provider with a new state, and
// GET /signin/sso/callback is where the provider sends it back. The state is also kept in a
// cookie of the browser that began, so a callback address handed to someone else's browser
// signs nobody in (login CSRF). Every refusal is a page saying what went wrong, and starts
// no session.

// errPasswordsOff refuses a password for a person the organisation's sign-in covers, when
// passwords are turned off for them.
var errPasswordsOff = fmt.Errorf("%w: people at this organisation sign in with their organisation account, not a password", failure.ErrForbidden)

const passwordsOffMessage = "Your organisation signs you in to Polyphony: use \"Sign in with your organisation account\" instead of a password."

// signinOptions is what the sign-in page needs to know besides the form.
type signinOptions struct {
	// SSO shows the button to sign in with the organisation's account.
	SSO bool
}

func (s *Server) signinOptions() signinOptions { return signinOptions{SSO: s.deps.SSO != nil} }

// passwordsOff says whether this email address may not sign in with a password.
func (s *Server) passwordsOff(email string) bool {
	return s.deps.SSO != nil && s.deps.SSO.PasswordsOff(email)
}

// SSOCallbackPath is where the provider sends people back: the redirect URI to register with
// it is the public URL followed by this path.
const SSOCallbackPath = "/signin/sso/callback"

// ssoRoutes registers the organisation's sign-in, when there is one.
func (s *Server) ssoRoutes() {
	if s.deps.SSO == nil {
		return
	}
	s.add(http.MethodGet, "/signin/sso", Public, s.ssoBegin)
	s.add(http.MethodGet, SSOCallbackPath, Public, s.ssoCallback)
}

func (s *Server) ssoCookieName() string {
	if s.secure {
		return "__Host-polyphony-sso"
	}
	return "polyphony-sso"
}

// ssoCookie is the browser's copy of the state it began with. It is Lax, not Strict: the
// browser comes back to the callback from the provider's site.
func (s *Server) ssoCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: s.ssoCookieName(), Value: value, Path: "/", HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode, MaxAge: maxAge}
}

func (s *Server) ssoBegin(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	state, authURL, err := s.deps.SSO.Begin(c.Request().Context(), localPath(c.QueryParam("next")))
	if errors.Is(err, sso.ErrUnavailable) {
		s.log.Warn("organisation sign-in unreachable", "err", err)
		return s.ssoRefuse(c, http.StatusServiceUnavailable, "Your organisation's sign-in cannot be reached",
			"Polyphony cannot reach your organisation's sign-in just now. Try again in a few minutes; if it goes on, tell your programme administrator.")
	}
	if err != nil {
		return err
	}
	c.SetCookie(s.ssoCookie(state, int(s.deps.SSO.StateLifetime().Seconds())))
	return c.Redirect(http.StatusSeeOther, authURL)
}

func (s *Server) ssoCallback(c echo.Context) error {
	ctx := c.Request().Context()
	state := c.QueryParam("state")
	cookie, cerr := c.Cookie(s.ssoCookieName())
	c.SetCookie(s.ssoCookie("", -1))
	if state == "" || cerr != nil || subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(state)) != 1 {
		return s.ssoRefuse(c, http.StatusBadRequest, "This sign-in has expired",
			"This sign-in has expired, was already used, or was begun in another browser. Sign in again from the start.")
	}
	if problem := c.QueryParam("error"); problem != "" {
		err := s.deps.SSO.Refused(ctx, state)
		if errors.Is(err, sso.ErrState) {
			return s.ssoRefused(c, err)
		}
		s.log.Info("organisation sign-in refused by the provider", "error", problem, "ip", c.RealIP())
		return s.ssoRefuse(c, http.StatusForbidden, "Your organisation did not sign you in",
			fmt.Sprintf("Your organisation's sign-in did not sign you in (it answered %q). Try again; if it goes on, ask your programme administrator.", problem))
	}
	id, err := s.deps.SSO.Finish(ctx, state, c.QueryParam("code"))
	if err != nil {
		return s.ssoRefused(c, err)
	}
	u, err := s.startSession(c, func(ctx context.Context) (accounts.User, string, accounts.Session, error) {
		return s.deps.Accounts.LoginVerified(ctx, id.Email, c.RealIP(), c.Request().UserAgent())
	})
	switch {
	case errors.Is(err, accounts.ErrNotAdded):
		// Only the address's domain: the log keeps nothing personal of someone not on Polyphony.
		_, domain, _ := strings.Cut(id.Email, "@")
		s.log.Info("organisation sign-in of a person not added", "domain", domain, "ip", c.RealIP())
		return s.ssoRefuse(c, http.StatusForbidden, "You are not on Polyphony yet",
			fmt.Sprintf("Your organisation account (%s) is not on Polyphony yet: ask your programme administrator to add you.", id.Email))
	case errors.Is(err, accounts.ErrDisabled):
		return s.ssoRefuse(c, http.StatusForbidden, "Your account is disabled",
			"Your Polyphony account is disabled. Ask your programme administrator.")
	case err != nil:
		return err
	}
	s.log.Info("signed in", "user", u.ID, "ip", c.RealIP(), "through", "organisation")
	return c.Redirect(http.StatusSeeOther, localPath(id.Next))
}

// ssoRefused shows the page for what Finish refused.
func (s *Server) ssoRefused(c echo.Context, err error) error {
	s.log.Info("organisation sign-in refused", "err", err, "ip", c.RealIP())
	switch {
	case errors.Is(err, sso.ErrState):
		return s.ssoRefuse(c, http.StatusBadRequest, "This sign-in has expired",
			"This sign-in has expired or was already used. Sign in again from the start.")
	case errors.Is(err, sso.ErrTokenExpired):
		return s.ssoRefuse(c, http.StatusUnauthorized, "Your organisation's sign-in had expired",
			"Your organisation's answer had expired by the time it reached Polyphony. Sign in again; if it goes on, tell your programme administrator that the clocks may disagree.")
	case errors.Is(err, sso.ErrTokenInvalid):
		return s.ssoRefuse(c, http.StatusUnauthorized, "Your organisation's sign-in could not be checked",
			"Polyphony could not confirm that your organisation's answer was meant for it, so it has not signed you in. Tell your programme administrator: the organisation sign-in settings may be wrong.")
	case errors.Is(err, sso.ErrEmailUnverified):
		return s.ssoRefuse(c, http.StatusForbidden, "Your email address is not confirmed",
			"Your organisation has not confirmed your email address, so Polyphony cannot tell who you are. Ask your organisation's IT service desk to confirm it.")
	case errors.Is(err, sso.ErrDomain):
		return s.ssoRefuse(c, http.StatusForbidden, "This organisation account cannot sign in here",
			"Your organisation account's email address is not one that this sign-in covers ("+strings.Join(s.deps.SSO.Domains(), ", ")+"). Sign in with the email address your programme administrator registered for you.")
	case errors.Is(err, sso.ErrUnavailable):
		return s.ssoRefuse(c, http.StatusServiceUnavailable, "Your organisation's sign-in cannot be reached",
			"Polyphony cannot reach your organisation's sign-in just now. Try again in a few minutes; if it goes on, tell your programme administrator.")
	}
	return err
}

// ssoRefuse shows a refusal, with the way back to the sign-in page.
func (s *Server) ssoRefuse(c echo.Context, status int, title, message string) error {
	return s.renderStatus(c, status, "signin_refused", pageData{Title: title, Message: message})
}
