package realtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Transcripts keeps every room's timeline, append-only, and every read is by _id:
//   - each event is a document whose _id is the room id and its sequence number
//     (zero-padded), inserted once and never updated, so that instances sharing a room may
//     both write it;
//   - every complete run of blockSize events (1–128, 129–256, ...) is also written as one
//     block document, so that reading a long timeline takes one lookup per block;
//   - a snapshot of each room's state (room_snapshots) lets a room start again without
//     reading its timeline from the beginning.
type Transcripts struct {
	events      *mongo.Collection
	blocks      *mongo.Collection
	snapshots   *mongo.Collection
	withdrawals *mongo.Collection
	group       *database.GroupInserter
}

// blockSize is how many events one block document holds.
const blockSize = 128

// storedEvent is an Event as kept in the store.
type storedEvent struct {
	ID    string `bson:"_id"`
	Room  string `bson:"room"`
	Event `bson:",inline"`
}

// storedBlock holds the events numbered from First to First+blockSize-1.
type storedBlock struct {
	ID     string  `bson:"_id"`
	Room   string  `bson:"room"`
	First  uint64  `bson:"first"`
	Events []Event `bson:"events"`
}

// withdrawal records that a speaker took back one of their turns.
type withdrawal struct {
	ID     string `bson:"_id"`
	Room   string `bson:"room"`
	Seq    uint64 `bson:"seq"`
	UserID string `bson:"userId"`
}

// NewTranscripts returns the transcript store in db.
func NewTranscripts(ctx context.Context, db *database.DB) (*Transcripts, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := &Transcripts{
		events:      db.Collection("room_events"),
		blocks:      db.Collection("room_event_blocks"),
		snapshots:   db.Collection("room_snapshots"),
		withdrawals: db.Collection("room_withdrawals"),
		// Max bounds one grouped insert, and so the wait of the rooms in it.
		group: &database.GroupInserter{Max: 1024, Timeout: 10 * time.Second},
	}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// eventKey is the _id of a room's event: ordered by sequence within the room.
func eventKey(roomID string, seq uint64) string {
	return fmt.Sprintf("%s/%020d", roomID, seq)
}

// blockKey is the _id of the room's block that starts at event first.
func blockKey(roomID string, first uint64) string {
	return fmt.Sprintf("%s/b%020d", roomID, first)
}

// append stores events, which are in sequence order. Events stored already are skipped, so
// a retry, or another instance writing the same events, is safe.
//
// Every room's writer calls append; the calls that arrive while one insert is under way are
// stored together by the next (database.GroupInserter), so that a hundred busy rooms cost a
// few inserts a second instead of hundreds. Each caller still returns only once its own
// events are stored, or with the error that stopped them.
func (t *Transcripts) append(ctx context.Context, roomID string, events []Event) error {
	docs := make([]any, len(events))
	for i, e := range events {
		docs[i] = storedEvent{ID: eventKey(roomID, e.Seq), Room: roomID, Event: e}
	}
	for _, err := range t.group.Insert(ctx, t.events, docs...) {
		if err != nil && !errors.Is(err, database.ErrDuplicate) {
			return fmt.Errorf("store room events: %w", err)
		}
	}
	return nil
}

// appendBlock stores a complete block of events.
func (t *Transcripts) appendBlock(ctx context.Context, roomID string, events []Event) error {
	_, err := t.blocks.InsertOne(ctx, storedBlock{ID: blockKey(roomID, events[0].Seq), Room: roomID,
		First: events[0].Seq, Events: events})
	if err != nil && !errors.Is(database.Translate(err), database.ErrDuplicate) {
		return fmt.Errorf("store room event block: %w", err)
	}
	return nil
}

// blockBuilder gathers stored events into complete blocks.
type blockBuilder struct{ buf []Event }

// add takes events just stored, in order, and returns the blocks they complete. A block is
// only made from events seen from its first; after a gap it waits for the next block's start.
func (b *blockBuilder) add(events []Event) [][]Event {
	var out [][]Event
	for _, e := range events {
		if n := len(b.buf); n > 0 && b.buf[n-1].Seq+1 != e.Seq {
			b.buf = nil
		}
		if len(b.buf) == 0 && (e.Seq-1)%blockSize != 0 {
			continue
		}
		b.buf = append(b.buf, e)
		if len(b.buf) == blockSize {
			out = append(out, b.buf)
			b.buf = nil
		}
	}
	return out
}

// Events returns up to limit events of the room after afterSeq, in order, reading whole
// blocks where it can and single events after the last block. A withdrawn turn comes without
// its words, marked Withdrawn.
func (t *Transcripts) Events(ctx context.Context, roomID string, afterSeq uint64, limit int) ([]Event, error) {
	out, err := t.storedEvents(ctx, roomID, afterSeq, limit)
	if err != nil || !hasTurns(out) {
		return out, err
	}
	gone, err := t.Withdrawn(ctx, roomID)
	if err != nil {
		return nil, err
	}
	for i, e := range out {
		if e.Type == EventSay && gone[e.Seq] {
			out[i] = e.withoutWords()
		}
	}
	return out, nil
}

func hasTurns(events []Event) bool {
	for _, e := range events {
		if e.Type == EventSay {
			return true
		}
	}
	return false
}

// storedEvents reads events as they were stored, words of withdrawn turns included.
func (t *Transcripts) storedEvents(ctx context.Context, roomID string, afterSeq uint64, limit int) ([]Event, error) {
	if limit <= 0 {
		return nil, failure.Invalid("limit", "must be at least 1")
	}
	var out []Event
	seq := afterSeq + 1
	for len(out) < limit {
		if (seq-1)%blockSize == 0 {
			var b storedBlock
			err := t.blocks.FindOne(ctx, bson.D{{Key: "_id", Value: blockKey(roomID, seq)}}).Decode(&b)
			if err == nil && len(b.Events) > 0 {
				for _, e := range b.Events {
					if len(out) < limit {
						out = append(out, e)
					}
				}
				seq = out[len(out)-1].Seq + 1
				continue
			}
			if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
				return nil, fmt.Errorf("read room events: %w", err)
			}
		}
		var d storedEvent
		err := t.events.FindOne(ctx, bson.D{{Key: "_id", Value: eventKey(roomID, seq)}}).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read room events: %w", err)
		}
		out = append(out, d.Event)
		seq++
	}
	return out, nil
}

