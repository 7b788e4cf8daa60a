package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// User is one person's account.
type User struct {
	ID           string `bson:"_id" json:"id"`
	Email        string `bson:"email" json:"email"`
	Name         string `bson:"name" json:"name"`
	Role         Role   `bson:"role" json:"role"`
	TrustID      string `bson:"trustId,omitempty" json:"trustId,omitempty"`
	PeerWorker   bool   `bson:"peerWorker,omitempty" json:"peerWorker,omitempty"`
	PasswordHash string `bson:"passwordHash" json:"-"`
	Disabled     bool   `bson:"disabled" json:"disabled"`
	// DisabledReason is what the administrator gave when disabling the account.
	DisabledReason string    `bson:"disabledReason,omitempty" json:"disabledReason,omitempty"`
	CreatedAt      time.Time `bson:"createdAt" json:"createdAt"`
	UpdatedAt      time.Time `bson:"updatedAt" json:"updatedAt"`
	Version        int64     `bson:"version" json:"version"`
}

// HasPassword reports whether the account has a password; one invited has none until the
// person sets it.
func (u User) HasPassword() bool { return u.PasswordHash != "" }

// NewUser is what it takes to create an account.
type NewUser struct {
	Email      string
	Name       string
	Role       Role
	TrustID    string
	PeerWorker bool
	// Password is the first password; empty leaves the account without one until the
	// person sets it through an invitation (Service.Invite).
	Password string
}

// Users stores accounts in the "users" collection, and every change to one as a version of
// it (see versionsCollection). Every read a request makes is by _id: an account by its id,
// and by its email address through the address's key document (see emailsCollection).
type Users struct {
	coll     *database.Collection
	versions *database.Collection
	emails   *database.Collection
	names    *database.Collection
	db       *database.DB
	now      func() time.Time
	// onChange is called after an account is changed, so cached copies are forgotten.
	onChange func(id string)
}

// NewUsers returns the account store, creating its indexes if they are missing.
func NewUsers(ctx context.Context, db *database.DB) (*Users, error) {
	coll := db.Collection("users")
	err := database.EnsureIndexes(ctx, coll,
		database.Index{Keys: []string{"email"}, Unique: true, Name: "email_unique"},
	)
	if err != nil {
		return nil, err
	}
	return &Users{coll: coll, versions: db.Collection(versionsCollection), emails: db.Collection(emailsCollection),
		names: db.Collection(namesCollection), db: db, now: time.Now}, nil
}

// emailsCollection holds one document for each address an account has, _id
// "email:<address>", naming the account: ByEmail reads it by _id, where a filter on the
// address would read every account on embedded FerretDB. Create inserts it before the
// account, and an insert under a taken _id is refused on every engine, so of two accounts
// made with one address at once, from this process or another, only one gets it.
const emailsCollection = "user_emails"

// emailKey names the account that has an address.
type emailKey struct {
	ID     string    `bson:"_id"`
	UserID string    `bson:"userId"`
	At     time.Time `bson:"at"`
}

func emailKeyID(email string) string { return "email:" + email }

// orphanKeyAge is how old a key document naming no account must be before Create takes its
// address: a writer that stopped between inserting the key and the account leaves one.
const orphanKeyAge = time.Minute

// claimEmail inserts the key document for key's address, or returns failure.ErrConflict
// when another account has the address.
func (s *Users) claimEmail(ctx context.Context, key emailKey, email string) error {
	taken := failure.Conflict(fmt.Sprintf("an account with the email %s already exists", email))
	insert := func() error {
		if err := database.Insert(ctx, s.emails, key); errors.Is(err, database.ErrDuplicate) {
			return taken
		} else if err != nil {
			return err
		}
		return nil
	}
	err := insert()
	if err != taken {
		return err
	}
	held, err := database.FindByID[emailKey](ctx, s.emails, key.ID)
	switch {
	case errors.Is(err, failure.ErrNotFound): // let go of by a Create that failed since
		return insert()
	case err != nil:
		return err
	}
	holder, err := s.ByID(ctx, held.UserID)
	switch {
	case err == nil && holder.Email == email:
		return taken
	case err == nil:
		// The account has another address now (Edit removes the old key after the change;
		// one that stopped in between leaves it). The address is free.
	case !errors.Is(err, failure.ErrNotFound):
		return err
	case s.now().Sub(held.At) < orphanKeyAge: // its account may be being stored
		return taken
	}
	// The key names no account and is old: its writer stopped before storing the account.
	// Should two writers take it over at once, the unique index on the account's email
	// still lets only one account have the address.
	if err := database.DeleteByID(ctx, s.emails, key.ID); err != nil {
		return err
	}
	return insert()
}

// releaseEmail takes back the key document claimEmail stored for an account that was not
// stored. Should another account have the address after all (two writers took over one
// orphaned key at once, and the unique index let the other's account in), the key is made
// to name that account: found by a query on the address, on this rare path only.
func (s *Users) releaseEmail(ctx context.Context, key emailKey, email string) error {
	if err := database.DeleteByID(ctx, s.emails, key.ID); err != nil {
		return err
	}
	var holder User
	err := s.coll.ScanFirst(ctx, bson.M{"email": email}, database.Scan{}, &holder)
	if errors.Is(err, failure.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return database.InsertOnce(ctx, s.emails, emailKey{ID: key.ID, UserID: holder.ID, At: key.At})
}

// NormalizeEmail trims and lower-cases an address and checks its form.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", failure.Problem("email", "Enter an email address")
	}
	if len(s) > 254 {
		return "", failure.Problem("email", "Email address must be 254 characters or fewer")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		return "", failure.Problem("email", "Enter an email address in the correct format, like name@example.com")
	}
	return s, nil
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", failure.Problem("name", "Enter the person's full name")
	case n > 120:
		return "", failure.Problem("name", "Full name must be 120 characters or fewer")
	}
	return name, nil
}

