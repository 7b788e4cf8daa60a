package realtime

import (
	"context"
	"fmt"
)

// AppendHistory stores a room's past events as its writer would have stored them: one
// document each, every complete block and the tail of the last, skipping what is stored
// already. The events are in sequence order and start at a block's first event (1, 129,
// ...). It exists to build a year of synthetic timelines in bulk for the B10 benchmark; a
// live room never calls it, and it saves no snapshot, so the room folds these events in when
// it first loads.
func (t *Transcripts) AppendHistory(ctx context.Context, roomID string, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	if (events[0].Seq-1)%blockSize != 0 {
		return fmt.Errorf("room history must start at a block's first event, not at %d", events[0].Seq)
	}
	if err := t.append(ctx, roomID, events); err != nil {
		return err
	}
	var b blockBuilder
	for _, block := range b.add(events) {
		if err := t.appendBlock(ctx, roomID, block); err != nil {
			return err
		}
	}
	return t.saveTail(ctx, roomID, b.buf)
}
