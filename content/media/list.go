package media

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// Lister is a Store that can enumerate its objects.
type Lister interface {
	// List yields every object whose key starts with prefix, in no
	// particular order. Info.ContentType may be left empty. A failure to
	// read one object is yielded as an error and listing goes on; a
	// failure of the listing itself is yielded last.
	List(ctx context.Context, prefix string) iter.Seq2[Info, error]
}

var (
	_ Lister = (*Local)(nil)
	_ Lister = (*MinIO)(nil)
)

// errStopWalk ends a directory walk when the consumer stops iterating.
var errStopWalk = errors.New("stop")

// List yields the objects whose key starts with prefix; see Lister. Each
// object file's header is read to learn its key, since file names are
// hashes of keys.
func (l *Local) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		err := filepath.WalkDir(l.objects, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil && path != l.objects && errors.Is(err, fs.ErrNotExist):
				return nil // removed while walking
			case err != nil:
				return err
			case d.IsDir() || strings.HasPrefix(d.Name(), localTmpPrefix):
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			info, err := l.describe(path)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return nil
			case err != nil:
				if !yield(Info{}, err) {
					return errStopWalk
				}
				return nil
			case !strings.HasPrefix(info.Key, prefix):
				return nil
			}
			if !yield(info, nil) {
				return errStopWalk
			}
			return nil
		})
		if err != nil && err != errStopWalk {
			yield(Info{}, fmt.Errorf("media: list %q: %w", prefix, err))
		}
	}
}

// describe reads the header of the object file at path.
func (l *Local) describe(path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	hdr, offset, err := readLocalHeader(bufio.NewReaderSize(io.LimitReader(f, fi.Size()), 512))
	if err == nil && (ValidKey(hdr.Key) != nil || l.path(hdr.Key) != path) {
		err = fmt.Errorf("header names key %q", hdr.Key)
	}
	if err != nil {
		return Info{}, fmt.Errorf("media: list: corrupt object file %s: %w", path, err)
	}
	return Info{
		Key:         hdr.Key,
		Size:        fi.Size() - offset,
		ContentType: hdr.ContentType,
		Modified:    fi.ModTime().UTC(),
	}, nil
}

// RemoveIncomplete deletes the temporary files of writes under prefix that
// were last written before the given time: writes cut short by a crash.
// A temporary file without a readable header belongs to no key and is
// removed whatever the prefix. It returns how many files it removed.
func (l *Local) RemoveIncomplete(ctx context.Context, prefix string, before time.Time) (int, error) {
	removed := 0
	err := filepath.WalkDir(l.objects, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil && path != l.objects && errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			return err
		case d.IsDir() || !strings.HasPrefix(d.Name(), localTmpPrefix):
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.ModTime().Before(before) {
			return nil
		}
		if err != nil {
			return err
		}
		if key, ok := tmpFileKey(path); ok && !strings.HasPrefix(key, prefix) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed++
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("media: remove incomplete writes under %q: %w", prefix, err)
	}
	return removed, nil
}

// tmpFileKey reads the key from a temporary object file's header.
func tmpFileKey(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	hdr, _, err := readLocalHeader(bufio.NewReaderSize(f, 512))
	return hdr.Key, err == nil
}

// List yields the objects whose key starts with prefix; see Lister.
func (m *MinIO) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		opts := minio.ListObjectsOptions{Prefix: prefix, Recursive: true}
		for obj := range m.client.ListObjectsIter(ctx, m.bucket, opts) {
			if obj.Err != nil {
				yield(Info{}, fmt.Errorf("media: list %q: %w", prefix, obj.Err))
				return
			}
			info := Info{Key: obj.Key, Size: obj.Size, ContentType: obj.ContentType, Modified: obj.LastModified.UTC()}
			if !yield(info, nil) {
				return
			}
		}
	}
}

// RemoveIncomplete aborts the multipart uploads under prefix that were
// started before the given time, freeing the parts they hold. It returns
// how many it aborted. MinIO lists multipart uploads by exact object name
// only, so all of the bucket's are listed and filtered here.
func (m *MinIO) RemoveIncomplete(ctx context.Context, prefix string, before time.Time) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine if we return early
	core := minio.Core{Client: m.client}
	removed := 0
	for up := range m.client.ListIncompleteUploads(ctx, m.bucket, "", true) {
		if up.Err != nil {
			return removed, fmt.Errorf("media: list incomplete uploads: %w", up.Err)
		}
		if !strings.HasPrefix(up.Key, prefix) || !up.Initiated.Before(before) {
			continue
		}
		if err := core.AbortMultipartUpload(ctx, m.bucket, up.Key, up.UploadID); err != nil {
			return removed, fmt.Errorf("media: abort upload of %q: %w", up.Key, err)
		}
		removed++
	}
	return removed, ctx.Err()
}
