package realtime

import (
	"context"
	"time"
)

// Bus carries each room's commands to every instance serving the room, as one ordered log
// per room. Every instance applies the same commands in the log's order, so all of them hold
// the same room state and put the same events, with the same sequence numbers, on the
// timeline. NATSBus is the implementation; without a bus a Hub keeps its rooms in-process.
type Bus interface {
	// Instance is this process's unique name among those sharing the bus.
	Instance() string
	// Publish appends a command to the room's log. It does not wait for the log: a refusal
	// found later goes to the failed function given to Follow.
	Publish(roomID string, data []byte) error
	// Follow calls deliver with every command of the room's log after position after, in
	// order and from one goroutine at a time, with its position and the time the log took
	// it, until stop is called; failed hears of commands published here that the log
	// refused.
	Follow(ctx context.Context, roomID string, after uint64, deliver func(data []byte, pos uint64, at time.Time),
		failed func(data []byte, err error)) (stop func(), err error)
	// DisconnectUser asks every instance to close the person's connections.
	DisconnectUser(userID string) error
	// OnDisconnect sets what this instance does when asked to disconnect a person.
	OnDisconnect(func(userID string))
}
