package mail

import (
	"context"
	"errors"
	"time"

	"polyphony/internal/accounts"
)

// AccountEmails sends the emails about a person's account and password, for the sign-in,
// password and administration pages (it has the methods of server.AccountMail). All three
// are sent whatever the person's preferences.
type AccountEmails struct{ q *Queue }

// Accounts returns the queue's account emails.
func (q *Queue) Accounts() *AccountEmails { return &AccountEmails{q: q} }

// Delivers reports whether email reaches people: false when it is only written to the log,
// so that a page shows an administrator the link to pass on instead.
func (a *AccountEmails) Delivers() bool { return !a.q.Logging() }

// Invitation queues the invitation of to, with its set-password link, until expires;
// invitedBy is the administrator's name ("" to leave it out).
func (a *AccountEmails) Invitation(ctx context.Context, to accounts.User, link string, expires time.Time, invitedBy string) error {
	_, err := a.q.Send(ctx, Message{Kind: KindInvitation, To: to.Email, UserID: to.ID, Name: to.Name, Link: link,
		Values: Values{Person: invitedBy, Expires: expires}})
	return err
}

// ResetLink queues the password reset link of to, which works until expires: the email
// says for how long from now (When, the moment it was asked for) and until when.
func (a *AccountEmails) ResetLink(ctx context.Context, to accounts.User, link string, expires time.Time) error {
	_, err := a.q.Send(ctx, Message{Kind: KindPasswordReset, To: to.Email, UserID: to.ID, Name: to.Name, Link: link,
		Values: Values{When: a.q.cfg.Now(), Expires: expires}})
	return err
}

// PasswordChanged queues the notice that to's password changed, now, with a link to the
// page for a forgotten password in case it was not them.
func (a *AccountEmails) PasswordChanged(ctx context.Context, to accounts.User) error {
	link := a.q.pageURL(forgotPath)
	if link == "" {
		return errors.New("mail: a changed-password notice needs Config.PublicURL for its link")
	}
	_, err := a.q.Send(ctx, Message{Kind: KindPasswordChanged, To: to.Email, UserID: to.ID, Name: to.Name, Link: link,
		Values: Values{When: a.q.cfg.Now()}})
	return err
}
