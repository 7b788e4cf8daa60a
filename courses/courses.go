// Package courses holds the programme's organisation: the NHS trusts that send people, the
// cohorts that run the Foundation Diploma together, and who belongs to which cohort.
package courses

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
	"polyphony/internal/ttlcache"
)

// Trust is an NHS trust taking part in the programme.
type Trust struct {
	ID        string    `bson:"_id" json:"id"`
	Name      string    `bson:"name" json:"name"`
	CreatedAt time.Time `bson:"createdAt" json:"createdAt"`
}

// Cohort is one group of trainees who go through the nine months together, with the same
// facilitators throughout.
type Cohort struct {
	ID        string    `bson:"_id" json:"id"`
	Name      string    `bson:"name" json:"name"`
	StartDate time.Time `bson:"startDate" json:"startDate"`
	TrustIDs  []string  `bson:"trustIds" json:"trustIds"`
	CreatedAt time.Time `bson:"createdAt" json:"createdAt"`
	Version   int64     `bson:"version" json:"version"`
}

// Membership says that a person belongs to a cohort, and in which role. A supervisor's
// membership lists the trainees of the cohort they supervise (Supervises): those are the
// trainees whose entries shared with "my supervisor" they read (see Journals.relation).
type Membership struct {
	ID         string        `bson:"_id" json:"id"`
	CohortID   string        `bson:"cohortId" json:"cohortId"`
	UserID     string        `bson:"userId" json:"userId"`
	Role       accounts.Role `bson:"role" json:"role"`
	Since      time.Time     `bson:"since" json:"since"`
	Supervises []string      `bson:"supervises,omitempty" json:"supervises,omitempty"`
}

// Store keeps trusts, cohorts and memberships.
type Store struct {
	db          *database.DB
	trusts      *database.Collection
	cohorts     *database.Collection
	memberships *database.Collection
	// The name keys and the list documents by which the records above are reached by _id
	// (layout.go).
	keys  *database.Collection
	lists *database.Collection
	// The programmes, the attendance registers and the calendar tokens (programme.go).
	programmes     *database.Collection
	programmeCache *database.Cache[Programme]
	attendance     *database.Collection
	registers      *database.Collection
	calendarTokens *database.Collection
	// The version documents of the calendar tokens (calendar.go).
	calendarVersions *database.Collection
	// A person's memberships, asked for on most pages, by user id. A stale answer lacks the
	// latest enrolment, change or removal made by another process for at most
	// membershipsCacheFor; Enrol, ChangeMember and RemoveMember forget the person's at once
	// in this process. Kept: 46–100×
	// (1.9–5 ms against 190–260 ms among 2,000 memberships, BenchmarkCacheMemberships).
	membershipCache *ttlcache.Cache[[]Membership]
	// Cohorts by id. A cohort is never changed or removed once created, so the lifetime only
	// bounds the memory held. Kept: a read by _id takes 0.46–1.5 ms, several times a whole
	// cached page, against 0.15 µs (BenchmarkCacheCohort).
	cohortCache *ttlcache.Cache[Cohort]
	now         func() time.Time
}

// membershipsCacheFor is how long a person's memberships are used without asking again.
const membershipsCacheFor = 2 * time.Second

// StoreOption changes how NewStore opens the store.
type StoreOption func(*storeOptions)

type storeOptions struct{ log *slog.Logger }

// WithLogger gives the store the logger that hears what the start-up does to the data
// folder (records brought over from an earlier layout).
func WithLogger(l *slog.Logger) StoreOption { return func(o *storeOptions) { o.log = l } }

