package media_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"polyphony/content/media"
	"polyphony/content/media/mediatest"
)

func httpStatus(t *testing.T, rawURL string) int {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func signedParts(t *testing.T, rawURL string) (key, exp, sig string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := strings.CutPrefix(u.Path, "/media/")
	if !ok {
		t.Fatalf("signed URL %q has no /media/ path", rawURL)
	}
	return key, u.Query().Get("exp"), u.Query().Get("sig")
}

func TestLocalSignedURLFormat(t *testing.T) {
	f := newLocal(t)
	const key = "img/a-b_c.d/e.png"
	before := time.Now()
	raw, err := f.store.SignedURL(t.Context(), key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(f.server.URL) + `/media/` + regexp.QuoteMeta(key) + `\?exp=([0-9]+)&sig=([0-9a-f]{64})$`)
	m := re.FindStringSubmatch(raw)
	if m == nil {
		t.Fatalf("SignedURL = %q, want %s", raw, re)
	}
	exp, _ := strconv.ParseInt(m[1], 10, 64)
	if lo, hi := before.Add(time.Hour).Unix(), time.Now().Add(time.Hour).Unix()+1; exp < lo || exp > hi {
		t.Errorf("exp = %d, want within [%d, %d]", exp, lo, hi)
	}
	if err := f.store.Verify(key, m[1], m[2], time.Now()); err != nil {
		t.Errorf("Verify of a fresh URL: %v", err)
	}

	// An empty base URL gives host-relative URLs.
	rel, err := media.NewLocal(t.TempDir(), testSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	raw, err = rel.SignedURL(t.Context(), key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, "/media/"+key+"?exp=") {
		t.Errorf("relative SignedURL = %q", raw)
	}
}

func TestLocalSignedURLTampered(t *testing.T) {
	f := newLocal(t)
	ctx := t.Context()
	const key = "private/report.pdf"
	if _, err := f.store.Put(ctx, key, strings.NewReader("%PDF"), 4, "application/pdf"); err != nil {
		t.Fatal(err)
	}
	raw, err := f.store.SignedURL(ctx, key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := httpStatus(t, raw); got != http.StatusOK {
		t.Fatalf("untampered URL: status %d", got)
	}
	k, exp, sig := signedParts(t, raw)
	flipped := []byte(sig)
	if flipped[10] == '0' {
		flipped[10] = '1'
	} else {
		flipped[10] = '0'
	}
	later := strconv.FormatInt(time.Now().Add(48*time.Hour).Unix(), 10)
	cases := []struct {
		name          string
		key, exp, sig string
	}{
		{"FlippedSig", k, exp, string(flipped)},
		{"UpperCaseSig", k, exp, strings.ToUpper(sig) + "00"},
		{"ShortSig", k, exp, sig[:62]},
		{"GarbageSig", k, exp, "not-hex"},
		{"EmptySig", k, exp, ""},
		{"ExtendedExp", k, later, sig},
		{"EmptyExp", k, "", sig},
		{"OtherKey", "private/other.pdf", exp, sig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.store.Verify(tc.key, tc.exp, tc.sig, time.Now()); !errors.Is(err, media.ErrSignature) {
				t.Errorf("Verify = %v, want ErrSignature", err)
			}
			u := f.server.URL + "/media/" + tc.key + "?" + url.Values{"exp": {tc.exp}, "sig": {tc.sig}}.Encode()
			if got := httpStatus(t, u); got != http.StatusForbidden {
				t.Errorf("GET tampered URL: status %d, want 403", got)
			}
		})
	}

	// A store with another secret rejects the signature.
	other, err := media.NewLocal(t.TempDir(), []byte("another secret of enough length"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Verify(k, exp, sig, time.Now()); !errors.Is(err, media.ErrSignature) {
		t.Errorf("Verify with another secret = %v, want ErrSignature", err)
	}
	if err := f.store.Verify("../etc/passwd", exp, sig, time.Now()); !errors.Is(err, media.ErrInvalidKey) {
		t.Errorf("Verify of an invalid key = %v, want ErrInvalidKey", err)
	}
}

func TestLocalSignedURLExpired(t *testing.T) {
	f := newLocal(t)
	ctx := t.Context()
	const key = "expiring.txt"
	if _, err := f.store.Put(ctx, key, strings.NewReader("soon gone"), 9, "text/plain"); err != nil {
		t.Fatal(err)
	}
	raw, err := f.store.SignedURL(ctx, key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	k, exp, sig := signedParts(t, raw)
	expUnix, _ := strconv.ParseInt(exp, 10, 64)
	if err := f.store.Verify(k, exp, sig, time.Unix(expUnix, 0)); err != nil {
		t.Errorf("Verify at the expiry second = %v, want nil", err)
	}
	if err := f.store.Verify(k, exp, sig, time.Unix(expUnix+1, 0)); !errors.Is(err, media.ErrExpired) {
		t.Errorf("Verify after expiry = %v, want ErrExpired", err)
	}
	if got := httpStatus(t, raw); got != http.StatusOK {
		t.Fatalf("fresh URL: status %d", got)
	}
	f.skew.Store(int64(2 * time.Minute))
	if got := httpStatus(t, raw); got != http.StatusForbidden {
		t.Errorf("expired URL: status %d, want 403", got)
	}

	// A sub-second lifetime still yields a URL usable right away.
	short, err := f.store.SignedURL(ctx, key, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	k, exp, sig = signedParts(t, short)
	if err := f.store.Verify(k, exp, sig, time.Now()); err != nil {
		t.Errorf("Verify of a 1ms URL right away = %v", err)
	}
}

func TestNewLocal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "media")
	s, err := media.NewLocal(dir, testSecret, "https://example.org")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		t.Errorf("store directory mode %v, want 0700", fi.Mode().Perm())
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if _, err := media.NewLocal(dir, []byte("short"), ""); err == nil {
		t.Error("NewLocal accepted a short secret")
	}
	if _, err := media.NewLocal("", testSecret, ""); err == nil {
		t.Error("NewLocal accepted an empty directory")
	}
	if _, err := media.NewLocal(dir, testSecret, "https://example.org/?x=1"); err == nil {
		t.Error("NewLocal accepted a base URL with a query")
	}
	// Reopening an existing directory sees the same objects.
	if _, err := s.Put(t.Context(), "persist", strings.NewReader("kept"), 4, "text/plain"); err != nil {
		t.Fatal(err)
	}
	again, err := media.NewLocal(dir, testSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := again.Stat(t.Context(), "persist"); err != nil || info.Size != 4 {
		t.Errorf("Stat after reopening = %+v, %v", info, err)
	}
}

// TestLocalNoLeftovers checks that failed writes leave no temporary files
// and that stored files are private to the owner.
func TestLocalNoLeftovers(t *testing.T) {
	dir := t.TempDir()
	s, err := media.NewLocal(dir, testSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := s.Put(ctx, "ok", strings.NewReader("fine"), 4, "text/plain"); err != nil {
		t.Fatal(err)
	}
	_, _ = s.Put(ctx, "short", strings.NewReader("abc"), 10, "text/plain")
	_, _ = s.Put(ctx, "long", strings.NewReader("abcdef"), 3, "text/plain")
	_, _ = s.Put(ctx, "big-long", mediatest.NewPattern(3*mediatest.MiB+1, 1), 3*mediatest.MiB, "text/plain")
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, _ = s.Put(canceled, "canceled", strings.NewReader("x"), 1, "text/plain")

	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		files = append(files, path)
		if strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", path)
		}
		if fi, err := d.Info(); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no group/other access", path, fi.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Errorf("store holds %d files, want exactly 1: %v", len(files), files)
	}
}

// TestLocalGetSeekable checks that Get's reader can serve range requests.
func TestLocalGetSeekable(t *testing.T) {
	f := newLocal(t)
	ctx := t.Context()
	if _, err := f.store.Put(ctx, "seek.txt", strings.NewReader("0123456789"), 10, "text/plain"); err != nil {
		t.Fatal(err)
	}
	rc, info, err := f.store.Get(ctx, "seek.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rs, ok := rc.(io.ReadSeeker)
	if !ok {
		t.Fatalf("Get reader %T is not an io.ReadSeeker", rc)
	}
	if n, err := rs.Seek(0, io.SeekEnd); err != nil || n != info.Size {
		t.Fatalf("Seek to end = %d, %v; want %d", n, err, info.Size)
	}
	if _, err := rs.Seek(4, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(rs)
	if err != nil || string(rest) != "456789" {
		t.Fatalf("read after Seek(4) = %q, %v", rest, err)
	}
}

func TestLocalCorruptFile(t *testing.T) {
	dir := t.TempDir()
	s, err := media.NewLocal(dir, testSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), "victim", strings.NewReader("data"), 4, "text/plain"); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.WriteFile(path, []byte("garbage"), 0o600)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(t.Context(), "victim"); err == nil || errors.Is(err, media.ErrNotFound) {
		t.Errorf("Stat of a corrupt file = %v, want a corruption error", err)
	}
}
