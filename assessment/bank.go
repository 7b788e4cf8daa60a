package assessment

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Bank is a named collection of questions kept by admins and assessors.
type Bank struct {
	ID        string    `bson:"_id" json:"id"`
	Name      string    `bson:"name" json:"name"`
	Owner     string    `bson:"owner" json:"owner"`
	CreatedAt time.Time `bson:"createdAt" json:"createdAt"`
}

// revisionDoc is one stored revision of a question. Nothing in question_revisions is ever
// updated: saving inserts the next revision under the _id "questionID/revision".
type revisionDoc struct {
	ID          string    `bson:"_id"`
	QuestionID  string    `bson:"questionId"`
	BankID      string    `bson:"bankId"`
	Revision    int       `bson:"revision"`
	Name        string    `bson:"name"`
	Stem        string    `bson:"stem"`
	Options     []Option  `bson:"options"`
	Explanation string    `bson:"explanation,omitempty"`
	Tags        []string  `bson:"tags"`
	Author      string    `bson:"author"`
	SavedBy     string    `bson:"savedBy"`
	SavedAt     time.Time `bson:"savedAt"`
}

func revisionID(questionID string, revision int) string {
	return questionID + "/" + strconv.Itoa(revision)
}

func (d revisionDoc) question() Question {
	tags := d.Tags
	if tags == nil {
		tags = []string{}
	}
	return Question{
		ID: d.QuestionID, BankID: d.BankID, Revision: d.Revision, Name: d.Name, Stem: d.Stem,
		Options: d.Options, Explanation: d.Explanation, Tags: tags, Author: d.Author,
		SavedBy: d.SavedBy, SavedAt: d.SavedAt.UTC(),
	}
}

func toRevisionDoc(q Question) revisionDoc {
	return revisionDoc{
		ID: revisionID(q.ID, q.Revision), QuestionID: q.ID, BankID: q.BankID, Revision: q.Revision,
		Name: q.Name, Stem: q.Stem, Options: q.Options, Explanation: q.Explanation, Tags: q.Tags,
		Author: q.Author, SavedBy: q.SavedBy, SavedAt: q.SavedAt,
	}
}

// CreateBank adds an empty bank owned by the actor; a name in use is a conflict.
func (s *Store) CreateBank(ctx context.Context, actor Actor, name string) (Bank, error) {
	if err := requireStaff(actor, "create question banks"); err != nil {
		return Bank{}, err
	}
	name = strings.Join(strings.Fields(name), " ")
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return Bank{}, failure.Problem("name", "Enter a name for the question bank")
	case n > 120:
		return Bank{}, failure.Problem("name", "The bank's name must be 120 characters or fewer")
	}
	b := Bank{ID: database.NewID(), Name: name, Owner: actor.ID, CreatedAt: s.clock()}
	if err := s.list(ctx, banksList, b.ID); err != nil {
		return Bank{}, err
	}
	if err := s.w.insert(ctx, s.banks, b); err != nil {
		// The listing names no bank; Banks would skip it, and taking it out keeps the list
		// to the banks there are.
		_ = s.unlist(ctx, banksList, b.ID)
		if errors.Is(err, errExists) {
			return Bank{}, failure.Conflict(fmt.Sprintf("a question bank named %q already exists", name))
		}
		return Bank{}, fmt.Errorf("insert bank: %w", err)
	}
	return b, nil
}

// Bank returns the bank with the id.
func (s *Store) Bank(ctx context.Context, actor Actor, id string) (Bank, error) {
	if err := requireStaff(actor, "read question banks"); err != nil {
		return Bank{}, err
	}
	return s.bank(ctx, id)
}

func (s *Store) bank(ctx context.Context, id string) (Bank, error) {
	var b Bank
	if err := findOne(ctx, s.banks, id, &b); err != nil {
		return Bank{}, err
	}
	b.CreatedAt = b.CreatedAt.UTC()
	return b, nil
}

// Banks lists every bank by name.
func (s *Store) Banks(ctx context.Context, actor Actor) ([]Bank, error) {
	if err := requireStaff(actor, "read question banks"); err != nil {
		return nil, err
	}
	ids, err := s.listed(ctx, banksList)
	if err != nil {
		return nil, err
	}
	bs, err := database.FindEachByID[Bank](ctx, s.banks, ids)
	if err != nil {
		return nil, err
	}
	for i := range bs {
		bs[i].CreatedAt = bs[i].CreatedAt.UTC()
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].Name < bs[j].Name })
	return bs, nil
}

// AddQuestion checks the question and stores it in the bank as revision 1, with the actor
// as its author.
func (s *Store) AddQuestion(ctx context.Context, actor Actor, bankID string, in QuestionInput) (Question, error) {
	if err := requireStaff(actor, "write questions"); err != nil {
		return Question{}, err
	}
	if _, err := s.bank(ctx, bankID); err != nil {
		return Question{}, err
	}
	in, err := in.Normalize()
	if err != nil {
		return Question{}, err
	}
	q := newQuestion(bankID, in, actor.ID, s.clock())
	if err := s.list(ctx, revisionsList(bankID), revisionID(q.ID, q.Revision)); err != nil {
		return Question{}, err
	}
	if err := s.w.insert(ctx, s.revisions, toRevisionDoc(q)); err != nil {
		return Question{}, fmt.Errorf("insert question: %w", err)
	}
	return q, s.touch(ctx, revisionsCollection)
}

