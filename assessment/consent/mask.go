package consent

import "polyphony/realtime"

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
