package server

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/internal/accounts"
)

type accountData struct {
	Tokens    []accounts.Token
	NewSecret string
	// Certificates are the person's awards and the name for their certificate; nil without
	// an award store.
	Certificates *certificateAccount
}

func (s *Server) accountRender(c echo.Context, status int, data pageData, secret string) error {
	ts, err := s.deps.Accounts.Tokens.List(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	certs, err := s.certificateAccount(c)
	if err != nil {
		return err
	}
	data.Title, data.Nav = "Your account", "account"
	data.Data = accountData{Tokens: ts, NewSecret: secret, Certificates: certs}
	return s.renderStatus(c, status, "account", data)
}

func (s *Server) accountPage(c echo.Context) error {
	return s.accountRender(c, http.StatusOK, pageData{Notice: c.QueryParam("done")}, "")
}

func (s *Server) accountCreateToken(c echo.Context) error {
	name := c.FormValue("name")
	days, _ := strconv.Atoi(c.FormValue("days"))
	secret, _, err := s.deps.Accounts.Tokens.Create(c.Request().Context(), currentUser(c).ID, name, time.Duration(days)*24*time.Hour)
	if err != nil {
		errs, err := formErrors(err, map[string]string{"name": "token-name", "expiresInDays": "token-days"})
		if err != nil {
			return err
		}
		return s.accountRender(c, http.StatusBadRequest, pageData{Errors: errs, Values: map[string]string{"token-name": name}}, "")
	}
	// The secret is shown on this answer only; it is never stored in the clear.
	return s.accountRender(c, http.StatusCreated, pageData{}, secret)
}

func (s *Server) accountRevokeToken(c echo.Context) error {
	if err := s.deps.Accounts.Tokens.Revoke(c.Request().Context(), currentUser(c).ID, c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account?done="+url.QueryEscape("The token was revoked. Scripts using it will be refused."))
}
