package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"os"
	"testing"
)

// webmInfo finds the Segment Info of a live-recorded WebM: where it starts and ends, its
// Duration in milliseconds (NaN when it has none).
func webmInfo(t *testing.T, b []byte) (start, end int, duration float64) {
	t.Helper()
	_, size, hdr, _ := ebmlElement(b)
	p := hdr + int(size)
	_, _, hdr, _ = ebmlElement(b[p:]) // the Segment
	p += hdr
	id, size, hdr, ok := ebmlElement(b[p:])
	if !ok || id != mkvInfo {
		t.Fatalf("element 0x%x where the Info should be", id)
	}
	duration = math.NaN()
	for c := b[p+hdr : p+hdr+int(size)]; len(c) > 0; {
		cid, csize, chdr, _ := ebmlElement(c)
		if cid == mkvDuration {
			duration = math.Float64frombits(binary.BigEndian.Uint64(c[chdr:]))
		}
		c = c[chdr+int(csize):]
	}
	return p, p + hdr + int(size), duration
}

func uploadFile(t *testing.T, store Store, raw []byte) ([]byte, Uploaded) {
	t.Helper()
	up, err := Upload(context.Background(), store, bytes.NewReader(raw), int64(len(raw)), UploadOptions{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := store.Get(context.Background(), up.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	stored, _ := io.ReadAll(rc)
	return stored, up
}

// TestUploadWritesWebMDuration uploads a recording as a browser makes it, without a
// Duration: it is stored with the time of its last block as its Duration, and otherwise
// byte for byte as sent. A WebM laid out otherwise is stored as it came.
func TestUploadWritesWebMDuration(t *testing.T) {
	store, err := NewLocal(t.TempDir(), []byte("0123456789abcdef0123456789abcdef"), "")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/recording-chrome.webm")
	if err != nil {
		t.Fatal(err)
	}
	rawStart, rawEnd, d := webmInfo(t, raw)
	if !math.IsNaN(d) {
		t.Fatalf("the recording has a Duration already (%v ms): it tests nothing", d)
	}
	stored, up := uploadFile(t, store, raw)
	if up.ContentType != "audio/webm" || up.Kind != KindAudio || up.Size != int64(len(stored)) {
		t.Errorf("stored as %s %s, %d bytes (%d read back)", up.ContentType, up.Kind, up.Size, len(stored))
	}
	start, end, d := webmInfo(t, stored)
	// 1.2 s were recorded; the last Opus frame starts within a frame of the end.
	if math.IsNaN(d) || d < 1000 || d > 1300 {
		t.Errorf("stored Duration %v ms, want the recording's length, about 1200", d)
	}
	if !bytes.Equal(stored[:start], raw[:rawStart]) || !bytes.Equal(stored[end:], raw[rawEnd:]) {
		t.Errorf("more changed than the Info")
	}

	// ffmpeg's live WebM starts its Segment with a SeekHead whose offsets would move.
	other, err := os.ReadFile("testdata/recording-opus.webm")
	if err != nil {
		t.Fatal(err)
	}
	if stored, _ := uploadFile(t, store, other); !bytes.Equal(stored, other) {
		t.Errorf("a WebM with a SeekHead was changed (%d bytes stored of %d)", len(stored), len(other))
	}
}
