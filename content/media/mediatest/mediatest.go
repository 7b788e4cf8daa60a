// Package mediatest holds the contract every media.Store implementation
// must satisfy, as one test suite run against each of them, and the media
// files and memory sampling that tests and benchmarks of uploads use.
package mediatest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"polyphony/content/media"
)

// MiB is one mebibyte.
const MiB = 1 << 20

// Run checks store behaviour shared by all implementations. newStore must
// return an empty store private to the given (sub)test; it is called once
// per subtest, possibly from parallel subtests. URLs from SignedURL must be
// fetchable with a plain HTTP GET while the test runs.
func Run(t *testing.T, newStore func(t *testing.T) media.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s media.Store)
	}{
		{"Ping", testPing},
		{"RoundTrip", testRoundTrip},
		{"EmptyObject", testEmptyObject},
		{"DefaultContentType", testDefaultContentType},
		{"Missing", testMissing},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"ValidKeys", testValidKeys},
		{"InvalidKeys", testInvalidKeys},
		{"InvalidContentType", testInvalidContentType},
		{"SizeMismatch", testSizeMismatch},
		{"FailedOverwriteKeepsOld", testFailedOverwriteKeepsOld},
		{"ReaderError", testReaderError},
		{"CanceledContext", testCanceledContext},
		{"KnownLargeSize", testKnownLargeSize},
		{"UnknownSize", testUnknownSize},
		{"SignedURL", testSignedURL},
		{"SignedURLBoundToKey", testSignedURLBoundToKey},
		{"SignedURLMissingObject", testSignedURLMissingObject},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// randBytes returns n deterministic pseudo-random bytes.
func randBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = NewPattern(int64(n), seed).Read(b)
	return b
}

// Pattern is a reader producing a deterministic pseudo-random stream of a
// given length without holding it in memory.
type Pattern struct {
	rng  *rand.ChaCha8
	left int64
}

// NewPattern returns a Pattern of n bytes; equal seeds give equal streams.
func NewPattern(n int64, seed uint64) *Pattern {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return &Pattern{rng: rand.NewChaCha8(s), left: n}
}

// Read fills p with the next bytes of the stream.
func (p *Pattern) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n, _ := p.rng.Read(b)
	p.left -= int64(n)
	return n, nil
}

// PatternSum returns the SHA-256 of NewPattern(n, seed)'s stream.
func PatternSum(n int64, seed uint64) [32]byte {
	h := sha256.New()
	if _, err := io.Copy(h, NewPattern(n, seed)); err != nil {
		panic(err)
	}
	return [32]byte(h.Sum(nil))
}

// onlyReader hides every method but Read, so stores cannot take shortcuts
// through io.Seeker, io.ReaderAt or io.WriterTo.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func put(t *testing.T, s media.Store, key string, data []byte, contentType string) media.Info {
	t.Helper()
	info, err := s.Put(ctxFor(t), key, onlyReader{bytes.NewReader(data)}, int64(len(data)), contentType)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func get(t *testing.T, s media.Store, key string) ([]byte, media.Info) {
	t.Helper()
	rc, info, err := s.Get(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	return data, info
}

func getSum(t *testing.T, s media.Store, key string) ([32]byte, int64) {
	t.Helper()
	rc, _, err := s.Get(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	return [32]byte(h.Sum(nil)), n
}

func wantNotFound(t *testing.T, s media.Store, key string) {
	t.Helper()
	ctx := ctxFor(t)
	if info, err := s.Stat(ctx, key); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Stat(%q) = %+v, %v; want ErrNotFound", key, info, err)
	}
	rc, _, err := s.Get(ctx, key)
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Get(%q) error = %v; want ErrNotFound", key, err)
	}
}

func checkInfo(t *testing.T, what string, got media.Info, key string, size int64, contentType string) {
	t.Helper()
	if got.Key != key || got.Size != size || got.ContentType != contentType {
		t.Errorf("%s = {Key:%q Size:%d ContentType:%q}; want {Key:%q Size:%d ContentType:%q}",
			what, got.Key, got.Size, got.ContentType, key, size, contentType)
	}
	if d := time.Since(got.Modified); d < -5*time.Minute || d > 5*time.Minute {
		t.Errorf("%s.Modified = %v, not close to now", what, got.Modified)
	}
}

