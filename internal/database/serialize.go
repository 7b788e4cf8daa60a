package database

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// Embedded FerretDB (v1.24, SQLite) carries out an update as a read and then a write with
// nothing between them held: concurrent $inc updates on one document lose increments, and
// several compare-and-set updates on the same version all succeed (TestSerializeMakesReadCheckWriteAtomic
// shows both without this lock). Inserts under a unique index are atomic. So the stores keep
// hot writes append-only, rely on unique inserts for idempotency, and guard every
// read-check-write on one document (a list's add, a compare-and-set) with Serialize.
//
// More than one process writes an embedded database: the server, and the command line
// going through the server's listener (Config.Share). An in-process mutex orders only the
// first, so on the embedded engine Serialize also takes a lock that the operating system
// holds for the whole machine: one byte of the file serialize.lock in the database's folder,
// locked with an open-file-description lock (fcntl F_OFD_SETLKW). It costs two system calls
// (about 2 µs in all, BenchmarkSerialize), and it ends with the process that held it, so a
// writer that crashes leaves nothing behind to clear (a lock document with a lease would). Both processes necessarily share the folder:
// a command finds the server's listener there. TestSerializeHoldsAcrossProcesses races a
// second process on one list, and cmd/polyphony's TestListWritesFromCommandsAndServerAreAllKept
// races the real binary against the running server.
//
// On a MongoDB server each update is atomic and several instances share no folder; the
// stores' updates there are atomic operators or compare-and-set filters, and Serialize is
// the in-process mutex only, which costs little.

const stripes = 1024

// serializer is a fixed set of mutexes picked by a key's hash and, on the embedded engine,
// the file whose bytes are the same stripes across processes.
type serializer struct {
	mu   [stripes]sync.Mutex
	file *os.File // nil on MongoDB
}

// openStripes opens (making it if need be) the file whose bytes are the cross-process
// stripes for the embedded database in dir.
func (s *serializer) openStripes(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, "serialize.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open the write lock file: %w", err)
	}
	s.file = f
	return nil
}

// close gives the file back; a lock still held ends with it. The field stays set, so a
// writer racing the close sees a closed file, not a missing one.
func (s *serializer) close() {
	if s.file != nil {
		s.file.Close()
	}
}

// Serialize holds the lock for one document (collection and id) until the returned function
// is called: in this process, and on the embedded engine in every process writing the same
// folder. Use it around a read-check-write on one document; never hold two at once.
func (db *DB) Serialize(collection, id string) (unlock func()) {
	h := fnv.New32a()
	h.Write([]byte(db.Name()))
	h.Write([]byte{0})
	h.Write([]byte(collection))
	h.Write([]byte{0})
	h.Write([]byte(id))
	stripe := int64(h.Sum32() % stripes)
	m := &db.locks.mu[stripe]
	m.Lock()
	f := db.locks.file
	if f == nil {
		return m.Unlock
	}
	if err := rangeLock(f, stripe, unix.F_WRLCK); err != nil {
		// The file is open and the range valid, so this is not expected; writing without the
		// machine-wide lock is what Serialize did before it had one, and safe within this process.
		db.logLockFailure(err)
		return m.Unlock
	}
	return func() {
		if err := rangeLock(f, stripe, unix.F_UNLCK); err != nil {
			db.logLockFailure(err)
		}
		m.Unlock()
	}
}

// rangeLock sets (F_WRLCK, waiting for it) or clears (F_UNLCK) the open-file-description
// lock on one byte of f.
func rangeLock(f *os.File, offset int64, typ int16) error {
	lk := unix.Flock_t{Type: typ, Whence: 0, Start: offset, Len: 1}
	for {
		err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLKW, &lk)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func (db *DB) logLockFailure(err error) {
	if errors.Is(err, unix.EBADF) {
		return // the database was closed while a writer held the lock
	}
	if db.logger != nil {
		db.logger.Error("database write lock", "err", err)
	}
}
