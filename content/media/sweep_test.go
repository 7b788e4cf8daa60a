package media_test

import (
	"bytes"
	"context"
	"iter"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"polyphony/content/media"
)

func putString(t *testing.T, s media.Store, key, data string) {
	t.Helper()
	if _, err := s.Put(t.Context(), key, strings.NewReader(data), int64(len(data)), "audio/webm"); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

// listed returns the objects s lists under prefix, by key.
func listed(t *testing.T, s media.Store, prefix string) map[string]media.Info {
	t.Helper()
	got := map[string]media.Info{}
	for info, err := range s.(media.Lister).List(t.Context(), prefix) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		if _, dup := got[info.Key]; dup {
			t.Errorf("List(%q) yielded %q twice", prefix, info.Key)
		}
		got[info.Key] = info
	}
	return got
}

func TestList(t *testing.T) {
	forEachStore(t, func(t *testing.T, s media.Store) {
		objects := map[string]string{
			"journal/2025/a.webm": "aa",
			"journal/2026/b.mp3":  "bbbb",
			"journalx/c.png":      "c",
			"other/journal/d":     "d",
		}
		for k, v := range objects {
			putString(t, s, k, v)
		}
		got := listed(t, s, "journal/")
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, []string{"journal/2025/a.webm", "journal/2026/b.mp3"}) {
			t.Fatalf("List(journal/) = %q", keys)
		}
		for k, info := range got {
			if info.Size != int64(len(objects[k])) || time.Since(info.Modified) > 5*time.Minute {
				t.Errorf("List gave %+v for %q", info, k)
			}
		}
		if n := len(listed(t, s, "nothing/")); n != 0 {
			t.Errorf("List(nothing/) yielded %d objects", n)
		}
		// Stopping early is allowed.
		next, stop := iter.Pull2(s.(media.Lister).List(t.Context(), ""))
		if _, err, ok := next(); !ok || err != nil {
			t.Fatalf("first of all objects: ok %v, err %v", ok, err)
		}
		stop()
	})
}

// modified returns the modification time List reports for key.
func modified(t *testing.T, s media.Store, key string) time.Time {
	t.Helper()
	info, ok := listed(t, s, key)[key]
	if !ok {
		t.Fatalf("%q not listed", key)
	}
	return info.Modified
}

func TestSweep(t *testing.T) {
	forEachStore(t, func(t *testing.T, s media.Store) {
		ctx := t.Context()
		putString(t, s, "journal/2026/orphan.webm", "orphan")
		putString(t, s, "journal/2026/kept.webm", "kept")
		putString(t, s, "other/2026/old.webm", "outside the prefix")
		old := modified(t, s, "journal/2026/orphan.webm")
		if k := modified(t, s, "journal/2026/kept.webm"); k.After(old) {
			old = k
		}
		time.Sleep(1100 * time.Millisecond) // object times may have one-second steps
		putString(t, s, "journal/2026/young.webm", "in progress: no record yet")
		young := modified(t, s, "journal/2026/young.webm")
		if !young.After(old) {
			t.Fatalf("young object written at %v, not after %v", young, old)
		}

		referenced := func(key string) bool { return key == "journal/2026/kept.webm" }
		const grace = time.Hour
		now := old.Add(young.Sub(old) / 2).Add(grace)
		removed, err := media.Sweep(ctx, s, "journal/", referenced, grace, now)
		if err != nil {
			t.Fatalf("Sweep: %v", err)
		}
		if !slices.Equal(removed, []string{"journal/2026/orphan.webm"}) {
			t.Errorf("Sweep removed %q, want only the orphan", removed)
		}
		remaining := slices.Sorted(maps.Keys(listed(t, s, "")))
		want := []string{"journal/2026/kept.webm", "journal/2026/young.webm", "other/2026/old.webm"}
		if !slices.Equal(remaining, want) {
			t.Errorf("after Sweep: %q, want %q", remaining, want)
		}

		// Once past the grace period the unreferenced upload goes too.
		removed, err = media.Sweep(ctx, s, "journal/", referenced, grace, time.Now().Add(2*grace))
		if err != nil || !slices.Equal(removed, []string{"journal/2026/young.webm"}) {
			t.Errorf("second Sweep removed %q (%v), want the young object", removed, err)
		}
		if _, err := s.Stat(ctx, "journal/2026/kept.webm"); err != nil {
			t.Errorf("referenced object: %v", err)
		}
	})
}