// saveSnapshot stores the room's state, replacing the last snapshot.
func (t *Transcripts) saveSnapshot(ctx context.Context, s snapshot) error {
	_, err := t.snapshots.ReplaceOne(ctx, bson.D{{Key: "_id", Value: s.ID}}, s, options.Replace().SetUpsert(true))
	if err != nil && !errors.Is(database.Translate(err), database.ErrDuplicate) {
		return fmt.Errorf("store room snapshot: %w", err)
	}
	return nil
}

// loadSnapshot reads the room's last snapshot; failure.ErrNotFound when it has none.
func (t *Transcripts) loadSnapshot(ctx context.Context, roomID string) (snapshot, error) {
	var s snapshot
	err := t.snapshots.FindOne(ctx, bson.D{{Key: "_id", Value: roomID}}).Decode(&s)
	if err != nil {
		return snapshot{}, database.Translate(err)
	}
	return s, nil
}

// Withdraw records that userID takes back their turn seq. Only the speaker may withdraw a
// turn; the turn stays in the store and the withdrawal is a record of its own, so the export
// leaves the words out. Withdrawing twice is not an error.
func (t *Transcripts) Withdraw(ctx context.Context, roomID string, seq uint64, userID string) error {
	_, err := t.withdraw(ctx, roomID, seq, userID)
	return err
}

// withdraw is Withdraw, reporting whether this call recorded the withdrawal.
func (t *Transcripts) withdraw(ctx context.Context, roomID string, seq uint64, userID string) (bool, error) {
	var doc storedEvent
	err := t.events.FindOne(ctx, bson.D{{Key: "_id", Value: eventKey(roomID, seq)}}).Decode(&doc)
	if err != nil {
		return false, database.Translate(err)
	}
	if doc.Type != EventSay {
		return false, failure.Invalid("seq", "only a turn (say) can be withdrawn")
	}
	if doc.UserID != userID {
		return false, failure.ErrForbidden
	}
	_, err = t.withdrawals.InsertOne(ctx, withdrawal{
		ID: eventKey(roomID, seq), Room: roomID, Seq: seq, UserID: userID,
	})
	if errors.Is(database.Translate(err), database.ErrDuplicate) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store withdrawal: %w", err)
	}
	return true, nil
}

// Withdrawn returns the sequence numbers of the room's withdrawn turns.
func (t *Transcripts) Withdrawn(ctx context.Context, roomID string) (map[uint64]bool, error) {
	cur, err := t.withdrawals.Find(ctx, bson.D{{Key: "room", Value: roomID}})
	if err != nil {
		return nil, fmt.Errorf("read withdrawals: %w", err)
	}
	var docs []withdrawal
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read withdrawals: %w", err)
	}
	out := make(map[uint64]bool, len(docs))
	for _, d := range docs {
		out[d.Seq] = true
	}
	return out, nil
}
