package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
)

// AccountMail sends the emails about a person's password. Every message is queued and sent
// by the mail worker; with no mail server set, it is written to the log in full.
type AccountMail interface {
	// Delivers reports whether email reaches people (a mail server is set), so that a page
	// shows an administrator the link to pass on where it does not.
	Delivers() bool
	Invitation(ctx context.Context, to accounts.User, link string, expires time.Time, invitedBy string) error
	ResetLink(ctx context.Context, to accounts.User, link string, expires time.Time) error
	PasswordChanged(ctx context.Context, to accounts.User) error
}

func (s *Server) passwordRoutes() {
	s.add(http.MethodGet, "/signin/forgot", Public, s.forgotPage)
	s.add(http.MethodPost, "/signin/forgot", Public, s.forgotSend)
	s.add(http.MethodGet, "/password", Public, s.setPasswordPage)
	s.add(http.MethodPost, "/password", Public, s.setPassword)
	s.add(http.MethodPost, "/account/password", SignedIn, s.accountChangePassword)
	s.add(http.MethodPost, "/admin/people/:id/invite", AdminOnly, s.adminInvitePerson)

	s.add(http.MethodPost, "/api/v1/password-resets", Public, s.apiRequestReset)
	s.add(http.MethodPost, "/api/v1/password-links", Public, s.apiUseLink)
	s.add(http.MethodPost, "/api/v1/me/password", SignedIn, s.apiChangePassword)
	s.add(http.MethodPost, "/api/v1/users/:id/invitations", AdminOnly, s.apiInvite)
}

// PasswordLinkURL is the address of the page that sets a password through a link (a
// reset, an invitation), on the site at public. The secret goes in the query, which the
// request log leaves out (it logs the path).
func PasswordLinkURL(public *url.URL, secret string) string {
	return public.String() + "/password?" + url.Values{"link": {secret}}.Encode()
}

func (s *Server) linkURL(secret string) string { return PasswordLinkURL(s.cfg.PublicURL, secret) }

// emailDelivers reports whether the emails the pages send reach people, so that a page
// says so, or shows an administrator the link to pass on.
func (s *Server) emailDelivers() bool { return s.deps.Mail != nil && s.deps.Mail.Delivers() }

// anonymousFormOK checks the double-submit token of a form used before signing in (see
// signinToken).
func (s *Server) anonymousFormOK(c echo.Context) bool {
	cookie, err := c.Cookie(s.signinCookieName())
	return err == nil && subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(c.FormValue("csrf"))) == 1
}

// resetSent is what a request for a forgotten password's link is answered, whether or not
// an account uses the address.
func resetSent(email string) string {
	return "If " + email + " is the address of a Polyphony account, we have sent it an email with a link to set a new password. " +
		"The link works once, for 30 minutes. If nothing arrives within a few minutes, check the address and your junk mail, or ask your programme administrator."
}

type forgotData struct {
	Sent string
}

func (s *Server) forgotPage(c echo.Context) error {
	return s.render(c, "forgot", pageData{Title: "Forgotten your password?", CSRF: s.signinToken(c), Values: map[string]string{"email": c.QueryParam("email")}})
}

func (s *Server) forgotSend(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	data := pageData{Title: "Forgotten your password?", Values: map[string]string{"email": email}}
	fail := func(status int, msg string) error {
		data.CSRF = s.signinToken(c)
		data.Errors = []fieldError{{Field: "email", Message: msg}}
		return s.renderStatus(c, status, "forgot", data)
	}
	if !s.anonymousFormOK(c) {
		return fail(http.StatusForbidden, "The form had expired. Enter your email address again.")
	}
	if email == "" {
		return fail(http.StatusBadRequest, "Enter your email address")
	}
	err := s.requestReset(c, email)
	var throttled *failure.ThrottledError
	switch {
	case errors.As(err, &throttled):
		c.Response().Header().Set("Retry-After", retryAfter(throttled))
		return fail(http.StatusTooManyRequests, "Too many links have been asked for. Wait "+throttled.RetryAfter.String()+" and try again.")
	case len(failure.Invalids(err)) > 0:
		return fail(http.StatusBadRequest, invalidMessage(failure.Invalids(err)[0]))
	case err != nil:
		return err
	}
	data.CSRF = s.signinToken(c)
	data.Data = forgotData{Sent: resetSent(email)}
	return s.render(c, "forgot", data)
}

// requestReset makes a reset link for the address, if it has an account, and emails it.
func (s *Server) requestReset(c echo.Context, email string) error {
	ctx := c.Request().Context()
	secret, u, err := s.deps.Accounts.RequestReset(ctx, email, c.RealIP())
	if err != nil || secret == "" {
		return err
	}
	s.log.Info("password reset link made", "user", u.ID, "ip", c.RealIP())
	if s.deps.Mail == nil {
		return nil
	}
	return s.deps.Mail.ResetLink(ctx, u, s.linkURL(secret), time.Now().Add(accounts.ResetLinkLasts))
}

