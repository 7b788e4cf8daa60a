package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// Kind is the broad class of an uploaded medium; each kind has its own
// size limit.
type Kind string

// The kinds Upload accepts.
const (
	KindImage Kind = "image"
	KindAudio Kind = "audio"
	KindVideo Kind = "video"
)

// MB is one megabyte as people count file sizes (10^6 bytes).
const MB = 1_000_000

// Limits caps the size of each kind of upload, in bytes as received from
// the client. A zero field takes its value from DefaultLimits.
type Limits struct {
	Image int64
	Audio int64
	Video int64
}

// DefaultLimits are the limits used where UploadOptions.Limits leaves a
// field zero.
var DefaultLimits = Limits{Image: 20 * MB, Audio: 50 * MB, Video: 500 * MB}

// OrDefaults returns the limits with each zero (or negative) field taken from
// DefaultLimits.
func (l Limits) OrDefaults() Limits {
	for _, f := range []struct {
		have *int64
		def  int64
	}{{&l.Image, DefaultLimits.Image}, {&l.Audio, DefaultLimits.Audio}, {&l.Video, DefaultLimits.Video}} {
		if *f.have <= 0 {
			*f.have = f.def
		}
	}
	return l
}

func (l Limits) of(k Kind) int64 {
	switch k {
	case KindImage:
		return l.Image
	case KindAudio:
		return l.Audio
	case KindVideo:
		return l.Video
	}
	return 0
}

// DefaultUploadPrefix is the key prefix UploadOptions.Prefix defaults to.
const DefaultUploadPrefix = "journal"

// UploadOptions adjusts Upload. The zero value accepts every kind under
// DefaultLimits and stores below DefaultUploadPrefix.
type UploadOptions struct {
	// Prefix starts every generated key; it must itself pass ValidKey.
	// Empty means DefaultUploadPrefix.
	Prefix string
	// Allow lists the kinds accepted; nil accepts all three.
	Allow []Kind
	// Limits caps each kind's size; zero fields mean DefaultLimits.
	Limits Limits
	// TempDir holds the temporary copy of an image while its metadata is
	// removed (at most Limits.Image bytes); empty means os.TempDir().
	TempDir string
	// Progress, if set, is told how many bytes have been received so far,
	// after each read from the client. It may be called from a goroutine
	// other than Upload's (the S3 client sends bodies from its own), but
	// never from two at once.
	Progress func(received int64)
	// Now dates the key (journal/<year>/...); zero means time.Now().
	Now time.Time
}

func (o UploadOptions) withDefaults() (UploadOptions, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultUploadPrefix
	}
	if err := ValidKey(o.Prefix); err != nil {
		return o, fmt.Errorf("media: upload prefix: %w", err)
	}
	if o.Allow == nil {
		o.Allow = []Kind{KindImage, KindAudio, KindVideo}
	}
	for _, k := range o.Allow {
		if DefaultLimits.of(k) == 0 {
			return o, fmt.Errorf("media: unknown upload kind %q", k)
		}
	}
	o.Limits = o.Limits.OrDefaults()
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o, nil
}

// largestLimit is the most any allowed kind may receive, which bounds the
// reads made before the kind is known.
func (o UploadOptions) largestLimit() int64 {
	var m int64
	for _, k := range o.Allow {
		m = max(m, o.Limits.of(k))
	}
	return m
}

// Uploaded describes a stored upload.
type Uploaded struct {
	// Info describes the stored object: its generated key, its size after
	// metadata removal, the detected content type and when it was written.
	Info
	// Kind is the detected kind.
	Kind Kind
	// Received is how many bytes the client sent.
	Received int64
}

// ErrTooLarge reports an upload over its kind's size limit; the error is a
// *TooLargeError giving the limit.
var ErrTooLarge = errors.New("media: upload too large")

// ErrTypeNotAllowed reports content whose detected type is not accepted;
// the error is a *TypeError naming what was detected.
var ErrTypeNotAllowed = errors.New("media: file type not allowed")

// ErrMalformed reports a file of an accepted type whose structure does not
// parse, or that carries data after its end (a polyglot).
var ErrMalformed = errors.New("media: file is malformed")

// ErrTruncated reports an upload that ended before its declared size, or
// before the end of its own structure (the client went away mid-stream).
var ErrTruncated = errors.New("media: upload truncated")

// TooLargeError is the error for an upload over its limit.
type TooLargeError struct {
	// Kind is the detected kind, empty when the limit was passed before
	// the type was known.
	Kind Kind
	// Limit is the limit in bytes.
	Limit int64
}

