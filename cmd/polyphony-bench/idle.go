package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// idleResult is B2 for one system: memory held by the server per idle member connection.
type idleResult struct {
	Conns      int
	Rooms      int
	DeltaBytes int64
	KiBPerConn float64
}

// spawner connects n idle members, member i at url(i), and returns once all are in (having
// their welcome where the system sends one); stop closes them.
type spawner func(ctx context.Context, base, prefix string, n, perRoom int, welcomes bool) (stop func() error, err error)

func roomName(prefix string, i int) string { return fmt.Sprintf("%s-r%d", prefix, i) }

// roomURL is where member i of a room connects: the peer reads only the room, Polyphony's
// server also the member, whose role memberFor decides.
func roomURL(base, room string, i int) string {
	return base + "?room=" + url.QueryEscape(room) + "&user=" + strconv.Itoa(i)
}

func memberURL(base, prefix string, i, perRoom int) string {
	return roomURL(base, roomName(prefix, i/perRoom), i%perRoom)
}

// inUse is the heap and stack memory in use after two collections.
func inUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}

// idleMemory measures what n idle members in rooms of perRoom cost the server: the memory
// in use after they are in, less the memory before the rooms were opened, over n. Where the
// members run is spawn's choice: a child process keeps their memory out of the figure.
func idleMemory(ctx context.Context, sys system, base, prefix string, n, perRoom int, spawn spawner) (idleResult, error) {
	res := idleResult{Conns: n, Rooms: (n + perRoom - 1) / perRoom}
	rooms := make([]string, res.Rooms)
	for i := range rooms {
		rooms[i] = roomName(prefix, i)
	}
	before := inUse()
	if err := sys.Prepare(ctx, rooms); err != nil {
		return res, err
	}
	stop, err := spawn(ctx, base, prefix, n, perRoom, sys.Welcomes())
	if err != nil {
		return res, fmt.Errorf("%s: %w", sys.Name(), err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = sys.WaitJoined(wctx, n)
	cancel()
	if err == nil {
		// Let joins finish their broadcasts and transcript writes before counting.
		err = sys.Settle(ctx, rooms)
		time.Sleep(time.Second)
		res.DeltaBytes = inUse() - before
		res.KiBPerConn = float64(res.DeltaBytes) / 1024 / float64(n)
	}
	return res, errors.Join(err, stop())
}

// idleSet is a set of idle member connections, each with a reader that answers pings.
type idleSet struct {
	conns []*websocket.Conn
	wg    sync.WaitGroup
}

func dialIdle(ctx context.Context, base, prefix string, n, perRoom int, welcomes bool) (*idleSet, error) {
	conns, err := dialAll(ctx, n, func(ctx context.Context, i int) (*websocket.Conn, error) {
		return dialMember(ctx, memberURL(base, prefix, i, perRoom), welcomes)
	})
	if err != nil {
		return nil, err
	}
	s := &idleSet{conns: conns}
	for _, c := range conns {
		s.wg.Go(func() {
			for {
				if _, _, err := c.NextReader(); err != nil {
					return
				}
			}
		})
	}
	return s, nil
}

func (s *idleSet) close() error {
	closeAll(s.conns)
	s.wg.Wait()
	return nil
}

// childProcess runs the idle members in a child process of this binary (-idle-child), which
// says "ready" once all are in and ends them when its standard input closes.
func childProcess(ctx context.Context, base, prefix string, n, perRoom int, welcomes bool) (func() error, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-idle-child", "-idle-base", base, "-idle-prefix", prefix,
		"-idle-n", strconv.Itoa(n), "-members", strconv.Itoa(perRoom),
		"-idle-welcome="+strconv.FormatBool(welcomes))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		stdin.Close()
		werr := cmd.Wait()
		return nil, fmt.Errorf("idle members' process: %q %w", strings.TrimSpace(line), errors.Join(err, werr))
	}
	return func() error {
		stdin.Close()
		return cmd.Wait()
	}, nil
}

// idleChild is the child's side: connect, say ready, hold until standard input closes (or
// ten minutes pass), then close.
func idleChild(ctx context.Context, base, prefix string, n, perRoom int, welcomes bool) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	s, err := dialIdle(ctx, base, prefix, n, perRoom, welcomes)
	if err != nil {
		fmt.Printf("error %v\n", err)
		return err
	}
	fmt.Printf("ready %d\n", len(s.conns))
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	return s.close()
}

// raiseFileLimit lifts this process's open-file limit to its hard limit and returns it.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}
