package courses

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// A trainee is a trainee of one cohort at a time. Reading the person's list of memberships
// (traineeElsewhere) refuses an enrolment when they are already listed elsewhere, but two
// enrolments into two cohorts at the same moment would both read a list naming neither. The
// seat settles it: one document per person, under the _id trainee-seat/<user>, naming the
// cohort they are a trainee of. It is claimed by inserting it, so of two claims exactly one
// wins; it is given back (its cohort emptied) when the person stops being that cohort's
// trainee, and a seat left by an enrolment that stopped before its membership was stored is
// taken over once it is older than seatGrace.
type traineeSeat struct {
	ID       string    `bson:"_id"`
	UserID   string    `bson:"userId"`
	CohortID string    `bson:"cohortId"`
	At       time.Time `bson:"at"`
}

// seatGrace is how long a seat whose cohort has no trainee membership for the person yet is
// taken for an enrolment still under way. An enrolment stores its membership within
// milliseconds of claiming the seat.
const seatGrace = time.Minute

func seatID(userID string) string { return "trainee-seat/" + userID }

// claimTraineeSeat makes the user the trainee of cohortID's seat, or refuses, as bad input
// in field, when they hold the seat of another cohort.
func (s *Store) claimTraineeSeat(ctx context.Context, field, cohortID, userID string) error {
	now := s.now().UTC()
	for range 5 {
		err := s.lists.Insert(ctx, traineeSeat{ID: seatID(userID), UserID: userID, CohortID: cohortID, At: now})
		if err == nil {
			return nil
		}
		if !errors.Is(err, database.ErrDuplicate) {
			return fmt.Errorf("trainee seat of %s: %w", userID, err)
		}
		seat, err := database.FindByID[traineeSeat](ctx, s.lists, seatID(userID))
		if errors.Is(err, failure.ErrNotFound) {
			continue // given back and removed in between: claim it again
		}
		if err != nil {
			return err
		}
		if seat.CohortID == cohortID {
			return nil
		}
		if seat.CohortID != "" {
			held, err := s.holdsSeat(ctx, seat, now)
			if err != nil {
				return err
			}
			if held {
				return s.seatTaken(ctx, field, seat.CohortID)
			}
		}
		ok, err := s.lists.UpdateIf(ctx, seat.ID, bson.M{"cohortId": seat.CohortID},
			bson.M{"$set": bson.M{"cohortId": cohortID, "at": now}})
		if err != nil {
			return fmt.Errorf("trainee seat of %s: %w", userID, err)
		}
		if ok {
			return nil
		}
	}
	return failure.Conflict("this person's enrolment is being changed elsewhere; try again")
}

// holdsSeat says whether the seat still stands for a trainee membership: one is stored, or
// the claim is recent enough to be an enrolment under way.
func (s *Store) holdsSeat(ctx context.Context, seat traineeSeat, now time.Time) (bool, error) {
	m, err := s.existingMembership(ctx, seat.CohortID, seat.UserID)
	switch {
	case err == nil:
		return m.Role == accounts.RoleTrainee || now.Sub(seat.At) < seatGrace, nil
	case errors.Is(err, failure.ErrNotFound):
		return now.Sub(seat.At) < seatGrace, nil
	default:
		return false, err
	}
}

// seatTaken is the refusal of a second cohort, naming the first.
func (s *Store) seatTaken(ctx context.Context, field, cohortID string) error {
	name := "another cohort"
	if c, err := s.Cohort(ctx, cohortID); err == nil {
		name = c.Name
	}
	return failure.Problem(field, "This person is a trainee in "+name+": remove them from it first, as a trainee is in one cohort at a time")
}

// releaseTraineeSeat gives back the user's seat if cohortID holds it.
func (s *Store) releaseTraineeSeat(ctx context.Context, cohortID, userID string) error {
	_, err := s.lists.UpdateIf(ctx, seatID(userID), bson.M{"cohortId": cohortID}, bson.M{"$set": bson.M{"cohortId": ""}})
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return fmt.Errorf("trainee seat of %s: %w", userID, err)
	}
	return nil
}
