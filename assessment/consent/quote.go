package consent

import (
	"context"
	"errors"
	"fmt"

	"polyphony/internal/failure"
	"polyphony/realtime"
)

// MaxQuotedTurns is how many turns one quote may hold.
const MaxQuotedTurns = 50

// Quote makes ownerID's quote of the room's turns seqs in their journal entry entryID, and
// asks each other speaker among those turns to agree to it. The turns must be said in the
// room and not withdrawn. Quoting the same turns into the same entry again returns the same
// quote. Whether the owner may read the room is for the caller to have checked; the quote
// shows only in the entry it was made for (Shown).
func (s *Store) Quote(ctx context.Context, ownerID, cohortID, roomID string, seqs []uint64, entryID, title string) (Subject, error) {
	if ownerID == "" || cohortID == "" || roomID == "" || entryID == "" {
		return Subject{}, failure.Invalid("quote", "a room, turns and a journal entry are needed")
	}
	key := RoomKey(cohortID, roomID)
	seqs, turns, err := s.quotable(ctx, key, seqs)
	if err != nil {
		return Subject{}, err
	}
	speakers := map[string]*speaker{}
	for _, seq := range seqs {
		t := turns[seq]
		if t.UserID == ownerID || t.UserID == "" {
			continue
		}
		sp := speakers[t.UserID]
		if sp == nil {
			sp = &speaker{}
			speakers[t.UserID] = sp
		}
		sp.name = t.Name
		sp.seqs = append(sp.seqs, seq)
	}
	sub := Subject{ID: quoteID(ownerID, entryID, key, seqs), Kind: KindQuote, OwnerID: ownerID, CohortID: cohortID,
		RoomID: roomID, Title: title, EntryID: entryID, Seqs: seqs, CreatedAt: s.now()}
	if err := s.open(ctx, sub, speakers); err != nil {
		return Subject{}, err
	}
	got, err := s.subject(ctx, sub.ID)
	return got, err
}

// Quotable checks that the turns seqs of the room may be quoted, as Quote would, without
// quoting them: so that a page can refuse a quote before it makes the entry to hold it.
func (s *Store) Quotable(ctx context.Context, cohortID, roomID string, seqs []uint64) error {
	_, _, err := s.quotable(ctx, RoomKey(cohortID, roomID), seqs)
	return err
}

// quotable is seqs in order, once each, with their turns, or the problem that stops them
// being quoted: none or too many, or one that is not a turn said in the room and still there.
func (s *Store) quotable(ctx context.Context, key string, seqs []uint64) ([]uint64, map[uint64]realtime.Event, error) {
	seqs = sortedSeqs(seqs)
	switch {
	case len(seqs) == 0:
		return nil, nil, failure.Problem("turns", "Select at least one turn to quote.")
	case len(seqs) > MaxQuotedTurns:
		return nil, nil, failure.Problemf("turns", "Select at most %d turns for one quote.", MaxQuotedTurns)
	case seqs[0] == 0:
		return nil, nil, failure.Problem("turns", "Turn 0 is not a turn of this room's transcript.")
	}
	turns, err := s.turns(ctx, key, seqs)
	if err != nil {
		return nil, nil, err
	}
	checked := map[string]bool{} // by speaker, whether their data was erased
	for _, seq := range seqs {
		t, ok := turns[seq]
		if !ok || t.Type != realtime.EventSay {
			return nil, nil, failure.Problemf("turns", "Turn %d is not a turn of this room's transcript.", seq)
		}
		if t.Withdrawn {
			return nil, nil, failure.Problemf("turns", "Turn %d was withdrawn by its speaker, so it cannot be quoted.", seq)
		}
		if t.UserID == "" {
			continue
		}
		erased, known := checked[t.UserID]
		if !known {
			if erased, err = s.wasErased(ctx, t.UserID); err != nil {
				return nil, nil, err
			}
			checked[t.UserID] = erased
		}
		if erased {
			return nil, nil, failure.Problemf("turns", "Turn %d's speaker's data was erased, so nobody can agree to it being quoted.", seq)
		}
	}
	return seqs, turns, nil
}

// turns reads the room's events seqs, by sequence number; a withdrawn turn comes without
// its words. Turns close together are read together.
func (s *Store) turns(ctx context.Context, roomKey string, seqs []uint64) (map[uint64]realtime.Event, error) {
	out := map[uint64]realtime.Event{}
	for i := 0; i < len(seqs); {
		// A run of turns within 64 of each other is one read.
		j := i
		for j+1 < len(seqs) && seqs[j+1]-seqs[i] < 64 {
			j++
		}
		events, err := s.transcripts.Events(ctx, roomKey, seqs[i]-1, int(seqs[j]-seqs[i])+1)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			out[e.Seq] = e
		}
		i = j + 1
	}
	return out, nil
}

