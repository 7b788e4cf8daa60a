package media_test

import (
	"errors"
	"strings"
	"testing"

	"polyphony/content/media"
)

func TestCleanFileName(t *testing.T) {
	good := map[string]string{
		"voice note.webm":         "voice note.webm",
		"  Reflection 3.m4a  ":    "Reflection 3.m4a",
		"Café notes – week 2.mp3": "Café notes – week 2.mp3",
		".hidden.png":             ".hidden.png",
		"family 👨‍👩‍👧.jpg":        "family 👨‍👩‍👧.jpg",
		"meeting 10:30.ogg":       "meeting 10:30.ogg",
		strings.Repeat("a", 255):  strings.Repeat("a", 255),
	}
	for in, want := range good {
		got, err := media.CleanFileName(in)
		if err != nil || got != want {
			t.Errorf("CleanFileName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                       "empty",
		"   ":                    "empty",
		"../x":                   "path separator",
		"..":                     "names a directory",
		".":                      "names a directory",
		"a/b":                    "path separator",
		"/etc/passwd":            "path separator",
		`C:\x`:                   "path separator",
		`..\..\boot.ini`:         "path separator",
		"C:x.png":                "drive letter",
		"a\x00.jpg":              "NUL",
		"line\nbreak.mp3":        "control character",
		"tab\there.mp3":          "control character",
		"bell\x07.mp3":           "control character",
		"del\x7f.mp3":            "control character",
		"c1\u0085.mp3":           "control character",
		"photo\u202egpj.exe":     "text-direction control",
		"\xff\xfe.jpg":           "not valid UTF-8",
		strings.Repeat("a", 256): "longer than 255",
	}
	for in, why := range bad {
		got, err := media.CleanFileName(in)
		if !errors.Is(err, media.ErrFileName) || !strings.Contains(err.Error(), why) {
			t.Errorf("CleanFileName(%q) = %q, %v; want ErrFileName saying %q", in, got, err, why)
		}
	}
}
