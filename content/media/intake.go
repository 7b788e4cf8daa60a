package media

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// intake reads an upload from the client. It fails as soon as the stream
// passes the size limit or the declared size, turns an early end into
// ErrTruncated, stops when ctx is done and reports progress. It never asks
// the client for more than one byte beyond the smaller of the two sizes.
type intake struct {
	ctx      context.Context
	r        io.Reader
	declared int64 // -1 if unknown
	limit    int64
	kind     Kind // for the error once the kind is known
	progress func(int64)
	n        int64 // bytes received
	err      error // sticky
}

func newIntake(ctx context.Context, r io.Reader, declared, limit int64, progress func(int64)) *intake {
	return &intake{ctx: ctx, r: r, declared: declared, limit: limit, progress: progress}
}

func (in *intake) setLimit(limit int64, kind Kind) {
	in.limit, in.kind = limit, kind
}

func (in *intake) Read(p []byte) (int, error) {
	if in.err != nil {
		return 0, in.err
	}
	if err := in.ctx.Err(); err != nil {
		in.err = err
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Ask for at most one byte past the point where the stream must end,
	// so that an oversized body is noticed without reading it.
	allowed := in.limit + 1
	if in.declared >= 0 {
		allowed = min(allowed, in.declared+1)
	}
	if room := allowed - in.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := in.r.Read(p)
	in.n += int64(n)
	switch {
	case in.n > in.limit:
		in.err = &TooLargeError{Kind: in.kind, Limit: in.limit}
		return 0, in.err
	case in.declared >= 0 && in.n > in.declared:
		in.err = fmt.Errorf("%w: the upload is longer than the %d bytes announced", ErrSizeMismatch, in.declared)
		return 0, in.err
	}
	if n > 0 && in.progress != nil {
		in.progress(in.n)
	}
	switch {
	case err == io.EOF && in.declared >= 0 && in.n < in.declared:
		in.err = fmt.Errorf("%w: received %d of %d bytes", ErrTruncated, in.n, in.declared)
		return n, in.err
	case errors.Is(err, io.ErrUnexpectedEOF):
		in.err = fmt.Errorf("%w: the connection ended after %d bytes: %w", ErrTruncated, in.n, err)
		return n, in.err
	case err != nil:
		in.err = err
	}
	return n, err
}

// guard passes an upload through and refuses it at its end when it hides a
// ZIP archive (a ZIP reader looks for the archive's directory at the end of
// a file, so anything ending in one opens as an archive) or when a probe
// placed by detect fails. Refusing at the end, instead of returning io.EOF,
// keeps the store from committing the object.
type guard struct {
	r     io.Reader
	n     int64
	end   int64 // the stream's length if known, else -1
	tail  tailBuffer
	probe *probe
	err   error
}

// probe checks the bytes at a fixed offset that lay beyond the sniffed
// head, such as the first MP3 frame after a large ID3 tag.
type probe struct {
	at    int64
	want  int
	check func([]byte) error
	buf   []byte
}

// newGuard guards r, a stream of size bytes (-1 if unknown).
func newGuard(r io.Reader, size int64, p *probe) *guard {
	return &guard{r: r, end: size, probe: p}
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if n > 0 {
		g.observe(p[:n])
	}
	if err == io.EOF {
		if ferr := g.finish(); ferr != nil {
			g.err = ferr
			return 0, ferr
		}
	}
	if err != nil {
		g.err = err
	}
	return n, err
}

func (g *guard) observe(b []byte) {
	if pr := g.probe; pr != nil && len(pr.buf) < pr.want {
		start, end := g.n, g.n+int64(len(b))
		if from := max(pr.at+int64(len(pr.buf)), start); from < end {
			to := min(pr.at+int64(pr.want), end)
			if from < to {
				pr.buf = append(pr.buf, b[from-start:to-start]...)
			}
		}
	}
	start := g.n
	g.n += int64(len(b))
	if g.end >= 0 && g.n < g.end-zipTailLen {
		return // far from the end: no need to keep these bytes
	}
	if g.end >= 0 && start < g.end-zipTailLen {
		b = b[g.end-zipTailLen-start:]
	}
	g.tail.write(b)
}

func (g *guard) finish() error {
	if pr := g.probe; pr != nil {
		if len(pr.buf) < pr.want {
			return fmt.Errorf("%w: the file ends before its first frame", ErrTruncated)
		}
		if err := pr.check(pr.buf); err != nil {
			return err
		}
	}
	tail := g.tail.bytes()
	if off, ok := findZipEnd(tail, g.n-int64(len(tail))); ok {
		return &TypeError{
			Detected: "a ZIP archive hidden in a media file",
			Reason:   fmt.Sprintf("its directory ends %d bytes before the end of the file", len(tail)-off),
		}
	}
	return nil
}

// zipTailLen covers a ZIP end-of-central-directory record (22 bytes) with
// the longest comment it may carry (65535 bytes).
const zipTailLen = 22 + 65535

// tailBuffer keeps the last zipTailLen bytes written to it.
type tailBuffer struct {
	buf []byte
}

func (t *tailBuffer) write(b []byte) {
	if t.buf == nil {
		t.buf = make([]byte, 0, 2*zipTailLen)
	}
	if len(b) >= zipTailLen {
		t.buf = append(t.buf[:0], b[len(b)-zipTailLen:]...)
		return
	}
	if len(t.buf)+len(b) > cap(t.buf) {
		keep := zipTailLen - len(b)
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-keep:]...)
	}
	t.buf = append(t.buf, b...)
}

func (t *tailBuffer) bytes() []byte {
	if len(t.buf) > zipTailLen {
		return t.buf[len(t.buf)-zipTailLen:]
	}
	return t.buf
}

// findZipEnd looks for a ZIP end-of-central-directory record in tail, the
// end of a stream whose first byte is at offset base, and returns the
// record's index in tail. Besides the signature the record must be
// self-consistent (one disk, matching entry counts, a directory that can
// hold them and fits before the record, a comment that fits after it), which
// media data essentially never is by chance.
func findZipEnd(tail []byte, base int64) (int, bool) {
	for i := len(tail) - 22; i >= 0; i-- {
		if tail[i] != 'P' || tail[i+1] != 'K' || tail[i+2] != 5 || tail[i+3] != 6 {
			continue
		}
		r := tail[i:]
		disk, cdDisk := le16(r[4:]), le16(r[6:])
		onDisk, total := le16(r[8:]), le16(r[10:])
		cdSize, cdOff := le32(r[12:]), le32(r[16:])
		comment := int(le16(r[20:]))
		singleDisk := (disk == 0 && cdDisk == 0) || (disk == 0xffff && cdDisk == 0xffff)
		zip64 := cdSize == 0xffffffff || cdOff == 0xffffffff || total == 0xffff
		dirFits := zip64 || (int64(cdSize) >= 46*int64(total) && int64(cdSize) <= base+int64(i))
		if singleDisk && onDisk == total && dirFits && 22+comment <= len(r) {
			return i, true
		}
	}
	return 0, false
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
