package miniotest_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"polyphony/internal/miniotest"
)

func TestMain(m *testing.M) { miniotest.Main(m) }

func live(endpoint string) bool {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + endpoint + "/minio/health/live")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestShared(t *testing.T) {
	srv := miniotest.Shared(t)
	if srv.Endpoint == "" || srv.AccessKey == "" || srv.SecretKey == "" {
		t.Fatalf("incomplete server description: %+v", srv)
	}
	if !strings.HasPrefix(srv.Endpoint, "127.0.0.1:") {
		t.Errorf("endpoint %q is not on loopback", srv.Endpoint)
	}
	if !live(srv.Endpoint) {
		t.Fatalf("shared server at %s is not live", srv.Endpoint)
	}
	if again := miniotest.Shared(t); again != srv {
		t.Errorf("second Shared call returned %+v, want %+v", again, srv)
	}
}

func TestStartStopsAtCleanup(t *testing.T) {
	var endpoint string
	t.Run("dedicated", func(t *testing.T) {
		srv := miniotest.Start(t)
		endpoint = srv.Endpoint
		if !live(endpoint) {
			t.Fatalf("server at %s is not live", endpoint)
		}
		if shared := miniotest.Shared(t); shared.Endpoint == endpoint {
			t.Fatalf("dedicated server shares the endpoint %s of the shared one", endpoint)
		}
	})
	if endpoint == "" {
		t.Skip("dedicated server did not start")
	}
	if live(endpoint) {
		t.Fatalf("server at %s still live after its test ended", endpoint)
	}
}

func TestBinaryPathFromEnv(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "minio")
	t.Setenv(miniotest.BinEnv, missing)
	if _, err := miniotest.BinaryPath(); !errors.Is(err, miniotest.ErrBinaryMissing) {
		t.Fatalf("BinaryPath with missing file: err = %v, want ErrBinaryMissing", err)
	}
	if _, _, err := miniotest.StartMain(); !errors.Is(err, miniotest.ErrBinaryMissing) {
		t.Fatalf("StartMain with missing file: err = %v, want ErrBinaryMissing", err)
	}
	if err := os.WriteFile(missing, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := miniotest.BinaryPath()
	if err != nil || got != missing {
		t.Fatalf("BinaryPath = %q, %v; want %q", got, err, missing)
	}
}

func TestBucketName(t *testing.T) {
	seen := map[string]bool{}
	for i := range 3 {
		name := miniotest.BucketName(t)
		if err := s3utils.CheckValidBucketNameStrict(name); err != nil {
			t.Fatalf("BucketName = %q: %v", name, err)
		}
		if seen[name] {
			t.Fatalf("BucketName repeated %q on call %d", name, i)
		}
		seen[name] = true
	}
	t.Run(strings.Repeat("Very_Long/Sub Test Name ", 8), func(t *testing.T) {
		name := miniotest.BucketName(t)
		if err := s3utils.CheckValidBucketNameStrict(name); err != nil {
			t.Fatalf("BucketName = %q: %v", name, err)
		}
	})
}

// recordingTB captures how Start reacts to a missing binary. Skip and
// Fatal end the calling goroutine as the real ones do.
type recordingTB struct {
	testing.TB
	skipped string
	failed  string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Cleanup(func()) {}

func runStart(tb *recordingTB) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		miniotest.Start(tb)
	}()
	<-done
}

func TestMissingBinary(t *testing.T) {
	t.Setenv(miniotest.BinEnv, filepath.Join(t.TempDir(), "absent"))

	t.Setenv("CI", "")
	local := &recordingTB{TB: t}
	runStart(local)
	if want := "MinIO binary missing: run `make test` (or `make minio`) to build it into .cache/bin"; local.skipped != want || local.failed != "" {
		t.Errorf("outside CI: skipped %q, failed %q; want skip %q", local.skipped, local.failed, want)
	}

	t.Setenv("CI", "true")
	ci := &recordingTB{TB: t}
	runStart(ci)
	if ci.skipped != "" || !strings.Contains(ci.failed, "make test") {
		t.Errorf("in CI: skipped %q, failed %q; want a failure naming `make test`", ci.skipped, ci.failed)
	}
}
