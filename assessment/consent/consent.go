// Package consent asks every speaker of a dialogue room before their words are used as
// evidence: in work submitted for assessment (a transcript marked by assessors), or quoted
// into a trainee's journal entry. A subject is one such use: its owner is the trainee using
// the words, and it has one request for each other person whose turns it uses. The owner's
// own turns need nobody's consent, and a turn its speaker withdrew from the transcript is
// gone for everyone already, so it is asked about by no one.
//
// # Who may do what
//
// A request is decided (agreed or refused) and withdrawn only by its speaker; a speaker
// reads the requests made of them, with the words of their own turns; an owner reads the
// state of each request of their own subjects, and nobody reads anyone else's. An agreement
// may be withdrawn until the subject is closed (for a submission: marking started); a
// subject that lapses (the submission was withdrawn) takes no more decisions. The store
// enforces all of it: the HTTP layer only says who is asking.
//
// # Records
//
// consent_subjects holds a subject under its own id (a submission's id, or a quote's id
// derived from its owner, entry, room and turns, so that quoting twice makes one quote);
// consent_requests holds a request under an id derived from its subject and speaker, so that
// asking twice asks once; consent_lists holds the list documents (database.DB.AddToList)
// naming a speaker's requests and an owner's subjects. Every read is by _id, and every
// read-check-write of one document holds its lock (database.DB.Serialize).
package consent

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"time"
)

// Kind is what a subject uses the words for.
type Kind string

// The kinds of subject.
const (
	// KindSubmission is work submitted for assessment: markers read the transcript.
	KindSubmission Kind = "submission"
	// KindQuote is turns quoted into a journal entry.
	KindQuote Kind = "quote"
)

// Decision is where a speaker stands on one request.
type Decision string

// The decisions. Every request starts Waiting.
const (
	Waiting   Decision = "waiting"
	Agreed    Decision = "agreed"
	Refused   Decision = "refused"
	Withdrawn Decision = "withdrawn"
)

// Label is the decision in the words of the pages.
func (d Decision) Label() string {
	switch d {
	case Agreed:
		return "Agreed"
	case Refused:
		return "Refused"
	case Withdrawn:
		return "Agreement withdrawn"
	case Erased:
		return "The speaker's data was erased"
	}
	return "Waiting for an answer"
}

// Subject is one use of a room's words by its owner.
type Subject struct {
	ID       string `bson:"_id" json:"id"`
	Kind     Kind   `bson:"kind" json:"kind"`
	OwnerID  string `bson:"ownerId" json:"ownerId"`
	CohortID string `bson:"cohortId" json:"cohortId"`
	RoomID   string `bson:"roomId" json:"roomId"`
	// Title is what the owner calls the work (a submission's piece, a quote's entry).
	Title string `bson:"title" json:"title"`
	// EntryID is the journal entry a quote belongs to; "" for a submission.
	EntryID string `bson:"entryId,omitempty" json:"entryId,omitempty"`
	// Seqs are the quoted turns of a quote, in order; a submission uses every turn.
	Seqs []uint64 `bson:"seqs,omitempty" json:"seqs,omitempty"`
	// Speakers are the people asked, one request each (RequestID).
	Speakers  []string  `bson:"speakers" json:"-"`
	CreatedAt time.Time `bson:"createdAt" json:"createdAt"`
	// Closed is set when marking starts: an agreement can no longer be withdrawn.
	Closed   bool      `bson:"closed,omitempty" json:"closed"`
	ClosedAt time.Time `bson:"closedAt,omitempty" json:"closedAt,omitzero"`
	// Lapsed is set when the submission is withdrawn: its requests take no more decisions.
	Lapsed bool `bson:"lapsed,omitempty" json:"lapsed"`
}

// Request is one speaker's part in a subject: the turns of theirs it uses, and their
// decision.
type Request struct {
	ID        string `bson:"_id" json:"id"`
	SubjectID string `bson:"subjectId" json:"subjectId"`
	Kind      Kind   `bson:"kind" json:"kind"`
	OwnerID   string `bson:"ownerId" json:"ownerId"`
	CohortID  string `bson:"cohortId" json:"cohortId"`
	RoomID    string `bson:"roomId" json:"roomId"`
	// Title is a submission's title; "" for a quote, whose entry is the owner's private
	// journal: the speaker learns that it is a quote, not what the entry is called.
	Title       string    `bson:"title,omitempty" json:"title,omitempty"`
	SpeakerID   string    `bson:"speakerId" json:"speakerId"`
	SpeakerName string    `bson:"speakerName" json:"speakerName"`
	Seqs        []uint64  `bson:"seqs" json:"seqs"`
	Decision    Decision  `bson:"decision" json:"decision"`
	AskedAt     time.Time `bson:"askedAt" json:"askedAt"`
	DecidedAt   time.Time `bson:"decidedAt,omitempty" json:"decidedAt,omitzero"`
	// Trail is every decision the speaker made, in order: who (the speaker), what and when.
	Trail []Change `bson:"trail,omitempty" json:"trail,omitempty"`

	// Closed and Lapsed are the subject's, filled in when the request is read.
	Closed bool `bson:"-" json:"closed"`
	Lapsed bool `bson:"-" json:"lapsed"`
}

// Change is one decision of a request's trail.
type Change struct {
	From Decision  `bson:"from" json:"from"`
	To   Decision  `bson:"to" json:"to"`
	At   time.Time `bson:"at" json:"at"`
}

// CanWithdraw reports whether the speaker may still take back their agreement.
func (r Request) CanWithdraw() bool { return !r.Lapsed && !r.Closed && r.Decision == Agreed }

// Allows reports whether the request lets the owner use the speaker's words: only an
// agreement does, never an erased speaker's request, whatever it said before.
func (r Request) Allows() bool { return r.Decision == Agreed && !r.Lapsed }

// RequestID is the id of the request of subjectID made of speakerID.
func RequestID(subjectID, speakerID string) string {
	return "cr" + hashOf("request", subjectID, speakerID)[:22]
}

// quoteID derives a quote's id from what it quotes, so that quoting the same turns into the
// same entry again makes no second quote.
func quoteID(ownerID, entryID, roomKey string, seqs []uint64) string {
	parts := []string{"quote", ownerID, entryID, roomKey}
	for _, s := range seqs {
		parts = append(parts, strconv.FormatUint(s, 10))
	}
	return "cq" + hashOf(parts...)[:22]
}

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sortedSeqs is seqs in order, each once.
func sortedSeqs(seqs []uint64) []uint64 {
	out := slices.Clone(seqs)
	slices.Sort(out)
	return slices.Compact(out)
}
