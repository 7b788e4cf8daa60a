package realtime

import "time"

// Presence adds up, from a room's timeline, how long each person was in the room: from each
// "joined" to the matching "left", and up to until for anyone still there. It is what the
// attendance of a dialogue session is recorded from.
func Presence(events []Event, until time.Time) map[string]time.Duration {
	since := map[string]time.Time{}
	total := map[string]time.Duration{}
	for _, e := range events {
		switch e.Type {
		case EventJoined:
			if _, in := since[e.UserID]; !in {
				since[e.UserID] = e.At
			}
			if _, seen := total[e.UserID]; !seen {
				total[e.UserID] = 0
			}
		case EventLeft:
			if t, in := since[e.UserID]; in {
				total[e.UserID] += e.At.Sub(t)
				delete(since, e.UserID)
			}
		}
	}
	for id, t := range since {
		if until.After(t) {
			total[id] += until.Sub(t)
		}
	}
	return total
}
