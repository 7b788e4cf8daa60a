package courses

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// calendarTokenDoc is one of a person's calendar tokens, under the token itself. Tokens
// are only ever added, each as the next version of the person's token: a version document
// (calendarVersionDoc) under an id made from the person and the number says which token it
// is, so of two simultaneous rotations exactly one wins, and the highest version is the live
// token. Earlier tokens are deleted after a rotation and refused by CalendarUser even while
// they linger. Every read is by _id.
type calendarTokenDoc struct {
	Token     string    `bson:"_id"`
	UserID    string    `bson:"userId"`
	Version   int       `bson:"version"`
	CreatedAt time.Time `bson:"createdAt"`
}

// calendarVersionDoc is version Version of a person's calendar token.
type calendarVersionDoc struct {
	ID        string    `bson:"_id"` // calendarVersionID
	Token     string    `bson:"token"`
	UserID    string    `bson:"userId"`
	Version   int       `bson:"version"`
	CreatedAt time.Time `bson:"createdAt"`
}

func calendarVersionID(userID string, n int) string { return fmt.Sprintf("%s/%06d", userID, n) }

func (d calendarVersionDoc) token() calendarTokenDoc {
	return calendarTokenDoc{Token: d.Token, UserID: d.UserID, Version: d.Version, CreatedAt: d.CreatedAt}
}

func (s *Store) calendarVersion(ctx context.Context, userID string, n int) (calendarVersionDoc, error) {
	return database.FindByID[calendarVersionDoc](ctx, s.calendarVersions, calendarVersionID(userID, n))
}

// CalendarToken returns the secret token of the person's private calendar feed, making one
// the first time. The token is kept in clear, like the private address of other calendar
// services: it is a capability URL that the person must be able to copy again, it grants
// read access to a timetable and nothing else, and RotateCalendarToken revokes it at once.
func (s *Store) CalendarToken(ctx context.Context, userID string) (string, error) {
	if userID == "" {
		return "", failure.Invalid("userId", "is required")
	}
	latest, err := s.latestCalendarToken(ctx, userID)
	if err == nil {
		return latest.Token, nil
	}
	if !errors.Is(err, failure.ErrNotFound) {
		return "", err
	}
	return s.addCalendarToken(ctx, userID, 1)
}

// RotateCalendarToken replaces the person's calendar token with a new one; the old feed
// address stops working at once. When two rotations race, both callers get the winner's
// token: either way the old one is gone.
func (s *Store) RotateCalendarToken(ctx context.Context, userID string) (string, error) {
	if userID == "" {
		return "", failure.Invalid("userId", "is required")
	}
	version := 1
	latest, err := s.latestCalendarToken(ctx, userID)
	switch {
	case err == nil:
		version = latest.Version + 1
	case !errors.Is(err, failure.ErrNotFound):
		return "", err
	}
	token, err := s.addCalendarToken(ctx, userID, version)
	if err != nil {
		return "", err
	}
	if version > 1 && latest.Token != token {
		// The tokens before latest went at their own rotations.
		if err := database.DeleteByID(ctx, s.calendarTokens, latest.Token); err != nil {
			return "", fmt.Errorf("remove old calendar token: %w", err)
		}
	}
	return token, nil
}

// CalendarUser returns whose calendar feed the token opens; failure.ErrNotFound when the
// token is unknown or has been replaced.
func (s *Store) CalendarUser(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", fmt.Errorf("calendar token: %w", failure.ErrNotFound)
	}
	var doc calendarTokenDoc
	if err := s.calendarTokens.Get(ctx, token, &doc); err != nil {
		// The token itself stays out of the message: it is a secret.
		return "", fmt.Errorf("calendar token: %w", err)
	}
	// The token is live when its version names it (a token whose version another rotation
	// won is not) and no later version exists.
	v, err := s.calendarVersion(ctx, doc.UserID, doc.Version)
	if errors.Is(err, failure.ErrNotFound) || (err == nil && v.Token != token) {
		return "", fmt.Errorf("calendar token: %w", failure.ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	switch _, err := s.calendarVersion(ctx, doc.UserID, doc.Version+1); {
	case err == nil:
		return "", fmt.Errorf("calendar token: replaced: %w", failure.ErrNotFound)
	case !errors.Is(err, failure.ErrNotFound):
		return "", err
	}
	return doc.UserID, nil
}

// latestCalendarToken finds the person's highest token version by probing versions by id.
func (s *Store) latestCalendarToken(ctx context.Context, userID string) (calendarTokenDoc, error) {
	n, doc, err := lastInChain(0, calendarVersionDoc{}, func(n int) (calendarVersionDoc, error) {
		return s.calendarVersion(ctx, userID, n)
	})
	if err != nil {
		return calendarTokenDoc{}, err
	}
	if n == 0 {
		return calendarTokenDoc{}, fmt.Errorf("calendar token of %s: %w", userID, failure.ErrNotFound)
	}
	return doc.token(), nil
}

// addCalendarToken stores a new token as the version given; when another request stored
// that version first, it returns the newest token instead.
func (s *Store) addCalendarToken(ctx context.Context, userID string, version int) (string, error) {
	doc := calendarTokenDoc{
		Token: rand.Text() + rand.Text(), UserID: userID, Version: version,
		CreatedAt: s.now().UTC().Truncate(time.Millisecond),
	}
	if err := database.Insert(ctx, s.calendarTokens, doc); err != nil {
		return "", fmt.Errorf("store calendar token of %s: %w", userID, err)
	}
	err := database.Insert(ctx, s.calendarVersions, calendarVersionDoc{
		ID: calendarVersionID(userID, version), Token: doc.Token, UserID: userID, Version: version, CreatedAt: doc.CreatedAt,
	})
	if errors.Is(err, database.ErrDuplicate) {
		// Another request stored that version first: this token never counted.
		if err := database.DeleteByID(ctx, s.calendarTokens, doc.Token); err != nil {
			return "", err
		}
		// The winner's token may itself have been replaced since: take the newest.
		winner, err := s.latestCalendarToken(ctx, userID)
		if err != nil {
			return "", err
		}
		return winner.Token, nil
	}
	if err != nil {
		return "", fmt.Errorf("store calendar token of %s: %w", userID, err)
	}
	return doc.Token, nil
}
