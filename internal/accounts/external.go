package accounts

import (
	"context"
	"errors"
	"fmt"

	"polyphony/internal/failure"
)

// ErrNotAdded means an organisation's sign-in vouched for an email address that no account
// has: an administrator has not added the person.
var ErrNotAdded = fmt.Errorf("%w: no account has this email address", failure.ErrUnauthenticated)

// LoginVerified starts a session for the person with this email address, which an identity
// provider has verified (see internal/sso), with no password. The account is found as
// Login finds it (Users.ByEmail); a person nobody has added is ErrNotAdded, and a disabled
// account is ErrDisabled.
func (s *Service) LoginVerified(ctx context.Context, email, ip, userAgent string) (User, string, Session, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return User{}, "", Session{}, ErrNotAdded
	}
	u, err := s.Users.ByEmail(ctx, norm)
	if errors.Is(err, failure.ErrNotFound) {
		return User{}, "", Session{}, ErrNotAdded
	}
	if err != nil {
		return User{}, "", Session{}, err
	}
	if u.Disabled {
		return User{}, "", Session{}, ErrDisabled
	}
	secret, sess, err := s.Sessions.Create(ctx, u.ID, ip, userAgent)
	if err != nil {
		return User{}, "", Session{}, err
	}
	return u, secret, sess, nil
}