func TestSweepAbortsIncompleteMultipartUploads(t *testing.T) {
	cfg := minioConfig(t)
	s := newMinIOWith(t, cfg)
	raw, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	core := minio.Core{Client: raw}
	for _, key := range []string{"journal/2026/crashed.webm", "other/crashed.webm"} {
		if _, err := core.NewMultipartUpload(t.Context(), cfg.Bucket, key, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	incomplete := func() []string {
		var keys []string
		for up := range raw.ListIncompleteUploads(t.Context(), cfg.Bucket, "", true) {
			if up.Err != nil {
				t.Fatal(up.Err)
			}
			keys = append(keys, up.Key)
		}
		return keys
	}
	if got := incomplete(); len(got) != 2 {
		t.Fatalf("incomplete uploads before the sweep: %q", got)
	}
	// Within the grace period an upload may still be running.
	if _, err := media.Sweep(t.Context(), s, "journal/", func(string) bool { return false }, time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := incomplete(); len(got) != 2 {
		t.Fatalf("a running upload was aborted: left %q", got)
	}
	if _, err := media.Sweep(t.Context(), s, "journal/", func(string) bool { return false }, time.Hour, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := incomplete(); !slices.Equal(got, []string{"other/crashed.webm"}) {
		t.Errorf("incomplete uploads after the sweep: %q, want only the one outside the prefix", got)
	}
}

func newMinIOWith(t *testing.T, cfg media.MinIOConfig) *media.MinIO {
	t.Helper()
	s, err := media.NewMinIO(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unlisted hides a store's List method.
type unlisted struct{ media.Store }

func TestSweepArguments(t *testing.T) {
	s := newLocal(t).store
	putString(t, s, "journal/x", "x")
	never := func(string) bool { return false }
	cases := map[string]func() ([]string, error){
		"EmptyPrefix":  func() ([]string, error) { return media.Sweep(t.Context(), s, "", never, time.Hour, time.Now()) },
		"NoGrace":      func() ([]string, error) { return media.Sweep(t.Context(), s, "journal/", never, 0, time.Now()) },
		"NoReferences": func() ([]string, error) { return media.Sweep(t.Context(), s, "journal/", nil, time.Hour, time.Now()) },
		"NotALister": func() ([]string, error) {
			return media.Sweep(t.Context(), unlisted{s}, "journal/", never, time.Hour, time.Now().Add(2*time.Hour))
		},
		"Cancelled": func() ([]string, error) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return media.Sweep(ctx, s, "journal/", never, time.Hour, time.Now().Add(2*time.Hour))
		},
	}
	for name, sweep := range cases {
		if removed, err := sweep(); err == nil || len(removed) != 0 {
			t.Errorf("%s: removed %q, err %v; want an error and nothing removed", name, removed, err)
		}
	}
	if _, err := s.Stat(t.Context(), "journal/x"); err != nil {
		t.Errorf("object gone after refused sweeps: %v", err)
	}
}

func TestSignedURLOfUpload(t *testing.T) {
	forEachStore(t, func(t *testing.T, s media.Store) {
		data := readTestdata(t, "recording-opus.webm")
		up, err := media.Upload(t.Context(), s, bytes.NewReader(data), int64(len(data)), media.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.SignedURL(t.Context(), up.Key, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if code := httpStatus(t, u); code != 200 {
			t.Errorf("GET signed URL of the upload: status %d", code)
		}
	})
}
