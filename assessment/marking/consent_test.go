package marking_test

import (
	"context"
	"sync"
)

// memConsent is a small working Consent kept in memory: the collaborator the consent package
// provides, reduced to what the store's calls need, so the tests can see which calls the store
// makes and give markers withheld turns.
type memConsent struct {
	mu       sync.Mutex
	asked    map[string]int // subject -> times asked
	closed   map[string]bool
	canceled map[string]bool
	withheld map[string]map[uint64]bool
}

func newMemConsent() *memConsent {
	return &memConsent{asked: map[string]int{}, closed: map[string]bool{}, canceled: map[string]bool{}, withheld: map[string]map[uint64]bool{}}
}

func (c *memConsent) Ask(_ context.Context, subjectID, _, _, _, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked[subjectID]++
	c.canceled[subjectID] = false
	return nil
}

func (c *memConsent) Withheld(_ context.Context, subjectID string) (map[uint64]bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[uint64]bool{}
	for k, v := range c.withheld[subjectID] {
		out[k] = v
	}
	return out, nil
}

func (c *memConsent) Close(_ context.Context, subjectID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed[subjectID] = true
	return nil
}

func (c *memConsent) Cancel(_ context.Context, subjectID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.canceled[subjectID] = true
	return nil
}

// withhold makes the speaker of turn refuse, for the subject.
func (c *memConsent) withhold(subjectID string, turn uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.withheld[subjectID] == nil {
		c.withheld[subjectID] = map[uint64]bool{}
	}
	c.withheld[subjectID][turn] = true
}

func (c *memConsent) state(subjectID string) (asked int, closed, canceled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.asked[subjectID], c.closed[subjectID], c.canceled[subjectID]
}
