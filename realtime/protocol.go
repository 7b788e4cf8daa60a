// Package realtime runs Polyphony's live dialogue rooms: who is present, the raised-hand
// queue, go-rounds, reflecting-team phases, mindful pauses, the polyphony meter, and the
// transcript that outlives the session.
//
// # Connecting
//
// The server (package server) serves a room's websocket at
//
//	GET /rooms/{cohort}/{room}/ws?lastSeq=N
//
// where {cohort} is the cohort's id and {room} is a dialogue session's activity id, as in
// the cohort's programme, or "cohort" for the cohort's own room; N is the last sequence
// number the client has seen (0 or left out for none). The caller authenticates as for the
// API: the session cookie from POST /api/v1/session (or the sign-in page), or a personal API
// token in "Authorization: Bearer". Every upgrade must carry an Origin header naming the
// site exactly as its public address (scheme, host and port); any other Origin, or none, is
// answered 403 before the upgrade. The cohort's trainees join as "member" and its
// facilitators as "facilitator"; anyone else is answered 404. Facilitators open and close
// the room with POST /api/v1/rooms/{cohort}/{room}/open and /close (JSON API, X-CSRF-Token
// with the cookie), or from the room's page, whose forms post to /rooms/{cohort}/{room}/open
// and /close with the session's CSRF token in the "csrf" field. The transcript, as JSON, is
// GET /api/v1/rooms/{cohort}/{room}/transcript. All of it is in /api/v1/openapi.json.
//
// # Protocol
//
// A member talks to a room over one websocket with JSON text frames, one message a frame.
//
// Timeline events go from the server to every member of the room. Each carries a sequence
// number that is per room and rises by one with every event, and its time (RFC 3339, UTC):
//
//	{"seq": 41, "type": "say", "at": "2026-11-23T20:41:00.123Z", "userId": "u1",
//	 "name": "Ada", "role": "member", "text": "I heard ...", "id": "client-msg-7"}
//
// Timeline event types: "joined" and "left" (presence of a person; their first connection
// joins, their last one leaves), "say", "hand_queue" ("queue": the raised hands in order,
// absent when empty), "floor" ("target": who was given the floor), "go_round" ("active",
// "order", and "target": who holds the floor; absent when the round has ended), "phase"
// ("phase"), "pause" ("active", "until"), "input" ("locked"), "removed" ("target"), "room"
// ("open"). Every timeline event is stored in the transcript, in order, and is what a
// reconnecting member is sent again. A "room" event that closes the room also ends the hand
// queue, the floor, any go-round, pause and input lock; one that opens it is followed by a
// "phase" event (network_speaks), lifts removals and starts the meter again.
//
// Messages for one connection carry no "seq", are not stored and are never replayed:
//
//	{"type":"welcome", "you": {...}, "state": {...}, "lastSeq": N, "events": [...], "meter": {...}}
//	{"type":"ack", "id": "client-msg-7", "ackSeq": 41}
//	{"type":"error", "error": "set_phase: only a facilitator may do this", "for": "set_phase"}
//	{"type":"meter", ...}                    (see below)
//	{"type":"typing", "userId": "u1", "name": "Ada"}
//
// A member connects with the last sequence number it has seen (0 for none). The welcome holds
// the room's state as of sequence lastSeq and exactly the events after the member's number up
// to it; every timeline event that follows arrives after the welcome, so a member that resumes
// sees no gap and no duplicate. Recent events come from the room's memory, older ones from
// the transcript store.
//
// Messages from a member:
//
//	{"type":"say", "text":"...", "id":"client-msg-7"}   id is required; resending the same id
//	                                                  never makes a second turn
//	{"type":"typing"}
//	{"type":"raise_hand"}  {"type":"lower_hand"}  {"type":"lower_hand", "userId":"u2"} (facilitator)
//	{"type":"give_floor", "userId":"u2"}              facilitator
//	{"type":"start_go_round"}  {"type":"end_go_round"} facilitator
//	{"type":"start_go_round", "order":["u2","u1"]}    facilitator, in the order given
//	{"type":"pass"}                                   the floor holder in a go-round
//	{"type":"set_phase", "phase":"network_speaks"|"team_reflects"|"network_responds"} facilitator
//	{"type":"start_pause", "seconds": 5..600}         facilitator
//	{"type":"lock_input"}  {"type":"unlock_input"}    facilitator
//	{"type":"remove", "userId":"u2"}                  facilitator
//	{"type":"close_room"}                             facilitator
//
// Turn-taking rules for "say": refused while the room is closed and during a pause (for
// everyone); refused for trainees in the team_reflects phase and while input is locked,
// except that a trainee who has been given the floor may speak while input is locked;
// during a go-round only the floor holder and facilitators speak, and the holder's say (or
// pass) hands the floor on to the next person present, in the order fixed when the round
// started; the round ends after the last.
//
// A go-round's order is fixed when it starts. Without "order" it is presence order: the
// order of the state's "members", which is the order people came into the room; a person
// whose last connection closes leaves that order and, on coming back, joins its end, so a
// reconnect moves them last. With "order" (user ids) the round follows it: ids of people not
// present are passed over, repeats count once, and anyone present but not named follows in
// presence order. The go_round event's "order" is the order the round uses.
//
// # Acknowledgement and durability
//
// A "say" is broadcast at once, and acknowledged to its sender (an "ack" with the client's
// id and the event's sequence number) only after the transcript store has the event. So an
// acknowledged message is in the transcript whatever happens to the process afterwards;
// Shutdown also writes every event still waiting before it returns. A client resends a
// message it has no ack for, with the same id, after reconnecting.
//
// # Polyphony meter
//
// Per person: turns (says) and words since the room was last opened, their share of the
// room's words and turns. A word is a run of characters between white space (Unicode's
// definition, as strings.Fields splits), so "I'm not sure - really" is five words: a dash
// or other punctuation standing alone counts as one. Each line of the meter has "userId", "name",
// "role", "turns", "words", "wordShare" and "turnShare" (shares from 0 to 1 of the room's
// words and turns; 0 while nobody has spoken), listed in the order people first came after
// the room opened. The room's equity is 1 − G, where G is the Gini coefficient of word
// counts over everyone present at least once since the room opened, normalised by n/(n−1) so
// that 1 means everyone spoke equally and 0 means one person spoke every word (1 when nobody
// has spoken yet or only one person was there). A facilitator receives
// {"type":"meter","members":[...],"equity":0.82}; a trainee receives only their own line,
// {"type":"meter","self":{...}}. Meter messages go out at most every second while people
// speak; they are a view of who has had voice, never a score, and are not stored.
//
// # Limits and closing codes
//
// The server's defaults: frames of up to 4096 bytes, 5 messages a second with bursts of 10.
// A frame over Options.MaxMessageBytes closes the connection with 1009. Messages over the
// per-connection rate (Options.RatePerSecond, Options.Burst) get an error each; a connection
// that sends 20 messages in a row over the limit is closed with 1008. A member whose send buffer fills
// (too slow to keep up) is closed with 1013 (try again later) and may resume with lastSeq;
// acks of one stored batch arrive together, so a client should not have more unacknowledged
// says outstanding than the buffer holds (the default rate limit keeps it well under).
// Hub.Shutdown closes with 1001; Hub.DisconnectUser with 1008; a removed member gets 4003
// and cannot rejoin until the room is opened again.
package realtime

