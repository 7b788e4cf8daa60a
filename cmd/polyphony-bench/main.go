// Command polyphony-bench measures the room figures (README, Performance) side by side with a minimal
// gorilla rooms hub (the peer, in peer.go), on loopback, in one run:
//
//	B1  fan-out: deliveries per second at the highest offered rate whose p99 is ≤ 50 ms
//	    with nothing dropped, for the peer and for Polyphony (transcripts on)
//	B2  memory per idle member connection, server side (members in a child process)
//	B3  turn-taking: raise_hand until all members of a room have the hand_queue, at half
//	    of Polyphony's B1 knee in other rooms
//	B4  B1's knee for two Polyphony instances sharing the rooms through an embedded NATS
//	    JetStream server, each room's members split between them, against one instance
//
// It prints the figures, never asserts them, and exits 0 when it ran. -quick is a small run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"
)

// config is what a run measures, and how hard.
type config struct {
	Rooms, Members int
	StepTime       time.Duration
	MaxSteps       int
	StartRate      float64 // deliveries per second offered at the first B1 level
	Idle           int
	TurnMembers    int
	Rounds         int
	SendBuffer     int
	Run            string
}

func main() {
	var cfg config
	quick := flag.Bool("quick", false, "a small run (under a minute): 20 rooms × 10, 2 s levels, 2000 idle, 100 rounds")
	flag.IntVar(&cfg.Rooms, "rooms", 100, "B1: rooms")
	flag.IntVar(&cfg.Members, "members", 20, "B1 and B2: members per room")
	flag.DurationVar(&cfg.StepTime, "step", 5*time.Second, "B1: how long each load level sends")
	flag.IntVar(&cfg.MaxSteps, "steps", 8, "B1: most load levels per system")
	flag.Float64Var(&cfg.StartRate, "start", 20000, "B1: deliveries per second offered at the first level")
	flag.IntVar(&cfg.Idle, "idle", 10000, "B2: idle connections per system")
	flag.IntVar(&cfg.TurnMembers, "turn-members", 30, "B3: members of the turn-taking room")
	flag.IntVar(&cfg.Rounds, "rounds", 200, "B3: hands raised")
	flag.IntVar(&cfg.SendBuffer, "sendbuf", 0, "Polyphony's send buffer per connection (0: its default, 64)")
	flag.StringVar(&cfg.Run, "run", "b1,b2,b3,b4", "which figures to measure")
	child := flag.Bool("idle-child", false, "internal: hold idle members for B2")
	childBase := flag.String("idle-base", "", "internal: websocket address for -idle-child")
	childPrefix := flag.String("idle-prefix", "", "internal: room name prefix for -idle-child")
	childN := flag.Int("idle-n", 0, "internal: connections for -idle-child")
	childWelcome := flag.Bool("idle-welcome", false, "internal: wait for each welcome in -idle-child")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		cfg.quick(set)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := raiseFileLimit(); err != nil {
		fmt.Fprintf(os.Stderr, "polyphony-bench: open-file limit: %v\n", err)
	}
	if *child {
		if err := idleChild(ctx, *childBase, *childPrefix, *childN, cfg.Members, *childWelcome); err != nil {
			os.Exit(1)
		}
		return
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "polyphony-bench: -cpuprofile: %v\n", err)
			os.Exit(2)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "polyphony-bench: %v\n", err)
		os.Exit(1)
	}
}

// quick scales the run down, keeping whatever was set on the command line.
func (c *config) quick(set map[string]bool) {
	pick := func(name string, apply func()) {
		if !set[name] {
			apply()
		}
	}
	pick("rooms", func() { c.Rooms = 20 })
	pick("members", func() { c.Members = 10 })
	pick("step", func() { c.StepTime = 2 * time.Second })
	pick("steps", func() { c.MaxSteps = 6 })
	pick("idle", func() { c.Idle = 2000 })
	pick("rounds", func() { c.Rounds = 100 })
}

// run measures what cfg asks for and writes the table to out, progress to log.
func run(ctx context.Context, cfg config, out, log io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	env, err := openEnv(ctx)
	if err != nil {
		return err
	}
	defer env.close()
	rep := newReport(cfg)
	started := time.Now()
	if cfg.wants("b1") || cfg.wants("b3") || cfg.wants("b4") {
		if err := env.fanOut(ctx, cfg, rep, log); err != nil {
			return err
		}
	}
	if cfg.wants("b3") {
		if err := env.turns(ctx, cfg, rep, log); err != nil {
			return err
		}
	}
	if cfg.wants("b4") {
		if err := env.instances(ctx, cfg, rep, log); err != nil {
			return err
		}
	}
	if cfg.wants("b2") {
		if err := env.idle(ctx, cfg, rep, log, childProcess); err != nil {
			return err
		}
	}
	rep.took = time.Since(started)
	rep.write(out)
	return nil
}
