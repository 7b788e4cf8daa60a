package accounts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// changeEdited is the change an administrator's edit records.
const changeEdited = "edited"

// Edit is what an administrator changes of an account; a nil field stays as it is.
type Edit struct {
	Name       *string
	Email      *string
	Role       *Role
	TrustID    *string
	PeerWorker *bool
}

// Fields are the fields of an account an edit can change, by the names the audit log
// shows, with their values.
func (u User) Fields() map[string]string {
	return map[string]string{
		"name": u.Name, "email": u.Email, "role": string(u.Role), "trust": u.TrustID,
		"peer worker": strconv.FormatBool(u.PeerWorker), "disabled": strconv.FormatBool(u.Disabled),
	}
}

// FieldNames lists Fields' names in the order they are shown.
var FieldNames = []string{"name", "email", "role", "trust", "peer worker", "disabled"}

// Edit changes the account as e says, if it is still at version base (0: whatever its
// version), and returns it as it was and as it is now. A new email address is claimed before
// the change, as Create claims one, so of two accounts given one address at once only one
// gets it; the old address is let go of after.
func (s *Users) Edit(ctx context.Context, id string, base int64, e Edit) (User, User, error) {
	before, err := s.ByID(ctx, id)
	if err != nil {
		return User{}, User{}, err
	}
	next := before
	var problems []error
	if e.Name != nil {
		name, err := checkName(*e.Name)
		problems = append(problems, err)
		next.Name = name
	}
	if e.Email != nil {
		email, err := NormalizeEmail(*e.Email)
		problems = append(problems, err)
		next.Email = email
	}
	if e.Role != nil {
		role, err := ParseRole(string(*e.Role))
		problems = append(problems, err)
		next.Role = role
	}
	if e.TrustID != nil {
		next.TrustID = strings.TrimSpace(*e.TrustID)
	}
	if e.PeerWorker != nil {
		next.PeerWorker = *e.PeerWorker
	}
	next.PeerWorker = next.PeerWorker && next.Role == RoleTrainee
	if err := failure.Problems(problems...); err != nil {
		return User{}, User{}, err
	}
	if base > 0 && before.Version != base {
		return User{}, User{}, failure.Conflict("the account was changed by someone else; reload and try again")
	}
	newEmail := next.Email != before.Email
	var key emailKey
	if newEmail {
		key = emailKey{ID: emailKeyID(next.Email), UserID: id, At: s.now().UTC()}
		if err := s.claimEmail(ctx, key, next.Email); err != nil {
			var conflict *failure.ConflictError
			if errors.As(err, &conflict) {
				return User{}, User{}, failure.Problemf("email", "Another account has the email address %s", next.Email)
			}
			return User{}, User{}, err
		}
	}
	after, err := s.change(ctx, id, before.Version, changeEdited, func(u *User) {
		u.Name, u.Email, u.Role, u.TrustID, u.PeerWorker = next.Name, next.Email, next.Role, next.TrustID, next.PeerWorker
	})
	if err != nil {
		if newEmail {
			_ = database.DeleteByID(ctx, s.emails, key.ID)
		}
		return User{}, User{}, err
	}
	if newEmail {
		if err := database.DeleteByID(ctx, s.emails, emailKeyID(before.Email)); err != nil {
			return before, after, fmt.Errorf("let go of the old address: %w", err)
		}
	}
	if after.Name != before.Name {
		s.noteName(ctx, id, after.Name)
	}
	return before, after, nil
}

// SetDisabledBecause disables or enables an account as SetDisabled does, keeping the reason
// the administrator gave for disabling it.
func (s *Service) SetDisabledBecause(ctx context.Context, id string, disabled bool, reason string) (User, error) {
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > 500 {
		return User{}, failure.Problem("reason", "The reason must be 500 characters or fewer")
	}
	u, err := s.Users.setDisabled(ctx, id, disabled, reason)
	if err != nil || !disabled {
		return u, err
	}
	// The change has made every instance forget the person's cached sessions, and a session
	// read from now on finds the account disabled and is not cached.
	return u, s.endSessions(ctx, id, "")
}
