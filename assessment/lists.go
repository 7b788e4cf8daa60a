package assessment

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
)

// Every read, update and delete a request makes is by _id alone, because on embedded
// FerretDB any other filter reads every document of the collection, so that the request
// would slow down with everything ever stored. What a request once found by a filter it now
// finds through a list document in assessment_lists, which holds the ids of an owner's
// records:
//
//   - "banks": every bank's id.
//   - "versions": the id ("assessmentID/version") of every assessment version.
//   - "revisions:<bankID>": the id ("questionID/revision") of every revision of the bank's
//     questions.
//   - "attempts:<assessmentID>": the id of every attempt at the assessment, for its results,
//     its item analysis and closing its overdue attempts.
//   - "judges:<assessmentID>": the id of every judge's estimates for the assessment.
//
// An id is listed before its record is inserted, so that no record goes unlisted: a list may
// name a record that was never stored (an insert that failed after the listing), and its
// readers skip such ids. Where a list names versions or revisions, a reader takes the
// highest listed and falls back to the one before when it is missing.

const listsCollection = "assessment_lists"

// layoutMark is the _id of the document that says the records are listed. A data folder
// written before the lists existed lacks it, and the first start lists its records once
// (see migrateLayout).
const layoutMark = "layout:by-id-1"

const (
	banksList    = "banks"
	versionsList = "versions"
)

func revisionsList(bankID string) string      { return "revisions:" + bankID }
func attemptsList(assessmentID string) string { return "attempts:" + assessmentID }
func judgesList(assessmentID string) string   { return "judges:" + assessmentID }

// listDoc is a list document: the ids it holds, in the order they were added.
type listDoc struct {
	ID  string   `bson:"_id"`
	IDs []string `bson:"ids"`
}

// listed reads the ids in the list document id; a missing one lists nothing.
func (s *Store) listed(ctx context.Context, id string) ([]string, error) {
	d, err := database.FindByID[listDoc](ctx, s.lists, id)
	if isNotFound(err) {
		return nil, nil
	}
	return d.IDs, err
}

// list adds the ids to the list document id (made on first use); an id listed already is
// not added again. The add holds the list document's lock (database.DB.Serialize), whose
// stripe may be shared with any other document's: so it is made outside the writer's turn
// (which a holder of an attempt's lock waits for) and with no other lock held.
func (s *Store) list(ctx context.Context, id string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	var v any = ids[0]
	if len(ids) > 1 {
		v = bson.M{"$each": ids}
	}
	return s.db.AddToList(ctx, s.lists, id, "ids", v)
}

// unlist takes an id out of the list document id, as list adds one.
func (s *Store) unlist(ctx context.Context, id, value string) error {
	return s.db.RemoveFromList(ctx, s.lists, id, "ids", value)
}

// splitVersioned splits "key/n" into the key and n; ok is false for anything else.
func splitVersioned(id string) (key string, n int, ok bool) {
	i := strings.LastIndexByte(id, '/')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil || n < 1 {
		return "", 0, false
	}
	return id[:i], n, true
}

// latestListed reads, for each key of the listed "key/n" ids, the document of the highest n
// that is stored, in the order of the keys' first listing. A key none of whose documents is
// stored is left out.
func latestListed[D any](ctx context.Context, find func(ctx context.Context, id string) (D, error), ids []string) ([]D, error) {
	var keys []string
	byKey := map[string][]int{}
	for _, id := range ids {
		k, n, ok := splitVersioned(id)
		if !ok {
			continue
		}
		if _, seen := byKey[k]; !seen {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], n)
	}
	out := make([]D, 0, len(keys))
	for _, k := range keys {
		ns := byKey[k]
		sort.Sort(sort.Reverse(sort.IntSlice(ns)))
		for _, n := range ns {
			d, err := find(ctx, k+"/"+strconv.Itoa(n))
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, d)
			break
		}
	}
	return out, nil
}

// migrateLayout lists the records of a data folder written before the lists existed, once:
// without it their banks, questions, assessments, results and estimates would be missing
// from the pages. It reads the collections once, at start-up, and says so in the log.
func (s *Store) migrateLayout(ctx context.Context, log *slog.Logger) error {
	_, err := database.FindByID[listDoc](ctx, s.lists, layoutMark)
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return fmt.Errorf("assessment layout: %w", err)
	}
	type record struct {
		ID           string `bson:"_id"`
		BankID       string `bson:"bankId"`
		AssessmentID string `bson:"assessmentId"`
	}
	read := func(coll string, list func(record) string) (int, error) {
		recs, err := findAll[record](ctx, s.db.Collection(coll), bson.M{}, bson.D{{Key: "_id", Value: 1}})
		if err != nil {
			return 0, fmt.Errorf("assessment layout: %w", err)
		}
		var order []string
		lists := map[string][]string{}
		for _, r := range recs {
			l := list(r)
			if l == "" {
				continue
			}
			if lists[l] == nil {
				order = append(order, l)
			}
			lists[l] = append(lists[l], r.ID)
		}
		for _, l := range order {
			if err := s.list(ctx, l, lists[l]...); err != nil {
				return 0, err
			}
		}
		return len(recs), nil
	}
	counts := map[string]int{}
	for _, m := range []struct {
		name, coll string
		list       func(record) string
	}{
		{"banks", banksCollection, func(record) string { return banksList }},
		{"revisions", revisionsCollection, func(r record) string { return revisionsList(r.BankID) }},
		{"versions", versionsCollection, func(record) string { return versionsList }},
		{"attempts", attemptsCollection, func(r record) string { return attemptsList(r.AssessmentID) }},
		{"estimates", estimatesCollection, func(r record) string { return judgesList(r.AssessmentID) }},
	} {
		n, err := read(m.coll, m.list)
		if err != nil {
			return err
		}
		counts[m.name] = n
	}
	if err := s.w.run(func() error { return database.InsertOnce(ctx, s.lists, bson.M{"_id": layoutMark}) }); err != nil {
		return fmt.Errorf("assessment layout: %w", err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if total > 0 {
		log.Info("assessment records brought to the layout read by id",
			"banks", counts["banks"], "revisions", counts["revisions"], "versions", counts["versions"],
			"attempts", counts["attempts"], "estimates", counts["estimates"])
	}
	return nil
}
