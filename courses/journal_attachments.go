package courses

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// MediaKind is what an attachment holds.
type MediaKind string

// The kinds of attachment.
const (
	MediaAudio MediaKind = "audio"
	MediaVideo MediaKind = "video"
	MediaImage MediaKind = "image"
)

// Limits on attachments.
const (
	maxAttachments     = 20
	maxAttachmentName  = 200 // characters
	maxMediaKey        = 200
	maxContentTypeSize = 100
)

// Attachment records a media object stored by the upload pipeline and attached to an
// entry. Key is the object's key in the media store; Name is the file name the person's
// device gave it, shown and used for downloads, never as a path.
type Attachment struct {
	Key         string    `bson:"key" json:"key"`
	Kind        MediaKind `bson:"kind" json:"kind"`
	ContentType string    `bson:"contentType" json:"contentType"`
	Size        int64     `bson:"size" json:"size"`
	Name        string    `bson:"name" json:"name"`
}

// normaliseAttachment checks an attachment's record: a key of the media store's form, a
// known kind whose content type agrees with it, a size, and a bare file name.
func normaliseAttachment(a Attachment) (Attachment, error) {
	if err := checkMediaKey(a.Key); err != nil {
		return Attachment{}, err
	}
	switch a.Kind {
	case MediaAudio, MediaVideo, MediaImage:
	default:
		return Attachment{}, failure.Invalidf("kind", "%q is not a kind of attachment; use audio, video or image", a.Kind)
	}
	a.ContentType = strings.ToLower(strings.TrimSpace(a.ContentType))
	if len(a.ContentType) > maxContentTypeSize || !strings.HasPrefix(a.ContentType, string(a.Kind)+"/") {
		return Attachment{}, failure.Invalidf("contentType", "%q is not a content type for %s", a.ContentType, a.Kind)
	}
	if a.Size <= 0 {
		return Attachment{}, failure.Invalid("size", "must be more than 0 bytes")
	}
	name, err := cleanFileName(a.Name)
	if err != nil {
		return Attachment{}, err
	}
	a.Name = name
	return a, nil
}

// checkMediaKey accepts the keys the media store makes: lower-case letters, digits, '.',
// '_', '-' and '/' between non-empty segments, without "..".
func checkMediaKey(key string) error {
	bad := key == "" || len(key) > maxMediaKey || strings.Contains(key, "..") || strings.Contains(key, "//") ||
		strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/")
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("._-/", c)) {
			bad = true
		}
	}
	if bad {
		return failure.Invalidf("key", "%q is not a media key", key)
	}
	return nil
}

