package courses

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/failure"
)

// OpenMedia opens a stored media object by its key; the media store provides it, so that
// the journal does not depend on the upload pipeline. It should return an error wrapping
// failure.ErrNotFound (or fs.ErrNotExist) for a key with no object.
type OpenMedia func(ctx context.Context, key string) (io.ReadCloser, error)

// ExportProgress is told, after each item written, how many are done of how many.
type ExportProgress func(done, total int)

// Export writes everything the viewer holds here to w as one zip, streaming it: each
// journal entry with every revision as a Markdown file, its sharing history, its comments
// and its attachments (through open; nil leaves them out and says so); the comments they
// wrote on other people's entries; their supervision and practice logs; and their access
// log. progress (may be nil) is called after each item. Only the person may export their
// own data. Objects that open reports missing are listed in README.txt rather than
// failing the export; any other error stops it, and the zip is then incomplete.
//
// The export is written by a background worker (ExportJobs), once per export asked for.
// It reads by _id (the entries through the author's record, each revision by its number,
// each thread through its list, the logs through theirs) except for the comments the
// person wrote on other people's entries, which no list names: that read goes through the
// whole collection on embedded FerretDB, as a job that runs for a while anyway can afford.
func (j *Journals) Export(ctx context.Context, v Viewer, w io.Writer, open OpenMedia, progress ExportProgress) error {
	if err := signedIn(v); err != nil {
		return err
	}
	entries, err := j.ownEntries(ctx, v.UserID)
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	for _, e := range entries {
		for _, a := range e.attachments {
			keys[a.Key] = true
		}
	}
	x := &exporter{j: j, v: v, zw: zip.NewWriter(w), open: open, progress: progress}
	x.total = len(keys) + 6 // README and the five logs
	for _, e := range entries {
		x.total += e.versions + 3 // revisions, sharing, comments, entry.json
	}
	if err := x.entries(ctx, entries); err != nil {
		return err
	}
	if err := x.logs(ctx); err != nil {
		return err
	}
	if err := x.readme(len(entries)); err != nil {
		return err
	}
	return x.zw.Close()
}

// exporter writes one export.
type exporter struct {
	j        *Journals
	v        Viewer
	zw       *zip.Writer
	open     OpenMedia
	progress ExportProgress

	done, total int
	missing     []string
	skipped     int
}

// file writes one item of the zip.
func (x *exporter) file(name string, modified time.Time, write func(io.Writer) error) error {
	f, err := x.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return fmt.Errorf("export %s: %w", name, err)
	}
	if err := write(f); err != nil {
		return fmt.Errorf("export %s: %w", name, err)
	}
	x.done++
	x.total = max(x.total, x.done)
	if x.progress != nil {
		x.progress(x.done, x.total)
	}
	return nil
}