func testPing(t *testing.T, s media.Store) {
	if err := s.Ping(ctxFor(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testRoundTrip(t *testing.T, s media.Store) {
	const key = "courses/c1/lesson-2/image_01.png"
	data := randBytes(64*1024+123, 1)
	info := put(t, s, key, data, "image/png")
	checkInfo(t, "Put info", info, key, int64(len(data)), "image/png")

	got, ginfo := get(t, s, key)
	if !bytes.Equal(got, data) {
		t.Fatalf("Get returned %d bytes that differ from the %d stored", len(got), len(data))
	}
	checkInfo(t, "Get info", ginfo, key, int64(len(data)), "image/png")

	sinfo, err := s.Stat(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkInfo(t, "Stat info", sinfo, key, int64(len(data)), "image/png")
	if !sinfo.Modified.Equal(ginfo.Modified) {
		t.Errorf("Stat.Modified = %v, Get.Modified = %v; want equal", sinfo.Modified, ginfo.Modified)
	}
}

func testEmptyObject(t *testing.T, s media.Store) {
	const key = "empty.txt"
	info := put(t, s, key, nil, "text/plain")
	checkInfo(t, "Put info", info, key, 0, "text/plain")
	got, ginfo := get(t, s, key)
	if len(got) != 0 {
		t.Fatalf("Get returned %d bytes, want 0", len(got))
	}
	checkInfo(t, "Get info", ginfo, key, 0, "text/plain")
}

func testDefaultContentType(t *testing.T, s media.Store) {
	const key = "blob"
	put(t, s, key, []byte("x"), "")
	info, err := s.Stat(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.ContentType != media.DefaultContentType {
		t.Errorf("ContentType = %q, want %q", info.ContentType, media.DefaultContentType)
	}
}

func testMissing(t *testing.T, s media.Store) {
	wantNotFound(t, s, "no/such/object.bin")
}

func testOverwrite(t *testing.T, s media.Store) {
	const key = "avatar/u1.img"
	put(t, s, key, []byte("first version, longer than the second"), "image/gif")
	second := []byte("second")
	put(t, s, key, second, "image/webp")
	got, info := get(t, s, key)
	if !bytes.Equal(got, second) {
		t.Fatalf("after overwrite Get = %q, want %q", got, second)
	}
	checkInfo(t, "Get info", info, key, int64(len(second)), "image/webp")
}

func testDelete(t *testing.T, s media.Store) {
	ctx := ctxFor(t)
	const key = "tmp/delete-me.txt"
	put(t, s, key, []byte("bye"), "text/plain")
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, s, key)
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("second Delete = %v, want nil", err)
	}
	if err := s.Delete(ctx, "never/existed"); err != nil {
		t.Errorf("Delete of a never-stored key = %v, want nil", err)
	}
}

func testValidKeys(t *testing.T, s media.Store) {
	keys := []string{
		"a",
		"0",
		"a.b_c-d/e/f.png",
		"x/" + strings.Repeat("k", media.MaxKeyLen-2),
	}
	for i, key := range keys {
		data := []byte(fmt.Sprintf("object %d", i))
		put(t, s, key, data, "text/plain")
		if got, _ := get(t, s, key); !bytes.Equal(got, data) {
			t.Errorf("Get(%q) = %q, want %q", key, got, data)
		}
	}
	// A key and a key below it as a "directory" coexist.
	put(t, s, "dir", []byte("file"), "text/plain")
	put(t, s, "dir/child", []byte("child"), "text/plain")
	if got, _ := get(t, s, "dir"); string(got) != "file" {
		t.Errorf(`Get("dir") = %q, want "file"`, got)
	}
	if got, _ := get(t, s, "dir/child"); string(got) != "child" {
		t.Errorf(`Get("dir/child") = %q, want "child"`, got)
	}
}

// InvalidKeys lists keys every store must refuse.
var InvalidKeys = []string{
	"",
	"../x",
	"/abs",
	"a//b",
	"Upper",
	"a/B",
	"a/../b",
	"a..b",
	"a/",
	"a/./b",
	".hidden",
	"-dash",
	"_under",
	"a b",
	"a\\b",
	"a\x00b",
	"caf\u00e9",
	"a?b",
	"a%2fb",
	strings.Repeat("a", media.MaxKeyLen+1),
}

func testInvalidKeys(t *testing.T, s media.Store) {
	ctx := ctxFor(t)
	for _, key := range InvalidKeys {
		if _, err := s.Put(ctx, key, strings.NewReader("x"), 1, "text/plain"); !errors.Is(err, media.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if rc, _, err := s.Get(ctx, key); !errors.Is(err, media.ErrInvalidKey) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, media.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, media.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.SignedURL(ctx, key, time.Minute); !errors.Is(err, media.ErrInvalidKey) {
			t.Errorf("SignedURL(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

func testInvalidContentType(t *testing.T, s media.Store) {
	const key = "ct/bad"
	_, err := s.Put(ctxFor(t), key, strings.NewReader("x"), 1, "text/plain\r\nX-Evil: 1")
	if !errors.Is(err, media.ErrInvalidContentType) {
		t.Errorf("Put with CRLF in content type = %v, want ErrInvalidContentType", err)
	}
	wantNotFound(t, s, key)
}

func testSizeMismatch(t *testing.T, s media.Store) {
	cases := []struct {
		name           string
		declared, real int64
	}{
		{"ShortSmall", 100, 99},
		{"ShortEmpty", 10, 0},
		{"ShortLarge", 40 * MiB, 20 * MiB},
		{"ShortAtPartBoundary", 32 * MiB, 16 * MiB},
		{"LongSmall", 100, 101},
		{"LongZero", 0, 1},
		{"LongOneByteAtPartSize", 16 * MiB, 16*MiB + 1},
		{"LongLarge", 20 * MiB, 24 * MiB},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("mismatch/%d.bin", i)
			info, err := s.Put(ctxFor(t), key, NewPattern(tc.real, uint64(i)), tc.declared, "application/octet-stream")
			if !errors.Is(err, media.ErrSizeMismatch) {
				t.Errorf("Put(declared %d, streamed %d) = %+v, %v; want ErrSizeMismatch", tc.declared, tc.real, info, err)
			}
			wantNotFound(t, s, key)
		})
	}
}

func testFailedOverwriteKeepsOld(t *testing.T, s media.Store) {
	const key = "keep/old.txt"
	old := []byte("old content")
	put(t, s, key, old, "text/plain")
	if _, err := s.Put(ctxFor(t), key, strings.NewReader("new but too long"), 3, "text/html"); !errors.Is(err, media.ErrSizeMismatch) {
		t.Fatalf("mismatched overwrite = %v, want ErrSizeMismatch", err)
	}
	got, info := get(t, s, key)
	if !bytes.Equal(got, old) {
		t.Fatalf("after failed overwrite Get = %q, want %q", got, old)
	}
	checkInfo(t, "Get info", info, key, int64(len(old)), "text/plain")
}

var errBoom = errors.New("mediatest: reader failed")

// failingReader yields n bytes and then fails.
type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errBoom
	}
	return n, err
}

func testReaderError(t *testing.T, s media.Store) {
	for i, size := range []int64{1000, 20 * MiB, -1} {
		key := fmt.Sprintf("failing/%d", i)
		r := &failingReader{r: NewPattern(500, 7)}
		if size > 1000 {
			r = &failingReader{r: NewPattern(17*MiB, 7)}
		}
		if _, err := s.Put(ctxFor(t), key, r, size, "text/plain"); !errors.Is(err, errBoom) {
			t.Errorf("Put(size %d) with a failing reader = %v, want the reader's error", size, err)
		}
		wantNotFound(t, s, key)
	}
}

func testCanceledContext(t *testing.T, s media.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	const key = "canceled"
	if _, err := s.Put(ctx, key, strings.NewReader("data"), 4, "text/plain"); err == nil {
		t.Fatalf("Put with a canceled context succeeded")
	}
	wantNotFound(t, s, key)
}

func testKnownLargeSize(t *testing.T, s media.Store) {
	const key = "large/known.bin"
	const size = 20*MiB + 12345
	info, err := s.Put(ctxFor(t), key, NewPattern(size, 42), size, "video/mp4")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	checkInfo(t, "Put info", info, key, size, "video/mp4")
	sum, n := getSum(t, s, key)
	if n != size || sum != PatternSum(size, 42) {
		t.Fatalf("Get returned %d bytes with a different digest, want %d matching bytes", n, size)
	}
}

func testUnknownSize(t *testing.T, s media.Store) {
	const key = "large/unknown.bin"
	const size = 20 * MiB
	info, err := s.Put(ctxFor(t), key, NewPattern(size, 43), -1, "audio/ogg")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	checkInfo(t, "Put info", info, key, size, "audio/ogg")
	st, err := s.Stat(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkInfo(t, "Stat info", st, key, size, "audio/ogg")
	sum, n := getSum(t, s, key)
	if n != size || sum != PatternSum(size, 43) {
		t.Fatalf("Get returned %d bytes with a different digest, want %d matching bytes", n, size)
	}

	// An unknown-size empty stream stores an empty object.
	info, err = s.Put(ctxFor(t), "large/unknown-empty", strings.NewReader(""), -1, "text/plain")
	if err != nil {
		t.Fatalf("Put of an empty unknown-size stream: %v", err)
	}
	checkInfo(t, "Put info", info, "large/unknown-empty", 0, "text/plain")
}

func fetch(t *testing.T, rawURL string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxFor(t), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatalf("bad signed URL %q: %v", rawURL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read: %v", rawURL, err)
	}
	return resp.StatusCode, resp.Header, body
}

func testSignedURL(t *testing.T, s media.Store) {
	const key = "shared/photo.jpg"
	data := randBytes(300*1024, 5)
	put(t, s, key, data, "image/jpeg")
	u, err := s.SignedURL(ctxFor(t), key, 10*time.Minute)
	if err != nil {
		t.Fatalf("SignedURL: %v", err)
	}
	if _, err := url.Parse(u); err != nil {
		t.Fatalf("SignedURL returned unparsable %q: %v", u, err)
	}
	status, hdr, body := fetch(t, u)
	if status != http.StatusOK {
		t.Fatalf("GET signed URL: status %d: %s", status, body)
	}
	if !bytes.Equal(body, data) {
		t.Fatalf("GET signed URL returned %d bytes that differ from the %d stored", len(body), len(data))
	}
	if ct := hdr.Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("GET signed URL: Content-Type %q, want image/jpeg", ct)
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, err := s.SignedURL(ctxFor(t), key, ttl); err == nil {
			t.Errorf("SignedURL with ttl %v succeeded", ttl)
		}
	}
}

func testSignedURLBoundToKey(t *testing.T, s media.Store) {
	// Two keys of equal length, so swapping one for the other in a URL
	// changes nothing else.
	const key, other = "bound/aaaa.txt", "bound/bbbb.txt"
	put(t, s, key, []byte("visible"), "text/plain")
	put(t, s, other, []byte("secret"), "text/plain")
	u, err := s.SignedURL(ctxFor(t), key, 10*time.Minute)
	if err != nil {
		t.Fatalf("SignedURL: %v", err)
	}
	if !strings.Contains(u, key) {
		t.Fatalf("signed URL %q does not contain the key %q", u, key)
	}
	swapped := strings.Replace(u, key, other, 1)
	status, _, body := fetch(t, swapped)
	if status == http.StatusOK {
		t.Fatalf("URL signed for %q served %q (%q)", key, other, body)
	}
	if status != http.StatusForbidden {
		t.Logf("swapped-key URL answered %d, not 403", status)
	}
}

func testSignedURLMissingObject(t *testing.T, s media.Store) {
	u, err := s.SignedURL(ctxFor(t), "not/there.png", time.Minute)
	if err != nil {
		t.Fatalf("SignedURL for a missing object: %v", err)
	}
	if status, _, _ := fetch(t, u); status != http.StatusNotFound {
		t.Errorf("GET signed URL of a missing object: status %d, want 404", status)
	}
}

func testConcurrent(t *testing.T, s media.Store) {
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			ctx := ctxFor(t)
			key := fmt.Sprintf("concurrent/%d", w)
			data := randBytes(10*1024+w, uint64(100+w))
			for round := range 3 {
				if _, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "application/x-test"); err != nil {
					errs <- fmt.Errorf("worker %d round %d: Put: %w", w, round, err)
					return
				}
				rc, _, err := s.Get(ctx, key)
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: Get: %w", w, round, err)
					return
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || !bytes.Equal(got, data) {
					errs <- fmt.Errorf("worker %d round %d: read back %d bytes (err %v), want %d", w, round, len(got), err, len(data))
					return
				}
			}
			if err := s.Delete(ctx, key); err != nil {
				errs <- fmt.Errorf("worker %d: Delete: %w", w, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
