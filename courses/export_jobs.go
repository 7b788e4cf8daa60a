package courses

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

const exportJobsColl = "exportJobs"

// exportListsColl holds the list documents through which jobs are reached by _id: the ids
// of each person's jobs (exportOwnerList) and of every job (exportAllList). A job is listed
// before it is stored and taken off its lists after it is removed, so a list may name a
// job that is not there (and is then passed over), never miss one.
const exportListsColl = "exportLists"

const exportAllList = "all"

func exportOwnerList(ownerID string) string { return "owner/" + ownerID }

// The states of an export job.
const (
	ExportRunning = "running"
	ExportReady   = "ready"
	ExportFailed  = "failed"
)

// ExportArchives keeps the zips that exports write; the media store provides it, so that
// any instance can serve a zip another one wrote.
type ExportArchives struct {
	// Write stores what r yields, to its end, under key.
	Write func(ctx context.Context, key string, r io.Reader) error
	// Open reads the object under key and says how long it is.
	Open func(ctx context.Context, key string) (io.ReadCloser, int64, error)
	// Delete removes the object under key; a missing one is not an error.
	Delete func(ctx context.Context, key string) error
	// RemoveOld removes the objects under prefix written more than olderThan before now,
	// and the writes under it that never finished (a worker that died mid-zip).
	RemoveOld func(ctx context.Context, prefix string, olderThan time.Duration, now time.Time) error
}

// ExportJobOptions tune the export jobs; zero fields take the defaults.
type ExportJobOptions struct {
	// TTL is how long after it was asked for an export, and its zip, are kept: 1 hour.
	TTL time.Duration
	// Lease is how long a job stays with the worker running it without word from it; a
	// job whose lease has run out (its process stopped or died) is taken over: 1 minute.
	Lease time.Duration
	// Now is the clock: time.Now.
	Now func() time.Time
	// OnError hears what went wrong in the background (a failed export, a failed clean-up).
	OnError func(msg string, err error)
}

// ExportJob is one person's export as the database keeps it, so that any instance reports
// its progress and serves its zip.
type ExportJob struct {
	ID        string        `bson:"_id" json:"id"`
	OwnerID   string        `bson:"ownerId" json:"-"`
	Role      accounts.Role `bson:"role" json:"-"`
	State     string        `bson:"state" json:"state"`
	Done      int           `bson:"done" json:"done"`
	Total     int           `bson:"total" json:"total"`
	Key       string        `bson:"key,omitempty" json:"-"`
	CreatedAt time.Time     `bson:"createdAt" json:"-"`
	ExpiresAt time.Time     `bson:"expiresAt" json:"-"`
	// Attempt counts the workers that have taken the job; a worker's archive and its
	// updates carry its attempt, so that one taken over cannot overwrite its successor.
	Attempt    int       `bson:"attempt" json:"-"`
	LeaseUntil time.Time `bson:"leaseUntil" json:"-"`
}

