package consent

import (
	"context"

	"polyphony/realtime"
)

// WithheldText is what markers read in place of a turn whose speaker has not agreed to its
// use (Withheld).
const WithheldText = "[turn withheld by the speaker]"

// Mask returns events with the words of every withheld turn (a set from Withheld) replaced
// by WithheldText; events itself is left as it was. The speaker's name stays: markers may
// know who spoke, not what they said.
func Mask(events []realtime.Event, withheld map[uint64]bool) []realtime.Event {
	out := make([]realtime.Event, len(events))
	for i, e := range events {
		if e.Type == realtime.EventSay && withheld[e.Seq] && !e.Withdrawn {
			e.Text = WithheldText
		}
		out[i] = e
	}
	return out
}

// Evidence is the submission's transcript as markers may read it: every event of its room,
// in order, with the words of each withheld turn (Withheld) replaced by WithheldText, and
// those of turns withdrawn from the transcript gone as they are for everyone. It reads the
// room a part at a time, each part by _id.
func (s *Store) Evidence(ctx context.Context, subjectID string) ([]realtime.Event, error) {
	sub, err := s.subject(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	withheld, err := s.Withheld(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	const part = 500
	var out []realtime.Event
	var after uint64
	for {
		events, err := s.transcripts.Events(ctx, RoomKey(sub.CohortID, sub.RoomID), after, part)
		if err != nil {
			return nil, err
		}
		out = append(out, Mask(events, withheld)...)
		if len(events) < part {
			return out, nil
		}
		after = events[len(events)-1].Seq
	}
}
