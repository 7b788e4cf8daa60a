package server

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/internal/audit"
	"polyphony/internal/failure"
	"polyphony/internal/mail"
)

// The emails that could not be delivered, for administrators to deal with: an address
// mistyped, a mailbox closed. Each failure says why (the mail server's words) and can be
// dismissed once it is dealt with.
func (s *Server) emailRoutes() {
	s.add(http.MethodGet, "/admin/emails", AdminOnly, s.failedEmailsPage)
	s.add(http.MethodPost, "/admin/emails/:id/dismiss", AdminOnly, s.failedEmailDismiss)
	s.add(http.MethodGet, "/api/v1/admin/emails/failed", AdminOnly, s.apiFailedEmails)
	s.add(http.MethodDelete, "/api/v1/admin/emails/failed/:id", AdminOnly, s.apiFailedEmailDismiss)
}

// emailKinds says what each kind of email was, in the words of the administrators' page.
var emailKinds = map[mail.Kind]string{
	mail.KindInvitation:      "Invitation to set a password",
	mail.KindPasswordReset:   "Link to reset a password",
	mail.KindPasswordChanged: "Password changed",
	mail.KindEntryComment:    "Comment on a journal entry",
	mail.KindEntryShared:     "Journal entry shared",
	mail.KindEntrySubmitted:  "Journal entry submitted",
	mail.KindSessionTomorrow: "Dialogue session tomorrow",
	mail.KindAssessmentOpen:  "Assessment open",
	mail.KindMarksReleased:   "Marks released",
	mail.KindConsentAsked:    "Request to use someone's words",
	mail.KindAtRisk:          "Weekly note of trainees at risk",
}

// failedEmail is one failure as the page and the API show it.
type failedEmail struct {
	ID        string    `json:"id"`
	Kind      mail.Kind `json:"kind"`
	What      string    `json:"what"`
	To        string    `json:"to"`
	UserID    string    `json:"userId,omitempty"`
	Name      string    `json:"name,omitempty"`
	Tries     int       `json:"tries"`
	Reason    string    `json:"reason"`
	QueuedAt  time.Time `json:"queuedAt"`
	FailedAt  time.Time `json:"failedAt"`
	NewLinkAt string    `json:"-"` // the person's page, where a new invitation is sent, for a link that was lost
}

func (s *Server) failedEmails(c echo.Context) ([]failedEmail, error) {
	if s.deps.Email == nil {
		return []failedEmail{}, nil
	}
	list, err := s.deps.Email.Failed(c.Request().Context())
	if err != nil {
		return nil, err
	}
	out := make([]failedEmail, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- { // newest first
		st := list[i]
		f := failedEmail{ID: st.ID, Kind: st.Kind, What: emailKinds[st.Kind], To: st.To, UserID: st.UserID, Name: st.Name,
			Tries: st.Tries, Reason: st.LastError, QueuedAt: st.CreatedAt, FailedAt: st.DoneAt}
		if f.What == "" {
			f.What = string(st.Kind)
		}
		if st.UserID != "" && (st.Kind == mail.KindInvitation || st.Kind == mail.KindPasswordReset) {
			f.NewLinkAt = "/admin/people/" + url.PathEscape(st.UserID)
		}
		out = append(out, f)
	}
	return out, nil
}

func (s *Server) failedEmailsPage(c echo.Context) error {
	list, err := s.failedEmails(c)
	if err != nil {
		return err
	}
	return s.render(c, "admin_emails", pageData{Title: "Emails not delivered", Nav: "admin", Notice: c.QueryParam("done"),
		Data: map[string]any{"Failed": list, "Emails": s.emailDelivers()}})
}

func (s *Server) apiFailedEmails(c echo.Context) error {
	list, err := s.failedEmails(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

// dismissFailedEmail takes the failure off the list and records who did, under the person
// the email was for.
func (s *Server) dismissFailedEmail(c echo.Context) (failedEmail, error) {
	list, err := s.failedEmails(c)
	if err != nil {
		return failedEmail{}, err
	}
	for _, f := range list {
		if f.ID != c.Param("id") {
			continue
		}
		if err := s.deps.Email.Dismiss(c.Request().Context(), f.ID); err != nil {
			return failedEmail{}, err
		}
		subject, name := f.UserID, f.Name
		if subject == "" {
			subject, name = "email/"+f.ID, f.To
		}
		s.record(c, audit.Entry{Action: audit.EmailDismissed, SubjectID: subject, SubjectName: name,
			Changes: []audit.Change{{Field: "email", Before: f.What + " to " + f.To + " not delivered: " + f.Reason, After: "dismissed"}}})
		return f, nil
	}
	return failedEmail{}, fmt.Errorf("failed email %s: %w", c.Param("id"), failure.ErrNotFound)
}

func (s *Server) failedEmailDismiss(c echo.Context) error {
	f, err := s.dismissFailedEmail(c)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/emails?done="+url.QueryEscape("Dismissed the email to "+f.To+"."))
}

func (s *Server) apiFailedEmailDismiss(c echo.Context) error {
	if _, err := s.dismissFailedEmail(c); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
