package marking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

func queueList(markerID string) string { return "queue:" + markerID }

// pieceMarkingStarted reports whether marking has started on any submission of the piece.
func (s *Store) pieceMarkingStarted(ctx context.Context, pieceID string) (bool, error) {
	subs, err := s.submissionsOf(ctx, pieceID)
	if err != nil {
		return false, err
	}
	for _, sub := range subs {
		if sub.Started() {
			return true, nil
		}
	}
	return false, nil
}

// submissionsOf reads every submission of the piece through its list.
func (s *Store) submissionsOf(ctx context.Context, pieceID string) ([]Submission, error) {
	ids, err := s.listed(ctx, submissionsList(pieceID))
	if err != nil {
		return nil, err
	}
	return database.FindEachByID[Submission](ctx, s.submissions, ids)
}

// checkMarkers refuses a set of markers the piece's scheme cannot take, or one of whom is
// the trainee or supervises them.
func (s *Store) checkMarkers(ctx context.Context, p Piece, sub Submission, markers []string) error {
	distinct := map[string]bool{}
	for _, m := range markers {
		if strings.TrimSpace(m) == "" {
			return failure.Problem("markers", "Choose a marker for every place")
		}
		distinct[m] = true
	}
	switch {
	case p.Double() && (len(markers) != 2 || len(distinct) != 2):
		return failure.Problem("markers", "Choose two different markers: this piece is double marked")
	case !p.Double() && len(markers) != 1:
		return failure.Problem("markers", "Choose one marker: this piece is single marked")
	}
	for _, m := range markers {
		if m == sub.TraineeID {
			return failure.Problem("markers", "A trainee cannot mark their own work")
		}
		sup, err := s.supervises(ctx, m, sub.TraineeID)
		if err != nil {
			return err
		}
		if sup {
			return failure.Problem("markers", "A marker may not be the trainee's supervisor: choose someone else")
		}
	}
	return nil
}

// Allocate gives the submission its markers (one, or two under double marking), never the
// trainee's supervisor. A marker who has saved any marking stays.
func (s *Store) Allocate(ctx context.Context, a Actor, ref string, markers []string) (Submission, error) {
	sub, p, err := s.resolve(ctx, ref)
	if err != nil {
		return Submission{}, err
	}
	if err := mayAdminister(a, p.CohortID); err != nil {
		return Submission{}, err
	}
	return s.allocate(ctx, a, p, sub, markers)
}

func (s *Store) allocate(ctx context.Context, a Actor, p Piece, sub Submission, markers []string) (Submission, error) {
	if !sub.Active {
		return Submission{}, failure.Problem("markers", "Nothing is submitted to mark")
	}
	if err := s.checkMarkers(ctx, p, sub, markers); err != nil {
		return Submission{}, err
	}
	for _, m := range markers {
		if err := s.list(ctx, queueList(m), sub.ID); err != nil {
			return Submission{}, err
		}
	}
	var before []string
	sub, err := s.changeSubmission(ctx, p, sub.TraineeID, func(sub *Submission) error {
		if !sub.Active {
			return failure.Problem("markers", "Nothing is submitted to mark")
		}
		before = sub.Markers
		for _, old := range sub.Markers {
			if slices.Contains(markers, old) {
				continue
			}
			if ok, err := s.marks.Exists(ctx, markID(sub.ID, old)); err != nil {
				return err
			} else if ok {
				return failure.Problem("markers", "A marker who has started marking cannot be taken off this submission")
			}
		}
		sub.Markers = append([]string(nil), markers...)
		return nil
	})
	if err != nil {
		return Submission{}, err
	}
	for _, old := range before {
		if !slices.Contains(markers, old) {
			if err := s.db.RemoveFromList(ctx, s.lists, queueList(old), "ids", sub.ID); err != nil {
				return Submission{}, err
			}
		}
	}
	err = s.appendTrail(ctx, sub.ID, a, "allocated", Change{Field: "markers", Before: strings.Join(before, ","), After: strings.Join(markers, ",")})
	return sub, err
}

// Allocation is the markers a submission was given.
type Allocation struct {
	Ref     string   `json:"ref"`
	Markers []string `json:"markers"`
}

// SpreadReport says what SpreadEvenly did.
type SpreadReport struct {
	Allocated []Allocation `json:"allocated"`
	// Unallocated are the submissions no assessor given could mark (each supervises the
	// trainee, or too few were given).
	Unallocated []string `json:"unallocated"`
}

