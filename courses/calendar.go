package courses

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// calendarTokenDoc is one of a person's calendar tokens. Tokens are only ever added, under
// a unique (userId, version): the highest version is the live one, so of two simultaneous
// rotations exactly one wins. Earlier versions are deleted after a rotation and refused by
// CalendarUser even while they linger.
type calendarTokenDoc struct {
	Token     string    `bson:"_id"`
	UserID    string    `bson:"userId"`
	Version   int       `bson:"version"`
	CreatedAt time.Time `bson:"createdAt"`
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
	if _, err := s.calendarTokens.DeleteMany(ctx, bson.M{"userId": userID, "version": bson.M{"$lt": version}}); err != nil {
		return "", fmt.Errorf("remove old calendar tokens: %w", err)
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
	if err := s.calendarTokens.FindOne(ctx, bson.M{"_id": token}).Decode(&doc); err != nil {
		// The token itself stays out of the message: it is a secret.
		return "", fmt.Errorf("calendar token: %w", database.Translate(err))
	}
	latest, err := s.latestCalendarToken(ctx, doc.UserID)
	if err != nil {
		return "", err
	}
	if latest.Token != token {
		return "", fmt.Errorf("calendar token: replaced: %w", failure.ErrNotFound)
	}
	return doc.UserID, nil
}

func (s *Store) latestCalendarToken(ctx context.Context, userID string) (calendarTokenDoc, error) {
	var doc calendarTokenDoc
	err := s.calendarTokens.FindOne(ctx, bson.M{"userId": userID},
		options.FindOne().SetSort(bson.D{{Key: "version", Value: -1}})).Decode(&doc)
	if err != nil {
		return calendarTokenDoc{}, fmt.Errorf("calendar token of %s: %w", userID, database.Translate(err))
	}
	return doc, nil
}

// addCalendarToken stores a new token as the version given; when another request stored
// that version first, it returns the newest token instead.
func (s *Store) addCalendarToken(ctx context.Context, userID string, version int) (string, error) {
	doc := calendarTokenDoc{
		Token: rand.Text() + rand.Text(), UserID: userID, Version: version,
		CreatedAt: s.now().UTC().Truncate(time.Millisecond),
	}
	_, err := s.calendarTokens.InsertOne(ctx, doc)
	if errors.Is(database.Translate(err), database.ErrDuplicate) {
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
