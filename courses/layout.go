package courses

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Every read a request makes of the store's records is by _id alone, because on embedded
// FerretDB any other filter reads the whole collection. What a page asks for by something
// else is reached through two kinds of document:
//
//   - A name key (course_keys, _id "trust/<name>" or "cohort/<name>") holds the id of the
//     trust or cohort with that name. It is inserted before the record, so that of two
//     creations with one name exactly one wins, whatever the engine.
//   - A list document (course_lists) holds what one owner has: "trusts" and "cohorts" the
//     ids of every trust and cohort, "user/<id>" a person's memberships, "cohort/<id>" a
//     cohort's. A trust or cohort is listed before it is stored, and a listed id without
//     its record is passed over; a membership is listed after it is stored, and again on
//     a retry, which repairs a list an interrupted enrolment left short. Listing something
//     again changes nothing. The same collection holds the hint of each cohort's latest
//     programme version ("programme/<id>", see programme.go).
//
// The registers, calendar tokens, practice and supervision logs and export jobs have their
// own documents of the kind, described where they are used; migrateCourses brings the
// records of all of them over from the earlier layout.

const (
	courseKeysColl       = "course_keys"
	courseListsColl      = "course_lists"
	registersColl        = "attendance_registers"
	calendarVersionsColl = "calendar_versions"

	trustsList  = "trusts"
	cohortsList = "cohorts"
)

// coursesLayoutMark is the _id of the name key that says the store's records are in the
// layout read by id. A data folder written before it lacks it, and the first start brings
// its records over once (see migrateCourses).
const coursesLayoutMark = "layout:courses-by-id-1"

func trustNameKey(name string) string   { return "trust/" + name }
func cohortNameKey(name string) string  { return "cohort/" + name }
func userList(userID string) string     { return "user/" + userID }
func cohortList(cohortID string) string { return "cohort/" + cohortID }

// nameKeyDoc says which record has a unique name.
type nameKeyDoc struct {
	ID     string `bson:"_id"`
	Target string `bson:"id"`
}

// idListDoc is a list document of ids.
type idListDoc struct {
	ID  string   `bson:"_id"`
	IDs []string `bson:"ids"`
}

// membersDoc is a list document of memberships: a person's (Memberships) or a cohort's
// (Members).
type membersDoc struct {
	ID          string       `bson:"_id"`
	Memberships []Membership `bson:"memberships"`
	Members     []Membership `bson:"members"`
}

// claimName reserves the name key for a new record and returns the id the record is to
// have. When the key is taken, find (reading the record by id) decides: a record that
// exists is failure.ErrConflict; a missing one is a creation that stopped after claiming
// the name, and the caller finishes it under the id the key holds.
func (s *Store) claimName(ctx context.Context, key string, find func(id string) error) (string, error) {
	id := database.NewID()
	err := database.Insert(ctx, s.keys, nameKeyDoc{ID: key, Target: id})
	if !errors.Is(err, database.ErrDuplicate) {
		return id, err
	}
	k, err := database.FindByID[nameKeyDoc](ctx, s.keys, key)
	if err != nil {
		return "", err
	}
	switch err := find(k.Target); {
	case err == nil:
		return "", fmt.Errorf("%s: %w", key, failure.ErrConflict)
	case errors.Is(err, failure.ErrNotFound):
		return k.Target, nil
	default:
		return "", err
	}
}

// listIDs reads the ids of a list document; a missing one is an empty list.
func (s *Store) listIDs(ctx context.Context, id string) ([]string, error) {
	d, err := database.FindByID[idListDoc](ctx, s.lists, id)
	if errors.Is(err, failure.ErrNotFound) {
		return nil, nil
	}
	return d.IDs, err
}

