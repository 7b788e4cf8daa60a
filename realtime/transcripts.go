package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Transcripts keeps every room's timeline, append-only, and every read is by _id:
//   - each event is a document whose _id is the room id and its sequence number
//     (zero-padded), inserted once and never updated, so that instances sharing a room may
//     both write it;
//   - every complete run of blockSize events (1–128, 129–256, ...) is also written as one
//     block document, its events packed in one binary value, so that reading a long
//     timeline takes one lookup per block; the events of the last block not yet complete
//     are written as its tail every tailEvery events and whenever the room saves a
//     snapshot;
//   - a snapshot of each room's state (room_snapshots) lets a room start again without
//     reading its timeline from the beginning.
type Transcripts struct {
	events      *database.Collection
	blocks      *database.Collection
	snapshots   *database.Collection
	withdrawals *database.Collection
	withdrawn   *database.Collection
	layout      *database.Collection
	db          *database.DB
	group       *database.GroupInserter
}

// blockSize is how many events one block document holds.
//
// The blocks are a second copy of the events, kept because reading by _id, even through the
// index, costs a round trip and a decode per document. BenchmarkTimelineRead, reading a
// whole timeline on embedded FerretDB (two shared cores): 500 events in 11 ms through
// packed blocks, 30 ms through blocks of the earlier layout, 207 ms by _id one event at a
// time and 241 ms eight at a time; 5,000 events in 83 ms, 562 ms, 2.5 s and 1.9 s. On the
// same machine less loaded: 6, 23, 159 and 126 ms; 75 ms, 301 ms, 1.6 s and 1.0 s. Reading
// by _id alone is 20 to 25 times slower than the packed blocks, so the blocks stay.
const blockSize = 128

// storedEvent is an Event as kept in the store.
type storedEvent struct {
	ID    string `bson:"_id"`
	Room  string `bson:"room"`
	Event `bson:",inline"`
}

// storedBlock holds events numbered from First: a complete block holds blockSize of them, a
// tail (tailKey) the first events of a block not yet complete.
type storedBlock struct {
	ID    string `bson:"_id"`
	Room  string `bson:"room"`
	First uint64 `bson:"first"`
	// Packed is the events as one BSON document (packedEvents). Embedded FerretDB decodes
	// every field of every document it reads, in Go, before it answers: a block of 128
	// events as an array of documents took 10 to 30 ms to read, the same events as one
	// binary value 2 to 5 ms.
	Packed []byte `bson:"packed,omitempty"`
	// Events is a block of the earlier layout, stored as an array of documents; it is read
	// still.
	Events []Event `bson:"events,omitempty"`
}

// packedEvents is what storedBlock.Packed holds.
type packedEvents struct {
	Events []Event `bson:"e"`
}

// newBlock packs events, which start at a block's first event, for storing.
func newBlock(id, roomID string, events []Event) (storedBlock, error) {
	raw, err := bson.Marshal(packedEvents{Events: events})
	if err != nil {
		return storedBlock{}, fmt.Errorf("pack room events: %w", err)
	}
	return storedBlock{ID: id, Room: roomID, First: events[0].Seq, Packed: raw}, nil
}

// events is the block's events, in either layout.
func (b storedBlock) events() ([]Event, error) {
	if b.Packed == nil {
		return b.Events, nil
	}
	var p packedEvents
	if err := bson.Unmarshal(b.Packed, &p); err != nil {
		return nil, fmt.Errorf("unpack room events %s: %w", b.ID, err)
	}
	return p.Events, nil
}

// withdrawal records that a speaker took back one of their turns; its _id is the turn's
// eventKey.
type withdrawal struct {
	ID     string `bson:"_id"`
	Room   string `bson:"room"`
	Seq    uint64 `bson:"seq"`
	UserID string `bson:"userId"`
}

// withdrawnList is the list document (database.DB.AddToList) of a room's withdrawn turns,
// whose _id is the room's id: how a reader finds them by _id rather than by a filter on
// room, which reads every withdrawal on embedded FerretDB.
type withdrawnList struct {
	ID   string   `bson:"_id"`
	Seqs []uint64 `bson:"seqs"`
}

// layoutMark is the document of room_layout that says the withdrawals of the earlier
// layout (records only, no list) are in their rooms' lists.
const layoutMark = "withdrawals listed by room"

// TranscriptsOptions tunes NewTranscripts.
type TranscriptsOptions struct {
	// Logger is told when the store brings records of an earlier layout over; nil is
	// slog.Default().
	Logger *slog.Logger
}

