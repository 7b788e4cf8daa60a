package mail

import (
	"context"
	"slices"

	"polyphony/internal/failure"
)

// Preferences say which kinds of email a person has turned off, and which of the kinds that
// are off until chosen (Kind.OptIn) they have turned on. Every other kind is on until they
// turn it off; the kinds that are always sent cannot be.
type Preferences struct {
	Off    []Kind
	Chosen []Kind
}

// On reports whether the person gets emails of kind k.
func (p Preferences) On(k Kind) bool {
	switch {
	case k.Always():
		return true
	case k.OptIn():
		return slices.Contains(p.Chosen, k)
	}
	return !slices.Contains(p.Off, k)
}

// Preferences reads userID's email preferences (all on, for someone who never saved any).
func (q *Queue) Preferences(ctx context.Context, userID string) (Preferences, error) {
	if userID == "" {
		return Preferences{}, failure.Invalid("userId", "is required")
	}
	d, err := q.st.preferences(ctx, userID)
	if err != nil {
		return Preferences{}, err
	}
	return Preferences{Off: d.Off, Chosen: d.On}, nil
}

// SetPreferences saves the kinds userID turned off, replacing what was saved before: every
// kind not listed is on, those that are off until chosen included. An unknown kind, or one
// that is always sent, is refused.
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
	var chosen []Kind
	for _, k := range optIn {
		if !slices.Contains(clean, k) {
			chosen = append(chosen, k)
		}
	}
	return q.st.setPreferences(ctx, prefsDoc{ID: userID, Off: clean, On: chosen, UpdatedAt: q.cfg.Now()})
}
