package courses

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"polyphony/content"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// MaxCommentBody is the longest comment, in characters.
const MaxCommentBody = 5000

// Comment is one message in the thread of a shared entry. An entry has a thread for each
// audience: the author talks with their supervisors in one and with the assessors in the
// other, and neither audience reads the other's.
type Comment struct {
	ID           string    `bson:"_id" json:"id"`
	EntryID      string    `bson:"entryId" json:"entryId"`
	OwnerID      string    `bson:"ownerId" json:"ownerId"` // the entry's author
	AuthorID     string    `bson:"authorId" json:"authorId"`
	Audience     Audience  `bson:"audience" json:"audience"`
	Body         string    `bson:"body" json:"body"` // Markdown
	EntryVersion int       `bson:"entryVersion" json:"entryVersion"`
	At           time.Time `bson:"at" json:"at"`
	// Seq orders comments made in the same millisecond (an ObjectID, which grows).
	Seq     string `bson:"seq" json:"-"`
	Request string `bson:"request" json:"-"`
}

// HTML is the comment rendered for display: no raw HTML, no script links.
func (c Comment) HTML() template.HTML { return content.RenderUserMarkdown([]byte(c.Body)) }

// NewComment is what it takes to comment. Audience picks the thread: the author must name
// it; a supervisor or assessor writes in their own and may leave it empty. Key is the
// idempotency key: a retry with it returns the comment the first attempt stored.
type NewComment struct {
	Audience Audience `json:"audience"`
	Body     string   `json:"body"`
	Key      string   `json:"key"`
}

// AddComment adds a comment to the thread of a shared entry, and a notification for each
// other person in the thread. A comment on an entry that is not shared with the audience
// is refused; so is one by anyone who may not read the entry (failure.ErrNotFound).
func (j *Journals) AddComment(ctx context.Context, v Viewer, entryID string, nc NewComment) (Comment, error) {
	g, err := j.authorize(ctx, v, entryID)
	if err != nil {
		return Comment{}, err
	}
	audience, err := j.commentAudience(ctx, g, nc.Audience)
	if err != nil {
		return Comment{}, err
	}
	body := strings.TrimSpace(strings.ReplaceAll(nc.Body, "\r\n", "\n"))
	if body == "" {
		return Comment{}, failure.Invalid("body", "is required")
	}
	if err := checkLength("body", "the comment", body, MaxCommentBody); err != nil {
		return Comment{}, err
	}
	if err := checkIdemKey(nc.Key); err != nil {
		return Comment{}, err
	}
	c := Comment{
		ID: entryID + "/c/" + hashOf(v.UserID, nc.Key)[:20], EntryID: entryID, OwnerID: g.rev.OwnerID,
		AuthorID: v.UserID, Audience: audience, Body: body, EntryVersion: g.rev.Version, At: j.clock(),
		Seq: database.NewID(), Request: hashOf(string(audience), body),
	}
	if err := j.comments.Insert(ctx, c); errors.Is(err, database.ErrDuplicate) {
		first, err := findByID[Comment](ctx, j.comments, c.ID)
		if err != nil {
			return Comment{}, err
		}
		if first.Request != c.Request {
			return Comment{}, failure.Invalid("key", "was already used for a different comment; send a new key with each comment")
		}
		c = first // a retry: its notifications are written again below, in case they were not
	} else if err != nil {
		return Comment{}, fmt.Errorf("add comment to %s: %w", entryID, err)
	}
	// Listed after it is stored, and again on a retry, so that a comment stored by an
	// attempt that stopped here is listed by its retry.
	if err := j.addToList(ctx, j.threads, entryID, c.OwnerID, c.ID); err != nil {
		return Comment{}, err
	}
	return c, j.notify(ctx, c)
}

// commentAudience is the thread a comment goes into, refusing a thread the entry is not
// shared with.
func (j *Journals) commentAudience(ctx context.Context, g grant, asked Audience) (Audience, error) {
	switch g.as {
	case AccessSupervisor, AccessAssessor:
		own := AudienceSupervisor
		if g.as == AccessAssessor {
			own = AudienceAssessors
		}
		if asked != "" && asked != own {
			return "", failure.Invalidf("audience", "you can comment only in the %s thread", own)
		}
		return own, nil
	}
	if !asked.known() {
		return "", failure.Invalidf("audience", "%q is not a thread; use supervisor or assessors", asked)
	}
	share, err := j.currentShare(ctx, g.rev.EntryID)
	if err != nil {
		return "", err
	}
	if asked == AudienceSupervisor && !share.Supervisor {
		return "", failure.Invalid("audience", "this entry is not shared with your supervisor: share it before commenting")
	}
	if asked == AudienceAssessors && !share.Assessors {
		return "", failure.Invalid("audience", "this entry is not submitted to the assessors: submit it before commenting")
	}
	return asked, nil
}

