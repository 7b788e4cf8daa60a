package courses

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"regexp"
	"time"

	"polyphony/content"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// A trainee's reflective journal, supervision log and personal practice log live in the
// Journals store. They are personal and sensitive, so two rules shape the code:
//
//   - Nothing is lost. Every change is an insert: a journal save adds a revision under the
//     _id entryID/N, so of two saves based on version N-1 exactly one can win, and a
//     replayed save finds its own revision by its idempotency key instead of adding one.
//   - Nobody reads what the trainee has not shared. Every read of an entry goes through
//     one access check (Journals.authorize); a read by anyone but the author is written to
//     the access log before the text is handed over, and sharing and cohort membership are
//     read from the database on every call, so a revoked share takes effect on the next
//     request.
//
// On embedded FerretDB (1.24, SQLite) a read by anything but exactly {_id: <string>}
// reads every document of its collection, so a request may only read by _id: the keys are
// made so that what a page needs is found by id (see journal_heads.go and journal_logs.go).
// Autosave is one insert, and then a hint written after it: the revision a save is based
// on usually comes from memory (revisionCache), which is always right because a revision
// never changes once stored.
//
// Supervisors of a trainee are the members with the supervisor role of a cohort in which
// the trainee is a trainee whose membership lists the trainee among those they supervise;
// assessors are the members with the assessor role of such a cohort. Administrators have
// no way in: they can erase an account's data, but never read an entry.

// Collections of the journal domain.
const (
	journalEntriesColl       = "journal_entries"
	journalRevisionsColl     = "journal_revisions"
	journalSharesColl        = "journal_shares"
	journalAccessColl        = "journal_access"
	journalCommentsColl      = "journal_comments"
	journalNotificationsColl = "journal_notifications"
	supervisionColl          = "supervision_sessions"
	supervisionResolvedColl  = "supervision_resolutions"
	practiceColl             = "practice_sessions"
	practiceSettingsColl     = "practice_settings"
)

// Limits on what a journal entry holds.
const (
	MaxJournalTitle = 200     // characters
	MaxJournalBody  = 100_000 // characters
	maxJournalLinks = 20
	maxIdemKey      = 100
)

// Viewer is the person making a request, as the HTTP layer knows them from the session:
// their account id and the role of their account. The zero Viewer is someone not signed in,
// and may do nothing here.
type Viewer struct {
	UserID string
	Role   accounts.Role
}

// Access is on what footing a person reads an entry.
type Access string

// The footings. The author reads everything of their own; a supervisor reads the latest
// revision of an entry shared with supervisors; an assessor reads the submitted revision of
// an entry shared with assessors.
const (
	AccessOwner      Access = "owner"
	AccessSupervisor Access = "supervisor"
	AccessAssessor   Access = "assessor"
)

// LinkKind says what a journal entry links to.
type LinkKind string

// The kinds of link: a curriculum page by its slug, or a facilitated dialogue session of
// the trainee's cohort by its activity id.
const (
	LinkPage    LinkKind = "page"
	LinkSession LinkKind = "session"
)

// Link ties an entry to a page of the curriculum or to a dialogue session.
type Link struct {
	Kind   LinkKind `bson:"kind" json:"kind"`
	Target string   `bson:"target" json:"target"`
}

// Draft is what the author writes: everything of an entry that a save may change.
// Attachments change through AddAttachment and RemoveAttachment, never through a save.
type Draft struct {
	Title string   `json:"title"`
	Body  string   `json:"body"` // Markdown
	Tags  []string `json:"tags"`
	Links []Link   `json:"links"`
}

