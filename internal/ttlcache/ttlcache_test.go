package ttlcache

import (
	"testing"
	"time"
)

func TestLifetime(t *testing.T) {
	c := New[string](2*time.Second, 10)
	start := time.Now()
	c.PutIfUnchanged("a", "one", start, c.Generation())
	if v, ok := c.Get("a", start.Add(1999*time.Millisecond)); !ok || v != "one" {
		t.Errorf("inside the lifetime: %q %v", v, ok)
	}
	if _, ok := c.Get("a", start.Add(2*time.Second)); ok {
		t.Error("at the end of the lifetime the value is still given")
	}
	if _, ok := c.Get("a", start.Add(-time.Second)); ok {
		t.Error("a clock that went back is given a value put in its future")
	}
	if _, ok := c.Get("b", start); ok {
		t.Error("a key never put is found")
	}
}

func TestForgetRefusesALoadThatBeganBefore(t *testing.T) {
	c := New[string](time.Minute, 10)
	now := time.Now()
	gen := c.Generation() // a load begins
	c.Forget("a")         // a change lands meanwhile
	c.PutIfUnchanged("a", "stale", now, gen)
	if v, ok := c.Get("a", now); ok {
		t.Errorf("a load that began before a forget was kept: %q", v)
	}
	c.PutIfUnchanged("a", "fresh", now, c.Generation())
	if v, _ := c.Get("a", now); v != "fresh" {
		t.Errorf("a load after the forget: %q", v)
	}
}

func TestForgetWhereAndUpdate(t *testing.T) {
	c := New[int](time.Minute, 10)
	now := time.Now()
	for k, v := range map[string]int{"a": 1, "b": 2, "c": 3} {
		c.PutIfUnchanged(k, v, now, c.Generation())
	}
	c.ForgetWhere(func(v int) bool { return v%2 == 1 })
	if _, ok := c.Get("a", now); ok {
		t.Error("a matching value was kept")
	}
	if v, ok := c.Get("b", now); !ok || v != 2 {
		t.Errorf("a value that did not match: %d %v", v, ok)
	}
	c.Update("b", func(v int) int { return v * 10 })
	c.Update("z", func(v int) int { return 99 })
	if v, _ := c.Get("b", now); v != 20 {
		t.Errorf("updated value %d, want 20", v)
	}
	if _, ok := c.Get("z", now); ok {
		t.Error("Update created a missing key")
	}
}

func TestBounded(t *testing.T) {
	c := New[int](time.Minute, 3)
	now := time.Now()
	for i, k := range []string{"a", "b", "c", "d", "e"} {
		c.PutIfUnchanged(k, i, now, c.Generation())
		if n := c.Len(); n > 3 {
			t.Fatalf("after %d puts the cache holds %d values, bound 3", i+1, n)
		}
	}
	if v, ok := c.Get("e", now); !ok || v != 4 {
		t.Errorf("the newest value: %d %v", v, ok)
	}
}

func TestZeroLifetimeCachesNothing(t *testing.T) {
	c := New[int](0, 3)
	now := time.Now()
	c.PutIfUnchanged("a", 1, now, c.Generation())
	if _, ok := c.Get("a", now); ok || c.Len() != 0 {
		t.Error("a cache with no lifetime kept a value")
	}
}

func TestForgetAll(t *testing.T) {
	c := New[string](time.Minute, 10)
	now := time.Now()
	c.PutIfUnchanged("a", "one", now, c.Generation())
	c.PutIfUnchanged("b", "two", now, c.Generation())
	gen := c.Generation()
	c.ForgetAll()
	if c.Len() != 0 {
		t.Errorf("%d values after ForgetAll", c.Len())
	}
	c.PutIfUnchanged("a", "stale", now, gen)
	if _, ok := c.Get("a", now); ok {
		t.Error("a load that began before ForgetAll was kept")
	}
}