// Notification tells someone that a comment was added to a thread they are in. It holds
// no text of the entry or the comment: the page it links to reads them through the access
// check.
type Notification struct {
	ID        string    `bson:"_id" json:"id"`
	UserID    string    `bson:"userId" json:"userId"`
	OwnerID   string    `bson:"ownerId" json:"ownerId"`
	EntryID   string    `bson:"entryId" json:"entryId"`
	CommentID string    `bson:"commentId" json:"commentId"`
	AuthorID  string    `bson:"authorId" json:"authorId"`
	Audience  Audience  `bson:"audience" json:"audience"`
	At        time.Time `bson:"at" json:"at"`
	Seq       string    `bson:"seq" json:"-"`
}

// notify writes a notification of the comment for the entry's author and the thread's
// audience, but not for the comment's writer. Notifications have ids made from the comment
// and the person, so writing them again adds nothing.
func (j *Journals) notify(ctx context.Context, c Comment) error {
	people, err := j.AudienceOf(ctx, c.OwnerID, c.Audience)
	if err != nil {
		return err
	}
	people = append(people, c.OwnerID)
	var docs []any
	for _, p := range people {
		if p != c.AuthorID {
			docs = append(docs, Notification{
				ID: c.ID + "/n/" + p, UserID: p, OwnerID: c.OwnerID, EntryID: c.EntryID,
				CommentID: c.ID, AuthorID: c.AuthorID, Audience: c.Audience, At: c.At, Seq: c.Seq,
			})
		}
	}
	if len(docs) == 0 {
		return nil
	}
	err = j.notifications.InsertMany(ctx, docs, database.InsertManyOptions{Unordered: true})
	if err != nil && !errors.Is(err, database.ErrDuplicate) {
		return fmt.Errorf("notify comment %s: %w", c.ID, err)
	}
	for _, d := range docs {
		n := d.(Notification)
		if err := j.addToList(ctx, j.inbox, n.UserID, "", n.ID); err != nil {
			return err
		}
	}
	return nil
}

// Comments lists an entry's comments, oldest first: both threads for the author, their
// own thread for a supervisor or assessor (logged as a read).
func (j *Journals) Comments(ctx context.Context, v Viewer, entryID string) ([]Comment, error) {
	g, err := j.authorize(ctx, v, entryID)
	if err != nil {
		return nil, err
	}
	if err := j.logRead(ctx, v, g, "comments"); err != nil {
		return nil, err
	}
	ids, err := listed(ctx, j.threads, entryID)
	if err != nil {
		return nil, err
	}
	all, err := readListed[Comment](ctx, j.comments, ids)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(all, func(c Comment) bool {
		return g.as == AccessSupervisor && c.Audience != AudienceSupervisor || g.as == AccessAssessor && c.Audience != AudienceAssessors
	})
	slices.SortFunc(out, func(a, b Comment) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Seq, b.Seq)
	})
	return out, nil
}

// Notifications lists the viewer's unread comment notifications, newest first, for the
// home page.
func (j *Journals) Notifications(ctx context.Context, v Viewer) ([]Notification, error) {
	if err := signedIn(v); err != nil {
		return nil, err
	}
	ids, err := listed(ctx, j.inbox, v.UserID)
	if err != nil {
		return nil, err
	}
	out, err := readListed[Notification](ctx, j.notifications, ids)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Notification) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return strings.Compare(b.Seq, a.Seq)
	})
	return out, nil
}

// MarkNotificationsRead marks the viewer's notifications with the ids read (all of them
// when no id is given). A read notification is removed: the comment is the record. Ids
// that are not the viewer's unread notifications are passed over.
func (j *Journals) MarkNotificationsRead(ctx context.Context, v Viewer, ids ...string) error {
	if err := signedIn(v); err != nil {
		return err
	}
	unread, err := listed(ctx, j.inbox, v.UserID)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		unread = slices.DeleteFunc(unread, func(id string) bool { return !slices.Contains(ids, id) })
	}
	for _, id := range unread {
		if _, err := j.notifications.Delete(ctx, id); err != nil {
			return fmt.Errorf("mark notifications read: %w", err)
		}
	}
	return j.removeFromList(ctx, j.inbox, v.UserID, unread)
}
