package server

import (
	"bytes"
	"strings"
	"testing"
)

func TestPageCache(t *testing.T) {
	c := newPageCache(8 << 10)
	html := strings.Repeat("x", 100)
	page := func(n byte) []byte { return bytes.Repeat([]byte{n}, 1000) }
	c.put("a", html, page('a'))
	if out, ok := c.get("a", html); !ok || out[0] != 'a' {
		t.Fatal("a page just put is not found")
	}
	if _, ok := c.get("a", html+"changed"); ok {
		t.Error("a page was served for different HTML under the same key")
	}
	if _, ok := c.get("b", html); ok {
		t.Error("an unknown key was found")
	}
	for i := range 20 {
		c.put(string(rune('b'+i)), html, page(byte('b'+i)))
	}
	if n := c.entries.Cost(); n > 8<<10 {
		t.Errorf("the cache holds %d bytes, bound %d", n, 8<<10)
	}
	if _, ok := c.get("a", html); ok {
		t.Error("the least recently used page was kept past the bound")
	}
	if out, ok := c.get(string(rune('b'+19)), html); !ok || out[0] != byte('b'+19) {
		t.Error("the newest page was dropped")
	}
	c.put("big", html, make([]byte, 2<<10))
	if _, ok := c.get("big", html); ok {
		t.Error("a page larger than an eighth of the bound was kept")
	}
}

func TestCacheKeyIsUnambiguous(t *testing.T) {
	if cacheKey("ab", "c") == cacheKey("a", "bc") {
		t.Error("different parts made the same key")
	}
	if cacheKey("a", "") == cacheKey("a") {
		t.Error("an empty part made no difference")
	}
}
