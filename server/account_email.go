package server

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"polyphony/internal/failure"
	"polyphony/internal/mail"
)

// The Your account page's choice of emails: each kind a person may turn off, and the kinds
// always sent (an invitation, a reset link and a changed password: someone asked for them,
// or they are a security notice).

func (s *Server) accountEmailRoutes() {
	s.add(http.MethodGet, "/account/email", SignedIn, s.accountEmailPage)
	s.add(http.MethodPost, "/account/email", SignedIn, s.accountEmailSave)
	s.add(http.MethodGet, "/api/v1/me/emails", SignedIn, s.apiGetEmails)
	s.add(http.MethodPut, "/api/v1/me/emails", SignedIn, s.apiPutEmails)
}

// emailChoice is one kind of email on the page.
type emailChoice struct {
	Kind  mail.Kind
	Label string
	On    bool
}

type accountEmailData struct {
	// Enabled is false on a platform built without the email queue.
	Enabled bool
	// Delivers is false when emails are only written to the server's log.
	Delivers bool
	Choices  []emailChoice
	Always   []string
}

func (s *Server) accountEmailPage(c echo.Context) error {
	d := accountEmailData{Enabled: s.deps.Email != nil}
	if d.Enabled {
		p, err := s.deps.Email.Preferences(c.Request().Context(), currentUser(c).ID)
		if err != nil {
			return err
		}
		d.Delivers = !s.deps.Email.Logging()
		for _, k := range mail.Kinds() {
			if k.Always {
				d.Always = append(d.Always, k.Label)
				continue
			}
			d.Choices = append(d.Choices, emailChoice{Kind: k.Kind, Label: k.Label, On: p.On(k.Kind)})
		}
	}
	return s.render(c, "account_email", pageData{Title: "Emails you get", Nav: "account", Notice: c.QueryParam("done"), Data: d})
}

// accountEmailSave turns off every kind the form does not tick.
func (s *Server) accountEmailSave(c echo.Context) error {
	if s.deps.Email == nil {
		return c.Redirect(http.StatusSeeOther, "/account/email")
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	on := map[mail.Kind]bool{}
	for _, k := range form["on"] {
		on[mail.Kind(k)] = true
	}
	var off []mail.Kind
	for _, k := range mail.Kinds() {
		if !k.Always && !on[k.Kind] {
			off = append(off, k.Kind)
		}
	}
	if err := s.deps.Email.SetPreferences(c.Request().Context(), currentUser(c).ID, off); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/email?done="+url.QueryEscape("Your choice of emails is saved."))
}

// emailKindJSON is one kind of email as the API shows it: whether the person gets it, and
// whether it can be turned off at all.
type emailKindJSON struct {
	Kind   mail.Kind `json:"kind"`
	Label  string    `json:"label"`
	On     bool      `json:"on"`
	Always bool      `json:"always"`
}

func (s *Server) emailKinds(c echo.Context) ([]emailKindJSON, error) {
	out := []emailKindJSON{}
	if s.deps.Email == nil {
		return out, nil
	}
	p, err := s.deps.Email.Preferences(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return nil, err
	}
	for _, k := range mail.Kinds() {
		out = append(out, emailKindJSON{Kind: k.Kind, Label: k.Label, On: k.Always || p.On(k.Kind), Always: k.Always})
	}
	return out, nil
}

func (s *Server) apiGetEmails(c echo.Context) error {
	ks, err := s.emailKinds(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ks)
}

// emailsRequest lists the kinds of email the person turns off; every other kind is on.
type emailsRequest struct {
	Off []mail.Kind `json:"off"`
}

func (s *Server) apiPutEmails(c echo.Context) error {
	var req emailsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if s.deps.Email == nil {
		return failure.Conflict("email is not part of this platform")
	}
	for _, k := range req.Off {
		if !k.Valid() {
			return failure.Problem("off", fmt.Sprintf("%q is not a kind of email: see GET /api/v1/me/emails", k))
		}
		if k.Always() {
			return failure.Problem("off", fmt.Sprintf("%q is always sent and cannot be turned off", k))
		}
	}
	if err := s.deps.Email.SetPreferences(c.Request().Context(), currentUser(c).ID, req.Off); err != nil {
		return err
	}
	return s.apiGetEmails(c)
}
