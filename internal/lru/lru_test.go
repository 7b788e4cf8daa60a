package lru

import (
	"fmt"
	"sync"
	"testing"
)

func TestCountBound(t *testing.T) {
	c := New[string, int](3, nil)
	for i, k := range []string{"a", "b", "c"} {
		c.Put(k, i)
	}
	if v, ok := c.Get("a"); !ok || v != 0 {
		t.Fatalf("a value just put: %d %v", v, ok)
	}
	c.Put("d", 3) // "b" is now the least recently used
	if _, ok := c.Get("b"); ok {
		t.Error("the least recently used value was kept past the bound")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s was dropped", k)
		}
	}
	if c.Len() != 3 || c.Cost() != 3 {
		t.Errorf("len %d cost %d, want 3 and 3", c.Len(), c.Cost())
	}
	if _, ok := c.Get("never"); ok {
		t.Error("a key never put is found")
	}
}

func TestReplaceAndRemove(t *testing.T) {
	c := New[string, string](100, func(k, v string) int64 { return int64(len(v)) })
	c.Put("a", "1234567890")
	c.Put("a", "12345")
	if v, _ := c.Get("a"); v != "12345" {
		t.Errorf("after a replace: %q", v)
	}
	if c.Len() != 1 || c.Cost() != 5 {
		t.Errorf("after a replace: len %d cost %d, want 1 and 5", c.Len(), c.Cost())
	}
	c.Remove("a")
	c.Remove("missing")
	if _, ok := c.Get("a"); ok || c.Len() != 0 || c.Cost() != 0 {
		t.Errorf("after a remove: len %d cost %d", c.Len(), c.Cost())
	}
}

func TestPutUnless(t *testing.T) {
	c := New[string, int](10, nil)
	later := func(v int) func(int) bool { return func(held int) bool { return held >= v } }
	if !c.PutUnless("a", 2, later(2)) {
		t.Error("a value under a new key was not stored")
	}
	if c.PutUnless("a", 1, later(1)) {
		t.Error("an earlier version replaced a later one")
	}
	if !c.PutUnless("a", 3, later(3)) {
		t.Error("a later version did not replace an earlier one")
	}
	if v, _ := c.Get("a"); v != 3 || c.Len() != 1 {
		t.Errorf("held %d (len %d), want 3", v, c.Len())
	}
	var wg sync.WaitGroup
	for v := range 100 {
		wg.Go(func() { c.PutUnless("b", v, later(v)) })
	}
	wg.Wait()
	if v, _ := c.Get("b"); v != 99 {
		t.Errorf("after puts at once the cache holds version %d, want 99", v)
	}
}

func TestCostBound(t *testing.T) {
	c := New[int, []byte](1000, func(_ int, b []byte) int64 { return int64(len(b)) })
	for i := range 20 {
		c.Put(i, make([]byte, 100))
		if c.Cost() > 1000 {
			t.Fatalf("cost %d past the bound", c.Cost())
		}
	}
	if c.Len() != 10 {
		t.Errorf("len %d, want 10 values of 100 within 1000", c.Len())
	}
	if _, ok := c.Get(9); ok {
		t.Error("an old value survived")
	}
	if _, ok := c.Get(19); !ok {
		t.Error("the newest value was dropped")
	}
	// One large value drops as many as it needs.
	c.Put(100, make([]byte, 550))
	if c.Len() != 5 || c.Cost() != 950 {
		t.Errorf("after a large put: len %d cost %d, want 5 and 950", c.Len(), c.Cost())
	}
	// Larger than the bound: not kept, and what was under the key goes.
	c.Put(19, make([]byte, 1001))
	if _, ok := c.Get(19); ok {
		t.Error("a value larger than the bound was kept")
	}
	if _, ok := c.Get(100); !ok {
		t.Error("a value too large to keep dropped the others")
	}
}

func TestZeroKeepsNothing(t *testing.T) {
	c := New[string, int](0, nil)
	c.Put("a", 1)
	if _, ok := c.Get("a"); ok || c.Len() != 0 {
		t.Error("a cache bounded at 0 kept a value")
	}
}

func TestConcurrent(t *testing.T) {
	c := New[string, int](50, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				k := fmt.Sprint((g*31 + i) % 80)
				c.Put(k, i)
				c.Get(k)
				if i%7 == 0 {
					c.Remove(k)
				}
			}
		})
	}
	wg.Wait()
	if c.Len() > 50 || int64(c.Len()) != c.Cost() {
		t.Errorf("len %d cost %d after concurrent use, bound 50", c.Len(), c.Cost())
	}
}