// SpreadEvenly allocates every submitted submission of the piece that lacks markers among
// the assessors, keeping the counts as even as it can: each place goes to the assessor with
// the fewest submissions of the piece so far, ties going to the first in the order of their
// ids, the submissions taken in the order of their ids, so the same state gives the same
// allocation.
func (s *Store) SpreadEvenly(ctx context.Context, a Actor, pieceID string, assessors []string) (SpreadReport, error) {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return SpreadReport{}, err
	}
	if err := mayAdminister(a, p.CohortID); err != nil {
		return SpreadReport{}, err
	}
	pool := slices.Clone(assessors)
	slices.Sort(pool)
	pool = slices.Compact(pool)
	if len(pool) < p.Markers() {
		return SpreadReport{}, failure.Problemf("assessors", "Choose at least %d assessors", p.Markers())
	}
	subs, err := s.submissionsOf(ctx, p.ID)
	if err != nil {
		return SpreadReport{}, err
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].ID < subs[j].ID })
	count := map[string]int{}
	for _, sub := range subs {
		for _, m := range sub.Markers {
			count[m]++
		}
	}
	var rep SpreadReport
	for _, sub := range subs {
		if !sub.Active || len(sub.Markers) >= p.Markers() {
			continue
		}
		markers := append([]string(nil), sub.Markers...)
		for len(markers) < p.Markers() {
			best := ""
			for _, m := range pool {
				if m == sub.TraineeID || slices.Contains(markers, m) {
					continue
				}
				sup, err := s.supervises(ctx, m, sub.TraineeID)
				if err != nil {
					return rep, err
				}
				if !sup && (best == "" || count[m] < count[best]) {
					best = m
				}
			}
			if best == "" {
				break
			}
			markers = append(markers, best)
			count[best]++
		}
		if len(markers) < p.Markers() {
			for _, m := range markers[len(sub.Markers):] {
				count[m]--
			}
			rep.Unallocated = append(rep.Unallocated, Ref(p, sub))
			continue
		}
		if _, err := s.allocate(ctx, a, p, sub, markers); err != nil {
			return rep, err
		}
		rep.Allocated = append(rep.Allocated, Allocation{Ref: Ref(p, sub), Markers: markers})
	}
	return rep, nil
}

// QueueItem is a submission waiting for a marker.
type QueueItem struct {
	Ref             string `json:"ref"`
	PieceID         string `json:"pieceId"`
	PieceTitle      string `json:"pieceTitle"`
	CandidateNumber string `json:"candidateNumber"`
	// TraineeID is empty under anonymous marking.
	TraineeID string    `json:"traineeId,omitempty"`
	Due       time.Time `json:"due"`
	State     State     `json:"state"`
	// Draft says the marker has saved a draft.
	Draft bool `json:"draft"`
}

// Queue lists what waits for the marker (submissions allocated to them whose marking they
// have not submitted), soonest due first: for the marker, and for administrators.
func (s *Store) Queue(ctx context.Context, a Actor, markerID string) ([]QueueItem, error) {
	if a.UserID != markerID && !a.admin() {
		return nil, fmt.Errorf("%w: another marker's queue", failure.ErrNotFound)
	}
	ids, err := s.listed(ctx, queueList(markerID))
	if err != nil {
		return nil, err
	}
	pieces := map[string]Piece{}
	var out []QueueItem
	for _, id := range ids {
		sub, err := s.submission(ctx, id)
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !sub.Active || !slices.Contains(sub.Markers, markerID) {
			continue
		}
		p, ok := pieces[sub.PieceID]
		if !ok {
			if p, err = s.piece(ctx, sub.PieceID); err != nil {
				return nil, err
			}
			pieces[p.ID] = p
		}
		rec, err := s.load(ctx, p, sub)
		if err != nil {
			return nil, err
		}
		item := QueueItem{Ref: Ref(p, sub), PieceID: p.ID, PieceTitle: p.Title, CandidateNumber: sub.CandidateNumber, Due: p.Due, State: rec.state()}
		if !p.Anonymous {
			item.TraineeID = sub.TraineeID
		}
		done := false
		for _, m := range rec.marks {
			if m.MarkerID == markerID {
				item.Draft, done = true, m.Submitted
			}
		}
		if !done {
			out = append(out, item)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	return out, nil
}