// Entry is one revision of a journal entry: the latest for its author, the latest while
// shared for a supervisor, the submitted one for an assessor.
type Entry struct {
	ID          string       `json:"id"`
	OwnerID     string       `json:"ownerId"`
	Version     int          `json:"version"`
	Title       string       `json:"title"`
	Body        string       `json:"body"`
	Tags        []string     `json:"tags"`
	Links       []Link       `json:"links"`
	Attachments []Attachment `json:"attachments"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
}

// HTML is the body rendered for display: no raw HTML, no script links.
func (e Entry) HTML() template.HTML { return content.RenderUserMarkdown([]byte(e.Body)) }

// Draft is the part of the entry a save writes.
func (e Entry) Draft() Draft {
	return Draft{Title: e.Title, Body: e.Body, Tags: clone(e.Tags), Links: clone(e.Links)}
}

// SaveConflictError refuses a save based on a version that is no longer the latest; it is
// failure.ErrConflict, and Current is the server's copy, for the author to merge with.
type SaveConflictError struct {
	Current Entry
	Base    int
}

func (e *SaveConflictError) Error() string {
	return fmt.Sprintf("this entry was saved elsewhere: it is now at version %d, and this save was made to version %d; nothing was overwritten, and the saved text is sent back",
		e.Current.Version, e.Base)
}

// Is makes errors.Is(err, failure.ErrConflict) true.
func (e *SaveConflictError) Is(target error) bool { return target == failure.ErrConflict }

// PageExists reports whether the curriculum has a page with the slug; the content package's
// page store answers it.
type PageExists func(ctx context.Context, slug string) (bool, error)

// JournalOptions configures the journal store.
type JournalOptions struct {
	// PageExists checks links to curriculum pages; when nil they are checked for form only.
	PageExists PageExists
	// SoleWriter says that this process is the only one that writes journals (embedded
	// FerretDB, one instance). The latest revision of an entry it has seen is then known
	// to be the latest, and reading an entry costs no query. Leave it false when several
	// instances share the database.
	SoleWriter bool
	// CacheBytes bounds the memory kept for latest revisions; 0 means 64 MiB.
	CacheBytes int64
	// Logger receives what the store does once at start-up to bring older records to the
	// current layout; nil discards it.
	Logger *slog.Logger
}

// Journals keeps journal entries and their revisions, sharing, comments and the access
// log, the supervision log and the personal practice log.
type Journals struct {
	db         *database.DB
	cohorts    *Store
	pageExists PageExists
	soleWriter bool
	now        func() time.Time

	entries, revisions, shares, access, comments, notifications *database.Collection
	authors, tails, opened, threads, inbox                      *database.Collection
	supervision, resolutions, practice, practiceSettings        *database.Collection

	// latestRevs keeps the latest revision seen of each entry.
	latestRevs *revisionCache
	// heads remembers, for a store that is the only writer, the last document seen of
	// each chain of sharing states and practice choices (see chainHead).
	heads *headMemo
}

// NewJournals returns the journal store, creating its indexes if they are missing. Cohort
// memberships come from cohorts. Make one per process and database: its memory of latest
// revisions is its own.
func NewJournals(ctx context.Context, db *database.DB, cohorts *Store, opts JournalOptions) (*Journals, error) {
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 64 << 20
	}
	j := &Journals{
		db: db, cohorts: cohorts, pageExists: opts.PageExists, soleWriter: opts.SoleWriter, now: time.Now,
		entries: db.Collection(journalEntriesColl), revisions: db.Collection(journalRevisionsColl),
		shares: db.Collection(journalSharesColl), access: db.Collection(journalAccessColl),
		comments: db.Collection(journalCommentsColl), notifications: db.Collection(journalNotificationsColl),
		supervision: db.Collection(supervisionColl), resolutions: db.Collection(supervisionResolvedColl),
		practice: db.Collection(practiceColl), practiceSettings: db.Collection(practiceSettingsColl),
		authors: db.Collection(journalAuthorsColl), tails: db.Collection(journalTailsColl),
		opened: db.Collection(journalOpenedColl), threads: db.Collection(journalThreadsColl),
		inbox:      db.Collection(journalInboxColl),
		latestRevs: newRevisionCache(opts.CacheBytes), heads: newHeadMemo(),
	}
	// The queries by other fields serve exports, erasure and the start-up migration, never
	// a request: on MongoDB through these indexes, on embedded FerretDB by reading the
	// collection.
	byField := func(fields ...string) database.Index { return database.Index{Keys: fields} }
	for coll, models := range map[*database.Collection][]database.Index{
		j.entries:          {byField("ownerId")},
		j.revisions:        {byField("entryId", "version"), byField("ownerId"), byField("entryId", "idem")},
		j.shares:           {byField("entryId", "seq"), byField("ownerId")},
		j.access:           {byField("ownerId")},
		j.comments:         {byField("entryId"), byField("authorId"), byField("ownerId")},
		j.notifications:    {byField("userId"), byField("ownerId"), byField("authorId")},
		j.supervision:      {byField("traineeId"), byField("supervisorId")},
		j.resolutions:      {byField("traineeId")},
		j.practice:         {byField("ownerId", "date")},
		j.practiceSettings: {byField("ownerId", "seq")},
	} {
		if err := database.EnsureIndexes(ctx, coll, models...); err != nil {
			return nil, err
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := j.migrateLayout(ctx, log); err != nil {
		return nil, err
	}
	// The journal's collections get the _id index the embedded engine reads through.
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	return j, nil
}

// SetClock replaces the store's clock; tests use it to pin "today".
func (j *Journals) SetClock(now func() time.Time) { j.now = now }

func (j *Journals) clock() time.Time { return j.now().UTC().Truncate(time.Millisecond) }

func clone[T any](s []T) []T { return append([]T(nil), s...) }

// signedIn refuses the zero Viewer.
func signedIn(v Viewer) error {
	if v.UserID == "" {
		return fmt.Errorf("sign in first: %w", failure.ErrNotFound)
	}
	return nil
}

var idemKeyPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,100}$`)

// checkIdemKey refuses a missing or malformed idempotency key. Clients send a fresh random
// key (a UUID) with each change and the same key again when they retry it.
func checkIdemKey(key string) error {
	if key == "" {
		return failure.Invalid("idempotencyKey", "is required: send a new random key with each save, and the same key when retrying it")
	}
	if !idemKeyPattern.MatchString(key) {
		return failure.Invalidf("idempotencyKey", "must be 1 to %d letters, digits, dots, colons, dashes or underscores", maxIdemKey)
	}
	return nil
}

// hashOf is a short hex digest of the parts, for deterministic ids and request fingerprints.
func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