type setPasswordData struct {
	Link       string
	Invitation bool
	Name       string
	Email      string
	Unusable   bool
}

// linkPage is what the page setting a password through a working link shows, and its title.
func linkPage(secret string, l accounts.Link, u accounts.User) (setPasswordData, string) {
	d := setPasswordData{Link: secret, Invitation: l.Purpose == accounts.PurposeInvitation, Name: u.Name, Email: u.Email}
	if d.Invitation {
		return d, "Set your password"
	}
	return d, "Set a new password"
}

// linkUnusable is the page for a link that has expired or been used: 410, and where to ask
// for another.
func (s *Server) linkUnusable(c echo.Context, d setPasswordData) error {
	d.Unusable = true
	return s.renderStatus(c, http.StatusGone, "set_password", pageData{Title: "This link no longer works", Data: d})
}

func (s *Server) setPasswordPage(c echo.Context) error {
	secret := c.QueryParam("link")
	l, u, err := s.deps.Accounts.Links.Check(c.Request().Context(), secret)
	switch {
	case errors.Is(err, accounts.ErrLinkUnusable):
		return s.linkUnusable(c, setPasswordData{Link: secret})
	case err != nil:
		return err
	}
	d, title := linkPage(secret, l, u)
	return s.render(c, "set_password", pageData{Title: title, CSRF: s.signinToken(c), Data: d})
}

func (s *Server) setPassword(c echo.Context) error {
	ctx := c.Request().Context()
	secret, password, confirm := c.FormValue("link"), c.FormValue("password"), c.FormValue("confirm")
	l, u, err := s.deps.Accounts.Links.Check(ctx, secret)
	if errors.Is(err, accounts.ErrLinkUnusable) {
		return s.linkUnusable(c, setPasswordData{Link: secret})
	}
	if err != nil {
		return err
	}
	d, title := linkPage(secret, l, u)
	fail := func(status int, errs ...fieldError) error {
		return s.renderStatus(c, status, "set_password", pageData{Title: title, CSRF: s.signinToken(c), Data: d, Errors: errs})
	}
	if !s.anonymousFormOK(c) {
		return fail(http.StatusForbidden, fieldError{Field: "password", Message: "The form had expired. Enter your new password again."})
	}
	switch {
	case password == "":
		return fail(http.StatusBadRequest, fieldError{Field: "password", Message: "Enter a new password"})
	case confirm != password:
		return fail(http.StatusBadRequest, fieldError{Field: "confirm", Message: "The two passwords are not the same: type the new password again"})
	}
	_, u, err = s.deps.Accounts.UseLink(ctx, secret, password)
	switch {
	case errors.Is(err, accounts.ErrLinkUnusable):
		return s.linkUnusable(c, d)
	case errors.Is(err, accounts.ErrDisabled):
		return fail(http.StatusForbidden, fieldError{Field: "password", Message: "This account is disabled. Ask your programme administrator."})
	case len(failure.Invalids(err)) > 0:
		errs, _ := formErrors(err, nil)
		return fail(http.StatusBadRequest, errs...)
	case err != nil:
		return err
	}
	s.log.Info("password set through a link", "user", u.ID, "purpose", string(l.Purpose), "ip", c.RealIP())
	if !d.Invitation && s.deps.Mail != nil {
		if err := s.deps.Mail.PasswordChanged(ctx, u); err != nil {
			s.log.Error("queue the email saying a password changed", "user", u.ID, "err", err)
		}
	}
	return c.Redirect(http.StatusSeeOther, "/signin?password=set&email="+url.QueryEscape(u.Email))
}

func (s *Server) accountChangePassword(c echo.Context) error {
	u, err := s.changePassword(c, c.FormValue("currentPassword"), c.FormValue("newPassword"), c.FormValue("confirmPassword"))
	var throttled *failure.ThrottledError
	switch {
	case errors.As(err, &throttled):
		c.Response().Header().Set("Retry-After", retryAfter(throttled))
		return s.accountRender(c, http.StatusTooManyRequests, pageData{Errors: []fieldError{{Field: "current-password",
			Message: "Too many wrong passwords. Wait " + throttled.RetryAfter.String() + " and try again."}}}, "")
	case err != nil:
		errs, err := formErrors(err, map[string]string{"currentPassword": "current-password", "newPassword": "new-password", "confirmPassword": "confirm-password"})
		if err != nil {
			return err
		}
		return s.accountRender(c, http.StatusBadRequest, pageData{Errors: errs}, "")
	}
	done := "Your password has been changed, and you have been signed out everywhere else."
	if s.emailDelivers() {
		done += " We have emailed " + u.Email + " to say so."
	}
	return c.Redirect(http.StatusSeeOther, "/account?done="+url.QueryEscape(done))
}

