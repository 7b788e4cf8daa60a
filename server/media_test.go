package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLocalMediaURLs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.media.Put(ctx, "journal/a1/voice.ogg", strings.NewReader("OggS-pretend-audio"), 18, "audio/ogg"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.media.Put(ctx, "journal/a1/notes.bin", strings.NewReader("MZ-binary"), 9, "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	signed, err := f.media.SignedURL(ctx, "journal/a1/voice.ogg", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(signed)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "audio/ogg" || res.Header.Get("Content-Disposition") != "inline" {
		t.Errorf("signed audio: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("media CSP %q: want a sandbox", res.Header.Get("Content-Security-Policy"))
	}
	// Players seek: a range request gets 206 with just that part.
	req, _ := http.NewRequest("GET", signed, nil)
	req.Header.Set("Range", "bytes=0-3")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusPartialContent || res.ContentLength != 4 {
		t.Errorf("range: %v %v", res.StatusCode, err)
	}

	bin, _ := f.media.SignedURL(ctx, "journal/a1/notes.bin", time.Minute)
	if res, _ := http.Get(bin); res.Header.Get("Content-Disposition") != "attachment" {
		t.Errorf("binary disposition %q, want attachment", res.Header.Get("Content-Disposition"))
	}
	tampered := strings.Replace(signed, "voice.ogg", "notes.bin", 1)
	if res, _ := http.Get(tampered); res.StatusCode != http.StatusForbidden {
		t.Errorf("URL with another key: %d, want 403", res.StatusCode)
	}
	if res, _ := http.Get(f.ts.URL + "/media/journal/a1/voice.ogg"); res.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned: %d, want 403", res.StatusCode)
	}
	expired, _ := f.media.SignedURL(ctx, "journal/a1/voice.ogg", time.Second)
	time.Sleep(3100 * time.Millisecond) // expiry is kept in whole seconds, rounded up
	if res, _ := http.Get(expired); res.StatusCode != http.StatusForbidden {
		t.Errorf("expired: %d, want 403", res.StatusCode)
	}
	missing, _ := f.media.SignedURL(ctx, "journal/none.ogg", time.Minute)
	if res, _ := http.Get(missing); res.StatusCode != http.StatusNotFound {
		t.Errorf("missing object: %d, want 404", res.StatusCode)
	}
}