func (x *exporter) json(name string, v any) error {
	return x.file(name, time.Now(), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// ownEntry is one of the person's entries as the export counts it: how many revisions it
// has, and the attachments of any of them, each once.
type ownEntry struct {
	id          string
	versions    int
	attachments []Attachment
}

// ownEntries reads the person's entries, in the order of their ids, through their author
// record, the entry records and each revision by _id. The revisions' text is read again as
// it is written, so that only one is held at a time.
func (j *Journals) ownEntries(ctx context.Context, ownerID string) ([]ownEntry, error) {
	ids, err := j.authorEntries(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	out := []ownEntry{}
	for _, id := range ids {
		rec, err := j.entryRecord(ctx, id)
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if rec.OwnerID != ownerID {
			continue
		}
		latest, err := j.latestFrom(ctx, rec)
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		e := ownEntry{id: id, versions: latest.Version}
		seen := map[string]bool{}
		for n := 1; n <= latest.Version; n++ {
			d, err := j.revision(ctx, id, n)
			if err != nil {
				return nil, err
			}
			for _, a := range d.Attachments {
				if !seen[a.Key] {
					seen[a.Key] = true
					e.attachments = append(e.attachments, a)
				}
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// entries writes a folder for each entry, journal/2027-03-04-<id>/, reading each revision
// by _id as it writes it.
func (x *exporter) entries(ctx context.Context, entries []ownEntry) error {
	for _, e := range entries {
		var last revisionDoc
		for n := 1; n <= e.versions; n++ {
			d, err := x.j.revision(ctx, e.id, n)
			if err != nil {
				return fmt.Errorf("export journal: %w", err)
			}
			last = d
			if err := x.file(fmt.Sprintf("%srevisions/%06d.md", entryDir(d), d.Version), d.SavedAt, func(w io.Writer) error {
				_, err := io.WriteString(w, revisionMarkdown(d))
				return err
			}); err != nil {
				return err
			}
		}
		if err := x.finishEntry(ctx, last, e.attachments); err != nil {
			return err
		}
	}
	return nil
}

func entryDir(d revisionDoc) string {
	return fmt.Sprintf("journal/%s-%s/", d.CreatedAt.UTC().Format(time.DateOnly), d.EntryID)
}

// finishEntry writes what follows an entry's revisions: its sharing history, comments,
// latest revision as JSON, and the media of every revision.
func (x *exporter) finishEntry(ctx context.Context, latest revisionDoc, attachments []Attachment) error {
	dir := entryDir(latest)
	shares, err := x.j.shareHistory(ctx, latest.EntryID)
	if err != nil {
		return err
	}
	if err := x.json(dir+"sharing.json", nonNil(shares)); err != nil {
		return err
	}
	ids, err := listed(ctx, x.j.threads, latest.EntryID)
	if err != nil {
		return err
	}
	comments, err := readListed[Comment](ctx, x.j.comments, ids)
	if err != nil {
		return err
	}
	slices.SortStableFunc(comments, func(a, b Comment) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Seq, b.Seq)
	})
	if err := x.json(dir+"comments.json", comments); err != nil {
		return err
	}
	if err := x.json(dir+"entry.json", latest.entry()); err != nil {
		return err
	}
	for i, a := range attachments {
		if err := x.media(ctx, fmt.Sprintf("%smedia/%02d-%s", dir, i+1, zipSafeName(a.Name)), a.Key); err != nil {
			return err
		}
	}
	return nil
}

// media copies one object into the zip; a missing one is noted in the README instead.
func (x *exporter) media(ctx context.Context, name, key string) error {
	if x.open == nil {
		x.skipped++
		x.total--
		return nil
	}
	r, err := x.open(ctx, key)
	if errors.Is(err, failure.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		x.missing = append(x.missing, name)
		x.total--
		return nil
	}
	if err != nil {
		return fmt.Errorf("open media %s: %w", key, err)
	}
	defer r.Close()
	return x.file(name, time.Now(), func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
}

// logs writes the comments on others' entries, the supervision and practice logs, the
// practice visibility choices and the access log.
func (x *exporter) logs(ctx context.Context) error {
	id := x.v.UserID
	elsewhere, err := findAll[Comment](ctx, x.j.comments, bson.M{"authorId": id, "ownerId": bson.M{"$ne": id}}, bson.D{{Key: "at", Value: 1}})
	if err != nil {
		return err
	}
	supervision, err := x.j.traineeSessions(ctx, id)
	if err != nil {
		return err
	}
	practice, err := x.j.allPractice(ctx, id)
	if err != nil {
		return err
	}
	settings, err := x.j.practiceChoices(ctx, id)
	if err != nil {
		return err
	}
	access, err := x.j.AccessLog(ctx, x.v)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    any
	}{
		{"comments-on-others-entries.json", elsewhere},
		{"supervision.json", map[string]any{"sessions": nonNil(supervision), "totals": TotalSupervision(supervision)}},
		{"practice.json", nonNil(practice)},
		{"practice-visibility.json", nonNil(settings)},
		{"access-log.json", access},
	} {
		if err := x.json(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

func (x *exporter) readme(entries int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Everything Polyphony holds of %s, exported %s.\n\n", x.v.UserID, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "journal/: %d entries. Each folder has every revision in revisions/ (Markdown with the\n", entries)
	b.WriteString("title, tags, links and attachments at the top), sharing.json (each change of whom it\n")
	b.WriteString("was shared with), comments.json, entry.json (the latest revision) and media/.\n")
	b.WriteString("comments-on-others-entries.json, supervision.json, practice.json,\n")
	b.WriteString("practice-visibility.json and access-log.json (who else read your records, and when).\n")
	if x.skipped > 0 {
		fmt.Fprintf(&b, "\n%d attachments are not included: ask for them separately.\n", x.skipped)
	}
	if len(x.missing) > 0 {
		b.WriteString("\nThese attachments could not be found in the media store:\n")
		for _, m := range x.missing {
			fmt.Fprintf(&b, "  %s\n", m)
		}
	}
	return x.file("README.txt", time.Now(), func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// revisionMarkdown writes a revision as Markdown with its details in front matter (YAML
// whose values are written as JSON).
func revisionMarkdown(d revisionDoc) string {
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	var b strings.Builder
	b.WriteString("---\n")
	fmt.Fprintf(&b, "title: %s\nversion: %d\nkind: %s\n", js(d.Title), d.Version, d.Kind)
	if d.RestoredFrom > 0 {
		fmt.Fprintf(&b, "restoredFrom: %d\n", d.RestoredFrom)
	}
	fmt.Fprintf(&b, "created: %s\nsaved: %s\n", d.CreatedAt.UTC().Format(time.RFC3339), d.SavedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "tags: %s\nlinks: %s\nattachments: %s\n", js(nonNil(d.Tags)), js(nonNil(d.Links)), js(nonNil(d.Attachments)))
	b.WriteString("---\n\n")
	b.WriteString(d.Body)
	if !strings.HasSuffix(d.Body, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

// zipSafeName keeps a file name (already checked to hold no path) safe for any unzip tool.
func zipSafeName(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, name)
}