// NewTranscripts returns the transcript store in db. The first time it opens a database
// written before withdrawals were listed by room, it lists them (once, reading every
// withdrawal), and says so in the log.
func NewTranscripts(ctx context.Context, db *database.DB, opts ...TranscriptsOptions) (*Transcripts, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var o TranscriptsOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	t := &Transcripts{
		db:          db,
		events:      db.Collection("room_events"),
		blocks:      db.Collection("room_event_blocks"),
		snapshots:   db.Collection("room_snapshots"),
		withdrawals: db.Collection("room_withdrawals"),
		withdrawn:   db.Collection("room_withdrawn"),
		layout:      db.Collection("room_layout"),
		// Max bounds one grouped insert, and so the wait of the rooms in it.
		group: &database.GroupInserter{Max: 1024, Timeout: 10 * time.Second},
	}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	if err := t.listEarlierWithdrawals(ctx, o.Logger); err != nil {
		return nil, err
	}
	return t, nil
}

// listEarlierWithdrawals puts every withdrawal record into its room's list, unless that was
// done already.
func (t *Transcripts) listEarlierWithdrawals(ctx context.Context, log *slog.Logger) error {
	_, err := database.FindByID[bson.M](ctx, t.layout, layoutMark)
	if err == nil || !errors.Is(err, failure.ErrNotFound) {
		return err
	}
	// Once, at start-up: a scan of every withdrawal record.
	var docs []withdrawal
	if err := t.withdrawals.ScanAll(ctx, nil, database.Scan{}, &docs); err != nil {
		return fmt.Errorf("read withdrawals: %w", err)
	}
	rooms := map[string]bool{}
	for _, d := range docs {
		if err := t.db.AddToList(ctx, t.withdrawn, d.Room, "seqs", d.Seq); err != nil {
			return err
		}
		rooms[d.Room] = true
	}
	if err := database.InsertOnce(ctx, t.layout, bson.M{"_id": layoutMark}); err != nil {
		return err
	}
	if len(docs) > 0 {
		log.Info("room withdrawals brought to the layout read by id", "withdrawals", len(docs), "rooms", len(rooms))
	}
	return nil
}

// eventKey is the _id of a room's event: ordered by sequence within the room.
func eventKey(roomID string, seq uint64) string {
	return fmt.Sprintf("%s/%020d", roomID, seq)
}

// blockKey is the _id of the room's block that starts at event first.
func blockKey(roomID string, first uint64) string {
	return fmt.Sprintf("%s/b%020d", roomID, first)
}

// tailKey is the _id of the room's tail: the first events of the block that starts at event
// first, before that block is complete.
func tailKey(roomID string, first uint64) string {
	return fmt.Sprintf("%s/t%020d", roomID, first)
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
	b, err := newBlock(blockKey(roomID, events[0].Seq), roomID, events)
	if err != nil {
		return err
	}
	return database.InsertOnce(ctx, t.blocks, b)
}

// saveTail stores the first events of a block not yet complete (stored already one by one),
// replacing the room's last tail of that block, so that a reader of the timeline gets them
// with one read instead of one each. A tail behind what is stored is only slower to read.
func (t *Transcripts) saveTail(ctx context.Context, roomID string, events []Event) error {
	if len(events) == 0 || (events[0].Seq-1)%blockSize != 0 {
		return nil
	}
	b, err := newBlock(tailKey(roomID, events[0].Seq), roomID, events)
	if err != nil {
		return err
	}
	err = t.blocks.Put(ctx, b.ID, b)
	if err != nil && !errors.Is(err, database.ErrDuplicate) {
		return fmt.Errorf("store room events tail: %w", err)
	}
	return nil
}

// blockBuilder gathers stored events into complete blocks, and says when the incomplete
// block's tail is due to be stored.
type blockBuilder struct {
	buf   []Event
	saved int // how many of buf the last tail stored has
}

// tailEvery is how many events a room's incomplete block gains before its tail is stored
// again: a reader reads at most this many events one by one after the tail. Each tail
// rewrites up to a block of events, so a smaller number costs more writes.
const tailEvery = 32

// tail returns the incomplete block's events when force is set or tailEvery events have
// come since the last tail, and nil otherwise; the caller stores what it gets.
func (b *blockBuilder) tail(force bool) []Event {
	n := len(b.buf)
	if n == 0 || n == b.saved || (!force && n < b.saved+tailEvery) {
		return nil
	}
	b.saved = n
	return b.buf
}

