package realtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// errInactive means the person's account was disabled (or removed) while connected.
var errInactive = errors.New("this account is disabled")

// accountGate asks whether people's accounts are still active, for many messages at once: a
// message waits for a check that began after it arrived, and every message that arrives while
// one check runs is answered by the next. So a message sent after an account is disabled, by
// any process, is never acted on, and a busy instance makes one query at a time.
type accountGate struct {
	inactive func(ctx context.Context, userIDs []string) ([]string, error)

	mu      sync.Mutex
	waiting []gateWait
	running bool
}

type gateWait struct {
	userID string
	answer chan error
}

// check returns nil when userID's account is active, errInactive when it is not, or the
// error that kept the question from being answered.
func (g *accountGate) check(userID string) error {
	w := gateWait{userID: userID, answer: make(chan error, 1)}
	g.mu.Lock()
	g.waiting = append(g.waiting, w)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		go g.lead()
	}
	return <-w.answer
}

// lead answers the waiting messages, one query per round, until none wait.
func (g *accountGate) lead() {
	for {
		g.mu.Lock()
		batch := g.waiting
		g.waiting = nil
		if len(batch) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		ids := make([]string, 0, len(batch))
		seen := map[string]bool{}
		for _, w := range batch {
			if !seen[w.userID] {
				seen[w.userID] = true
				ids = append(ids, w.userID)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		gone, err := g.inactive(ctx, ids)
		cancel()
		out := map[string]bool{}
		for _, id := range gone {
			out[id] = true
		}
		for _, w := range batch {
			switch {
			case err != nil:
				w.answer <- err
			case out[w.userID]:
				w.answer <- errInactive
			default:
				w.answer <- nil
			}
		}
	}
}

// connected counts this instance's connections per person, for the periodic check.
func (h *Hub) connected(userID string, delta int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.people[userID] += delta
	if h.people[userID] <= 0 {
		delete(h.people, userID)
	}
}

// watchAccounts closes, every Options.CheckEvery, the connections of everyone connected here
// whose account is no longer active, whichever process disabled it; it stops on Shutdown.
func (h *Hub) watchAccounts() {
	defer h.wg.Done()
	t := time.NewTicker(h.opts.CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-h.quit:
			return
		case <-t.C:
		}
		h.mu.Lock()
		ids := make([]string, 0, len(h.people))
		for id := range h.people {
			ids = append(ids, id)
		}
		h.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		gone, err := h.opts.Inactive(ctx, ids)
		cancel()
		if err != nil {
			slog.Warn("dialogue rooms: could not check the connected people's accounts", "err", err)
			continue
		}
		for _, id := range gone {
			h.disconnectHere(id)
		}
	}
}