func newQuestion(bankID string, in QuestionInput, by string, now time.Time) Question {
	return Question{
		ID: database.NewID(), BankID: bankID, Revision: 1, Name: in.Name, Stem: in.Stem,
		Options: in.Options, Explanation: in.Explanation, Tags: in.Tags,
		Author: by, SavedBy: by, SavedAt: now,
	}
}

// ReviseQuestion stores a new revision of the question, made from baseRevision. If someone
// saved a revision after baseRevision meanwhile, nothing is stored and the error is a
// *failure.ConflictError saying which revision is the latest. Earlier revisions stay as they
// were: attempts made from them are marked by them.
func (s *Store) ReviseQuestion(ctx context.Context, actor Actor, questionID string, baseRevision int, in QuestionInput) (Question, error) {
	if err := requireStaff(actor, "write questions"); err != nil {
		return Question{}, err
	}
	if baseRevision < 1 {
		return Question{}, failure.Invalid("baseRevision", "must be the revision the change was made to (1 or more)")
	}
	var base revisionDoc
	if err := findOne(ctx, s.revisions, revisionID(questionID, baseRevision), &base); err != nil {
		if isNotFound(err) {
			if _, err := s.question(ctx, questionID); err != nil {
				return Question{}, err
			}
			return Question{}, failure.Invalidf("baseRevision", "the question has no revision %d", baseRevision)
		}
		return Question{}, err
	}
	in, err := in.Normalize()
	if err != nil {
		return Question{}, err
	}
	q := newQuestion(base.BankID, in, actor.ID, s.clock())
	q.ID, q.Revision, q.Author = questionID, baseRevision+1, base.Author
	// Listed before it is stored; should another editor store this revision first, the id
	// listed is that one's.
	if err := s.list(ctx, revisionsList(base.BankID), revisionID(q.ID, q.Revision)); err != nil {
		return Question{}, err
	}
	if err := s.w.insert(ctx, s.revisions, toRevisionDoc(q)); err != nil {
		if errors.Is(err, errExists) {
			latest, lerr := s.question(ctx, questionID)
			if lerr != nil {
				return Question{}, lerr
			}
			return Question{}, failure.Conflict(fmt.Sprintf("the question was changed by %s at %s (revision %d) after the revision %d this change was made to; reload it and make the change again",
				latest.SavedBy, latest.SavedAt.Format(time.RFC3339), latest.Revision, baseRevision))
		}
		return Question{}, fmt.Errorf("insert revision: %w", err)
	}
	return q, s.touch(ctx, revisionsCollection)
}

// Question returns the latest revision of the question.
func (s *Store) Question(ctx context.Context, actor Actor, id string) (Question, error) {
	if err := requireStaff(actor, "read questions"); err != nil {
		return Question{}, err
	}
	return s.question(ctx, id)
}

func (s *Store) question(ctx context.Context, id string) (Question, error) {
	// The first revision says which bank the question is in; the bank's listing has the
	// latest.
	var first revisionDoc
	if err := findOne(ctx, s.revisions, revisionID(id, 1), &first); err != nil {
		return Question{}, fmt.Errorf("question %s: %w", id, failure.ErrNotFound)
	}
	qs, err := s.questionsOf(ctx, first.BankID)
	if err != nil {
		return Question{}, err
	}
	for _, q := range qs {
		if q.ID == id {
			return q, nil
		}
	}
	return Question{}, fmt.Errorf("question %s: %w", id, failure.ErrNotFound)
}

// QuestionRevision returns one revision of the question.
func (s *Store) QuestionRevision(ctx context.Context, actor Actor, id string, revision int) (Question, error) {
	if err := requireStaff(actor, "read questions"); err != nil {
		return Question{}, err
	}
	var d revisionDoc
	if err := findOne(ctx, s.revisions, revisionID(id, revision), &d); err != nil {
		return Question{}, err
	}
	return d.question(), nil
}

// QuestionHistory lists every revision of the question, oldest first.
func (s *Store) QuestionHistory(ctx context.Context, actor Actor, id string) ([]Question, error) {
	if err := requireStaff(actor, "read questions"); err != nil {
		return nil, err
	}
	var out []Question
	for rev := 1; ; rev++ {
		var d revisionDoc
		err := findOne(ctx, s.revisions, revisionID(id, rev), &d)
		if isNotFound(err) {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d.question())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("question %s: %w", id, failure.ErrNotFound)
	}
	return out, nil
}

// Questions lists the latest revision of every question in the bank, oldest question first.
func (s *Store) Questions(ctx context.Context, actor Actor, bankID string) ([]Question, error) {
	if err := requireStaff(actor, "read question banks"); err != nil {
		return nil, err
	}
	if _, err := s.bank(ctx, bankID); err != nil {
		return nil, err
	}
	return s.questionsOf(ctx, bankID)
}

// questionsOf is the bank's questions at their latest revisions, read through the bank's
// list of revisions, from the cache while no revision has been saved anywhere since it was
// loaded.
func (s *Store) questionsOf(ctx context.Context, bankID string) ([]Question, error) {
	return s.bankQuestions.Get(ctx, bankID, func(ctx context.Context) ([]Question, error) {
		ids, err := s.listed(ctx, revisionsList(bankID))
		if err != nil {
			return nil, err
		}
		docs, err := latestListed(ctx, func(ctx context.Context, id string) (revisionDoc, error) {
			return database.FindByID[revisionDoc](ctx, s.revisions, id)
		}, ids)
		if err != nil {
			return nil, err
		}
		out := make([]Question, len(docs))
		for i, d := range docs {
			out[i] = d.question()
		}
		// Ids are ObjectIDs, which grow with time: this is the order they were added in.
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
		return out, nil
	})
}