func (e *TooLargeError) Error() string {
	if e.Kind == "" {
		return fmt.Sprintf("media: upload too large: larger than the %s limit", formatSize(e.Limit))
	}
	return fmt.Sprintf("media: upload too large: %s files may be at most %s", e.Kind, formatSize(e.Limit))
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// TypeError is the error for content of a type that is not accepted.
type TypeError struct {
	// Detected names what the content is, such as "ELF executable",
	// "PDF document" or "video/webm".
	Detected string
	// Reason says why it is refused when that is not plain from Detected.
	Reason string
}

func (e *TypeError) Error() string {
	msg := "media: file type not allowed: " + e.Detected
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	return msg
}

func (e *TypeError) Unwrap() error { return ErrTypeNotAllowed }

func formatSize(n int64) string {
	if n >= MB && n%MB == 0 {
		return fmt.Sprintf("%d MB", n/MB)
	}
	return fmt.Sprintf("%d bytes", n)
}

// sniffLen is how much of an upload is read before deciding its type. It
// covers a whole first Ogg page (at most 65307 bytes), a WebM track list
// and usually an MP4 movie header written at the front.
const sniffLen = 64 << 10

// Upload stores the media file read from r under a new key generated by
// the server (<prefix>/<year>/<32 hex digits>.<extension>) and returns its
// description. declaredSize is the length the client announced, or -1.
//
// The type is taken from the content alone (see detect) and must be one
// of opts.Allow; the client's file name and Content-Type play no part.
// Reading stops as soon as the kind's limit is passed, and at once when
// declaredSize already exceeds it. Images are parsed to their end, their
// metadata (Exif, GPS, XMP, comments, text chunks) removed, and they are
// spooled to opts.TempDir before being stored with their final size; so is
// WebM audio, which gains the Duration a live recording leaves out (see
// writeWebMDuration). Other audio and video is streamed straight to the store.
//
// On any failure nothing is left in store. Errors wrap ErrTooLarge,
// ErrTypeNotAllowed, ErrMalformed, ErrTruncated, ErrSizeMismatch (more
// bytes than declared) or the context's error.
func Upload(ctx context.Context, store Store, r io.Reader, declaredSize int64, opts UploadOptions) (Uploaded, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Uploaded{}, err
	}
	if err := checkSize(declaredSize); err != nil {
		return Uploaded{}, err
	}
	if declaredSize == 0 {
		return Uploaded{}, &TypeError{Detected: "an empty file"}
	}
	if largest := opts.largestLimit(); declaredSize > largest {
		return Uploaded{}, &TooLargeError{Limit: largest}
	}
	in := newIntake(ctx, r, declaredSize, opts.largestLimit(), opts.Progress)
	head, whole, err := readHead(in, declaredSize)
	if err != nil {
		return Uploaded{}, err
	}
	det, err := detect(head, whole)
	if err != nil {
		return Uploaded{}, err
	}
	if !slices.Contains(opts.Allow, det.Kind) {
		return Uploaded{}, &TypeError{Detected: det.Mime, Reason: string(det.Kind) + " is not accepted here"}
	}
	limit := opts.Limits.of(det.Kind)
	if declaredSize > limit || in.n > limit {
		return Uploaded{}, &TooLargeError{Kind: det.Kind, Limit: limit}
	}
	in.setLimit(limit, det.Kind)
	key, err := newKey(opts.Prefix, opts.Now, det.Ext)
	if err != nil {
		return Uploaded{}, err
	}
	body := newGuard(io.MultiReader(bytes.NewReader(head), in), declaredSize, det.Probe)
	var info Info
	if det.Strip != nil {
		info, err = putImage(ctx, store, key, det, body, opts.TempDir)
	} else {
		info, err = store.Put(ctx, key, body, declaredSize, det.Mime)
	}
	if err != nil {
		return Uploaded{}, fmt.Errorf("media: upload %s: %w", det.Mime, err)
	}
	return Uploaded{Info: info, Kind: det.Kind, Received: in.n}, nil
}

// readHead reads the first sniffLen bytes (or the whole stream, if
// shorter) and reports whether they are the whole stream.
func readHead(in *intake, declaredSize int64) ([]byte, bool, error) {
	n := int64(sniffLen)
	if declaredSize >= 0 {
		n = min(n, declaredSize)
	}
	head := make([]byte, n)
	got, err := io.ReadFull(in, head)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return head[:got], true, nil
	case err != nil:
		return nil, false, err
	}
	return head, int64(got) == declaredSize, nil
}

// newKey returns a fresh key <prefix>/<year>/<128 random bits>.<ext>.
func newKey(prefix string, now time.Time, ext string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("media: generate key: %w", err)
	}
	key := fmt.Sprintf("%s/%04d/%s.%s", prefix, now.UTC().Year(), hex.EncodeToString(b[:]), ext)
	if err := ValidKey(key); err != nil {
		return "", err
	}
	return key, nil
}
