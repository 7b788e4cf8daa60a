package courses

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Audience is whom an entry may be shared with.
type Audience string

// The audiences. Sharing with assessors is a submission: it freezes the revision shared.
const (
	AudienceSupervisor Audience = "supervisor"
	AudienceAssessors  Audience = "assessors"
)

func (a Audience) known() bool { return a == AudienceSupervisor || a == AudienceAssessors }

// Sharing is whom an entry is shared with. An entry is private when both are false. While
// shared with assessors, SubmittedVersion is the revision they read, whatever is saved
// after it.
type Sharing struct {
	Supervisor       bool      `bson:"supervisor" json:"supervisor"`
	Assessors        bool      `bson:"assessors" json:"assessors"`
	SubmittedVersion int       `bson:"submittedVersion,omitempty" json:"submittedVersion,omitempty"`
	SubmittedAt      time.Time `bson:"submittedAt,omitempty" json:"submittedAt,omitzero"`
	ChangedAt        time.Time `bson:"changedAt,omitempty" json:"changedAt,omitzero"`
}

// Private reports whether nobody but the author may read the entry.
func (s Sharing) Private() bool { return !s.Supervisor && !s.Assessors }

// shareDoc is one state of an entry's sharing, under the _id entryID/share/000003. Each
// change adds the next; the last is the current state and the others are its history.
type shareDoc struct {
	ID      string `bson:"_id" json:"-"`
	EntryID string `bson:"entryId" json:"-"`
	OwnerID string `bson:"ownerId" json:"-"`
	Seq     int    `bson:"seq" json:"seq"`
	Sharing `bson:",inline"`
}

func shareID(entryID string, n int) string { return fmt.Sprintf("%s/share/%06d", entryID, n) }

// SetSharing shares the entry with an audience or stops sharing it; only the author may.
// It takes effect on the next request of anyone reading. Sharing with assessors submits
// the latest revision, which assessors then read however the entry changes; to submit a
// later revision, stop sharing with assessors and share again. Setting what is already set
// changes nothing.
func (j *Journals) SetSharing(ctx context.Context, v Viewer, entryID string, audience Audience, shared bool) (Sharing, error) {
	if !audience.known() {
		return Sharing{}, failure.Invalidf("audience", "%q is not an audience; use supervisor or assessors", audience)
	}
	for range 10 {
		latest, err := j.latest(ctx, entryID)
		if err != nil {
			return Sharing{}, err
		}
		if err := signedIn(v); err != nil || latest.OwnerID != v.UserID {
			return Sharing{}, fmt.Errorf("journal entry %s: %w", entryID, failure.ErrNotFound)
		}
		cur, err := j.currentShare(ctx, entryID)
		if err != nil {
			return Sharing{}, err
		}
		next := cur.Sharing
		switch {
		case audience == AudienceSupervisor && cur.Supervisor == shared, audience == AudienceAssessors && cur.Assessors == shared:
			return cur.Sharing, nil
		case audience == AudienceSupervisor:
			next.Supervisor = shared
		case shared:
			if strings.TrimSpace(latest.Body) == "" {
				return Sharing{}, failure.Invalid("body", "the entry is empty: write it before submitting it to the assessors")
			}
			next.Assessors, next.SubmittedVersion, next.SubmittedAt = true, latest.Version, j.clock()
		default:
			next.Assessors, next.SubmittedVersion, next.SubmittedAt = false, 0, time.Time{}
		}
		next.ChangedAt = j.clock()
		doc := shareDoc{ID: shareID(entryID, cur.Seq+1), EntryID: entryID, OwnerID: latest.OwnerID, Seq: cur.Seq + 1, Sharing: next}
		err = j.shares.Insert(ctx, doc)
		if err == nil {
			j.heads.put("share:"+entryID, doc.Seq, doc)
			j.noteShare(ctx, entryID, doc.Seq)
			return next, nil
		}
		if !errors.Is(err, database.ErrDuplicate) {
			return Sharing{}, fmt.Errorf("share journal entry %s: %w", entryID, err)
		}
	}
	return Sharing{}, failure.Conflict("the entry's sharing is being changed elsewhere; try again")
}