// NewStore returns the store, creating its indexes if they are missing and bringing records
// of an earlier layout over (see migrateCourses).
func NewStore(ctx context.Context, db *database.DB, opts ...StoreOption) (*Store, error) {
	o := storeOptions{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Store{
		db:          db,
		trusts:      db.Collection("trusts"),
		cohorts:     db.Collection("cohorts"),
		memberships: db.Collection("memberships"),
		keys:        db.Collection(courseKeysColl),
		lists:       db.Collection(courseListsColl),
		now:         time.Now,

		membershipCache: ttlcache.New[[]Membership](membershipsCacheFor, 100_000),
		cohortCache:     ttlcache.New[Cohort](10*time.Minute, 10_000),
	}
	if err := database.EnsureIndexes(ctx, s.trusts, database.Index{Keys: []string{"name"}, Unique: true}); err != nil {
		return nil, err
	}
	if err := database.EnsureIndexes(ctx, s.cohorts, database.Index{Keys: []string{"name"}, Unique: true}); err != nil {
		return nil, err
	}
	if err := database.EnsureIndexes(ctx, s.memberships,
		database.Index{Keys: []string{"cohortId", "userId"}, Unique: true},
		database.Index{Keys: []string{"userId"}},
	); err != nil {
		return nil, err
	}
	if err := s.openProgrammes(ctx, db); err != nil {
		return nil, err
	}
	// The lists of the practice and supervision logs, which the journal store's requests
	// write, are named here too, so that they get their _id index at start-up.
	db.Collection(practiceMonthsColl)
	db.Collection(supervisionListsColl)
	if err := s.migrateCourses(ctx, o.log); err != nil {
		return nil, err
	}
	if err := s.migrateSupervisees(ctx, o.log); err != nil {
		return nil, err
	}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// checkTitle tidies a name's spaces and checks its length; what names it in the form's
// words ("the cohort's name") for the messages.
func checkTitle(field, what, s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", failure.Problem(field, "Enter "+what)
	case n > 120:
		return "", failure.Problem(field, upperFirst(what)+" must be 120 characters or fewer")
	}
	return s, nil
}

// upperFirst capitalises the first letter, to begin a message with a name from a form.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// CreateTrust adds a trust; a name in use is failure.ErrConflict.
func (s *Store) CreateTrust(ctx context.Context, name string) (Trust, error) {
	name, err := checkTitle("name", "the trust's name", name)
	if err != nil {
		return Trust{}, err
	}
	id, err := s.claimName(ctx, trustNameKey(name), func(id string) error { _, err := s.Trust(ctx, id); return err })
	if errors.Is(err, failure.ErrConflict) {
		return Trust{}, failure.Conflict(fmt.Sprintf("a trust named %q already exists", name))
	}
	if err != nil {
		return Trust{}, err
	}
	if err := s.db.AddToList(ctx, s.lists, trustsList, "ids", id); err != nil {
		return Trust{}, err
	}
	t := Trust{ID: id, Name: name, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if err := database.Insert(ctx, s.trusts, t); err != nil {
		if errors.Is(err, database.ErrDuplicate) {
			return Trust{}, failure.Conflict(fmt.Sprintf("a trust named %q already exists", name))
		}
		return Trust{}, fmt.Errorf("insert trust: %w", err)
	}
	return t, nil
}

// Trusts lists every trust by name.
func (s *Store) Trusts(ctx context.Context) ([]Trust, error) {
	ids, err := s.listIDs(ctx, trustsList)
	if err != nil {
		return nil, err
	}
	ts, err := database.FindEachByID[Trust](ctx, s.trusts, ids)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(ts, func(a, b Trust) int { return strings.Compare(a.Name, b.Name) })
	return ts, nil
}

// Trust returns the trust with the id.
func (s *Store) Trust(ctx context.Context, id string) (Trust, error) {
	return database.FindByID[Trust](ctx, s.trusts, id)
}

// TrustByName returns the trust with the name.
func (s *Store) TrustByName(ctx context.Context, name string) (Trust, error) {
	name = strings.Join(strings.Fields(name), " ")
	k, err := database.FindByID[nameKeyDoc](ctx, s.keys, trustNameKey(name))
	if err != nil {
		return Trust{}, fmt.Errorf("trust %q: %w", name, err)
	}
	return s.Trust(ctx, k.Target)
}

// NewCohort is what it takes to create a cohort.
type NewCohort struct {
	Name      string
	StartDate time.Time
	TrustIDs  []string
}

// Validate checks the cohort's name and start date (not its trusts, which need the store),
// returning every problem at once.
func (nc NewCohort) Validate() error {
	_, err := nc.name()
	return err
}

// name is the cohort's name as stored, or every problem with the name and the start date.
func (nc NewCohort) name() (string, error) {
	name, nameErr := checkTitle("name", "the cohort's name", nc.Name)
	var dateErr error
	if nc.StartDate.IsZero() {
		dateErr = failure.Problem("startDate", "Enter the start date")
	}
	return name, failure.Problems(nameErr, dateErr)
}

// CreateCohort adds a cohort; every trust named must exist.
func (s *Store) CreateCohort(ctx context.Context, nc NewCohort) (Cohort, error) {
	name, err := nc.name()
	trustIDs := []string{}
	var trustErr error
	for _, id := range nc.TrustIDs {
		if _, err := s.Trust(ctx, id); errors.Is(err, failure.ErrNotFound) {
			trustErr = failure.Problem("trustIds", "Select trusts from the list")
		} else if err != nil {
			return Cohort{}, err
		}
		trustIDs = append(trustIDs, id)
	}
	if err := failure.Problems(err, trustErr); err != nil {
		return Cohort{}, err
	}
	conflict := failure.Conflict(fmt.Sprintf("a cohort named %q already exists", name))
	id, err := s.claimName(ctx, cohortNameKey(name), func(id string) error { _, err := s.Cohort(ctx, id); return err })
	if errors.Is(err, failure.ErrConflict) {
		return Cohort{}, conflict
	}
	if err != nil {
		return Cohort{}, err
	}
	if err := s.db.AddToList(ctx, s.lists, cohortsList, "ids", id); err != nil {
		return Cohort{}, err
	}
	y, m, d := nc.StartDate.Date()
	c := Cohort{
		ID: id, Name: name, StartDate: time.Date(y, m, d, 0, 0, 0, 0, time.UTC),
		TrustIDs: trustIDs, CreatedAt: s.now().UTC().Truncate(time.Millisecond), Version: 1,
	}
	if err := database.Insert(ctx, s.cohorts, c); err != nil {
		if errors.Is(err, database.ErrDuplicate) {
			return Cohort{}, conflict
		}
		return Cohort{}, fmt.Errorf("insert cohort: %w", err)
	}
	return c, nil
}

// Cohorts lists every cohort, newest start first.
func (s *Store) Cohorts(ctx context.Context) ([]Cohort, error) {
	ids, err := s.listIDs(ctx, cohortsList)
	if err != nil {
		return nil, err
	}
	out := make([]Cohort, 0, len(ids))
	for _, id := range ids {
		c, err := s.Cohort(ctx, id)
		if errors.Is(err, failure.ErrNotFound) {
			continue // listed by a creation that stopped before storing it
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b Cohort) int {
		if c := b.StartDate.Compare(a.StartDate); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// Cohort returns the cohort with the id.
func (s *Store) Cohort(ctx context.Context, id string) (Cohort, error) {
	now := time.Now()
	if c, ok := s.cohortCache.Get(id, now); ok {
		c.TrustIDs = slices.Clone(c.TrustIDs)
		return c, nil
	}
	c, err := database.FindByID[Cohort](ctx, s.cohorts, id)
	if err != nil {
		return Cohort{}, err
	}
	cached := c
	cached.TrustIDs = slices.Clone(c.TrustIDs)
	s.cohortCache.PutIfUnchanged(id, cached, now, s.cohortCache.Generation())
	return c, nil
}

// CohortByName returns the cohort with the name.
func (s *Store) CohortByName(ctx context.Context, name string) (Cohort, error) {
	name = strings.Join(strings.Fields(name), " ")
	k, err := database.FindByID[nameKeyDoc](ctx, s.keys, cohortNameKey(name))
	if err != nil {
		return Cohort{}, fmt.Errorf("cohort %q: %w", name, err)
	}
	return s.Cohort(ctx, k.Target)
}

// membershipID is the _id of the membership of userID in cohortID. Memberships stored
// before the layout by id have other ids; the lists find those.
func membershipID(cohortID, userID string) string { return "m/" + cohortID + "/" + userID }

// Enrol adds the user to the cohort in role. Enrolling someone already there changes nothing
// and is not an error, so that repeated imports and retries are harmless. role is a role in
// a cohort (not admin), and a trainee is a trainee of one cohort at a time (see
// traineeElsewhere). A supervisor starts with no trainees: ChangeMember gives them some.
func (s *Store) Enrol(ctx context.Context, cohortID, userID string, role accounts.Role) (Membership, error) {
	if _, err := s.Cohort(ctx, cohortID); err != nil {
		return Membership{}, err
	}
	if err := checkCohortRole(role); err != nil {
		return Membership{}, err
	}
	if role == accounts.RoleTrainee {
		if err := s.traineeElsewhere(ctx, "userId", cohortID, userID); err != nil {
			return Membership{}, err
		}
	}
	m := Membership{ID: membershipID(cohortID, userID), CohortID: cohortID, UserID: userID, Role: role, Since: s.now().UTC().Truncate(time.Millisecond)}
	err := database.Insert(ctx, s.memberships, m)
	defer s.membershipCache.Forget(userID)
	if errors.Is(err, database.ErrDuplicate) {
		if m, err = s.existingMembership(ctx, cohortID, userID); err != nil {
			return Membership{}, err
		}
	} else if err != nil {
		if role == accounts.RoleTrainee {
			err = errors.Join(err, s.releaseTraineeSeat(ctx, cohortID, userID))
		}
		return Membership{}, fmt.Errorf("enrol: %w", err)
	}
	// Listed after the membership is stored, and again on a retry: a list that missed it
	// (an enrolment that stopped in between) gets it then.
	if err := s.listMembership(ctx, m); err != nil {
		return Membership{}, err
	}
	return m, nil
}

// existingMembership is the stored membership of userID in cohortID: by its id, or, when it
// was stored before the layout by id, from the person's list.
func (s *Store) existingMembership(ctx context.Context, cohortID, userID string) (Membership, error) {
	m, err := database.FindByID[Membership](ctx, s.memberships, membershipID(cohortID, userID))
	if !errors.Is(err, failure.ErrNotFound) {
		return m.normal(), err
	}
	ms, err := s.listedMemberships(ctx, userList(userID))
	if err != nil {
		return Membership{}, err
	}
	for _, m := range ms {
		if m.CohortID == cohortID {
			return m, nil
		}
	}
	return Membership{}, fmt.Errorf("membership of %s in cohort %s: %w", userID, cohortID, failure.ErrNotFound)
}

// listMembership adds the membership to its person's list and to its cohort's.
func (s *Store) listMembership(ctx context.Context, m Membership) error {
	m = m.normal()
	if err := s.db.AddToList(ctx, s.lists, userList(m.UserID), "memberships", m); err != nil {
		return err
	}
	return s.db.AddToList(ctx, s.lists, cohortList(m.CohortID), "members", m)
}

// normal is the membership as its lists hold it, so that listing it again adds nothing.
func (m Membership) normal() Membership {
	m.Since = m.Since.UTC().Truncate(time.Millisecond)
	if len(m.Supervises) == 0 {
		m.Supervises = nil
	}
	return m
}

// MembershipsOf lists the cohorts the user belongs to.
func (s *Store) MembershipsOf(ctx context.Context, userID string) ([]Membership, error) {
	now := time.Now()
	if ms, ok := s.membershipCache.Get(userID, now); ok {
		return slices.Clone(ms), nil
	}
	gen := s.membershipCache.Generation()
	ms, err := s.listedMemberships(ctx, userList(userID))
	if err != nil {
		return nil, err
	}
	s.membershipCache.PutIfUnchanged(userID, slices.Clone(ms), now, gen)
	return ms, nil
}

// Members lists the cohort's members.
func (s *Store) Members(ctx context.Context, cohortID string) ([]Membership, error) {
	return s.listedMemberships(ctx, cohortList(cohortID))
}

func findAll[T any](ctx context.Context, coll *database.Collection, filter bson.M, sort bson.D) ([]T, error) {
	out := []T{}
	if err := coll.ScanAll(ctx, filter, database.Scan{Sort: sort}, &out); err != nil {
		return nil, err
	}
	return out, nil
}
