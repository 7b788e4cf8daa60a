package accounts

import (
	"context"
	"errors"
	"fmt"

	"polyphony/internal/failure"
)

// ChangePassword sets a new password for a signed-in person who gives their current one,
// and ends every other session of theirs (keep is the secret of the session asking, which
// goes on). Wrong current passwords count against the account like failed sign-ins, so a
// session left open cannot be used to guess it.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next, keep, ip string) (User, error) {
	u, err := s.Users.ByID(ctx, userID)
	if err != nil {
		return User{}, err
	}
	var missing []error
	if current == "" {
		missing = append(missing, failure.Problem("currentPassword", "Enter your current password"))
	}
	if next == "" {
		missing = append(missing, failure.Problem("newPassword", "Enter a new password"))
	}
	if len(missing) > 0 {
		return User{}, failure.Problems(missing...)
	}
	if err := s.Throttle.Check(ctx, u.Email, ip); err != nil {
		return User{}, err
	}
	if ok, err := VerifyPassword(u.PasswordHash, current); err != nil || !ok {
		if ferr := s.Throttle.Fail(ctx, u.Email, ip); ferr != nil {
			return User{}, ferr
		}
		return User{}, failure.Problem("currentPassword", "Your current password is not right")
	}
	if next == current {
		return User{}, failure.Problem("newPassword", "Enter a new password that is not the same as your current one")
	}
	if err := CheckPassword(next, u.Email); err != nil {
		return User{}, renameProblem(err, "password", "newPassword")
	}
	hash, err := HashPassword(next)
	if err != nil {
		return User{}, err
	}
	changed, err := s.Users.change(ctx, u.ID, 0, changePassword, func(a *User) { a.PasswordHash = hash })
	if err != nil {
		return User{}, err
	}
	if err := s.Throttle.Reset(ctx, u.Email); err != nil {
		return User{}, err
	}
	return changed, s.endSessions(ctx, u.ID, keep)
}

// RequestReset makes a forgotten password's link for the account with that email address,
// throttled per address and per client. It answers no secret and no error for an address
// that has no account, or a disabled one, so that the caller answers the same either way.
func (s *Service) RequestReset(ctx context.Context, email, ip string) (string, User, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return "", User{}, err
	}
	if err := s.ResetThrottle.Check(ctx, norm, ip); err != nil {
		return "", User{}, err
	}
	if err := s.ResetThrottle.Fail(ctx, norm, ip); err != nil {
		return "", User{}, err
	}
	u, err := s.Users.ByEmail(ctx, norm)
	if errors.Is(err, failure.ErrNotFound) {
		return "", User{}, nil
	}
	if err != nil {
		return "", User{}, err
	}
	if u.Disabled {
		return "", User{}, nil
	}
	secret, _, err := s.Links.Issue(ctx, u.ID, PurposeReset, u.ID)
	if err != nil {
		return "", User{}, err
	}
	return secret, u, nil
}

// Invite makes an invitation's set-password link for the account, asked for by the
// administrator by; making another leaves the earlier ones working until one is used.
func (s *Service) Invite(ctx context.Context, userID, by string) (string, User, error) {
	u, err := s.Users.ByID(ctx, userID)
	if err != nil {
		return "", User{}, err
	}
	if u.Disabled {
		return "", User{}, failure.Conflict("this account is disabled: enable it before inviting the person")
	}
	secret, _, err := s.Links.Issue(ctx, u.ID, PurposeInvitation, by)
	if err != nil {
		return "", User{}, err
	}
	return secret, u, nil
}

// UseLink sets the password through a reset or invitation link and ends every session of
// the person, on every instance: whoever had their old password is signed out.
func (s *Service) UseLink(ctx context.Context, secret, password string) (Link, User, error) {
	l, u, err := s.Links.Use(ctx, secret, password)
	if err != nil {
		return Link{}, User{}, err
	}
	if err := s.Throttle.Reset(ctx, u.Email); err != nil {
		return Link{}, User{}, err
	}
	return l, u, s.endSessions(ctx, u.ID, "")
}

// endSessions ends the person's sessions but keep's, makes every instance forget them, and
// closes the person's live connections.
func (s *Service) endSessions(ctx context.Context, userID, keep string) error {
	if err := s.Sessions.DeleteOthers(ctx, userID, keep); err != nil {
		return fmt.Errorf("end the other sessions: %w", err)
	}
	// The account's change made every instance forget the person's sessions already; a
	// request between that and the deletes may have cached one again, so forget once more.
	s.forget(forgetUserPrefix + userID)
	if s.OnUserEnded != nil {
		s.OnUserEnded(userID)
	}
	return nil
}

// renameProblem gives a password rule's refusal the name of the form's field.
func renameProblem(err error, from, to string) error {
	var invalid *failure.InvalidError
	if !errors.As(err, &invalid) || invalid.Field != from || from == to {
		return err
	}
	renamed := *invalid
	renamed.Field = to
	return &renamed
}