// currentShare reads the entry's current sharing (Seq 0 and private when never shared),
// from the database on every call, by _id: for a store that is the only writer and has
// seen it, from the state it saw; otherwise from the entry record's hint.
func (j *Journals) currentShare(ctx context.Context, entryID string) (shareDoc, error) {
	chain := "share:" + entryID
	if h, ok := j.heads.get(chain); ok && j.soleWriter {
		n, doc, err := lastInChain(h.n, h.doc.(shareDoc), func(n int) (shareDoc, error) {
			return findByID[shareDoc](ctx, j.shares, shareID(entryID, n))
		})
		if err != nil {
			return shareDoc{EntryID: entryID}, err
		}
		j.heads.put(chain, n, doc)
		return doc, nil
	}
	rec, err := j.entryRecord(ctx, entryID)
	if errors.Is(err, failure.ErrNotFound) {
		return shareDoc{EntryID: entryID}, nil
	} else if err != nil {
		return shareDoc{EntryID: entryID}, err
	}
	doc, err := j.shareFrom(ctx, entryID, rec.ShareSeq)
	if err == nil {
		j.heads.put(chain, doc.Seq, doc)
	}
	return doc, err
}

// shareHistory lists every state the entry's sharing has had, oldest first, reading each
// by _id.
func (j *Journals) shareHistory(ctx context.Context, entryID string) ([]shareDoc, error) {
	cur, err := j.currentShare(ctx, entryID)
	if err != nil {
		return nil, err
	}
	var out []shareDoc
	for n := 1; n <= cur.Seq; n++ {
		d, err := findByID[shareDoc](ctx, j.shares, shareID(entryID, n))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// relation is what a person is to a trainee: one of the trainee's own supervisors in a
// cohort in which the trainee is a trainee (a supervisor membership that lists the trainee),
// or an assessor of such a cohort. It is worked out from the memberships on every request.
type relation struct{ supervisor, assessor bool }

func (j *Journals) relation(ctx context.Context, viewerID, traineeID string) (relation, error) {
	var rel relation
	if viewerID == "" || traineeID == "" || viewerID == traineeID {
		return rel, nil
	}
	cohorts, err := j.traineeCohorts(ctx, traineeID)
	if err != nil || len(cohorts) == 0 {
		return rel, err
	}
	ms, err := j.cohorts.MembershipsOf(ctx, viewerID)
	if err != nil {
		return rel, err
	}
	for _, m := range ms {
		if cohorts[m.CohortID] {
			rel.supervisor = rel.supervisor || m.Role == accounts.RoleSupervisor && slices.Contains(m.Supervises, traineeID)
			rel.assessor = rel.assessor || m.Role == accounts.RoleAssessor
		}
	}
	return rel, nil
}

// traineeCohorts lists the cohorts in which the person is a trainee.
func (j *Journals) traineeCohorts(ctx context.Context, userID string) (map[string]bool, error) {
	ms, err := j.cohorts.MembershipsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, m := range ms {
		if m.Role == accounts.RoleTrainee {
			out[m.CohortID] = true
		}
	}
	return out, nil
}

// AudienceOf lists the people an audience of the trainee's entries is made of: the
// trainee's own supervisors, or the assessors, of the cohorts in which the trainee is a
// trainee.
func (j *Journals) AudienceOf(ctx context.Context, traineeID string, a Audience) ([]string, error) {
	role := accounts.RoleSupervisor
	if a == AudienceAssessors {
		role = accounts.RoleAssessor
	}
	cohorts, err := j.traineeCohorts(ctx, traineeID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for c := range cohorts {
		members, err := j.cohorts.Members(ctx, c)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			if role == accounts.RoleSupervisor && !slices.Contains(m.Supervises, traineeID) {
				continue
			}
			if m.Role == role && !seen[m.UserID] && m.UserID != traineeID {
				seen[m.UserID] = true
				out = append(out, m.UserID)
			}
		}
	}
	return out, nil
}