// add takes events just stored, in order, and returns the blocks they complete. A block is
// only made from events seen from its first; after a gap it waits for the next block's start.
func (b *blockBuilder) add(events []Event) [][]Event {
	var out [][]Event
	for _, e := range events {
		if n := len(b.buf); n > 0 && b.buf[n-1].Seq+1 != e.Seq {
			b.buf, b.saved = nil, 0
		}
		if len(b.buf) == 0 && (e.Seq-1)%blockSize != 0 {
			continue
		}
		b.buf = append(b.buf, e)
		if len(b.buf) == blockSize {
			out = append(out, b.buf)
			b.buf, b.saved = nil, 0
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
	if into := (seq - 1) % blockSize; into != 0 && min(uint64(limit), blockSize-into) > minFromBlock {
		// Starting within a block: its events from seq on, from the block or its tail, in
		// one read instead of one read each.
		events, err := t.readBlock(ctx, roomID, seq-into)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			if e.Seq >= seq && len(out) < limit {
				out = append(out, e)
			}
		}
		if len(out) > 0 {
			seq = out[len(out)-1].Seq + 1
		}
	}
	for len(out) < limit {
		if (seq-1)%blockSize == 0 {
			events, err := t.readBlock(ctx, roomID, seq)
			if err != nil {
				return nil, err
			}
			if len(events) > 0 {
				out = append(out, events[:min(len(events), limit-len(out))]...)
				seq = out[len(out)-1].Seq + 1
				continue
			}
		}
		d, err := database.FindByID[storedEvent](ctx, t.events, eventKey(roomID, seq))
		if errors.Is(err, failure.ErrNotFound) {
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

// minFromBlock is how many events a read that starts within a block must want from it for
// the block to be read instead of its events one by one: a block costs a few single reads.
const minFromBlock = 8

// readBlock reads the events of the block that starts at first: the complete block, or the
// tail stored of it, or none.
func (t *Transcripts) readBlock(ctx context.Context, roomID string, first uint64) ([]Event, error) {
	for _, id := range []string{blockKey(roomID, first), tailKey(roomID, first)} {
		b, err := database.FindByID[storedBlock](ctx, t.blocks, id)
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read room events: %w", err)
		}
		events, err := b.events()
		if err != nil || len(events) == 0 {
			return nil, err
		}
		if events[0].Seq != first {
			return nil, fmt.Errorf("read room events: %s starts at %d", id, events[0].Seq)
		}
		return events, nil
	}
	return nil, nil
}

// saveSnapshot stores the room's state, replacing the last snapshot.
func (t *Transcripts) saveSnapshot(ctx context.Context, s snapshot) error {
	err := t.snapshots.Put(ctx, s.ID, s)
	if err != nil && !errors.Is(err, database.ErrDuplicate) {
		return fmt.Errorf("store room snapshot: %w", err)
	}
	return nil
}

// loadSnapshot reads the room's last snapshot; failure.ErrNotFound when it has none.
func (t *Transcripts) loadSnapshot(ctx context.Context, roomID string) (snapshot, error) {
	var s snapshot
	if err := t.snapshots.Get(ctx, roomID, &s); err != nil {
		return snapshot{}, err
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
	err := t.events.Get(ctx, eventKey(roomID, seq), &doc)
	if err != nil {
		return false, err
	}
	if doc.Type != EventSay {
		return false, failure.Invalid("seq", "only a turn (say) can be withdrawn")
	}
	if doc.UserID != userID {
		return false, failure.ErrForbidden
	}
	err = database.Insert(ctx, t.withdrawals, withdrawal{
		ID: eventKey(roomID, seq), Room: roomID, Seq: seq, UserID: userID,
	})
	fresh := err == nil
	if err != nil && !errors.Is(err, database.ErrDuplicate) {
		return false, fmt.Errorf("store withdrawal: %w", err)
	}
	// Listed again when the record was there already: an earlier try may have stopped
	// between the two writes.
	if err := t.db.AddToList(ctx, t.withdrawn, roomID, "seqs", seq); err != nil {
		return false, fmt.Errorf("store withdrawal: %w", err)
	}
	return fresh, nil
}

// Withdrawn returns the sequence numbers of the room's withdrawn turns, read by _id from the
// room's list.
func (t *Transcripts) Withdrawn(ctx context.Context, roomID string) (map[uint64]bool, error) {
	l, err := database.FindByID[withdrawnList](ctx, t.withdrawn, roomID)
	if errors.Is(err, failure.ErrNotFound) {
		return map[uint64]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read withdrawals: %w", err)
	}
	out := make(map[uint64]bool, len(l.Seqs))
	for _, s := range l.Seqs {
		out[s] = true
	}
	return out, nil
}
