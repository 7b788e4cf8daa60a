package consent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
	"polyphony/realtime"
)

// Consent is what the marking of assessed work asks of this package; Store implements it.
// A submission's id is its subject's id.
type Consent interface {
	Ask(ctx context.Context, subjectID, ownerID, cohortID, roomID, title string) error
	Withheld(ctx context.Context, subjectID string) (map[uint64]bool, error)
	Close(ctx context.Context, subjectID string) error
	Cancel(ctx context.Context, subjectID string) error
}

var _ Consent = (*Store)(nil)

// Config tunes New.
type Config struct {
	// Asked is told of every request made of a speaker (and of every request made again,
	// when a withdrawn submission is submitted again), once it is stored: how the speaker
	// is emailed. nil tells nobody. An error is logged; the request stays.
	Asked func(ctx context.Context, r Request) error
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Logger hears of emails that could not be queued; nil discards.
	Logger *slog.Logger
}

// Store keeps the subjects and requests.
type Store struct {
	db          *database.DB
	subjects    *database.Collection
	requests    *database.Collection
	lists       *database.Collection
	transcripts *realtime.Transcripts
	cfg         Config
}

// New opens the consent records in db; transcripts is where the rooms' turns are read.
func New(ctx context.Context, db *database.DB, transcripts *realtime.Transcripts, cfg Config) (*Store, error) {
	if transcripts == nil {
		return nil, errors.New("consent: the transcripts are needed")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{db: db, transcripts: transcripts, cfg: cfg,
		subjects: db.Collection("consent_subjects"), requests: db.Collection("consent_requests"),
		lists: db.Collection("consent_lists")}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// The list documents of consent_lists.
func speakerList(userID string) string { return "speaker:" + userID }
func ownerList(userID string) string   { return "owner:" + userID }

// idList is a list document: the ids of one person's requests or subjects.
type idList struct {
	ID  string   `bson:"_id"`
	IDs []string `bson:"ids"`
}

// RoomKey is a room's id in the transcript store: cohort/room, as the server names it in the
// hub.
func RoomKey(cohortID, roomID string) string { return cohortID + "/" + roomID }

// speaker is one person's turns in a room.
type speaker struct {
	name string
	seqs []uint64
}

// speakersOf reads the room's whole transcript and groups its turns (said, not withdrawn)
// by speaker, leaving out ownerID's; the room is read a part at a time, each part by _id.
func (s *Store) speakersOf(ctx context.Context, roomKey, ownerID string) (map[string]*speaker, error) {
	const part = 500
	out := map[string]*speaker{}
	var after uint64
	for {
		events, err := s.transcripts.Events(ctx, roomKey, after, part)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			if e.Type != realtime.EventSay || e.Withdrawn || e.UserID == "" || e.UserID == ownerID {
				continue
			}
			sp := out[e.UserID]
			if sp == nil {
				sp = &speaker{}
				out[e.UserID] = sp
			}
			sp.name = e.Name
			sp.seqs = append(sp.seqs, e.Seq)
		}
		if len(events) < part {
			return out, nil
		}
		after = events[len(events)-1].Seq
	}
}

// Ask asks every other speaker of the room's transcript to agree to the submission
// subjectID using their turns. Asking again changes nothing, unless the submission was
// withdrawn (Cancel): then it is asked afresh, every earlier answer set aside.
func (s *Store) Ask(ctx context.Context, subjectID, ownerID, cohortID, roomID, title string) error {
	if subjectID == "" || ownerID == "" || cohortID == "" || roomID == "" {
		return failure.Invalid("subject", "a submission, its owner, cohort and room are needed")
	}
	speakers, err := s.speakersOf(ctx, RoomKey(cohortID, roomID), ownerID)
	if err != nil {
		return err
	}
	sub := Subject{ID: subjectID, Kind: KindSubmission, OwnerID: ownerID, CohortID: cohortID, RoomID: roomID,
		Title: title, CreatedAt: s.now()}
	return s.open(ctx, sub, speakers)
}

// open stores the subject (or, for one that lapsed, makes it current again) and its
// requests, lists them, and tells the speakers asked.
func (s *Store) open(ctx context.Context, sub Subject, speakers map[string]*speaker) error {
	for id := range speakers {
		// An erased speaker is asked nothing: nobody can agree for them, so their turns
		// stay withheld (Withheld withholds every turn no agreement covers).
		erased, err := s.wasErased(ctx, id)
		if err != nil {
			return err
		}
		if erased {
			delete(speakers, id)
			continue
		}
		sub.Speakers = append(sub.Speakers, id)
	}
	slices.Sort(sub.Speakers)
	renewed, err := s.putSubject(ctx, sub)
	if err != nil {
		return err
	}
	if err := s.db.AddToList(ctx, s.lists, ownerList(sub.OwnerID), "ids", sub.ID); err != nil {
		return fmt.Errorf("list consent subject: %w", err)
	}
	for _, id := range sub.Speakers {
		sp := speakers[id]
		r := Request{ID: RequestID(sub.ID, id), SubjectID: sub.ID, Kind: sub.Kind, OwnerID: sub.OwnerID,
			CohortID: sub.CohortID, RoomID: sub.RoomID, SpeakerID: id, SpeakerName: sp.name, Seqs: sp.seqs,
			Decision: Waiting, AskedAt: s.now()}
		if sub.Kind == KindSubmission {
			r.Title = sub.Title
		}
		fresh, err := s.putRequest(ctx, r, renewed)
		if err != nil {
			return err
		}
		if err := s.db.AddToList(ctx, s.lists, speakerList(id), "ids", r.ID); err != nil {
			return fmt.Errorf("list consent request: %w", err)
		}
		if fresh && s.cfg.Asked != nil {
			if err := s.cfg.Asked(ctx, r); err != nil {
				s.cfg.Logger.Error("tell a speaker they are asked for consent", "request", r.ID, "err", err)
			}
		}
	}
	return nil
}

// putSubject stores sub unless it is stored; a stored subject that lapsed is made current
// again (reporting true), one that is current is left as it is.
func (s *Store) putSubject(ctx context.Context, sub Subject) (bool, error) {
	defer s.db.Serialize(s.subjects.Name(), sub.ID)()
	old, err := database.FindByID[Subject](ctx, s.subjects, sub.ID)
	switch {
	case errors.Is(err, failure.ErrNotFound):
		if err := database.InsertOnce(ctx, s.subjects, sub); err != nil {
			return false, fmt.Errorf("store consent subject: %w", err)
		}
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read consent subject: %w", err)
	case old.OwnerID != sub.OwnerID || old.Kind != sub.Kind:
		return false, failure.Conflict("this work is another person's")
	case !old.Lapsed:
		return false, nil
	}
	sub.CreatedAt = old.CreatedAt
	if err := s.subjects.Put(ctx, sub.ID, sub); err != nil {
		return false, fmt.Errorf("store consent subject: %w", err)
	}
	return true, nil
}

// putRequest stores r unless it is stored, reporting whether the speaker is now asked
// afresh: a new request, or (renew) one set back to waiting because its subject was opened
// again.
func (s *Store) putRequest(ctx context.Context, r Request, renew bool) (bool, error) {
	err := database.Insert(ctx, s.requests, r)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, database.ErrDuplicate) {
		return false, fmt.Errorf("store consent request: %w", err)
	}
	if !renew {
		return false, nil
	}
	defer s.db.Serialize(s.requests.Name(), r.ID)()
	old, err := database.FindByID[Request](ctx, s.requests, r.ID)
	if err != nil {
		return false, fmt.Errorf("read consent request: %w", err)
	}
	r.Trail = old.Trail
	if old.Decision != Waiting {
		r.Trail = append(r.Trail, Change{From: old.Decision, To: Waiting, At: r.AskedAt})
	}
	if err := s.requests.Put(ctx, r.ID, r); err != nil {
		return false, fmt.Errorf("store consent request: %w", err)
	}
	return true, nil
}

