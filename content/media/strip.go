package media

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
)

// imageSink receives a stripped image in order; WriteAt patches a header
// field once the length it records is known (WebP's RIFF size).
type imageSink interface {
	io.Writer
	io.WriterAt
}

// putImage strips the image read from body into a temporary file in dir,
// then stores the file under key. Nothing reaches the store unless the
// whole image parsed, so a malformed, truncated or oversized image leaves
// no object behind.
func putImage(ctx context.Context, store Store, key string, det detection, body io.Reader, dir string) (Info, error) {
	f, err := os.CreateTemp(dir, "polyphony-upload-*")
	if err != nil {
		return Info{}, fmt.Errorf("media: spool image: %w", err)
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	sp := &spool{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	if err := det.Strip(sp, bufio.NewReaderSize(body, 64<<10)); err != nil {
		return Info{}, err
	}
	if err := sp.w.Flush(); err != nil {
		return Info{}, fmt.Errorf("media: spool image: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Info{}, fmt.Errorf("media: spool image: %w", err)
	}
	return store.Put(ctx, key, f, sp.n, det.Mime)
}

// spool is a buffered temporary file counting what is written to it.
type spool struct {
	f *os.File
	w *bufio.Writer
	n int64
}

func (s *spool) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.n += int64(n)
	return n, err
}

func (s *spool) WriteAt(p []byte, off int64) (int, error) {
	if err := s.w.Flush(); err != nil {
		return 0, err
	}
	return s.f.WriteAt(p, off)
}

// malformed returns an ErrMalformed error about a file of type mime.
func malformed(mime, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, mime, fmt.Sprintf(format, args...))
}

// ended turns the end of the stream inside an image's structure into
// ErrTruncated and passes any other error (a size limit, the client going
// away, a refused archive) through unchanged.
func ended(mime string, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: the %s image ends before its end marker", ErrTruncated, mime)
	}
	return err
}

// expectEnd succeeds if src holds nothing more. Data after an image's end
// marker is how polyglots (an image that is also a ZIP, a script, an HTML
// page) are built, so it is refused rather than cut off.
func expectEnd(mime string, src *bufio.Reader) error {
	_, err := src.Peek(1)
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return err
	}
	return malformed(mime, "data follows the end of the image")
}

// pass copies n bytes from src to dst.
func pass(dst io.Writer, src *bufio.Reader, n int64, mime string) error {
	for n > 0 {
		b, err := src.Peek(int(min(n, int64(src.Size()))))
		if len(b) == 0 {
			return ended(mime, err)
		}
		if _, werr := dst.Write(b); werr != nil {
			return werr
		}
		_, _ = src.Discard(len(b))
		n -= int64(len(b))
	}
	return nil
}

// skip drops n bytes of src.
func skip(src *bufio.Reader, n int64, mime string) error {
	for n > 0 {
		d, err := src.Discard(int(min(n, 1<<30)))
		n -= int64(d)
		if err != nil {
			return ended(mime, err)
		}
	}
	return nil
}

// readN reads exactly len(b) bytes of an image.
func readN(src *bufio.Reader, b []byte, mime string) error {
	if _, err := io.ReadFull(src, b); err != nil {
		return ended(mime, err)
	}
	return nil
}
