package consent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Decide records the speaker's answer to one of the requests made of them: agree, or refuse.
// Refusing what they had agreed to is withdrawing it (Withdraw), with its rule. A request
// made of someone else is failure.ErrNotFound, as is one that does not exist. Answering as
// already answered changes nothing. It returns the request as it now is and the decision it
// was in before.
func (s *Store) Decide(ctx context.Context, speakerID, requestID string, agree bool) (Request, Decision, error) {
	to := Refused
	if agree {
		to = Agreed
	}
	return s.decide(ctx, speakerID, requestID, to)
}

// Withdraw takes back the speaker's agreement to one of the requests made of them, which is
// allowed until the subject is closed (marking started).
func (s *Store) Withdraw(ctx context.Context, speakerID, requestID string) (Request, Decision, error) {
	return s.decide(ctx, speakerID, requestID, Withdrawn)
}

func (s *Store) decide(ctx context.Context, speakerID, requestID string, to Decision) (Request, Decision, error) {
	defer s.db.Serialize(s.requests.Name(), requestID)()
	r, err := s.request(ctx, speakerID, requestID)
	if err != nil {
		return Request{}, "", err
	}
	from := r.Decision
	if to == Refused && from == Agreed {
		to = Withdrawn
	}
	switch {
	case from == Erased:
		return r, from, failure.Problem("decision", "This request's speaker was erased, so it takes no more decisions.")
	case r.Lapsed:
		return r, from, failure.Problem("decision", "This request has lapsed: the work it was for was withdrawn.")
	case from == to, to == Refused && from == Withdrawn:
		return r, from, nil
	case to == Withdrawn && from != Agreed:
		return r, from, failure.Problem("decision", "You have not agreed to this, so there is nothing to withdraw; refuse it instead.")
	case to == Withdrawn && r.Closed:
		return r, from, failure.Problem("decision", "Marking has started, so your agreement can no longer be withdrawn.")
	}
	now := s.now()
	r.Decision, r.DecidedAt = to, now
	r.Trail = append(r.Trail, Change{From: from, To: to, At: now})
	if err := s.requests.Put(ctx, r.ID, r); err != nil {
		return Request{}, "", fmt.Errorf("store consent decision: %w", err)
	}
	return r, from, nil
}

// request reads one request made of speakerID, with its subject's state.
func (s *Store) request(ctx context.Context, speakerID, requestID string) (Request, error) {
	r, err := database.FindByID[Request](ctx, s.requests, requestID)
	if errors.Is(err, failure.ErrNotFound) || err == nil && (speakerID == "" || r.SpeakerID != speakerID) {
		return Request{}, fmt.Errorf("consent request %s: %w", requestID, failure.ErrNotFound)
	}
	if err != nil {
		return Request{}, fmt.Errorf("read consent request: %w", err)
	}
	sub, err := s.subject(ctx, r.SubjectID)
	if err != nil {
		return Request{}, err
	}
	r.Closed, r.Lapsed = sub.Closed, sub.Lapsed
	return r, nil
}

// Request is one request made of speakerID; anyone else's is failure.ErrNotFound.
func (s *Store) Request(ctx context.Context, speakerID, requestID string) (Request, error) {
	return s.request(ctx, speakerID, requestID)
}

// Asked lists the requests made of speakerID, the newest first, with their subjects' state.
func (s *Store) Asked(ctx context.Context, speakerID string) ([]Request, error) {
	ids, err := s.list(ctx, speakerList(speakerID))
	if err != nil {
		return nil, err
	}
	rs, err := database.FindEachByID[Request](ctx, s.requests, ids)
	if err != nil {
		return nil, fmt.Errorf("read consent requests: %w", err)
	}
	subjects := map[string]Subject{}
	out := rs[:0]
	for _, r := range rs {
		if r.SpeakerID != speakerID {
			continue
		}
		sub, ok := subjects[r.SubjectID]
		if !ok {
			if sub, err = s.subject(ctx, r.SubjectID); err != nil && !errors.Is(err, failure.ErrNotFound) {
				return nil, err
			}
			subjects[r.SubjectID] = sub
		}
		r.Closed, r.Lapsed = sub.Closed, sub.Lapsed
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b Request) int { return b.AskedAt.Compare(a.AskedAt) })
	return out, nil
}

// Use is a subject as its owner sees it: the state of each request, and nothing the
// speakers did not decide.
type Use struct {
	Subject
	Requests []Request `json:"requests"`
}

// Owned lists ownerID's subjects, the newest first, each with its requests.
func (s *Store) Owned(ctx context.Context, ownerID string) ([]Use, error) {
	ids, err := s.list(ctx, ownerList(ownerID))
	if err != nil {
		return nil, err
	}
	subs, err := database.FindEachByID[Subject](ctx, s.subjects, ids)
	if err != nil {
		return nil, fmt.Errorf("read consent subjects: %w", err)
	}
	var out []Use
	for _, sub := range subs {
		if sub.OwnerID != ownerID {
			continue
		}
		rs, err := s.requestsOf(ctx, sub)
		if err != nil {
			return nil, err
		}
		out = append(out, Use{Subject: sub, Requests: rs})
	}
	slices.SortStableFunc(out, func(a, b Use) int { return cmp.Compare(b.CreatedAt.UnixMilli(), a.CreatedAt.UnixMilli()) })
	return out, nil
}

// Owner reads one of ownerID's subjects with its requests; anyone else's is
// failure.ErrNotFound.
func (s *Store) Owner(ctx context.Context, ownerID, subjectID string) (Use, error) {
	sub, err := s.subject(ctx, subjectID)
	if err == nil && sub.OwnerID != ownerID {
		err = fmt.Errorf("consent subject %s: %w", subjectID, failure.ErrNotFound)
	}
	if err != nil {
		return Use{}, err
	}
	rs, err := s.requestsOf(ctx, sub)
	if err != nil {
		return Use{}, err
	}
	return Use{Subject: sub, Requests: rs}, nil
}

// list reads a list document's ids (none when it does not exist yet).
func (s *Store) list(ctx context.Context, id string) ([]string, error) {
	l, err := database.FindByID[idList](ctx, s.lists, id)
	if errors.Is(err, failure.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read consent list: %w", err)
	}
	return l.IDs, nil
}
