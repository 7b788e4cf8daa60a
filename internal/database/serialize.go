package database

import (
	"hash/fnv"
	"sync"
)

// Embedded FerretDB (v1.24, SQLite) carries out an update as a read and then a write with
// nothing between them held: concurrent $inc updates on one document lose increments, and
// several compare-and-set updates on the same version all succeed (TestSerializeMakesReadCheckWriteAtomic
// shows both without this lock). Inserts under a unique index are atomic. So the stores keep
// hot writes append-only, guard a compare-and-set with Serialize, and rely on unique inserts
// for idempotency. Only the serving process writes what the lock guards, so an in-process
// lock is enough (the command line, which may share a running server's database, changes
// accounts, and those are append-only); MongoDB itself makes each update atomic, where the
// lock costs little.

const stripes = 256

// serializer is a fixed set of mutexes picked by a key's hash.
type serializer struct {
	mu [stripes]sync.Mutex
}

// Serialize holds the lock for one document (collection and id) until the returned function
// is called. Use it around a read-check-write on one document.
func (db *DB) Serialize(collection, id string) (unlock func()) {
	h := fnv.New32a()
	h.Write([]byte(collection))
	h.Write([]byte{0})
	h.Write([]byte(id))
	m := &db.locks.mu[h.Sum32()%stripes]
	m.Lock()
	return m.Unlock
}
