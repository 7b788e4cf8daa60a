package accounts

import (
	"context"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// ClientThrottle counts every request of one kind from each client address, where Throttle
// counts only failures: the public verification of certificates, which anyone may ask
// without signing in, allows each address so many look-ups in a window, found or not. It
// keeps its counts in the sign-in throttle's chains, under keys of its own, so every
// instance of the server sees the same counts.
type ClientThrottle struct {
	t *Throttle
}

// NewClientThrottle counts requests named name (a word of its own for each kind), allowing
// limit of them from one address in window, on the clock now (nil: time.Now).
func NewClientThrottle(ctx context.Context, db *database.DB, name string, limit int, window time.Duration, now func() time.Time) (*ClientThrottle, error) {
	t, err := NewThrottle(ctx, db, ThrottleConfig{PerIP: max(limit, 1), Window: window})
	if err != nil {
		return nil, err
	}
	t.prefix = name + "/"
	if now != nil {
		t.now = now
	}
	return &ClientThrottle{t: t}, nil
}

// Take counts one request from ip, or returns a *failure.ThrottledError, counting nothing,
// when ip has used up the window; RetryAfter is when the oldest of its requests leaves it.
func (c *ClientThrottle) Take(ctx context.Context, ip string) error {
	key, limit := c.t.ipKey(ip), c.t.cfg.PerIP
	wait, err := c.t.wait(ctx, key, limit, c.t.now())
	if err != nil {
		return err
	}
	if wait > 0 {
		return &failure.ThrottledError{RetryAfter: wait.Truncate(time.Second) + time.Second}
	}
	return c.t.record(ctx, key, func(recent []time.Time) ([]time.Time, bool) {
		times := append(recent, c.t.now().UTC().Truncate(time.Millisecond))
		return times[max(0, len(times)-limit):], true
	})
}
