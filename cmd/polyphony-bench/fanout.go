package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// p99Limit is B1's and B3's latency bound.
const p99Limit = 50 * time.Millisecond

// load is rooms × members connected to a system, each member sending says at a rate and
// counting the says it receives.
type load struct {
	sys       system
	rooms     []string
	perRoom   int
	members   []*loadMember
	delivered atomic.Int64
	from      atomic.Int64 // says sent before this time (unix ns) are not sampled for latency
	stopping  atomic.Bool
	readers   sync.WaitGroup
	sendTime  time.Duration
	began     time.Time
	setup     time.Duration
}

// loadMember is one connection. Its sender goroutine alone writes sent; its reader goroutine
// alone writes the fields after it; both are read once those goroutines have ended.
type loadMember struct {
	conn  *websocket.Conn
	room  int
	index int
	sent  int

	last      []int // last message number seen from each sender of the room
	got       int64
	anomalies int64 // a say seen twice or out of order
	lat       []int32
	early     bool // the connection ended before the load stopped
}

// stepResult is one load level's outcome.
type stepResult struct {
	Rate      float64 // says per second per member, offered
	Sent      int64
	Expected  int64
	Delivered int64
	Anomalies int64
	Closed    int
	PerSecond float64 // deliveries per second
	P50, P99  time.Duration
	Lagged    bool // senders fell more than 10% behind the offered rate
	Pass      bool
	Setup     time.Duration // opening the rooms and connecting every member
	Settle    time.Duration // waiting for the system's work after the last say
}

// startLoad opens the rooms and connects every member, returning once all are in.
func startLoad(ctx context.Context, sys system, prefix string, rooms, perRoom int) (*load, error) {
	l := &load{sys: sys, perRoom: perRoom, began: time.Now()}
	for i := range rooms {
		l.rooms = append(l.rooms, roomName(prefix, i))
	}
	if err := sys.Prepare(ctx, l.rooms); err != nil {
		return nil, err
	}
	conns, err := dialAll(ctx, rooms*perRoom, func(ctx context.Context, i int) (*websocket.Conn, error) {
		return dialMember(ctx, roomURL(baseFor(sys, i%perRoom), l.rooms[i/perRoom], i%perRoom), sys.Welcomes())
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sys.Name(), err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := sys.WaitJoined(wctx, len(conns)); err != nil {
		closeAll(conns)
		return nil, err
	}
	l.from.Store(math.MaxInt64)
	l.setup = time.Since(l.began)
	for i, c := range conns {
		m := &loadMember{conn: c, room: i / perRoom, index: i % perRoom, last: make([]int, perRoom)}
		l.members = append(l.members, m)
		l.readers.Go(func() { l.read(m) })
	}
	return l, nil
}

func closeAll(conns []*websocket.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

func (l *load) read(m *loadMember) {
	for {
		_, msg, err := m.conn.ReadMessage()
		if err != nil {
			m.early = !l.stopping.Load()
			return
		}
		sender, n, sent, ok := parseSay(msg)
		if !ok {
			continue
		}
		now := time.Now().UnixNano()
		m.got++
		l.delivered.Add(1)
		if sender < 0 || sender >= len(m.last) || n != m.last[sender]+1 {
			m.anomalies++
		} else {
			m.last[sender] = n
		}
		if sent >= l.from.Load() {
			m.lat = append(m.lat, int32(min((now-sent)/1e3, math.MaxInt32)))
		}
	}
}

// run makes every member send at rate says per second for d, or until ctx ends; the first
// quarter second (at most a fifth of d) is not sampled for latency.
func (l *load) run(ctx context.Context, rate float64, d time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	l.from.Store(start.Add(min(time.Second, d/5)).UnixNano())
	var wg sync.WaitGroup
	for _, m := range l.members {
		wg.Go(func() { m.send(ctx, interval) })
	}
	wg.Wait()
	l.sendTime = time.Since(start)
}

func (m *loadMember) send(ctx context.Context, interval time.Duration) {
	// Members start at random points of the first interval so that the load is even.
	select {
	case <-time.After(rand.N(interval)):
	case <-ctx.Done():
		return
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	buf := make([]byte, 0, 256)
	for {
		buf = appendSay(buf[:0], m.index, m.sent+1, time.Now())
		m.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := m.conn.WriteMessage(websocket.TextMessage, buf); err != nil {
			return
		}
		m.sent++
		select {
		case <-ticker.C:
		case <-ctx.Done():
			return
		}
	}
}

// finish waits for the says in flight, lets the system settle, closes every connection and
// counts.
func (l *load) finish(ctx context.Context, rate float64) (stepResult, error) {
	res := stepResult{Rate: rate, Setup: l.setup}
	perRoom := make([]int64, len(l.rooms))
	for _, m := range l.members {
		perRoom[m.room] += int64(m.sent)
		res.Sent += int64(m.sent)
	}
	for _, s := range perRoom {
		res.Expected += s * int64(l.perRoom)
	}
	deadline := time.Now().Add(3 * time.Second)
	for l.delivered.Load() < res.Expected && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	settling := time.Now()
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err := l.sys.Settle(sctx, l.rooms)
	cancel()
	res.Settle = time.Since(settling)
	l.stopping.Store(true)
	for _, m := range l.members {
		m.conn.Close()
	}
	l.readers.Wait()
	var lat []int32
	for _, m := range l.members {
		res.Delivered += m.got
		res.Anomalies += m.anomalies
		if m.early {
			res.Closed++
		}
		lat = append(lat, m.lat...)
	}
	slices.Sort(lat)
	res.P50, res.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	if l.sendTime > 0 {
		res.PerSecond = float64(res.Delivered) / l.sendTime.Seconds()
		offered := rate * float64(len(l.members)) * l.sendTime.Seconds()
		res.Lagged = float64(res.Sent) < 0.9*offered
	}
	res.Pass = res.Delivered == res.Expected && res.Anomalies == 0 && res.Closed == 0 &&
		!res.Lagged && res.P99 <= p99Limit && len(lat) > 0
	return res, err
}

// percentile of sorted microsecond samples.
func percentile(sorted []int32, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(math.Ceil(q*float64(len(sorted))))-1)
	return time.Duration(sorted[max(i, 0)]) * time.Microsecond
}

// fanOutStep runs one load level on fresh rooms.
func fanOutStep(ctx context.Context, sys system, prefix string, rooms, perRoom int, rate float64, d time.Duration) (stepResult, error) {
	l, err := startLoad(ctx, sys, prefix, rooms, perRoom)
	if err != nil {
		return stepResult{}, err
	}
	l.run(ctx, rate, d)
	return l.finish(ctx, rate)
}

// searchKnee finds the highest rate that passes: doubling from start until a level fails
// (halving while the first ones fail), then narrowing between the last pass and the first
// fail, in at most maxSteps levels, each run by level.
func searchKnee(start float64, maxSteps int, level func(step int, rate float64) (stepResult, error)) (best stepResult, steps []stepResult, err error) {
	rate, lo, hi := start, 0.0, 0.0
	for step := range maxSteps {
		res, err := level(step, rate)
		if err != nil {
			return best, steps, err
		}
		steps = append(steps, res)
		if res.Pass {
			lo, best = rate, res
		} else {
			hi = rate
		}
		switch {
		case hi == 0:
			rate *= 2
		case lo == 0:
			rate /= 2
		case hi/lo < 1.15:
			return best, steps, nil
		default:
			rate = math.Sqrt(lo * hi)
		}
	}
	return best, steps, nil
}
