package mail

import (
	"context"
	"slices"

	"polyphony/internal/failure"
)

// Preferences say which kinds of email a person has turned off. Every kind is on until they
// turn it off; the kinds that are always sent cannot be.
type Preferences struct {
	Off []Kind
}

// On reports whether the person gets emails of kind k.
func (p Preferences) On(k Kind) bool { return k.Always() || !slices.Contains(p.Off, k) }

// Preferences reads userID's email preferences (all on, for someone who never saved any).
func (q *Queue) Preferences(ctx context.Context, userID string) (Preferences, error) {
	if userID == "" {
		return Preferences{}, failure.Invalid("userId", "is required")
	}
	d, err := q.st.preferences(ctx, userID)
	if err != nil {
		return Preferences{}, err
	}
	return Preferences{Off: d.Off}, nil
}

// SetPreferences saves the kinds userID turned off, replacing what was saved before. An
// unknown kind, or one that is always sent, is refused.
func (q *Queue) SetPreferences(ctx context.Context, userID string, off []Kind) error {
	if userID == "" {
		return failure.Invalid("userId", "is required")
	}
	clean := []Kind{}
	for _, k := range off {
		switch {
		case !k.Valid():
			return failure.Invalidf("off", "%q is not a kind of email", k)
		case k.Always():
			return failure.Invalidf("off", "%s emails are always sent and cannot be turned off", k)
		case !slices.Contains(clean, k):
			clean = append(clean, k)
		}
	}
	slices.Sort(clean)
	return q.st.setPreferences(ctx, prefsDoc{ID: userID, Off: clean, UpdatedAt: q.cfg.Now()})
}
