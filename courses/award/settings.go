package award

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Settings are what an administrator sets for every certificate from now on: the award's
// title and the awarding organisations. An award keeps those it was made with.
type Settings struct {
	Title         string    `bson:"title" json:"title"`
	Organisations []string  `bson:"organisations" json:"organisations"`
	UpdatedAt     time.Time `bson:"updatedAt,omitempty" json:"updatedAt,omitzero"`
	UpdatedBy     string    `bson:"updatedBy,omitempty" json:"updatedBy,omitempty"`
}

// settingsID is the one settings document.
const settingsID = "certificate"

// The longest a title, an organisation's name and a shown name may be: what one line of the
// certificate holds.
const (
	maxTitle        = 120
	maxOrganisation = 120
	maxOrgs         = 4
	maxName         = 100
)

// Settings returns the certificate's settings, the defaults until an administrator sets them.
func (s *Store) Settings(ctx context.Context) (Settings, error) {
	set, err := database.FindByID[Settings](ctx, s.settings, settingsID)
	if errors.Is(err, failure.ErrNotFound) {
		return Settings{Title: DefaultTitle, Organisations: []string{}}, nil
	}
	if err != nil {
		return Settings{}, err
	}
	if set.Organisations == nil {
		set.Organisations = []string{}
	}
	return set, nil
}

// SetSettings replaces the title and the awarding organisations for the awards to come,
// and returns them as they were before and are now.
func (s *Store) SetSettings(ctx context.Context, title string, orgs []string, by string) (before, after Settings, err error) {
	title = strings.TrimSpace(title)
	var errs []error
	switch {
	case title == "":
		errs = append(errs, failure.Problem("title", "Enter the award's title"))
	case utf8.RuneCountInString(title) > maxTitle:
		errs = append(errs, failure.Problemf("title", "The title must be %d characters or fewer", maxTitle))
	case len(Unprintable(title)) > 0:
		errs = append(errs, failure.Problemf("title", "The certificate cannot print %s in the title", string(Unprintable(title))))
	}
	clean := []string{}
	for _, o := range orgs {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if utf8.RuneCountInString(o) > maxOrganisation {
			errs = append(errs, failure.Problemf("organisations", "Each organisation's name must be %d characters or fewer", maxOrganisation))
			break
		}
		if missing := Unprintable(o); len(missing) > 0 {
			errs = append(errs, failure.Problemf("organisations", "The certificate cannot print %s in %s", string(missing), o))
			break
		}
		clean = append(clean, o)
	}
	if len(clean) > maxOrgs {
		errs = append(errs, failure.Problemf("organisations", "Name at most %d awarding organisations", maxOrgs))
	}
	if len(errs) > 0 {
		return Settings{}, Settings{}, failure.Problems(errs...)
	}
	defer s.db.Serialize(s.settings.Name(), settingsID)()
	if before, err = s.Settings(ctx); err != nil {
		return Settings{}, Settings{}, err
	}
	after = Settings{Title: title, Organisations: clean, UpdatedAt: s.now().UTC().Truncate(time.Millisecond), UpdatedBy: by}
	if err := s.settings.Put(ctx, settingsID, after); err != nil {
		return Settings{}, Settings{}, fmt.Errorf("store the certificate settings: %w", err)
	}
	return before, after, nil
}

// shownName is a person's choice of the name on their certificate.
type shownName struct {
	ID   string    `bson:"_id"`
	Name string    `bson:"name"`
	At   time.Time `bson:"at"`
}

// preferredName is the name the person chose for their certificate, "" for none.
func (s *Store) preferredName(ctx context.Context, userID string) (string, error) {
	n, err := database.FindByID[shownName](ctx, s.names, userID)
	if errors.Is(err, failure.ErrNotFound) {
		return "", nil
	}
	return n.Name, err
}

// ShownName is the name the person chose for their certificate, "" when they chose none.
func (s *Store) ShownName(ctx context.Context, userID string) (string, error) {
	return s.preferredName(ctx, userID)
}

// SetShownName records the name the person wants on their certificate, before or after the
// award: their awards, revoked ones too, show it from now on (a certificate downloaded
// again carries it, with the same code).
func (s *Store) SetShownName(ctx context.Context, userID, name string) error {
	name = strings.Join(strings.Fields(name), " ")
	switch {
	case name == "":
		return failure.Problem("shownName", "Enter your name as you want it on your certificate")
	case utf8.RuneCountInString(name) > maxName:
		return failure.Problemf("shownName", "Your name must be %d characters or fewer", maxName)
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return failure.Problem("shownName", "Your name must be letters, spaces and punctuation only")
	case len(Unprintable(name)) > 0:
		return failure.Problemf("shownName", "The certificate cannot print %s: write your name in Latin, Greek or Cyrillic letters", string(Unprintable(name)))
	}
	if err := s.names.Put(ctx, userID, shownName{ID: userID, Name: name, At: s.now().UTC()}); err != nil {
		return fmt.Errorf("store the name for the certificate: %w", err)
	}
	as, err := s.ForUser(ctx, userID)
	if err != nil {
		return err
	}
	for _, a := range as {
		if err := s.rename(ctx, a.ID, name); err != nil {
			return err
		}
	}
	return nil
}

// rename sets an award's shown name, holding the award's lock: on embedded FerretDB an
// update is a read and a write, and a revocation meanwhile would otherwise be lost.
func (s *Store) rename(ctx context.Context, id, name string) error {
	defer s.db.Serialize(s.awards.Name(), id)()
	if err := s.awards.Update(ctx, id, bson.M{"$set": bson.M{"shownName": name}}); err != nil {
		return fmt.Errorf("rename award %s: %w", id, err)
	}
	return nil
}
