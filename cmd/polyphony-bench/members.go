package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

var dialer = websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}

// dialAll connects n connections with a few at a time, calling dial for each index; on the
// first error it closes what it opened.
func dialAll(ctx context.Context, n int, dial func(ctx context.Context, i int) (*websocket.Conn, error)) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(64, n) {
		wg.Go(func() {
			for i := range next {
				conns[i], errs[i] = dial(ctx, i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			for _, c := range conns {
				if c != nil {
					c.Close()
				}
			}
			return nil, fmt.Errorf("connection %d: %w", i, err)
		}
	}
	return conns, nil
}

// dialMember connects to url and, when the system welcomes, waits for the welcome frame.
func dialMember(ctx context.Context, url string, welcomes bool) (*websocket.Conn, error) {
	conn, _, err := dialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	if !welcomes {
		return conn, nil
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("waiting for the welcome: %w", err)
		}
		if bytes.Contains(msg, []byte(`"type":"welcome"`)) {
			conn.SetReadDeadline(time.Time{})
			return conn, nil
		}
	}
}

// A say's text carries the sender's index in the room, its own message number and the send
// time, padded to textSize bytes: receivers need no clock of their own but the shared one.
const textSize = 100

var padding = bytes.Repeat([]byte("x"), textSize)

func appendSay(b []byte, sender, n int, sent time.Time) []byte {
	b = append(b, `{"type":"say","text":"`...)
	start := len(b)
	b = strconv.AppendInt(b, int64(sender), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, sent.UnixNano(), 10)
	b = append(b, ' ')
	if pad := textSize - (len(b) - start); pad > 0 {
		b = append(b, padding[:pad]...)
	}
	b = append(b, `","id":"m`...)
	b = strconv.AppendInt(b, int64(sender), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, `"}`...)
}

var (
	sayType  = []byte(`"type":"say"`)
	textKey  = []byte(`"text":"`)
	handType = []byte(`"type":"hand_queue"`)
)

// parseSay reads a say frame of either system; ok is false for any other frame.
func parseSay(msg []byte) (sender, n int, sent int64, ok bool) {
	if !bytes.Contains(msg, sayType) {
		return 0, 0, 0, false
	}
	i := bytes.Index(msg, textKey)
	if i < 0 {
		return 0, 0, 0, false
	}
	f := bytes.Fields(msg[i+len(textKey) : min(len(msg), i+len(textKey)+textSize)])
	if len(f) < 3 {
		return 0, 0, 0, false
	}
	s, err1 := strconv.Atoi(string(f[0]))
	m, err2 := strconv.Atoi(string(f[1]))
	t, err3 := strconv.ParseInt(string(f[2]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, false
	}
	return s, m, t, true
}
