package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// roundGap is the pause between two raised hands.
const roundGap = 20 * time.Millisecond

// turnResult is B3: how long a raised hand takes to reach every member of the room.
type turnResult struct {
	Members    int
	Rounds     int
	Missing    int // rounds in which some member never saw the queue
	P50, P99   time.Duration
	Background stepResult
}

// handSeen is one member's sight of a hand_queue event.
type handSeen struct {
	raised bool // the queue holds a hand
	at     time.Time
}

// turnTaking runs rounds of raise_hand / lower_hand in one room of size members, timing the
// raise until every member has the hand_queue event.
func turnTaking(ctx context.Context, sys system, size, rounds int) (turnResult, error) {
	res := turnResult{Members: size}
	room := "b3-turns"
	if err := sys.Prepare(ctx, []string{room}); err != nil {
		return res, err
	}
	conns, err := dialAll(ctx, size, func(ctx context.Context, i int) (*websocket.Conn, error) {
		return dialMember(ctx, roomURL(sys.Base(), room, i), sys.Welcomes())
	})
	if err != nil {
		return res, err
	}
	seen := make(chan handSeen, 4*size)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { watchHands(c, seen, done) })
	}
	defer func() {
		close(done)
		closeAll(conns)
		wg.Wait()
	}()
	var lat []int32
	for r := range rounds {
		// Trainees take turns raising a hand (members 0 and 1 facilitate).
		c := conns[2+r%(size-2)]
		start := time.Now()
		last, ok, err := await(ctx, c, `{"type":"raise_hand"}`, seen, size, true)
		if err != nil {
			return res, err
		}
		res.Rounds++
		if !ok {
			res.Missing++
		} else {
			lat = append(lat, int32(last.Sub(start).Microseconds()))
		}
		if _, _, err := await(ctx, c, `{"type":"lower_hand"}`, seen, size, false); err != nil {
			return res, err
		}
		// Spread the rounds over a few seconds of the background load.
		time.Sleep(roundGap)
	}
	slices.Sort(lat)
	res.P50, res.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	return res, nil
}

// await sends msg on c and waits until n members have seen a hand_queue whose raised state is
// want, returning when the last of them saw it; ok is false when some did not within 5 s.
func await(ctx context.Context, c *websocket.Conn, msg string, seen <-chan handSeen, n int, want bool) (last time.Time, ok bool, err error) {
	// Sightings left from a round that timed out belong to no round.
	for len(seen) > 0 {
		<-seen
	}
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		return last, false, fmt.Errorf("send %s: %w", msg, err)
	}
	timeout := time.After(5 * time.Second)
	for got := 0; got < n; {
		select {
		case s := <-seen:
			if s.raised == want {
				got++
				last = s.at
			}
		case <-timeout:
			return last, false, nil
		case <-ctx.Done():
			return last, false, ctx.Err()
		}
	}
	return last, true, nil
}

// watchHands reports every hand_queue event c receives, with the time it arrived.
func watchHands(c *websocket.Conn, seen chan<- handSeen, done <-chan struct{}) {
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if bytes.Contains(msg, handType) {
			select {
			case seen <- handSeen{raised: bytes.Contains(msg, []byte(`"queue":[`)), at: time.Now()}:
			case <-done:
				return
			}
		}
	}
}