// Validate checks a new account and returns every problem with it at once (joined by
// failure.Problems), so a form can list them all.
func (nu NewUser) Validate() error {
	_, _, _, err := nu.normalize()
	return err
}

// normalize is the account's email, name and role as stored, or every problem found.
func (nu NewUser) normalize() (email, name string, role Role, err error) {
	email, emailErr := NormalizeEmail(nu.Email)
	name, nameErr := checkName(nu.Name)
	role, roleErr := ParseRole(string(nu.Role))
	var passwordErr error
	if nu.Password != "" {
		passwordErr = CheckPassword(nu.Password, email)
	}
	return email, name, role, failure.Problems(nameErr, emailErr, roleErr, passwordErr)
}

// Create validates and stores a new account. A taken email is failure.ErrConflict.
func (s *Users) Create(ctx context.Context, nu NewUser) (User, error) {
	email, name, role, err := nu.normalize()
	if err != nil {
		return User{}, err
	}
	// With no password the person sets their own through an invitation's link; until then
	// no password signs in.
	var hash string
	if nu.Password != "" {
		if hash, err = HashPassword(nu.Password); err != nil {
			return User{}, err
		}
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	u := User{
		ID: database.NewID(), Email: email, Name: name, Role: role, TrustID: nu.TrustID,
		PeerWorker: nu.PeerWorker && role == RoleTrainee, PasswordHash: hash,
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	key := emailKey{ID: emailKeyID(email), UserID: u.ID, At: now}
	if err := s.claimEmail(ctx, key, email); err != nil {
		return User{}, err
	}
	if err := s.coll.Insert(ctx, u); err != nil {
		// The address is not this account's after all.
		if derr := s.releaseEmail(ctx, key, email); derr != nil {
			slog.Warn("accounts: the key of an address whose account was not stored is left behind", "email", email, "err", derr)
		}
		if errors.Is(err, database.ErrDuplicate) {
			return User{}, failure.Conflict(fmt.Sprintf("an account with the email %s already exists", email))
		}
		return User{}, fmt.Errorf("insert user: %w", err)
	}
	s.noteName(ctx, u.ID, u.Name)
	return u, nil
}

// ByID returns the account with id.
func (s *Users) ByID(ctx context.Context, id string) (User, error) {
	var u User
	if err := s.coll.Get(ctx, id, &u); err != nil {
		return User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return s.latest(ctx, u)
}

// Inactive returns those of ids whose account is disabled or gone: the people who may no
// longer take part in anything live. It reads the database every time, so that a change made
// by another process (the command line) counts at once.
func (s *Users) Inactive(ctx context.Context, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		u, err := s.ByID(ctx, id)
		switch {
		case errors.Is(err, failure.ErrNotFound):
			out = append(out, id)
		case err != nil:
			return nil, fmt.Errorf("check accounts: %w", err)
		case u.Disabled:
			out = append(out, id)
		}
	}
	return out, nil
}

// ByEmail returns the account with the email address (compared without case).
func (s *Users) ByEmail(ctx context.Context, email string) (User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	key, err := database.FindByID[emailKey](ctx, s.emails, emailKeyID(email))
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", email, err)
	}
	u, err := s.ByID(ctx, key.UserID)
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", email, err)
	}
	if u.Email != email {
		return User{}, fmt.Errorf("user %s: %w", email, failure.ErrNotFound)
	}
	return u, nil
}

// List returns every account, by name. It reads the whole "users" collection, which holds
// nothing but the accounts: the work is the answer's size, and only the administrators'
// pages and the command line ask for it.
func (s *Users) List(ctx context.Context) ([]User, error) {
	users := []User{}
	err := s.coll.ScanAll(ctx, nil, database.Scan{Sort: bson.D{{Key: "name", Value: 1}, {Key: "_id", Value: 1}}}, &users)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	for i := range users {
		if users[i], err = s.latest(ctx, users[i]); err != nil {
			return nil, err
		}
	}
	return users, nil
}

// Count returns how many accounts there are, reading the "users" collection like List.
func (s *Users) Count(ctx context.Context) (int64, error) {
	return s.coll.Count(ctx, nil)
}

// SetDisabled disables or re-enables an account. Ending the person's sessions is the
// caller's part (see Service.SetDisabled).
func (s *Users) SetDisabled(ctx context.Context, id string, disabled bool) (User, error) {
	return s.setDisabled(ctx, id, disabled, "")
}

// setDisabled disables the account keeping the reason given, or enables it, forgetting the
// reason.
func (s *Users) setDisabled(ctx context.Context, id string, disabled bool, reason string) (User, error) {
	what := changeEnabled
	if disabled {
		what = changeDisabled
	} else {
		reason = ""
	}
	return s.change(ctx, id, 0, what, func(u *User) { u.Disabled, u.DisabledReason = disabled, reason })
}

// SetPassword checks and stores a new password.
func (s *Users) SetPassword(ctx context.Context, id, password string) error {
	u, err := s.ByID(ctx, id)
	if err != nil {
		return err
	}
	if err := CheckPassword(password, u.Email); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	_, err = s.change(ctx, id, 0, changePassword, func(u *User) { u.PasswordHash = hash })
	return err
}
