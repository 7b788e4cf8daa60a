package dbtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"polyphony/internal/database"
)

// FilterLog records the filter of every read, update and delete a connection sends to the
// collections it watches, while it is on. A test uses it to show that a request reaches its
// records by _id alone: on embedded FerretDB any other filter reads every document of the
// collection, so the request would slow down with everything stored.
type FilterLog struct {
	mu       sync.Mutex
	on       bool
	prefixes []string
	filters  []string
}

// NewFilterLog watches the collections whose names start with one of the prefixes (every
// collection when none is given).
func NewFilterLog(prefixes ...string) *FilterLog { return &FilterLog{prefixes: prefixes} }

// NewLogged is New with l watching the connection.
func NewLogged(tb testing.TB, l *FilterLog) *database.DB { return NewMonitored(tb, l.Monitor()) }

func (l *FilterLog) watches(coll string) bool {
	if len(l.prefixes) == 0 {
		return true
	}
	for _, p := range l.prefixes {
		if strings.HasPrefix(coll, p) {
			return true
		}
	}
	return false
}

// Monitor is the command monitor to open the connection with.
func (l *FilterLog) Monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.on {
			return
		}
		coll, _ := e.Command.Lookup(e.CommandName).StringValueOK()
		if !l.watches(coll) {
			return
		}
		add := func(f bson.Raw) {
			l.filters = append(l.filters, fmt.Sprintf("%s %s %s", e.CommandName, coll, byIDOnly(f)))
		}
		switch e.CommandName {
		case "find", "count", "findAndModify":
			f, _ := e.Command.Lookup("filter").DocumentOK()
			if e.CommandName == "findAndModify" {
				f, _ = e.Command.Lookup("query").DocumentOK()
			}
			add(f)
		case "aggregate", "distinct":
			add(bson.Raw(`not by _id`))
		case "update", "delete":
			key := map[string]string{"update": "updates", "delete": "deletes"}[e.CommandName]
			if arr, ok := e.Command.Lookup(key).ArrayOK(); ok {
				vals, _ := arr.Values()
				for _, v := range vals {
					d, _ := v.Document().Lookup("q").DocumentOK()
					add(d)
				}
			}
		}
	}}
}

// byIDOnly is "ok" for a filter that is exactly {_id: <string>}, the only one embedded
// FerretDB answers without reading the whole collection, and the filter otherwise.
func byIDOnly(f bson.Raw) string {
	elems, err := f.Elements()
	if err == nil && len(elems) == 1 && elems[0].Key() == "_id" {
		if _, ok := elems[0].Value().StringValueOK(); ok {
			return "ok"
		}
	}
	return f.String()
}

// Record turns recording on or off.
func (l *FilterLog) Record(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = on
}

// Reset forgets what was recorded.
func (l *FilterLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.filters = nil
}

// All is every recorded command: its name, collection, and "ok" or the filter.
func (l *FilterLog) All() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.filters...)
}

// NotByID is every recorded command whose filter is not exactly {_id: <string>}.
func (l *FilterLog) NotByID() []string {
	var out []string
	for _, f := range l.All() {
		if !strings.HasSuffix(f, " ok") {
			out = append(out, f)
		}
	}
	return out
}

// Check stops recording and fails the test for every recorded command not by _id, naming
// what made them; a log that recorded nothing fails too, since the check could not fail.
func (l *FilterLog) Check(tb testing.TB, what string) {
	tb.Helper()
	l.Record(false)
	if len(l.All()) == 0 {
		tb.Fatalf("%s: nothing was recorded; the log watches no collection they use", what)
	}
	for _, f := range l.NotByID() {
		tb.Errorf("%s filtered by something other than _id: %s", what, f)
	}
}
