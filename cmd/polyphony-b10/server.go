package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildBinary builds the polyphony command into dir.
func buildBinary(ctx context.Context, dir string, log io.Writer) (string, error) {
	bin := filepath.Join(dir, "polyphony")
	fmt.Fprintf(log, "building the polyphony binary\n")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "polyphony/cmd/polyphony")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	return bin, nil
}

// server is one running `polyphony serve`.
type server struct {
	cmd     *exec.Cmd
	base    string        // http://127.0.0.1:port
	startup time.Duration // from exec to the banner
	stderr  *lockedBuffer
	exited  chan error
}

// startServer runs `polyphony serve` on dataDir on a free loopback port and waits for its
// banner, which it prints once it listens with its database open.
func startServer(ctx context.Context, bin, dataDir string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(bin, "serve", "--data", dataDir, "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--public-url", base, "--fonts", "none", "--log-level", "warn")
	cmd.Env = cleanEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: base, stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = s.stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.exited <- cmd.Wait() }()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.HasPrefix(sc.Text(), "Polyphony is running") {
				signalled = true
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
		s.startup = time.Since(began)
		return s, nil
	case err := <-s.exited:
		return nil, fmt.Errorf("polyphony serve stopped before it was ready (%v): %s", err, s.stderr.tail())
	case <-time.After(3 * time.Minute):
	case <-ctx.Done():
	}
	s.kill()
	return nil, fmt.Errorf("polyphony serve was not ready: %s", s.stderr.tail())
}

// stop ends the server with SIGTERM, as an operator would, and kills it if it does not stop.
func (s *server) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(time.Minute):
		s.kill()
		return fmt.Errorf("polyphony serve did not stop within a minute of SIGTERM")
	}
}

func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// cleanEnv is this process's environment without Polyphony's settings, so that the server
// runs on its embedded database and local media whatever the caller has set.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "POLYPHONY_") || strings.HasPrefix(name, "MONGODB_") ||
			strings.HasPrefix(name, "MINIO_") || strings.HasPrefix(name, "NATS_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// copyDir copies the folder src to dst, which must not exist.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil // sockets and the like belong to a process that has gone
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		info, err := in.Stat()
		if err != nil {
			return err
		}
		out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// lockedBuffer keeps a child's stderr for the message when it fails.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}