import (
	"time"
)

// Role is what a person may do in a room.
type Role string

// The roles in a room.
const (
	Facilitator Role = "facilitator"
	Trainee     Role = "member"
)

// Member is a person in a room.
type Member struct {
	UserID string `json:"userId" bson:"userId"`
	Name   string `json:"name" bson:"name"`
	Role   Role   `json:"role" bson:"role"`
}

// Phases of a reflecting-team conversation.
const (
	PhaseNetworkSpeaks   = "network_speaks"
	PhaseTeamReflects    = "team_reflects"
	PhaseNetworkResponds = "network_responds"
)

// Timeline event types.
const (
	EventJoined    = "joined"
	EventLeft      = "left"
	EventSay       = "say"
	EventHandQueue = "hand_queue"
	EventFloor     = "floor"
	EventGoRound   = "go_round"
	EventPhase     = "phase"
	EventPause     = "pause"
	EventInput     = "input"
	EventRemoved   = "removed"
	EventRoom      = "room"
)

// Event is one entry on a room's timeline, as sent to members and kept in the transcript.
type Event struct {
	Seq      uint64     `json:"seq" bson:"seq"`
	Type     string     `json:"type" bson:"type"`
	At       time.Time  `json:"at" bson:"at"`
	UserID   string     `json:"userId,omitempty" bson:"userId,omitempty"`
	Name     string     `json:"name,omitempty" bson:"name,omitempty"`
	Role     Role       `json:"role,omitempty" bson:"role,omitempty"`
	Text     string     `json:"text,omitempty" bson:"text,omitempty"`
	ClientID string     `json:"id,omitempty" bson:"clientId,omitempty"`
	Target   *Member    `json:"target,omitempty" bson:"target,omitempty"`
	Phase    string     `json:"phase,omitempty" bson:"phase,omitempty"`
	Queue    []Member   `json:"queue,omitempty" bson:"queue,omitempty"`
	Order    []Member   `json:"order,omitempty" bson:"order,omitempty"`
	Until    *time.Time `json:"until,omitempty" bson:"until,omitempty"`
	Active   *bool      `json:"active,omitempty" bson:"active,omitempty"`
	Locked   *bool      `json:"locked,omitempty" bson:"locked,omitempty"`
	Open     *bool      `json:"open,omitempty" bson:"open,omitempty"`
}

