package award

import (
	"context"
	"time"
	_ "time/tzdata" // Europe/London without relying on the host's zone files
)

// Verification is what the public verification of a code shows: the name on the
// certificate, the award, its date and whether it stands. Nothing else about the person.
type Verification struct {
	ShownName string    `json:"name"`
	Title     string    `json:"award"`
	AwardedAt time.Time `json:"awardedAt"`
	Status    string    `json:"status"` // Valid or Revoked
	RevokedAt time.Time `json:"revokedAt,omitzero"`
}

// Verify answers a look-up of a code from a client address, counted by the throttle: too
// many from one address is a *failure.ThrottledError, and a code that is no award's,
// malformed or unknown, is failure.ErrNotFound, the same for each.
func (s *Store) Verify(ctx context.Context, typed, client string) (Verification, error) {
	if err := s.throttle.Take(ctx, client); err != nil {
		return Verification{}, err
	}
	a, err := s.ByCode(ctx, typed)
	if err != nil {
		return Verification{}, err
	}
	v := Verification{ShownName: a.ShownName, Title: a.Title, AwardedAt: a.AwardedAt, Status: a.Status}
	if a.Revoked != nil {
		v.RevokedAt = a.Revoked.At
	}
	return v, nil
}

// ukTime is the clock the certificate's and the page's dates are on.
var ukTime = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err) // time/tzdata is compiled in
	}
	return loc
}()

// Date is a day as the certificate and the verification page write it, on the UK's clock:
// "3 December 2026".
func Date(t time.Time) string { return t.In(ukTime).Format("2 January 2006") }
