// Package proctest holds what the harnesses that run a real server binary for the tests
// (MinIO, Mailpit, the OpenID provider, polyphony itself) have in common: finding the binary
// in the git-ignored cache, a free loopback port, and a buffer for the process's output.
package proctest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
)

// ModuleRoot returns the nearest directory at or above dir holding a go.mod file.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

// CachedBinary returns the binary to run: the file named by the environment variable env
// when it is set, else <module root>/.cache/bin/<name>, where `make` installs it. The error
// wraps missing when there is no such file.
func CachedBinary(env, name string, missing error) (string, error) {
	p := os.Getenv(env)
	if p == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		root, err := ModuleRoot(wd)
		if err != nil {
			return "", fmt.Errorf("%w: %v", missing, err)
		}
		p = filepath.Join(root, ".cache", "bin", name)
	}
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%w at %s", missing, p)
	case err != nil:
		return "", err
	case fi.IsDir():
		return "", fmt.Errorf("%w: %s is a directory", missing, p)
	}
	return p, nil
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Buffer is a bytes.Buffer that a process's output goroutine and a test can share.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
