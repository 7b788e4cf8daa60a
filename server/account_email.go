package server

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"polyphony/internal/mail"
)

// The Your account page's choice of emails: each kind a person may turn off, and the kinds
// always sent (an invitation, a reset link and a changed password: someone asked for them,
// or they are a security notice).

func (s *Server) accountEmailRoutes() {
	s.add(http.MethodGet, "/account/email", SignedIn, s.accountEmailPage)
	s.add(http.MethodPost, "/account/email", SignedIn, s.accountEmailSave)
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