// Turns is the turns a request asks about, for its speaker to read before they decide:
// they are the speaker's own words. A request made of someone else is failure.ErrNotFound.
func (s *Store) Turns(ctx context.Context, speakerID, requestID string) ([]realtime.Event, error) {
	r, err := s.request(ctx, speakerID, requestID)
	if err != nil {
		return nil, err
	}
	turns, err := s.turns(ctx, RoomKey(r.CohortID, r.RoomID), r.Seqs)
	if err != nil {
		return nil, err
	}
	out := make([]realtime.Event, 0, len(r.Seqs))
	for _, seq := range r.Seqs {
		if t, ok := turns[seq]; ok && t.UserID == speakerID {
			out = append(out, t)
		}
	}
	return out, nil
}

// TurnState is what a reader of an entry gets of one quoted turn.
type TurnState string

// The states of a quoted turn.
const (
	// TurnShown: the words are shown (the owner's own, or agreed to).
	TurnShown TurnState = "shown"
	// TurnWaiting: the speaker has not answered yet.
	TurnWaiting TurnState = "waiting"
	// TurnGone: the speaker withdrew the turn from the transcript.
	TurnGone TurnState = "withdrawn"
)

// QuotedTurn is one turn of a quote as a reader sees it: Text only when State is TurnShown.
type QuotedTurn struct {
	Seq   uint64    `json:"seq"`
	Name  string    `json:"name"`
	State TurnState `json:"state"`
	Text  string    `json:"text,omitempty"`
}

// Shown is a quote as anyone who may read its entry sees it. Removed is set, and Turns
// empty, when a quoted speaker refused or withdrew (or was erased, and so can agree no more): the quote's words disappear and the
// entry says why. Missing is set when the entry names a quote that is not one of its own.
type Shown struct {
	ID      string       `json:"id"`
	Removed bool         `json:"removed"`
	Missing bool         `json:"missing,omitempty"`
	Turns   []QuotedTurn `json:"turns,omitempty"`
}

// RemovedNote is what an entry says where a quote was removed.
const RemovedNote = "A quote was removed because a speaker did not agree to its use."

// WaitingText is what an entry shows for a quoted turn whose speaker has not answered.
const WaitingText = "Waiting for the speaker's agreement"

// Shown is the quote quoteID as it shows in the journal entry entryID of ownerID, to
// whoever may read that entry (the caller has checked that they may): the same rule for
// the owner, a supervisor or an assessor. A quote made for another entry, or of another
// owner, shows as Missing, so that writing a quote's id into an entry reveals nothing.
func (s *Store) Shown(ctx context.Context, ownerID, entryID, quoteID string) (Shown, error) {
	out := Shown{ID: quoteID}
	sub, err := s.subject(ctx, quoteID)
	if errors.Is(err, failure.ErrNotFound) || err == nil && (sub.Kind != KindQuote || sub.OwnerID != ownerID || sub.EntryID != entryID) {
		out.Missing = true
		return out, nil
	}
	if err != nil {
		return Shown{}, err
	}
	rs, err := s.requestsOf(ctx, sub)
	if err != nil {
		return Shown{}, err
	}
	bySpeaker := map[string]Request{}
	for _, r := range rs {
		if r.Decision == Refused || r.Decision == Withdrawn || r.Decision == Erased {
			out.Removed = true
			return out, nil
		}
		bySpeaker[r.SpeakerID] = r
	}
	turns, err := s.turns(ctx, RoomKey(sub.CohortID, sub.RoomID), sub.Seqs)
	if err != nil {
		return Shown{}, err
	}
	for _, seq := range sub.Seqs {
		t, ok := turns[seq]
		if !ok {
			return Shown{}, fmt.Errorf("quote %s: turn %d is not in the transcript", quoteID, seq)
		}
		q := QuotedTurn{Seq: seq, Name: t.Name, State: TurnShown}
		r, asked := bySpeaker[t.UserID]
		switch {
		case t.Withdrawn:
			q.State = TurnGone
		case t.UserID != ownerID && (!asked || !r.Allows()):
			q.State = TurnWaiting
		default:
			q.Text = t.Text
		}
		out.Turns = append(out.Turns, q)
	}
	return out, nil
}
