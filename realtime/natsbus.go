package realtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// NATSBus is a Bus on NATS JetStream: one stream per room, holding the room's commands in
// the order every instance applies them.
type NATSBus struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	instance string
	maxAge   time.Duration

	mu           sync.Mutex
	streams      map[string]bool                         // rooms whose stream is known to exist
	failed       map[string]func(data []byte, err error) // by subject
	onDisconnect func(userID string)
	onForget     func(key string)
}

// disconnectSubject carries user ids whose connections every instance closes.
const disconnectSubject = "polyphony.disconnect"

// forgetSubject carries keys of cached sign-in state that every instance drops (see
// accounts.Peers).
const forgetSubject = "polyphony.forget"

// NATSOptions tune ConnectNATS.
type NATSOptions struct {
	// MaxAge is how long a room's commands are kept in its stream (default 30 days). A room's
	// snapshot holds its state, so an instance only needs the commands since the last one.
	MaxAge time.Duration
	// Name is how this connection shows in the NATS server's monitoring.
	Name string
}

// ConnectNATS connects to the NATS server at url, which must have JetStream enabled.
func ConnectNATS(ctx context.Context, url string, o NATSOptions) (*NATSBus, error) {
	if o.MaxAge <= 0 {
		o.MaxAge = 30 * 24 * time.Hour
	}
	if o.Name == "" {
		o.Name = "polyphony"
	}
	b := &NATSBus{instance: nuid.Next(), maxAge: o.MaxAge, streams: map[string]bool{},
		failed: map[string]func([]byte, error){}}
	nc, err := nats.Connect(url, nats.Name(o.Name), nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	b.nc = nc
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, msg *nats.Msg, err error) {
			b.mu.Lock()
			f := b.failed[msg.Subject]
			b.mu.Unlock()
			if f != nil {
				f(msg.Data, err)
			}
		}))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS JetStream: %w", err)
	}
	b.js = js
	if _, err := js.AccountInfo(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS at %s has no JetStream: %w", url, err)
	}
	// Each subject calls the function set for it (OnDisconnect, OnForget) with the message.
	for subject, hook := range map[string]*func(string){disconnectSubject: &b.onDisconnect, forgetSubject: &b.onForget} {
		if _, err := nc.Subscribe(subject, func(m *nats.Msg) {
			b.mu.Lock()
			f := *hook
			b.mu.Unlock()
			if f != nil {
				f(string(m.Data))
			}
		}); err != nil {
			nc.Close()
			return nil, fmt.Errorf("NATS subscribe to %s: %w", subject, err)
		}
	}
	// The subscriptions are known to the server before anyone is told the bus is up, so no
	// forget published after this returns is missed.
	if err := nc.FlushTimeout(10 * time.Second); err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS flush: %w", err)
	}
	return b, nil
}

// Close waits for commands still being published and disconnects.
func (b *NATSBus) Close() {
	select {
	case <-b.js.PublishAsyncComplete():
	case <-time.After(5 * time.Second):
	}
	b.nc.Drain()
}

// Instance is this process's name on the bus.
func (b *NATSBus) Instance() string { return b.instance }

// roomNames are a room's stream and subject: the room id hashed, since ids may hold
// characters NATS names cannot.
func roomNames(roomID string) (stream, subject string) {
	sum := sha256.Sum256([]byte(roomID))
	h := hex.EncodeToString(sum[:16])
	return "POLYPHONY_ROOM_" + h, "polyphony.room." + h
}

func (b *NATSBus) ensure(ctx context.Context, roomID string) error {
	b.mu.Lock()
	known := b.streams[roomID]
	b.mu.Unlock()
	if known {
		return nil
	}
	stream, subject := roomNames(roomID)
	_, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: stream, Subjects: []string{subject}, Description: "dialogue room " + roomID,
		Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, MaxAge: b.maxAge,
		Discard: jetstream.DiscardOld,
	})
	if err != nil {
		return fmt.Errorf("room stream: %w", err)
	}
	b.mu.Lock()
	b.streams[roomID] = true
	b.mu.Unlock()
	return nil
}

// Publish appends data to the room's stream without waiting for the acknowledgement.
func (b *NATSBus) Publish(roomID string, data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.ensure(ctx, roomID); err != nil {
		return err
	}
	_, subject := roomNames(roomID)
	_, err := b.js.PublishAsync(subject, data)
	return err
}

// Follow reads the room's stream from after+1 through an ordered consumer, which NATS
// recreates by itself when it misses a message, so deliver sees every command once, in order.
func (b *NATSBus) Follow(ctx context.Context, roomID string, after uint64,
	deliver func([]byte, uint64, time.Time), failed func([]byte, error)) (func(), error) {
	if err := b.ensure(ctx, roomID); err != nil {
		return nil, err
	}
	stream, subject := roomNames(roomID)
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if after > 0 {
		cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
			OptStartSeq: after + 1}
	}
	cons, err := b.js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("follow room stream: %w", err)
	}
	next := after + 1
	cc, err := cons.Consume(func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			slog.Warn("dialogue room: command without metadata", "room", roomID, "err", err)
			return
		}
		if pos := md.Sequence.Stream; pos > next {
			// Only when the stream dropped commands older than its MaxAge: the snapshot is
			// the room's state from before them.
			slog.Warn("dialogue room: commands missing from the stream", "room", roomID,
				"from", next, "to", pos-1)
		}
		next = md.Sequence.Stream + 1
		deliver(m.Data(), md.Sequence.Stream, md.Timestamp)
	})
	if err != nil {
		return nil, fmt.Errorf("follow room stream: %w", err)
	}
	b.mu.Lock()
	b.failed[subject] = failed
	b.mu.Unlock()
	return func() {
		cc.Stop()
		b.mu.Lock()
		delete(b.failed, subject)
		b.mu.Unlock()
	}, nil
}

// DisconnectUser asks every instance, this one included, to close the person's connections.
func (b *NATSBus) DisconnectUser(userID string) error {
	if userID == "" {
		return errors.New("no user id")
	}
	return b.nc.Publish(disconnectSubject, []byte(userID))
}

// Forget asks every instance, this one included, to drop what it cached under key.
func (b *NATSBus) Forget(key string) error {
	if key == "" {
		return errors.New("no key")
	}
	return b.nc.Publish(forgetSubject, []byte(key))
}

// OnForget sets what this instance does when an instance asks it to forget a key.
func (b *NATSBus) OnForget(f func(key string)) {
	b.mu.Lock()
	b.onForget = f
	b.mu.Unlock()
}

// OnDisconnect sets what this instance does when an instance asks to disconnect a person.
func (b *NATSBus) OnDisconnect(f func(userID string)) {
	b.mu.Lock()
	b.onDisconnect = f
	b.mu.Unlock()
}
