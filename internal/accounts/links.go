package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Purpose says what a one-time link is for.
type Purpose string

const (
	// PurposeReset is a forgotten password's link: it lasts ResetLinkLasts.
	PurposeReset Purpose = "reset"
	// PurposeInvitation is an invitation's set-password link: it lasts InvitationLasts.
	PurposeInvitation Purpose = "invitation"
)

// How long each kind of link works.
const (
	ResetLinkLasts  = 30 * time.Minute
	InvitationLasts = 7 * 24 * time.Hour
)

// linkPrefix starts every link's secret, so one pasted in the wrong place is recognisable.
const linkPrefix = "ppl_"

// ErrLinkUnusable is the one answer to a link that is unknown, expired, used, or made before
// the password was last set: the page says the same for each, so a link cannot be probed.
var ErrLinkUnusable = fmt.Errorf("%w: this link has expired or has been used already", failure.ErrNotFound)

// Link is a one-time link's record. It is stored under the SHA-256 of its secret (256 random
// bits), so a copy of the database holds no working link, and using a link reads it by _id.
type Link struct {
	ID        string    `bson:"_id"` // the secret's hash
	UserID    string    `bson:"userId"`
	Purpose   Purpose   `bson:"purpose"`
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
	// Password fingerprints the password the account had when the link was made: once any
	// link (or the person) sets a new one, every link made before stops working.
	Password string `bson:"password"`
	// By is who asked for the link: the person, or the administrator who invited them.
	By string `bson:"by,omitempty"`
}

// linksCollection holds the links. A link works once without a record of its use: setting
// the password changes what Password fingerprints, and the new password is stored as the
// account's next version only if the account is still at the version that was checked (an
// insert under a unique _id, atomic on every engine), so of two uses at once, on any
// instance, one sets the password and the other is refused.
const linksCollection = "password_links"

// Links makes and checks one-time links that let a person set their password.
type Links struct {
	coll  *database.Collection
	users *Users
	now   func() time.Time
}

// NewLinks opens the links store.
func NewLinks(ctx context.Context, db *database.DB, users *Users) (*Links, error) {
	return &Links{coll: db.Collection(linksCollection), users: users, now: time.Now}, nil
}

// passwordPrint is what a link keeps of the account's password when it is made.
func passwordPrint(hash string) string {
	if hash == "" {
		return "none"
	}
	sum := sha256.Sum256([]byte(hash))
	return hex.EncodeToString(sum[:8])
}

// Issue makes a link for the account and returns its secret, to be put in an email or shown
// once to an administrator. by is the id of whoever asked for it.
func (s *Links) Issue(ctx context.Context, userID string, purpose Purpose, by string) (string, Link, error) {
	u, err := s.users.ByID(ctx, userID)
	if err != nil {
		return "", Link{}, err
	}
	lasts := ResetLinkLasts
	if purpose == PurposeInvitation {
		lasts = InvitationLasts
	}
	secret := linkPrefix + newSecret()
	now := s.now().UTC().Truncate(time.Millisecond)
	l := Link{ID: secretID(secret), UserID: u.ID, Purpose: purpose, CreatedAt: now, ExpiresAt: now.Add(lasts),
		Password: passwordPrint(u.PasswordHash), By: by}
	if err := database.Insert(ctx, s.coll, l); err != nil {
		return "", Link{}, fmt.Errorf("make a link: %w", err)
	}
	return secret, l, nil
}

// Check returns the link's record and its account while the link still works, without
// using it: the page that asks for the new password calls it.
func (s *Links) Check(ctx context.Context, secret string) (Link, User, error) {
	if !strings.HasPrefix(secret, linkPrefix) {
		return Link{}, User{}, ErrLinkUnusable
	}
	l, err := database.FindByID[Link](ctx, s.coll, secretID(secret))
	if errors.Is(err, failure.ErrNotFound) {
		return Link{}, User{}, ErrLinkUnusable
	}
	if err != nil {
		return Link{}, User{}, err
	}
	if !s.now().Before(l.ExpiresAt) {
		return Link{}, User{}, ErrLinkUnusable
	}
	u, err := s.users.ByID(ctx, l.UserID)
	if errors.Is(err, failure.ErrNotFound) {
		return Link{}, User{}, ErrLinkUnusable
	}
	if err != nil {
		return Link{}, User{}, err
	}
	if passwordPrint(u.PasswordHash) != l.Password {
		return Link{}, User{}, ErrLinkUnusable
	}
	return l, u, nil
}

// Use sets the account's password through the link, once. A password the rules refuse
// leaves the link working, so the person can try another.
func (s *Links) Use(ctx context.Context, secret, password string) (Link, User, error) {
	l, u, err := s.Check(ctx, secret)
	if err != nil {
		return Link{}, User{}, err
	}
	if u.Disabled {
		return Link{}, User{}, ErrDisabled
	}
	if err := CheckPassword(password, u.Email); err != nil {
		return Link{}, User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return Link{}, User{}, err
	}
	what := changePassword
	if l.Purpose == PurposeInvitation {
		what = changeInvitationAccepted
	}
	next, err := s.users.change(ctx, u.ID, u.Version, what, func(a *User) { a.PasswordHash = hash })
	if errors.Is(err, failure.ErrConflict) {
		// Another use of this link, or another change to the account, came first: the
		// link works still only if the password is as it was.
		if _, _, cerr := s.Check(ctx, secret); cerr != nil {
			return Link{}, User{}, cerr
		}
	}
	if err != nil {
		return Link{}, User{}, err
	}
	// The link no longer works (the password it fingerprints is gone); removing it is tidying.
	_ = database.DeleteByID(ctx, s.coll, l.ID)
	return l, next, nil
}
