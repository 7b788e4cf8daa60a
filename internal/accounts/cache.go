package accounts

import "time"

// DefaultCacheFor is how long a resolved session is trusted without asking the database.
//
// Every signed-in request resolves its cookie to a session and an account. Asking the
// database both times costs more than everything else a typical request does, so the
// answer is kept for a moment. Whatever this process changes (sign-out, disable, a new
// password) forgets the cached answer at once, and Peers carries that to the other
// instances. Only a change made by another process that cannot reach them (a command-line
// tool on the same database) waits out this lifetime.
//
// With reads by _id indexed the cache still earns its place: FromSession is 2,900–4,700×
// as fast with it (about 0.5 µs against 1.4–2.7 ms, BenchmarkCacheSession in this package),
// B5's request 52–146× (0.18–0.90 of the bare handler with it, 0.002–0.011 without,
// BenchmarkCacheSessionB5 in server) and B6's 9.6–24× (BenchmarkCacheSessionB6; go test
// -run '^$' -bench Cache ./internal/accounts/ ./server/).
const DefaultCacheFor = 2 * time.Second

// maxCachedSessions bounds the cache.
const maxCachedSessions = 100_000

// Peers tells the other instances to forget what they cached about a session or a person.
// The realtime NATS bus is one.
type Peers interface {
	Forget(key string) error
}

// Keys that Peers carries: a session's id or a user's id behind a prefix.
const (
	forgetSessionPrefix = "session:"
	forgetUserPrefix    = "user:"
)

// resolved is what the cache keeps for a session id.
type resolved struct {
	sess Session
	user User
}
