package media_test

import (
	"errors"
	"strings"
	"testing"

	"polyphony/content/media"
	"polyphony/content/media/mediatest"
)

func TestValidKey(t *testing.T) {
	valid := []string{
		"a", "z", "0", "9",
		"a.b", "a_b", "a-b", "a/b", "a/b/c.d",
		"0a/.b", "courses/12/img-3_x.png",
		strings.Repeat("a", media.MaxKeyLen),
	}
	for _, key := range valid {
		if err := media.ValidKey(key); err != nil {
			t.Errorf("ValidKey(%q) = %v, want nil", key, err)
		}
	}
	for _, key := range mediatest.InvalidKeys {
		if err := media.ValidKey(key); !errors.Is(err, media.ErrInvalidKey) {
			t.Errorf("ValidKey(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}
