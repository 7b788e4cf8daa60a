package database

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ErrInUse means another process holds the embedded database folder. InUseError says which.
var ErrInUse = errors.New("database folder in use")

// InUseError is returned when the data folder's embedded database is held by another
// process; URI is where that process's listener answers, when it published one.
type InUseError struct {
	Dir string
	PID int
	URI string
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("the database in %s is in use by process %d", e.Dir, e.PID)
}

// Is makes errors.Is(err, ErrInUse) true.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// Embedded is a FerretDB server running inside this process on a SQLite folder.
type Embedded struct {
	dir    string
	uri    string
	lock   *os.File
	cancel context.CancelFunc
	done   chan struct{}
}

// listenerInfo is what a running embedded server publishes beside its files so that other
// commands on the same folder can reach it instead of opening the files themselves.
type listenerInfo struct {
	PID int    `json:"pid"`
	URI string `json:"uri"`
}

// StartEmbedded starts FerretDB with its SQLite files in dir, listening on listen
// (host:port, port 0 for any free one). Only one process may hold a folder at a time;
// when another does, the error is an *InUseError carrying that process's listener.
func StartEmbedded(dir, listen string, logger *slog.Logger) (*Embedded, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create database folder: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "polyphony.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open database lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		inUse := &InUseError{Dir: dir}
		if b, rerr := os.ReadFile(filepath.Join(dir, "listener.json")); rerr == nil {
			var info listenerInfo
			if json.Unmarshal(b, &info) == nil {
				inUse.PID, inUse.URI = info.PID, info.URI
			}
		}
		return nil, inUse
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// FerretDB logs every command it does not support (such as endSessions) as a warning;
	// only its errors are worth a reader's attention.
	logger = slog.New(minLevel{logger.Handler(), slog.LevelError})
	abs, err := filepath.Abs(dir)
	if err != nil {
		lock.Close()
		return nil, err
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
		Logger:    logger,
	})
	if err != nil {
		lock.Close()
		if strings.Contains(err.Error(), "address already in use") {
			return nil, fmt.Errorf("mongo-listen %s: address already in use", listen)
		}
		return nil, fmt.Errorf("start embedded FerretDB: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Embedded{dir: dir, lock: lock, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = f.Run(ctx)
	}()
	e.uri = f.MongoDBURI()
	info, _ := json.Marshal(listenerInfo{PID: os.Getpid(), URI: e.uri})
	if err := os.WriteFile(filepath.Join(dir, "listener.json"), info, 0o600); err != nil {
		e.Stop()
		return nil, fmt.Errorf("publish database listener: %w", err)
	}
	return e, nil
}

// URI is the mongodb:// address of the embedded server's loopback listener.
func (e *Embedded) URI() string { return e.uri }

// Stop closes the listener, waits for FerretDB to close its files, and frees the folder.
func (e *Embedded) Stop() {
	e.cancel()
	<-e.done
	os.Remove(filepath.Join(e.dir, "listener.json"))
	e.lock.Close()
}

// minLevel drops records below level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}