// cleanFileName trims a file name and refuses one that is a path or could act as one, or
// that holds control characters.
func cleanFileName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", failure.Invalid("name", "is required: the file's name")
	case !utf8.ValidString(name):
		return "", failure.Invalid("name", "is not valid UTF-8 text")
	case strings.ContainsAny(name, `/\`) || name == "." || name == "..":
		return "", failure.Invalidf("name", "%q contains a folder path; send the file's name only", name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", failure.Invalidf("name", "%q contains control characters", name)
	case utf8.RuneCountInString(name) > maxAttachmentName:
		return "", failure.Invalidf("name", "must be at most %d characters", maxAttachmentName)
	}
	return name, nil
}

// AddAttachment records an object the upload pipeline has already stored (object first,
// then the record) as an attachment of the entry, in a new revision on top of the latest.
// Adding the same key again returns the entry unchanged, so a retry adds nothing. Only
// the author may attach.
func (j *Journals) AddAttachment(ctx context.Context, v Viewer, entryID string, a Attachment) (Entry, error) {
	a, err := normaliseAttachment(a)
	if err != nil {
		return Entry{}, err
	}
	return j.changeAttachments(ctx, v, entryID, revAttach, func(list []Attachment) ([]Attachment, bool, error) {
		for _, have := range list {
			if have.Key == a.Key {
				if have == a {
					return nil, false, nil
				}
				return nil, false, failure.Invalidf("key", "%q is already attached as %q", a.Key, have.Name)
			}
		}
		if len(list) >= maxAttachments {
			return nil, false, failure.Invalidf("attachments", "an entry holds at most %d attachments", maxAttachments)
		}
		return append(list, a), true, nil
	})
}

// RemoveAttachment takes the attachment with the key off the entry, in a new revision.
// Removing a key the entry does not hold returns the entry unchanged. The object stays in
// the media store while any revision still lists it, so that restoring an earlier revision
// loses nothing; it goes when the entry's owner is erased.
func (j *Journals) RemoveAttachment(ctx context.Context, v Viewer, entryID, key string) (Entry, error) {
	return j.changeAttachments(ctx, v, entryID, revDetach, func(list []Attachment) ([]Attachment, bool, error) {
		i := slices.IndexFunc(list, func(a Attachment) bool { return a.Key == key })
		if i < 0 {
			return nil, false, nil
		}
		return slices.Delete(list, i, i+1), true, nil
	})
}

// changeAttachments writes a new revision with the attachments changed by change, on top
// of whatever the latest revision is; when another change takes its number it tries again.
func (j *Journals) changeAttachments(ctx context.Context, v Viewer, entryID, kind string, change func([]Attachment) ([]Attachment, bool, error)) (Entry, error) {
	if err := signedIn(v); err != nil {
		return Entry{}, err
	}
	for range 10 {
		latest, err := j.latest(ctx, entryID)
		if err != nil {
			return Entry{}, err
		}
		if latest.OwnerID != v.UserID {
			return Entry{}, fmt.Errorf("journal entry %s: %w", entryID, failure.ErrNotFound)
		}
		list, changed, err := change(clone(latest.Attachments))
		if err != nil || !changed {
			return latest.entry(), err
		}
		rev := latest.next(latest.draft(), kind, j.clock())
		rev.Attachments = list
		err = j.revisions.Insert(ctx, rev)
		if err == nil {
			j.stored(ctx, rev)
			return rev.entry(), nil
		}
		if !errors.Is(err, database.ErrDuplicate) {
			return Entry{}, fmt.Errorf("save journal entry %s: %w", entryID, err)
		}
		// Note the revision that took the number, so that the next try builds on it.
		if _, err := j.revisionAt(ctx, entryID, rev.Version); err != nil && !errors.Is(err, failure.ErrNotFound) {
			return Entry{}, err
		}
	}
	return Entry{}, failure.Conflict("the entry is being changed elsewhere; try again")
}

// Attachment returns the record of an attachment for someone who may read the entry that
// holds it: the HTTP layer calls it before serving the object, and serves nothing on an
// error. The author may fetch an attachment of any revision; a supervisor or assessor
// only one in the revision they may read. A read by anyone but the author is logged.
func (j *Journals) Attachment(ctx context.Context, v Viewer, entryID, key string) (Attachment, error) {
	a, g, err := j.attachment(ctx, v, entryID, key)
	if err != nil {
		return Attachment{}, err
	}
	return a, j.logRead(ctx, v, g, "attachment "+a.Name)
}

// StillReadable checks, without logging a read, that the viewer may still read the
// attachment: a link to it issued by Attachment's caller is served only while this holds,
// so that revoking a share ends the links issued under it on their next use.
func (j *Journals) StillReadable(ctx context.Context, v Viewer, entryID, key string) error {
	_, _, err := j.attachment(ctx, v, entryID, key)
	return err
}

// attachment finds the attachment under the same rules as Attachment, with the grant it
// was found under.
func (j *Journals) attachment(ctx context.Context, v Viewer, entryID, key string) (Attachment, grant, error) {
	g, err := j.authorize(ctx, v, entryID)
	if err != nil {
		return Attachment{}, grant{}, err
	}
	find := func(d revisionDoc) (Attachment, bool) {
		i := slices.IndexFunc(d.Attachments, func(a Attachment) bool { return a.Key == key })
		if i < 0 {
			return Attachment{}, false
		}
		return d.Attachments[i], true
	}
	if a, ok := find(g.rev); ok {
		return a, g, nil
	}
	if g.as == AccessOwner {
		// An earlier revision's: read back from the latest, each revision by _id, so the
		// cost is the entry's history and not everything stored.
		for n := g.rev.Version - 1; n >= 1; n-- {
			d, err := j.revision(ctx, entryID, n)
			if errors.Is(err, failure.ErrNotFound) {
				continue
			}
			if err != nil {
				return Attachment{}, grant{}, fmt.Errorf("attachment %q of journal entry %s: %w", key, entryID, err)
			}
			if a, ok := find(d); ok {
				return a, g, nil
			}
		}
	}
	return Attachment{}, grant{}, fmt.Errorf("attachment %q of journal entry %s: %w", key, entryID, failure.ErrNotFound)
}

// MediaKeys lists every media key that any revision of any entry refers to, sorted: the
// objects the orphan sweep must keep. It reads the whole collection. An object stored by
// an upload whose record is not written yet is not listed, so the sweep should only remove
// objects older than its grace period.
func (j *Journals) MediaKeys(ctx context.Context) ([]string, error) {
	return j.mediaKeys(ctx, bson.M{"attachments.0": bson.M{"$exists": true}})
}

func (j *Journals) mediaKeys(ctx context.Context, filter bson.M) ([]string, error) {
	var docs []struct {
		Attachments []struct {
			Key string `bson:"key"`
		} `bson:"attachments"`
	}
	if err := j.revisions.ScanAll(ctx, filter, database.Scan{Fields: []string{"attachments.key"}}, &docs); err != nil {
		return nil, fmt.Errorf("list media keys: %w", err)
	}
	seen := map[string]bool{}
	keys := []string{}
	for _, d := range docs {
		for _, a := range d.Attachments {
			if !seen[a.Key] {
				seen[a.Key] = true
				keys = append(keys, a.Key)
			}
		}
	}
	sort.Strings(keys)
	return keys, nil
}