// listedMemberships reads a list of memberships, in the order the people joined.
func (s *Store) listedMemberships(ctx context.Context, id string) ([]Membership, error) {
	d, err := database.FindByID[membersDoc](ctx, s.lists, id)
	if errors.Is(err, failure.ErrNotFound) {
		return []Membership{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := append(d.Memberships, d.Members...)
	slices.SortStableFunc(out, func(a, b Membership) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out = slices.CompactFunc(out, func(a, b Membership) bool { return a.ID == b.ID })
	for i := range out {
		out[i].Since = out[i].Since.UTC()
	}
	return out, nil
}

// migrateCourses brings a data folder written before the name keys and list documents
// existed to the current layout, once: without it the trusts, cohorts and memberships it
// holds would be missing from the pages. It reads the collections once, at start-up, and
// says so in the log.
func (s *Store) migrateCourses(ctx context.Context, log *slog.Logger) error {
	_, err := database.FindByID[nameKeyDoc](ctx, s.keys, coursesLayoutMark)
	if err == nil {
		return nil
	}
	if !errors.Is(err, failure.ErrNotFound) {
		return fmt.Errorf("courses layout: %w", err)
	}
	counts := map[string]int{}
	trusts, err := findAll[Trust](ctx, s.trusts, bson.M{}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return fmt.Errorf("courses layout: %w", err)
	}
	for _, t := range trusts {
		if err := database.InsertOnce(ctx, s.keys, nameKeyDoc{ID: trustNameKey(t.Name), Target: t.ID}); err != nil {
			return err
		}
		if err := s.db.AddToList(ctx, s.lists, trustsList, "ids", t.ID); err != nil {
			return err
		}
	}
	counts["trusts"] = len(trusts)
	cohorts, err := findAll[Cohort](ctx, s.cohorts, bson.M{}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return fmt.Errorf("courses layout: %w", err)
	}
	for _, c := range cohorts {
		if err := database.InsertOnce(ctx, s.keys, nameKeyDoc{ID: cohortNameKey(c.Name), Target: c.ID}); err != nil {
			return err
		}
		if err := s.db.AddToList(ctx, s.lists, cohortsList, "ids", c.ID); err != nil {
			return err
		}
	}
	counts["cohorts"] = len(cohorts)
	ms, err := findAll[Membership](ctx, s.memberships, bson.M{}, bson.D{{Key: "since", Value: 1}, {Key: "_id", Value: 1}})
	if err != nil {
		return fmt.Errorf("courses layout: %w", err)
	}
	for _, m := range ms {
		if err := s.listMembership(ctx, m); err != nil {
			return err
		}
	}
	counts["memberships"] = len(ms)
	for _, step := range s.layoutSteps() {
		n, err := step.run(ctx)
		if err != nil {
			return fmt.Errorf("courses layout: %s: %w", step.name, err)
		}
		counts[step.name] = n
	}
	if err := database.InsertOnce(ctx, s.keys, nameKeyDoc{ID: coursesLayoutMark}); err != nil {
		return err
	}
	total := 0
	attrs := []any{}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		total += counts[k]
		attrs = append(attrs, k, counts[k])
	}
	if total > 0 {
		log.Info("course records brought to the layout read by id", attrs...)
	}
	return nil
}

// superviseesMark is the _id of the name key that says every supervisor membership has the
// list of the trainees it supervises. Memberships stored before the lists existed let every
// supervisor of a cohort read what its trainees shared with "my supervisor"; the first start
// after them keeps that, once, by giving each supervisor every trainee of the cohort at that
// moment (migrateSupervisees), for an administrator to narrow on the cohort page.
const superviseesMark = "layout:supervisees-1"

// migrateSupervisees gives each supervisor of each cohort every trainee of the cohort, once,
// and says in the log how many it gave. It reads the list of cohorts and each cohort's
// members by _id.
func (s *Store) migrateSupervisees(ctx context.Context, log *slog.Logger) error {
	_, err := database.FindByID[nameKeyDoc](ctx, s.keys, superviseesMark)
	if err == nil {
		return nil
	}
	if !errors.Is(err, failure.ErrNotFound) {
		return fmt.Errorf("supervisors' trainees: %w", err)
	}
	ids, err := s.listIDs(ctx, cohortsList)
	if err != nil {
		return fmt.Errorf("supervisors' trainees: %w", err)
	}
	supervisors, trainees := 0, 0
	for _, id := range ids {
		members, err := s.Members(ctx, id)
		if err != nil {
			return fmt.Errorf("supervisors' trainees: cohort %s: %w", id, err)
		}
		var all []string
		for _, m := range members {
			if m.Role == accounts.RoleTrainee {
				all = append(all, m.UserID)
			}
		}
		for _, m := range members {
			if m.Role != accounts.RoleSupervisor || m.Supervises != nil || len(all) == 0 {
				continue
			}
			m.Supervises = slices.Clone(all)
			if err := s.putMembership(ctx, m); err != nil {
				return fmt.Errorf("supervisors' trainees: cohort %s: %w", id, err)
			}
			supervisors++
			trainees += len(all)
		}
	}
	if err := database.InsertOnce(ctx, s.keys, nameKeyDoc{ID: superviseesMark}); err != nil {
		return err
	}
	if supervisors > 0 {
		log.Info("supervisors given every trainee of their cohort, as before the supervisors' own lists",
			"supervisors", supervisors, "trainees", trainees)
	}
	return nil
}

// layoutStep brings one kind of record to the layout read by id, returning how many
// records it brought over.
type layoutStep struct {
	name string
	run  func(ctx context.Context) (int, error)
}

// layoutSteps are the steps of migrateCourses after the trusts, cohorts and memberships.
func (s *Store) layoutSteps() []layoutStep {
	return []layoutStep{
		{"programmes", s.migrateProgrammes},
		{"attendanceMarks", s.migrateAttendance},
		{"calendarTokens", s.migrateCalendarTokens},
		{"practiceSessions", s.migratePractice},
		{"supervisionSessions", s.migrateSupervision},
		{"exportJobs", s.migrateExportJobs},
	}
}

// migrateExportJobs lists every export job for its owner and among all jobs, so that the
// workers tend it and remove it when it expires.
func (s *Store) migrateExportJobs(ctx context.Context) (int, error) {
	jobs, err := findAll[ExportJob](ctx, s.db.Collection(exportJobsColl), bson.M{}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return 0, err
	}
	lists := s.db.Collection(exportListsColl)
	for _, j := range jobs {
		for _, list := range []string{exportOwnerList(j.OwnerID), exportAllList} {
			if err := s.db.AddToList(ctx, lists, list, "ids", j.ID); err != nil {
				return 0, err
			}
		}
	}
	return len(jobs), nil
}

// ownedList is the list document id, of owner, that values go to.
type ownedList struct{ id, owner string }

// addEach adds the values gathered for each list, in the order the lists were first named.
func (s *Store) addEach(ctx context.Context, coll *database.Collection, field string, order []ownedList, values map[ownedList][]any) error {
	for _, l := range order {
		if err := addOwned(ctx, s.db, coll, l.id, l.owner, field, bson.M{"$each": values[l]}); err != nil {
			return err
		}
	}
	return nil
}

// gather collects values by list, remembering the order the lists come in.
type gather struct {
	order  []ownedList
	values map[ownedList][]any
}

func (g *gather) add(l ownedList, v any) {
	if g.values == nil {
		g.values = map[ownedList][]any{}
	}
	if _, ok := g.values[l]; !ok {
		g.order = append(g.order, l)
	}
	g.values[l] = append(g.values[l], v)
}

// migratePractice lists every practice session in its month.
func (s *Store) migratePractice(ctx context.Context) (int, error) {
	docs, err := findAll[PracticeSession](ctx, s.db.Collection(practiceColl), bson.M{}, bson.D{{Key: "date", Value: 1}, {Key: "_id", Value: 1}})
	if err != nil {
		return 0, err
	}
	var g, months gather
	for _, d := range docs {
		d.Date, d.LoggedAt = d.Date.UTC(), d.LoggedAt.UTC()
		month := practiceMonthID(d.OwnerID, d.Date)
		months.add(ownedList{practiceMonthsID(d.OwnerID), d.OwnerID}, month)
		g.add(ownedList{month, d.OwnerID}, d)
	}
	coll := s.db.Collection(practiceMonthsColl)
	if err := s.addEach(ctx, coll, "ids", months.order, months.values); err != nil {
		return 0, err
	}
	return len(docs), s.addEach(ctx, coll, "sessions", g.order, g.values)
}

// migrateCalendarTokens writes the version documents of the calendar tokens, and drops
// the unique index on (userId, version), whose part the version documents' ids now play.
// The versions of tokens deleted at a rotation get a document naming no token, so that
// each person's versions run from 1 without a gap, as latestCalendarToken reads them.
func (s *Store) migrateCalendarTokens(ctx context.Context) (int, error) {
	if err := dropIndex(ctx, s.calendarTokens, "userId_1_version_1"); err != nil {
		return 0, err
	}
	docs, err := findAll[calendarTokenDoc](ctx, s.calendarTokens, bson.M{}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return 0, err
	}
	byUser := map[string]map[int]calendarTokenDoc{}
	for _, d := range docs {
		if byUser[d.UserID] == nil {
			byUser[d.UserID] = map[int]calendarTokenDoc{}
		}
		byUser[d.UserID][d.Version] = d
	}
	for _, userID := range slices.Sorted(maps.Keys(byUser)) {
		tokens := byUser[userID]
		for n := 1; n <= slices.Max(slices.Collect(maps.Keys(tokens))); n++ {
			d := tokens[n]
			v := calendarVersionDoc{ID: calendarVersionID(userID, n), Token: d.Token, UserID: userID, Version: n, CreatedAt: d.CreatedAt}
			if err := database.InsertOnce(ctx, s.calendarVersions, v); err != nil {
				return 0, err
			}
		}
	}
	return len(docs), nil
}

// migrateAttendance adds every mark of the attendance collection, where each was a
// document of its own, to the lists of its register and its trainee. The marks stay where
// they were.
func (s *Store) migrateAttendance(ctx context.Context) (int, error) {
	docs, err := findAll[attendanceDoc](ctx, s.attendance, bson.M{}, bson.D{{Key: "takenAt", Value: 1}, {Key: "_id", Value: 1}})
	if err != nil {
		return 0, err
	}
	lists := map[string][]any{}
	var order []string
	add := func(id string, d attendanceDoc) {
		if _, ok := lists[id]; !ok {
			order = append(order, id)
		}
		lists[id] = append(lists[id], d)
	}
	for _, d := range docs {
		d.TakenAt = d.TakenAt.UTC()
		add(registerID(d.CohortID, d.Occasion), d)
		add(traineeMarksID(d.CohortID, d.UserID), d)
	}
	for _, id := range order {
		if err := s.db.AddToList(ctx, s.registers, id, "marks", bson.M{"$each": lists[id]}); err != nil {
			return 0, err
		}
	}
	return len(docs), nil
}

// migrateProgrammes stores each version of a programme saved under an id of its own again
// under programmeID, and drops the unique index on (cohortId, version), which the copy
// would break and the ids now stand in for.
func (s *Store) migrateProgrammes(ctx context.Context) (int, error) {
	if err := dropIndex(ctx, s.programmes, "cohortId_1_version_1"); err != nil {
		return 0, err
	}
	docs, err := findAll[programmeDoc](ctx, s.programmes, bson.M{}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range docs {
		id := programmeID(d.CohortID, d.Version)
		if d.ID == id {
			continue
		}
		old := d.ID
		d.ID = id
		err := database.Insert(ctx, s.programmes, d)
		if errors.Is(err, database.ErrDuplicate) {
			// Copied by an earlier start that stopped before deleting the original; any
			// other duplicate (an index still in force) leaves the original in place.
			if _, err := database.FindByID[programmeDoc](ctx, s.programmes, id); err != nil {
				return n, fmt.Errorf("programme of cohort %s version %d: %w", d.CohortID, d.Version, err)
			}
		} else if err != nil {
			return n, err
		}
		if err := database.DeleteByID(ctx, s.programmes, old); err != nil {
			return n, err
		}
		s.noteProgramme(ctx, d.CohortID, d.Version)
		n++
	}
	return n, nil
}

// dropIndex drops the collection's index of that name, if it has one.
func dropIndex(ctx context.Context, coll *database.Collection, name string) error {
	names, err := coll.IndexNames(ctx)
	if err != nil || !slices.Contains(names, name) {
		return err
	}
	return coll.DropIndex(ctx, name)
}

// Collections of list documents of the journal domain's logs, each with the ownerId of the
// person whose records they list, so that erasure finds them.
const (
	practiceMonthsColl   = "practice_months"
	supervisionListsColl = "supervision_lists"
)

// addOwned adds value to the array field of the list document id, made on first use with
// the owner's id, once: adding it again changes nothing. As with database.DB.AddToList,
// the add holds the document's lock in this process.
func addOwned(ctx context.Context, db *database.DB, coll *database.Collection, id, owner, field string, value any) error {
	defer db.Serialize(coll.Name(), id)()
	update := bson.M{"$addToSet": bson.M{field: value}, "$set": bson.M{"ownerId": owner}}
	add := func() error { return coll.Upsert(ctx, id, update) }
	err := add()
	if errors.Is(err, database.ErrDuplicate) {
		// Two first adds raced to make the document: it exists now.
		err = add()
	}
	if err != nil {
		return fmt.Errorf("add to %s %s: %w", coll.Name(), id, err)
	}
	return nil
}

// migrateSupervision lists every supervision session for its trainee and, unless it is
// confirmed, for its supervisor to confirm, and every confirmation for its trainee.
func (s *Store) migrateSupervision(ctx context.Context) (int, error) {
	sessions, err := findAll[SupervisionSession](ctx, s.db.Collection(supervisionColl), bson.M{}, bson.D{{Key: "date", Value: 1}, {Key: "_id", Value: 1}})
	if err != nil {
		return 0, err
	}
	resolutions, err := findAll[resolutionDoc](ctx, s.db.Collection(supervisionResolvedColl), bson.M{}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return 0, err
	}
	var lists, confirm, resolved gather
	done := map[string]bool{}
	for _, r := range resolutions {
		done[r.ID] = true
		r.At = r.At.UTC()
		resolved.add(ownedList{resolvedID(r.TraineeID), r.TraineeID}, r)
	}
	for _, d := range sessions {
		d.Date, d.LoggedAt = d.Date.UTC(), d.LoggedAt.UTC()
		lists.add(ownedList{traineeSessionsID(d.TraineeID), d.TraineeID}, d)
		if !done[d.ID] {
			confirm.add(ownedList{toConfirmID(d.SupervisorID), d.SupervisorID}, d.ID)
		}
	}
	coll := s.db.Collection(supervisionListsColl)
	if err := s.addEach(ctx, coll, "sessions", lists.order, lists.values); err != nil {
		return 0, err
	}
	if err := s.addEach(ctx, coll, "ids", confirm.order, confirm.values); err != nil {
		return 0, err
	}
	return len(sessions), s.addEach(ctx, coll, "resolutions", resolved.order, resolved.values)
}