// subject reads one subject; failure.ErrNotFound when there is none.
func (s *Store) subject(ctx context.Context, id string) (Subject, error) {
	sub, err := database.FindByID[Subject](ctx, s.subjects, id)
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return Subject{}, fmt.Errorf("read consent subject %s: %w", id, err)
	}
	return sub, err
}

// requestsOf reads the subject's requests, with its state.
func (s *Store) requestsOf(ctx context.Context, sub Subject) ([]Request, error) {
	ids := make([]string, len(sub.Speakers))
	for i, sp := range sub.Speakers {
		ids[i] = RequestID(sub.ID, sp)
	}
	rs, err := database.FindEachByID[Request](ctx, s.requests, ids)
	if err != nil {
		return nil, fmt.Errorf("read consent requests: %w", err)
	}
	for i := range rs {
		rs[i].Closed, rs[i].Lapsed = sub.Closed, sub.Lapsed
	}
	return rs, nil
}

// Withheld is the turns of the submission that markers may not read: every turn said in
// its room by anyone but the owner, unless that speaker's request agrees to it. So the
// turns of a speaker who has not agreed (waiting, refused or withdrawn) are withheld, and,
// once the submission has lapsed, every turn asked about; so are those of a speaker whose
// request is missing or was erased, and any turn no request asked about (said after the
// submission): a missing agreement is never taken for one. A submission never asked about
// is failure.ErrNotFound: nothing says whose words it holds. It reads the subject, its
// requests and the room's transcript, each by _id.
func (s *Store) Withheld(ctx context.Context, subjectID string) (map[uint64]bool, error) {
	sub, err := s.subject(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	rs, err := s.requestsOf(ctx, sub)
	if err != nil {
		return nil, err
	}
	agreed := map[string]map[uint64]bool{} // by speaker, the turns they agreed to
	out := map[uint64]bool{}
	for _, r := range rs {
		if !r.Allows() || r.ID != RequestID(sub.ID, r.SpeakerID) {
			for _, seq := range r.Seqs {
				out[seq] = true
			}
			continue
		}
		if agreed[r.SpeakerID] == nil {
			agreed[r.SpeakerID] = map[uint64]bool{}
		}
		for _, seq := range r.Seqs {
			agreed[r.SpeakerID][seq] = true
		}
	}
	speakers, err := s.speakersOf(ctx, RoomKey(sub.CohortID, sub.RoomID), sub.OwnerID)
	if err != nil {
		return nil, err
	}
	for id, sp := range speakers {
		for _, seq := range sp.seqs {
			if !agreed[id][seq] {
				out[seq] = true
			}
		}
	}
	return out, nil
}

// Close marks the submission's marking as started: from now on a speaker who agreed cannot
// withdraw. Closing twice is not an error.
func (s *Store) Close(ctx context.Context, subjectID string) error {
	return s.change(ctx, subjectID, func(sub *Subject) error {
		if sub.Lapsed {
			return failure.Problem("subject", "This submission was withdrawn, so its marking cannot start.")
		}
		if !sub.Closed {
			sub.Closed, sub.ClosedAt = true, s.now()
		}
		return nil
	})
}

// Cancel lets the submission's requests lapse: it was withdrawn before marking started.
// A submission never asked about has nothing to lapse.
func (s *Store) Cancel(ctx context.Context, subjectID string) error {
	err := s.change(ctx, subjectID, func(sub *Subject) error {
		if sub.Closed {
			return failure.Problem("subject", "Marking of this submission has started, so it can no longer be withdrawn.")
		}
		sub.Lapsed = true
		return nil
	})
	if errors.Is(err, failure.ErrNotFound) {
		return nil
	}
	return err
}

// change applies fn to the stored subject, holding its lock.
func (s *Store) change(ctx context.Context, subjectID string, fn func(*Subject) error) error {
	defer s.db.Serialize(s.subjects.Name(), subjectID)()
	sub, err := s.subject(ctx, subjectID)
	if err != nil {
		return err
	}
	before := sub
	if err := fn(&sub); err != nil {
		return err
	}
	if sub.Closed == before.Closed && sub.Lapsed == before.Lapsed {
		return nil
	}
	if err := s.subjects.Put(ctx, sub.ID, sub); err != nil {
		return fmt.Errorf("store consent subject: %w", err)
	}
	return nil
}