// State is a room as a joining member first sees it.
type State struct {
	Open       bool       `json:"open"`
	Members    []Member   `json:"members"`
	Hands      []Member   `json:"hands"`
	Phase      string     `json:"phase"`
	Floor      *Member    `json:"floor,omitempty"`
	GoRound    []Member   `json:"goRound,omitempty"`
	PauseUntil *time.Time `json:"pauseUntil,omitempty"`
	Locked     bool       `json:"inputLocked"`
}

// inbound is any message from a member; which fields matter depends on Type.
type inbound struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	ID      string `json:"id"`
	UserID  string `json:"userId"`
	Phase   string `json:"phase"`
	Seconds *int   `json:"seconds"`
	// Order is the go-round order a facilitator asks for, as user ids.
	Order []string `json:"order,omitempty"`
}

// welcome is the first message on every connection.
type welcome struct {
	Type    string `json:"type"`
	You     Member `json:"you"`
	State   State  `json:"state"`
	LastSeq uint64 `json:"lastSeq"`
	// HistoryFrom is set when a first join's events start later than 1: the earlier ones are
	// in the transcript.
	HistoryFrom uint64    `json:"historyFrom,omitempty"`
	Events      []any     `json:"events"`
	Meter       *meterMsg `json:"meter,omitempty"`
}

// ack tells a sender that its say is stored.
type ack struct {
	Type   string `json:"type"`
	ID     string `json:"id"`
	AckSeq uint64 `json:"ackSeq"`
}

// errorMsg tells one connection what was wrong with what it sent.
type errorMsg struct {
	Type  string `json:"type"`
	Error string `json:"error"`
	For   string `json:"for,omitempty"`
	ID    string `json:"id,omitempty"`
}

// typingMsg shows that someone is composing; it is not on the timeline.
type typingMsg struct {
	Type   string `json:"type"`
	UserID string `json:"userId"`
	Name   string `json:"name"`
}

func boolp(b bool) *bool { return &b }