// changePassword changes the signed-in person's password, keeping the session asking.
func (s *Server) changePassword(c echo.Context, current, next, confirm string) (accounts.User, error) {
	ctx := c.Request().Context()
	me := currentUser(c)
	if next != "" && confirm != next {
		return accounts.User{}, failure.Problem("confirmPassword", "The two new passwords are not the same: type the new password again")
	}
	keep := ""
	if cookie, err := c.Cookie(s.sessionCookieName()); err == nil {
		keep = cookie.Value
	}
	u, err := s.deps.Accounts.ChangePassword(ctx, me.ID, current, next, keep, c.RealIP())
	if err != nil {
		return accounts.User{}, err
	}
	s.log.Info("password changed", "user", u.ID, "ip", c.RealIP())
	if s.deps.Mail != nil {
		if err := s.deps.Mail.PasswordChanged(ctx, u); err != nil {
			s.log.Error("queue the email saying a password changed", "user", u.ID, "err", err)
		}
	}
	return u, nil
}

// invitation is the answer to an administrator sending an invitation: the link itself only
// where no email reaches the person.
type invitation struct {
	UserID    string    `json:"userId"`
	Email     string    `json:"email"`
	Emailed   bool      `json:"emailed"`
	Link      string    `json:"link,omitempty"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// invite makes an invitation for the person and emails it, or returns the link to pass on
// where no email is set up.
func (s *Server) invite(c echo.Context, userID string) (invitation, accounts.User, error) {
	ctx := c.Request().Context()
	me := currentUser(c)
	secret, u, err := s.deps.Accounts.Invite(ctx, userID, me.ID)
	if err != nil {
		return invitation{}, accounts.User{}, err
	}
	link := s.linkURL(secret)
	inv := invitation{UserID: u.ID, Email: u.Email, ExpiresAt: time.Now().Add(accounts.InvitationLasts).UTC().Truncate(time.Second)}
	if s.deps.Mail != nil {
		if err := s.deps.Mail.Invitation(ctx, u, link, inv.ExpiresAt, me.Name); err != nil {
			return invitation{}, accounts.User{}, err
		}
		inv.Emailed = s.deps.Mail.Delivers()
	}
	if !inv.Emailed {
		inv.Link = link
	}
	s.log.Info("invitation made", "user", u.ID, "by", me.ID, "emailed", inv.Emailed)
	s.record(c, audit.Entry{Action: audit.PersonInvited, SubjectID: u.ID, SubjectName: u.Name})
	return inv, u, nil
}

func (s *Server) adminInvitePerson(c echo.Context) error {
	inv, u, err := s.invite(c, c.Param("id"))
	if err != nil {
		errs, err := formErrors(err, nil)
		if err != nil {
			return err
		}
		return s.adminRender(c, http.StatusBadRequest, "", errs, nil)
	}
	return s.adminInvited(c, inv, u)
}

// adminInvited shows the admin page after an invitation: where it was emailed, a notice;
// where not, the link to pass on, shown this once.
func (s *Server) adminInvited(c echo.Context, inv invitation, u accounts.User) error {
	if inv.Emailed {
		return adminDone(c, "Sent "+u.Name+" an invitation at "+u.Email+". Its link works for 7 days.")
	}
	d, err := s.adminData(c)
	if err != nil {
		return err
	}
	d.Invitation = &inv
	d.InvitedName = u.Name
	return s.render(c, "admin", pageData{Title: "People and cohorts", Nav: "admin", Data: d})
}

type resetRequest struct {
	Email string `json:"email"`
}

func (s *Server) apiRequestReset(c echo.Context) error {
	var req resetRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	email := strings.TrimSpace(req.Email)
	if email == "" {
		return failure.Problem("email", "Enter your email address")
	}
	if err := s.requestReset(c, email); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"message": resetSent(email)})
}

type useLinkRequest struct {
	Link     string `json:"link"`
	Password string `json:"password"`
}

func (s *Server) apiUseLink(c echo.Context) error {
	var req useLinkRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Password == "" {
		return failure.Problem("password", "Enter a new password")
	}
	l, u, err := s.deps.Accounts.UseLink(c.Request().Context(), req.Link, req.Password)
	if err != nil {
		return err
	}
	s.log.Info("password set through a link", "user", u.ID, "purpose", string(l.Purpose), "ip", c.RealIP())
	if l.Purpose != accounts.PurposeInvitation && s.deps.Mail != nil {
		if err := s.deps.Mail.PasswordChanged(c.Request().Context(), u); err != nil {
			s.log.Error("queue the email saying a password changed", "user", u.ID, "err", err)
		}
	}
	return c.NoContent(http.StatusNoContent)
}

type changePasswordRequest struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

func (s *Server) apiChangePassword(c echo.Context) error {
	var req changePasswordRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if _, err := s.changePassword(c, req.CurrentPassword, req.NewPassword, req.NewPassword); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiInvite(c echo.Context) error {
	inv, _, err := s.invite(c, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, inv)
}
