package media_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"polyphony/content/media"
	"polyphony/internal/miniotest"
)

func minioConfig(t *testing.T) media.MinIOConfig {
	t.Helper()
	srv := miniotest.Shared(t)
	return media.MinIOConfig{
		Endpoint:  srv.Endpoint,
		AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey,
		Bucket:    miniotest.BucketName(t),
	}
}

func newMinIO(t *testing.T) *media.MinIO {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := media.NewMinIO(ctx, minioConfig(t))
	if err != nil {
		t.Fatalf("NewMinIO: %v", err)
	}
	return s
}

func TestNewMinIOBucket(t *testing.T) {
	cfg := minioConfig(t)
	ctx := t.Context()
	s, err := media.NewMinIO(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	// An existing bucket is reused, with its objects.
	if _, err := s.Put(ctx, "kept", strings.NewReader("kept"), 4, "text/plain"); err != nil {
		t.Fatal(err)
	}
	cfg.Endpoint = "http://" + cfg.Endpoint
	again, err := media.NewMinIO(ctx, cfg)
	if err != nil {
		t.Fatalf("NewMinIO on an existing bucket: %v", err)
	}
	if info, err := again.Stat(ctx, "kept"); err != nil || info.Size != 4 {
		t.Fatalf("Stat through a second store = %+v, %v", info, err)
	}

	// Ping notices a vanished bucket.
	raw, err := minio.New(strings.TrimPrefix(cfg.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.RemoveObject(ctx, cfg.Bucket, "kept", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := raw.RemoveBucket(ctx, cfg.Bucket); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded without a bucket")
	}
}

func TestNewMinIOWrongCredentials(t *testing.T) {
	cfg := minioConfig(t)
	cfg.SecretKey += "x"
	if _, err := media.NewMinIO(t.Context(), cfg); err == nil {
		t.Fatal("NewMinIO succeeded with a wrong secret key")
	}
}

func TestNewMinIOConfigErrors(t *testing.T) {
	base := media.MinIOConfig{Endpoint: "127.0.0.1:1", AccessKey: "a", SecretKey: "b", Bucket: "media"}
	cases := map[string]func(*media.MinIOConfig){
		"NoEndpoint":      func(c *media.MinIOConfig) { c.Endpoint = "" },
		"BadBucket":       func(c *media.MinIOConfig) { c.Bucket = "Bad_Bucket" },
		"SmallPart":       func(c *media.MinIOConfig) { c.PartSize = 1 << 20 },
		"HugePart":        func(c *media.MinIOConfig) { c.PartSize = 6 << 30 },
		"EndpointPath":    func(c *media.MinIOConfig) { c.Endpoint = "http://127.0.0.1:1/path" },
		"SchemeConflict":  func(c *media.MinIOConfig) { c.Endpoint = "http://127.0.0.1:1"; c.Secure = true },
		"UnknownScheme":   func(c *media.MinIOConfig) { c.Endpoint = "ftp://127.0.0.1:1" },
		"UnreachableHost": func(c *media.MinIOConfig) {},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := base
			mutate(&cfg)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if _, err := media.NewMinIO(ctx, cfg); err == nil {
				t.Fatalf("NewMinIO(%+v) succeeded", cfg)
			}
		})
	}
}

func TestMinIOSignedURLTampered(t *testing.T) {
	s := newMinIO(t)
	ctx := t.Context()
	if _, err := s.Put(ctx, "p/file.txt", strings.NewReader("hello"), 5, "text/plain"); err != nil {
		t.Fatal(err)
	}
	raw, err := s.SignedURL(ctx, "p/file.txt", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	sig := []byte(q.Get("X-Amz-Signature"))
	if len(sig) == 0 {
		t.Fatalf("presigned URL %q has no X-Amz-Signature", raw)
	}
	if sig[0] == '0' {
		sig[0] = '1'
	} else {
		sig[0] = '0'
	}
	q.Set("X-Amz-Signature", string(sig))
	u.RawQuery = q.Encode()
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("tampered presigned URL: status %d, want 403", resp.StatusCode)
	}
	if _, err := s.SignedURL(ctx, "p/file.txt", media.MaxSignedURLTTL+time.Second); err == nil {
		t.Error("SignedURL accepted a lifetime beyond the S3 maximum")
	}
}

func TestMinIOSmallPartSize(t *testing.T) {
	cfg := minioConfig(t)
	cfg.PartSize = 5 << 20
	s, err := media.NewMinIO(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 12 MiB in 5 MiB parts, then a mismatch across part boundaries.
	const size = 12 << 20
	if _, err := s.Put(t.Context(), "parts", io.LimitReader(zeros{}, size), size, "application/octet-stream"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if info, err := s.Stat(t.Context(), "parts"); err != nil || info.Size != size {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
	if _, err := s.Put(t.Context(), "parts-long", io.LimitReader(zeros{}, size+1), size, ""); !errors.Is(err, media.ErrSizeMismatch) {
		t.Fatalf("long Put = %v, want ErrSizeMismatch", err)
	}
	if _, err := s.Stat(t.Context(), "parts-long"); !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("Stat after long Put = %v, want ErrNotFound", err)
	}
	if _, err := s.Put(t.Context(), "parts-short", io.LimitReader(zeros{}, size-1), size, ""); !errors.Is(err, media.ErrSizeMismatch) {
		t.Fatalf("short Put = %v, want ErrSizeMismatch", err)
	}

	// The failed uploads were aborted, not left as incomplete multipart
	// uploads holding their parts.
	raw, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	for up := range raw.ListIncompleteUploads(t.Context(), cfg.Bucket, "", true) {
		if up.Err != nil {
			t.Fatalf("ListIncompleteUploads: %v", up.Err)
		}
		t.Errorf("incomplete upload left behind: %q (%s)", up.Key, up.UploadID)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
