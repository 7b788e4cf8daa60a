package media

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSweepRemovesStaleTempFiles leaves temporary files the way a crash
// in the middle of Local.Put does and checks which ones a sweep removes.
func TestSweepRemovesStaleTempFiles(t *testing.T) {
	l, err := NewLocal(t.TempDir(), []byte("0123456789abcdef0123456789abcdef"), "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmp := func(key string, header bool, age time.Duration) string {
		t.Helper()
		dir := filepath.Dir(l.path(key))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		f, err := os.CreateTemp(dir, localTmpPrefix+"*")
		if err != nil {
			t.Fatal(err)
		}
		if header {
			hdr, err := encodeLocalHeader(localHeader{Key: key, ContentType: "video/webm"})
			if err != nil {
				t.Fatal(err)
			}
			_, _ = f.Write(append(hdr, "partial"...))
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f.Name(), now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
		return f.Name()
	}
	crashed := tmp("journal/2026/crashed.webm", true, 2*time.Hour)
	headerless := tmp("journal/2026/headerless.webm", false, 2*time.Hour)
	running := tmp("journal/2026/running.webm", true, time.Minute)
	outside := tmp("other/crashed.webm", true, 2*time.Hour)

	removed, err := Sweep(t.Context(), l, "journal/", func(string) bool { return false }, time.Hour, now)
	if err != nil || len(removed) != 0 {
		t.Fatalf("Sweep = %q, %v; want no objects removed", removed, err)
	}
	for path, wantGone := range map[string]bool{crashed: true, headerless: true, running: false, outside: false} {
		_, err := os.Stat(path)
		if gone := errors.Is(err, fs.ErrNotExist); gone != wantGone {
			t.Errorf("%s: gone %v, want %v", filepath.Base(path), gone, wantGone)
		}
	}
}
