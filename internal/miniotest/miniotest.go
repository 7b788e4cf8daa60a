// Package miniotest runs a real MinIO server on a loopback port for tests.
//
// The server binary is taken from the POLYPHONY_MINIO_BIN environment
// variable, else from <module root>/.cache/bin/minio, which `make test` (or
// `make minio`) builds. When the binary is missing, tests are skipped, or
// fail when the CI environment variable is "true".
//
// A package usually shares one server between its tests:
//
//	func TestMain(m *testing.M) { miniotest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		srv := miniotest.Shared(t)
//		bucket := miniotest.BucketName(t)
//		...
//	}
//
// Start gives a test a server of its own instead, and StartMain lets a
// TestMain manage the server's lifetime directly.
package miniotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"polyphony/internal/proctest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BinEnv names the environment variable that overrides the binary path.
const BinEnv = "POLYPHONY_MINIO_BIN"

// StartTimeout bounds how long a server may take to report itself live.
const StartTimeout = 60 * time.Second

// stopGrace is how long a server gets to exit after SIGTERM before it is
// killed.
const stopGrace = 10 * time.Second

// missingMsg is the skip message for a missing binary.
const missingMsg = "MinIO binary missing: run `make test` (or `make minio`) to build it into .cache/bin"

// ErrBinaryMissing reports that no MinIO binary was found.
var ErrBinaryMissing = errors.New("miniotest: MinIO binary missing")

// Server is a running MinIO server.
type Server struct {
	// Endpoint is the S3 API address as host:port (plain HTTP).
	Endpoint string
	// AccessKey and SecretKey are the root credentials.
	AccessKey string
	SecretKey string
}

// URL returns the server's base URL, "http://" + Endpoint.
func (s Server) URL() string { return "http://" + s.Endpoint }

// BinaryPath returns the MinIO binary to run: $POLYPHONY_MINIO_BIN if set,
// else <module root>/.cache/bin/minio. The error wraps ErrBinaryMissing when
// that file does not exist.
func BinaryPath() (string, error) {
	return proctest.CachedBinary(BinEnv, "minio", ErrBinaryMissing)
}

// StartMain starts a server for use from TestMain. The caller must call
// stop once the tests are done; it stops the server and removes its data.
// The error wraps ErrBinaryMissing when there is no binary to run; on other
// errors it includes the server's output.
func StartMain() (srv Server, stop func(), err error) {
	bin, err := BinaryPath()
	if err != nil {
		return Server{}, nil, err
	}
	// A port picked here may be taken by someone else before the server
	// binds it, so retry a few times with fresh ports.
	for attempt := 1; ; attempt++ {
		p, err := launch(bin)
		if err == nil {
			return p.srv, p.stop, nil
		}
		if attempt == 3 || !errors.Is(err, errExitedEarly) {
			return Server{}, nil, err
		}
	}
}

// Start starts a server dedicated to t and stops it when t ends. It skips
// t (or fails it when $CI is "true") if the binary is missing.
func Start(t testing.TB) Server {
	t.Helper()
	srv, stop, err := StartMain()
	if err != nil {
		handleStartErr(t, err)
	}
	t.Cleanup(stop)
	return srv
}

var (
	mainActive atomic.Bool
	sharedOnce sync.Once
	sharedSrv  Server
	sharedStop func()
	sharedErr  error
)

// Main runs the package's tests with m and then stops the server Shared
// started, if any, and exits. Call it from TestMain.
func Main(m *testing.M) {
	mainActive.Store(true)
	code := m.Run()
	if sharedStop != nil {
		sharedStop()
	}
	os.Exit(code)
}

// Shared returns the package's shared server, starting it on first use. It
// requires TestMain to call Main, which stops the server at the end. It
// skips t (or fails it when $CI is "true") if the binary is missing.
func Shared(t testing.TB) Server {
	t.Helper()
	if !mainActive.Load() {
		t.Fatal("miniotest.Shared needs TestMain to call miniotest.Main(m)")
	}
	sharedOnce.Do(func() {
		sharedSrv, sharedStop, sharedErr = StartMain()
	})
	if sharedErr != nil {
		handleStartErr(t, sharedErr)
	}
	return sharedSrv
}

func handleStartErr(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrBinaryMissing) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; `make test` builds it into .cache/bin (or run `make minio`)", err)
		}
		t.Skip(missingMsg)
	}
	t.Fatalf("miniotest: start MinIO: %v", err)
}

var bucketSeq atomic.Uint64

// BucketName returns a bucket name unique within the test binary and
// derived from t's name, valid under S3 naming rules.
func BucketName(t testing.TB) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			b.WriteRune(r)
		default:
			if s := b.String(); s != "" && !strings.HasSuffix(s, "-") {
				b.WriteByte('-')
			}
		}
	}
	name := strings.Trim(b.String(), "-")
	suffix := fmt.Sprintf("-%d-%s", bucketSeq.Add(1), randHex(3))
	if maxLen := 63 - len(suffix) - len("t-"); len(name) > maxLen {
		name = strings.TrimRight(name[:maxLen], "-")
	}
	return "t-" + name + suffix
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

var errExitedEarly = errors.New("miniotest: MinIO exited before becoming live")

type process struct {
	srv  Server
	stop func()
}

// launch runs one server and waits until it is live.
func launch(bin string) (*process, error) {
	apiPort, err := proctest.FreePort()
	if err != nil {
		return nil, err
	}
	consolePort, err := proctest.FreePort()
	if err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp("", "miniotest-")
	if err != nil {
		return nil, fmt.Errorf("miniotest: %w", err)
	}
	srv := Server{
		Endpoint:  fmt.Sprintf("127.0.0.1:%d", apiPort),
		AccessKey: "u" + randHex(10),
		SecretKey: randHex(20),
	}
	out := &proctest.Buffer{}
	cmd := exec.Command(bin, "server", dataDir,
		"--address", srv.Endpoint,
		"--console-address", fmt.Sprintf("127.0.0.1:%d", consolePort),
	)
	cmd.Env = append(withoutMinIOEnv(os.Environ()),
		"MINIO_ROOT_USER="+srv.AccessKey,
		"MINIO_ROOT_PASSWORD="+srv.SecretKey,
		"MINIO_UPDATE=off",
		"MINIO_CALLHOME_ENABLE=off",
	)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dataDir)
		return nil, fmt.Errorf("miniotest: start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(stopGrace):
				_ = cmd.Process.Kill()
				<-exited
			}
			_ = os.RemoveAll(dataDir)
		})
	}
	if err := waitLive(srv.Endpoint, exited); err != nil {
		stop()
		return nil, fmt.Errorf("%w\n--- MinIO output ---\n%s", err, out.String())
	}
	return &process{srv: srv, stop: stop}, nil
}

// waitLive polls the cluster health endpoint until it answers 200, the
// process exits or StartTimeout passes. The liveness endpoint answers as soon
// as the HTTP server is up, before the object layer is ready ("Server not
// initialized yet"); the cluster check waits for that too.
func waitLive(endpoint string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + endpoint + "/minio/health/cluster"
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("miniotest: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errExitedEarly
		case <-ctx.Done():
			return fmt.Errorf("miniotest: MinIO not live at %s after %v", endpoint, StartTimeout)
		case <-tick.C:
		}
	}
}

// withoutMinIOEnv drops inherited MINIO_* settings so that the test server
// runs with a known configuration.
func withoutMinIOEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "MINIO_") {
			out = append(out, kv)
		}
	}
	return out
}
