package media

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

func TestMP3FrameLen(t *testing.T) {
	cases := []struct {
		name   string
		header []byte
		want   int
	}{
		{"MPEG1LayerIII128k44k", []byte{0xff, 0xfb, 0x90, 0x64}, 417},
		{"MPEG1LayerIII128k44kPadded", []byte{0xff, 0xfb, 0x92, 0x64}, 418},
		{"MPEG1LayerIII320k48k", []byte{0xff, 0xfb, 0xe4, 0x00}, 960},
		{"MPEG2LayerIII64k22k", []byte{0xff, 0xf3, 0x80, 0x00}, 208},
		{"MPEG25LayerIII8k8k", []byte{0xff, 0xe3, 0x18, 0x00}, 72},
		{"MPEG1LayerII192k48k", []byte{0xff, 0xfd, 0xa4, 0x00}, 576},
		{"MPEG1LayerI384k44k", []byte{0xff, 0xff, 0xc0, 0x00}, 416},
		{"ReservedVersion", []byte{0xff, 0xeb, 0x90, 0x00}, 0},
		{"ReservedLayer", []byte{0xff, 0xf9, 0x90, 0x00}, 0},
		{"BadBitrate", []byte{0xff, 0xfb, 0xf0, 0x00}, 0},
		{"FreeFormat", []byte{0xff, 0xfb, 0x00, 0x00}, 0},
		{"ReservedRate", []byte{0xff, 0xfb, 0x9c, 0x00}, 0},
		{"ReservedEmphasis", []byte{0xff, 0xfb, 0x90, 0x02}, 0},
		{"NoSync", []byte{0xff, 0xd8, 0xff, 0xe0}, 0},
		{"Short", []byte{0xff, 0xfb, 0x90}, 0},
	}
	for _, tc := range cases {
		if got := mp3FrameLen(tc.header); got != tc.want {
			t.Errorf("%s: mp3FrameLen(% x) = %d, want %d", tc.name, tc.header, got, tc.want)
		}
	}
}

func TestEBMLVint(t *testing.T) {
	cases := []struct {
		in         []byte
		maxLen     int
		keepMarker bool
		want       uint64
		n          int
		ok         bool
	}{
		{[]byte{0x1a, 0x45, 0xdf, 0xa3}, 4, true, 0x1a45dfa3, 4, true},
		{[]byte{0xa3}, 4, true, 0xa3, 1, true},
		{[]byte{0x81}, 8, false, 1, 1, true},
		{[]byte{0x40, 0x02}, 8, false, 2, 2, true},
		{[]byte{0xff}, 8, false, ebmlUnknownSize, 1, true},
		{[]byte{0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8, false, ebmlUnknownSize, 8, true},
		{[]byte{0x01, 0, 0, 0, 0, 0, 0x01, 0x00}, 8, false, 256, 8, true},
		{[]byte{0x08, 0, 0, 0, 0}, 4, true, 0, 0, false}, // a 5-byte ID
		{[]byte{0x00}, 8, false, 0, 0, false},
		{[]byte{0x40}, 8, false, 0, 0, false}, // cut short
	}
	for _, tc := range cases {
		v, n, ok := ebmlVint(tc.in, tc.maxLen, tc.keepMarker)
		if v != tc.want || n != tc.n || ok != tc.ok {
			t.Errorf("ebmlVint(% x, %d, %v) = %#x, %d, %v; want %#x, %d, %v", tc.in, tc.maxLen, tc.keepMarker, v, n, ok, tc.want, tc.n, tc.ok)
		}
	}
}

func TestFindMarkup(t *testing.T) {
	found := map[string]string{
		"GIF89a<script>alert(1)":   "<script",
		"xx<SCRIPT src=x>":         "<script",
		"\x00\x01<Html>":           "<html",
		"<svg/onload=alert(1)>":    "<svg",
		"<?php system($_GET[1]);":  "<?php",
		"<!DOCTYPE html>":          "<!doctype",
		"end with <iframe":         "<iframe",
		"<body\nonload=alert(1)>":  "<body",
		"<object data=x></object>": "<object",
	}
	for in, want := range found {
		if got := findMarkup([]byte(in)); got != want {
			t.Errorf("findMarkup(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{"", "<", "<scripts", "<svgz", "a < b > c", "<x:xmpmeta xmlns:x='adobe:ns:meta/'>", "<?xpacket begin=''?>", "<rdf:RDF>"} {
		if got := findMarkup([]byte(in)); got != "" {
			t.Errorf("findMarkup(%q) = %q, want nothing", in, got)
		}
	}
}

// TestGuardFindsZIP checks the ZIP check on real archives, with and
// without data around them, and on a large random stream, where it must
// find nothing.
func TestGuardFindsZIP(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range []string{"a.txt", "b.class"} {
		w, _ := zw.Create(name)
		_, _ = w.Write(bytes.Repeat([]byte(name), 100))
	}
	_ = zw.SetComment("a comment")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	archive := b.Bytes()
	random := make([]byte, 200_000)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(random)
	cases := map[string][]byte{
		"Alone":         archive,
		"Appended":      append(append([]byte(nil), random...), archive...),
		"LongPrefix":    append(bytes.Repeat([]byte{1}, 1<<20), archive...),
		"EmptyArchive":  append(append([]byte(nil), random[:1000]...), "PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"...),
		"CommentCovers": append(append(append([]byte(nil), random[:5000]...), archive[:len(archive)-9]...), "123456789"...),
	}
	for name, data := range cases {
		for _, size := range []int64{int64(len(data)), -1} {
			g := newGuard(iotest.HalfReader(bytes.NewReader(data)), size, nil)
			_, err := io.Copy(io.Discard, g)
			if !errors.Is(err, ErrTypeNotAllowed) {
				t.Errorf("%s, size %d: err = %v, want a hidden ZIP refused", name, size, err)
			}
		}
	}
	noise := rand.NewChaCha8([32]byte{2})
	g := newGuard(io.LimitReader(noise, 64<<20), -1, nil)
	if n, err := io.Copy(io.Discard, g); err != nil || n != 64<<20 {
		t.Errorf("64 MiB of random data: copied %d, err %v", n, err)
	}
}

func TestIntakeOneByteReads(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 1000)
	in := newIntake(t.Context(), iotest.OneByteReader(bytes.NewReader(data)), 1000, 2000, nil)
	if got, err := io.ReadAll(in); err != nil || len(got) != 1000 {
		t.Fatalf("ReadAll = %d bytes, %v", len(got), err)
	}
	in = newIntake(t.Context(), iotest.OneByteReader(bytes.NewReader(data)), -1, 999, nil)
	if _, err := io.ReadAll(in); !errors.Is(err, ErrTooLarge) || in.n != 1000 {
		t.Fatalf("over the limit: err %v after %d bytes; want ErrTooLarge after 1000", err, in.n)
	}
	in = newIntake(t.Context(), iotest.DataErrReader(bytes.NewReader(data)), 1001, 2000, nil)
	if _, err := io.ReadAll(in); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short stream: err %v, want ErrTruncated", err)
	}
}
