package realtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Transcripts keeps every room's timeline, append-only. An event's _id is the room id and its
// sequence number (zero-padded), so events are inserted once, never updated, and every read
// is a lookup or a range on _id.
type Transcripts struct {
	events      *mongo.Collection
	withdrawals *mongo.Collection
}

// storedEvent is an Event as kept in the store.
type storedEvent struct {
	ID    string `bson:"_id"`
	Room  string `bson:"room"`
	Event `bson:",inline"`
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
	return &Transcripts{
		events:      db.Collection("room_events"),
		withdrawals: db.Collection("room_withdrawals"),
	}, nil
}

// eventKey is the _id of a room's event: ordered by sequence within the room.
func eventKey(roomID string, seq uint64) string {
	return fmt.Sprintf("%s/%020d", roomID, seq)
}

// append stores events, which are in sequence order. A retry after a partial failure is
// safe: events already stored are skipped.
func (t *Transcripts) append(ctx context.Context, roomID string, events []Event) error {
	docs := make([]any, len(events))
	for i, e := range events {
		docs[i] = storedEvent{ID: eventKey(roomID, e.Seq), Room: roomID, Event: e}
	}
	_, err := t.events.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	if err == nil {
		return nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("store room events: %w", err)
	}
	// Part of the batch was stored by an earlier try: store the rest one by one, in order.
	for _, d := range docs {
		if _, err := t.events.InsertOne(ctx, d); err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("store room event: %w", err)
		}
	}
	return nil
}

// Events returns up to limit events of the room after afterSeq, in order.
func (t *Transcripts) Events(ctx context.Context, roomID string, afterSeq uint64, limit int) ([]Event, error) {
	if limit <= 0 {
		return nil, failure.Invalid("limit", "must be at least 1")
	}
	filter := bson.D{
		{Key: "_id", Value: bson.D{
			{Key: "$gt", Value: eventKey(roomID, afterSeq)},
			{Key: "$lte", Value: eventKey(roomID, math.MaxUint64)},
		}},
		{Key: "room", Value: roomID},
	}
	cur, err := t.events.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("read room events: %w", err)
	}
	var docs []storedEvent
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read room events: %w", err)
	}
	out := make([]Event, len(docs))
	for i, d := range docs {
		out[i] = d.Event
	}
	return out, nil
}

// has reports whether the room's event seq is stored.
func (t *Transcripts) has(ctx context.Context, roomID string, seq uint64) (bool, error) {
	err := t.events.FindOne(ctx, bson.D{{Key: "_id", Value: eventKey(roomID, seq)}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read room event: %w", err)
	}
	return true, nil
}

// lastSeq finds the room's last stored sequence number by looking events up by _id: events
// are stored without gaps, so a doubling search and then a binary search need about
// 2·log2(n) lookups and never scan.
func (t *Transcripts) lastSeq(ctx context.Context, roomID string) (uint64, error) {
	lo, hi := uint64(0), uint64(1) // lo is stored (or 0), hi is to be tested
	for {
		ok, err := t.has(ctx, roomID, hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 { // lo stored, hi missing
		mid := lo + (hi-lo)/2
		ok, err := t.has(ctx, roomID, mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// Withdraw records that userID takes back their turn seq. Only the speaker may withdraw a
// turn; the turn stays in the store and the withdrawal is a record of its own, so the export
// leaves the words out. Withdrawing twice is not an error.
func (t *Transcripts) Withdraw(ctx context.Context, roomID string, seq uint64, userID string) error {
	var doc storedEvent
	err := t.events.FindOne(ctx, bson.D{{Key: "_id", Value: eventKey(roomID, seq)}}).Decode(&doc)
	if err != nil {
		return database.Translate(err)
	}
	if doc.Type != EventSay {
		return failure.Invalid("seq", "only a turn (say) can be withdrawn")
	}
	if doc.UserID != userID {
		return failure.ErrForbidden
	}
	_, err = t.withdrawals.InsertOne(ctx, withdrawal{
		ID: eventKey(roomID, seq), Room: roomID, Seq: seq, UserID: userID,
	})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("store withdrawal: %w", err)
	}
	return nil
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

// Markdown exports the room's transcript: turns, presence, and the timeline of phases,
// pauses and go-rounds. The words of withdrawn turns are left out.
func (t *Transcripts) Markdown(ctx context.Context, roomID string) ([]byte, error) {
	withdrawn, err := t.Withdrawn(ctx, roomID)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Dialogue room transcript\n\n")
	const page = 500
	var after uint64
	for {
		events, err := t.Events(ctx, roomID, after, page)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			writeMarkdownLine(&b, e, withdrawn[e.Seq])
		}
		if len(events) < page {
			return b.Bytes(), nil
		}
		after = events[len(events)-1].Seq
	}
}

func writeMarkdownLine(b *bytes.Buffer, e Event, withdrawn bool) {
	at := e.At.UTC().Format("15:04:05")
	who := escapeMarkdown(e.Name)
	target := ""
	if e.Target != nil {
		target = escapeMarkdown(e.Target.Name)
	}
	switch e.Type {
	case EventSay:
		if withdrawn {
			fmt.Fprintf(b, "- %s **%s**: *(withdrawn by the speaker)*\n", at, who)
			return
		}
		text := strings.ReplaceAll(escapeMarkdown(e.Text), "\n", "\n  ")
		fmt.Fprintf(b, "- %s **%s**: %s\n", at, who, text)
	case EventJoined:
		fmt.Fprintf(b, "- %s *%s joined*\n", at, who)
	case EventLeft:
		fmt.Fprintf(b, "- %s *%s left*\n", at, who)
	case EventPhase:
		fmt.Fprintf(b, "- %s *phase: %s*\n", at, strings.ReplaceAll(e.Phase, "_", " "))
	case EventPause:
		if e.Active != nil && *e.Active {
			fmt.Fprintf(b, "- %s *mindful pause until %s*\n", at, e.Until.UTC().Format("15:04:05"))
		} else {
			fmt.Fprintf(b, "- %s *pause ended*\n", at)
		}
	case EventGoRound:
		if e.Active != nil && *e.Active && target != "" {
			fmt.Fprintf(b, "- %s *go-round: floor with %s*\n", at, target)
		} else if e.Active == nil || !*e.Active {
			fmt.Fprintf(b, "- %s *go-round ended*\n", at)
		}
	case EventFloor:
		fmt.Fprintf(b, "- %s *floor given to %s*\n", at, target)
	case EventInput:
		if e.Locked != nil && *e.Locked {
			fmt.Fprintf(b, "- %s *input locked*\n", at)
		} else {
			fmt.Fprintf(b, "- %s *input unlocked*\n", at)
		}
	case EventRemoved:
		fmt.Fprintf(b, "- %s *%s was removed*\n", at, target)
	case EventRoom:
		if e.Open != nil && *e.Open {
			fmt.Fprintf(b, "- %s *room opened*\n", at)
		} else {
			fmt.Fprintf(b, "- %s *room closed*\n", at)
		}
	}
}

// escapeMarkdown backslash-escapes ASCII punctuation, so people's words export as words and
// never as markup or links.
func escapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && strings.ContainsRune("\\`*_{}[]<>()#+-.!|~&\"'=:", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
