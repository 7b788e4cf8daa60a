package accounts

import (
	"context"
	"fmt"

	"polyphony/internal/database"
)

// ErasedName is the name an account is left with once its person's data is erased.
const ErasedName = "Erased person"

// changeErased is the change EraseIdentity records.
const changeErased = "erased"

// erasedEmail is the address an erased account is left with: one per account (the address
// is unique), which names no one and can never receive mail (.invalid is reserved).
func erasedEmail(id string) string { return "erased-" + id + "@erased.invalid" }

// EraseIdentity takes the person out of their account, for the erasure of their personal
// data: the name becomes ErasedName, the address one that names no one, and the trust,
// peer worker flag and password go; the account stays, disabled, so that the records of
// other people that name its id (marks it gave, registers it was on) still find an account.
// Every earlier version of the account, each holding the name and the address, is deleted,
// and the address is let go of, so that it can be given to a new account. Only the server's
// erasure calls it, after ending the person's sessions.
func (s *Users) EraseIdentity(ctx context.Context, id string) (User, error) {
	before, err := s.ByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	after, err := s.change(ctx, id, 0, changeErased, func(u *User) {
		u.Name, u.Email, u.TrustID, u.PeerWorker, u.PasswordHash = ErasedName, erasedEmail(id), "", false, ""
		u.Disabled = true
	})
	if err != nil {
		return User{}, err
	}
	for v := int64(1); v < after.Version; v++ {
		if _, err := s.versions.Delete(ctx, versionKey(id, v)); err != nil {
			return after, fmt.Errorf("erase version %d of account %s: %w", v, id, err)
		}
	}
	if before.Email != after.Email {
		if err := database.DeleteByID(ctx, s.emails, emailKeyID(before.Email)); err != nil {
			return after, fmt.Errorf("let go of the erased address: %w", err)
		}
	}
	s.noteName(ctx, id, ErasedName)
	return after, nil
}