// ExportJobs runs each person's export of everything they hold in the background. A job is
// a document in the database and its zip an object in the archive store; the worker that
// runs it writes its progress to the document, so that every instance can answer for it. A
// job whose worker stops (a restart, a crash) is taken over by the next worker to look,
// which starts it again. A person has at most one running export: asking again while one
// runs answers with it, and asking after it finished starts afresh and drops the old one.
type ExportJobs struct {
	journals *Journals
	coll     *database.Collection
	lists    *database.Collection
	archives ExportArchives
	open     OpenMedia
	opts     ExportJobOptions

	ctx    context.Context // ends when Close is called: the workers stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewExportJobs returns the export jobs of the journals in their database, writing zips to
// archives and reading attachments through open. Call Run to take over jobs left by
// stopped workers and to remove expired ones, and Close to stop.
func NewExportJobs(ctx context.Context, j *Journals, archives ExportArchives, open OpenMedia, opts ExportJobOptions) (*ExportJobs, error) {
	if opts.TTL <= 0 {
		opts.TTL = time.Hour
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OnError == nil {
		opts.OnError = func(string, error) {}
	}
	x := &ExportJobs{journals: j, coll: j.db.Collection(exportJobsColl), lists: j.db.Collection(exportListsColl), archives: archives, open: open, opts: opts}
	x.ctx, x.cancel = context.WithCancel(context.Background())
	err := database.EnsureIndexes(ctx, x.coll,
		database.Index{Keys: []string{"ownerId"}},
		database.Index{Keys: []string{"state", "leaseUntil"}})
	if err == nil {
		err = j.db.EnsureCollections(ctx)
	}
	if err != nil {
		x.cancel()
		return nil, fmt.Errorf("export jobs: %w", err)
	}
	return x, nil
}

// Close stops the workers of this process and waits for them. Their jobs stay running in
// the database, for another worker to take over once their leases run out.
func (x *ExportJobs) Close() {
	x.cancel()
	x.wg.Wait()
}

// Start begins an export of everything v holds, or answers with the one already running.
func (x *ExportJobs) Start(ctx context.Context, v Viewer) (ExportJob, error) {
	if err := signedIn(v); err != nil {
		return ExportJob{}, err
	}
	now := x.opts.Now()
	old, err := x.listed(ctx, exportOwnerList(v.UserID))
	if err != nil {
		return ExportJob{}, err
	}
	for _, j := range old {
		if j.State == ExportRunning && now.Before(j.ExpiresAt) {
			return j, nil
		}
		if err := x.remove(ctx, j); err != nil {
			return ExportJob{}, err
		}
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return ExportJob{}, fmt.Errorf("start export: %w", err)
	}
	j := ExportJob{ID: hex.EncodeToString(b[:]), OwnerID: v.UserID, Role: v.Role, State: ExportRunning,
		CreatedAt: now, ExpiresAt: now.Add(x.opts.TTL), Attempt: 1, LeaseUntil: now.Add(x.opts.Lease)}
	for _, list := range []string{exportOwnerList(v.UserID), exportAllList} {
		if err := x.journals.db.AddToList(ctx, x.lists, list, "ids", j.ID); err != nil {
			return ExportJob{}, fmt.Errorf("start export: %w", err)
		}
	}
	if err := database.Insert(ctx, x.coll, j); err != nil {
		return ExportJob{}, fmt.Errorf("start export: %w", err)
	}
	x.launch(j)
	return j, nil
}

// listed reads the jobs a list names that are stored, oldest first.
func (x *ExportJobs) listed(ctx context.Context, list string) ([]ExportJob, error) {
	d, err := database.FindByID[idListDoc](ctx, x.lists, list)
	if errors.Is(err, failure.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	jobs, err := database.FindEachByID[ExportJob](ctx, x.coll, d.IDs)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(jobs, func(a, b ExportJob) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return jobs, nil
}

// unlist takes the job id off its lists; those naming a job that is gone are tidied too.
func (x *ExportJobs) unlist(ctx context.Context, ownerID, id string) error {
	for _, list := range []string{exportOwnerList(ownerID), exportAllList} {
		if err := x.journals.db.RemoveFromList(ctx, x.lists, list, "ids", id); err != nil {
			return err
		}
	}
	return nil
}

// updateIf sets fields of job id if it is still at attempt (and running, when running is
// set), and says whether it was: a compare-and-set (database.Collection.UpdateIf), so that
// of two workers holding the same lease only one writes.
func (x *ExportJobs) updateIf(ctx context.Context, id string, attempt int, running bool, set bson.M) (bool, error) {
	cond := bson.M{"attempt": attempt}
	if running {
		cond["state"] = ExportRunning
	}
	return x.coll.UpdateIf(ctx, id, cond, bson.M{"$set": set})
}

// Status is v's export id; anyone else's, and an expired one, does not exist for them.
func (x *ExportJobs) Status(ctx context.Context, v Viewer, id string) (ExportJob, error) {
	j, err := database.FindByID[ExportJob](ctx, x.coll, id)
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return ExportJob{}, fmt.Errorf("export %s: %w", id, err)
	}
	if err != nil || v.UserID == "" || j.OwnerID != v.UserID || !x.opts.Now().Before(j.ExpiresAt) {
		return ExportJob{}, fmt.Errorf("export %s: %w", id, failure.ErrNotFound)
	}
	return j, nil
}

// Open opens the zip of v's finished export id, and says how long it is.
func (x *ExportJobs) Open(ctx context.Context, v Viewer, id string) (io.ReadCloser, int64, error) {
	j, err := x.Status(ctx, v, id)
	if err != nil {
		return nil, 0, err
	}
	switch j.State {
	case ExportRunning:
		return nil, 0, failure.Conflict("the export is still being written; wait until its state is ready")
	case ExportFailed:
		return nil, 0, failure.Conflict("the export failed; start a new one")
	}
	rc, size, err := x.archives.Open(ctx, j.Key)
	if err != nil {
		return nil, 0, fmt.Errorf("open export %s: %w", id, err)
	}
	return rc, size, nil
}

// remove deletes a job: its zips first, then its document, so that a failure leaves the
// document to try again.
func (x *ExportJobs) remove(ctx context.Context, j ExportJob) error {
	for a := 1; a <= j.Attempt; a++ {
		if err := x.archives.Delete(ctx, archiveKey(j.ID, a)); err != nil {
			return fmt.Errorf("remove export %s: %w", j.ID, err)
		}
	}
	if err := database.DeleteByID(ctx, x.coll, j.ID); err != nil {
		return fmt.Errorf("remove export %s: %w", j.ID, err)
	}
	return x.unlist(ctx, j.OwnerID, j.ID)
}

// archivePrefix begins the key of every export zip.
const archivePrefix = "exports/"

// archiveKey names the zip one attempt at a job writes.
func archiveKey(id string, attempt int) string {
	return fmt.Sprintf("%s%s/%d.zip", archivePrefix, id, attempt)
}

// Run takes over the jobs whose workers stopped and removes expired jobs with their zips
// (and zips older than any job),
// at once and then every half lease, until ctx ends or Close is called.
func (x *ExportJobs) Run(ctx context.Context) {
	t := time.NewTicker(x.opts.Lease / 2)
	defer t.Stop()
	for {
		if err := x.Tend(ctx); err != nil && ctx.Err() == nil && x.ctx.Err() == nil {
			x.opts.OnError("export jobs", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-x.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tend does Run's work once: it removes the expired jobs, starts again, here, every
// running job whose lease has run out, and removes zips older than twice the TTL.
func (x *ExportJobs) Tend(ctx context.Context) error {
	now := x.opts.Now()
	// Every job is listed, and jobs live for the TTL only, so the list stays short.
	jobs, err := x.listed(ctx, exportAllList)
	if err != nil {
		return err
	}
	var errs []error
	var stale []ExportJob
	for _, j := range jobs {
		switch {
		case !j.ExpiresAt.After(now):
			errs = append(errs, x.remove(ctx, j))
		case j.State == ExportRunning && !j.LeaseUntil.After(now):
			stale = append(stale, j)
		}
	}
	for _, j := range stale {
		taken, ok, err := x.takeOver(ctx, j, now)
		if err != nil {
			errs = append(errs, err)
		} else if ok {
			x.launch(taken)
		}
	}
	// Whatever is older than any job can be (a zip its worker died writing, or wrote after
	// its job was removed) belongs to no job.
	if err := x.archives.RemoveOld(ctx, archivePrefix, 2*x.opts.TTL, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// takeOver claims a job whose lease has run out for this worker, as its next attempt. Of
// several workers looking at once one wins: the update names the attempt it replaces (and
// on embedded FerretDB, whose updates are not atomic, one process owns the database and
// Serialize orders its workers: see updateIf).
func (x *ExportJobs) takeOver(ctx context.Context, j ExportJob, now time.Time) (ExportJob, bool, error) {
	next := j
	next.Attempt, next.LeaseUntil, next.Done, next.Total = j.Attempt+1, now.Add(x.opts.Lease), 0, 0
	ok, err := x.updateIf(ctx, j.ID, j.Attempt, true,
		bson.M{"attempt": next.Attempt, "leaseUntil": next.LeaseUntil, "done": 0, "total": 0})
	if err != nil {
		return ExportJob{}, false, fmt.Errorf("take over export %s: %w", j.ID, err)
	}
	return next, ok, nil
}

// launch runs a job in the background until it ends or Close is called.
func (x *ExportJobs) launch(j ExportJob) {
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		x.run(j)
	}()
}

// run writes the job's zip to the archive store, streaming it, and records how it ended.
// Stopped by Close, it records nothing: the job stays running, for a later worker.
func (x *ExportJobs) run(j ExportJob) {
	ctx, cancel := context.WithTimeout(x.ctx, exportTimeout)
	defer cancel()
	var mu sync.Mutex
	done, total := 0, 0
	progress := func(d, t int) {
		mu.Lock()
		done, total = d, t
		mu.Unlock()
	}
	stopBeat := x.heartbeat(ctx, j, func() (int, int) { mu.Lock(); defer mu.Unlock(); return done, total })
	key := archiveKey(j.ID, j.Attempt)
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		err := x.archives.Write(ctx, key, pr)
		pr.CloseWithError(err) // an export still writing stops at once
		written <- err
	}()
	err := x.journals.Export(ctx, Viewer{UserID: j.OwnerID, Role: j.Role}, pw, x.open, progress)
	pw.CloseWithError(err)
	if werr := <-written; err == nil {
		err = werr
	}
	stopBeat()
	if x.ctx.Err() != nil {
		return
	}
	d, t := done, total
	set := bson.M{"state": ExportReady, "key": key, "done": d, "total": t}
	if err != nil {
		x.opts.OnError("export failed: "+j.OwnerID, err)
		x.archives.Delete(context.WithoutCancel(ctx), key)
		set = bson.M{"state": ExportFailed}
	}
	matched, err := x.updateIf(context.WithoutCancel(ctx), j.ID, j.Attempt, false, set)
	switch {
	case err != nil:
		x.opts.OnError("export state: "+j.ID, err)
	case !matched:
		// The job was removed (erased, or dropped for a newer one) or taken over while
		// this worker wrote: its zip is nobody's.
		if err := x.archives.Delete(context.WithoutCancel(ctx), key); err != nil {
			x.opts.OnError("export zip left behind: "+key, err)
		}
	}
}

// heartbeat writes the job's progress and renews its lease every so often until the
// returned function is called.
func (x *ExportJobs) heartbeat(ctx context.Context, j ExportJob, read func() (int, int)) (stop func()) {
	every := min(x.opts.Lease/3, time.Second)
	ctx, cancel := context.WithCancel(ctx)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			d, n := read()
			_, err := x.updateIf(ctx, j.ID, j.Attempt, true,
				bson.M{"done": d, "total": n, "leaseUntil": x.opts.Now().Add(x.opts.Lease)})
			if err != nil && ctx.Err() == nil {
				x.opts.OnError("export progress: "+j.ID, err)
			}
		}
	}()
	return func() { cancel(); <-ended }
}

// exportTimeout bounds the writing of one export.
const exportTimeout = 30 * time.Minute

// Erase removes every export of userID with its zips, for an administrator erasing the
// account: a zip holds everything the person wrote. A job still running finds its document
// gone when it ends, and removes the zip it wrote.
func (x *ExportJobs) Erase(ctx context.Context, v Viewer, userID string) error {
	if v.UserID == "" || v.Role != accounts.RoleAdmin {
		return fmt.Errorf("only an administrator can erase an account's exports: %w", failure.ErrForbidden)
	}
	jobs, err := x.listed(ctx, exportOwnerList(userID))
	if err != nil {
		return err
	}
	var errs []error
	for _, j := range jobs {
		errs = append(errs, x.remove(ctx, j))
	}
	return errors.Join(errs...)
}
