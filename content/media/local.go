package media

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// ErrSignature reports a signed media URL whose signature does not match.
var ErrSignature = errors.New("media: invalid signature")

// ErrExpired reports a signed media URL whose expiry time has passed.
var ErrExpired = errors.New("media: signed URL expired")

// MinSecretLen is the shortest URL-signing secret NewLocal accepts.
const MinSecretLen = 16

// Local is a Store keeping each object in one file below a directory.
//
// Object files live at <dir>/objects/<h[0:2]>/<h>, where h is the hex
// SHA-256 of the key, so that keys such as "a" and "a/b" never collide with
// each other as file and directory. Each file starts with a small header
// (magic "PLYM", a version byte, a big-endian uint32 length and that many
// bytes of JSON holding the key and content type) followed by the object's
// bytes. Writes go to a temporary file in the same directory, are fsynced
// and then renamed over the final name, so readers see either the old or
// the new object, never a partial one.
type Local struct {
	dir     string // root directory
	objects string // <dir>/objects
	secret  []byte
	baseURL string
}

var _ Store = (*Local)(nil)

const (
	localMagic     = "PLYM"
	localVersion   = 1
	localFixedHdr  = len(localMagic) + 1 + 4
	localMaxHdrLen = 64 << 10
	localTmpPrefix = ".tmp-"
)

type localHeader struct {
	Key         string `json:"key"`
	ContentType string `json:"content_type"`
}

// NewLocal returns a Local storing objects below dir, which is created with
// mode 0700 if missing. secret (at least MinSecretLen bytes) signs the URLs
// returned by SignedURL, which have the form
// baseURL + "/media/" + key + "?exp=<unix seconds>&sig=<hex HMAC-SHA256>".
// baseURL may be empty for host-relative URLs.
func NewLocal(dir string, secret []byte, baseURL string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("media: local store directory is empty")
	}
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("media: signing secret must be at least %d bytes", MinSecretLen)
	}
	baseURL = trimTrailingSlashes(baseURL)
	if baseURL != "" {
		u, err := url.Parse(baseURL)
		if err != nil {
			return nil, fmt.Errorf("media: base URL: %w", err)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("media: base URL %q must not carry a query or fragment", baseURL)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("media: local store directory: %w", err)
	}
	objects := filepath.Join(abs, "objects")
	if err := os.MkdirAll(objects, 0o700); err != nil {
		return nil, fmt.Errorf("media: create local store directory: %w", err)
	}
	return &Local{
		dir:     abs,
		objects: objects,
		secret:  append([]byte(nil), secret...),
		baseURL: baseURL,
	}, nil
}

func trimTrailingSlashes(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// path returns the file holding key's object.
func (l *Local) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(l.objects, h[:2], h)
}

// Put stores the object under key; see Store.Put.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, err
	}
	if err := checkSize(size); err != nil {
		return Info{}, err
	}
	contentType, err := normContentType(contentType)
	if err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	final := l.path(key)
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Info{}, fmt.Errorf("media: put %q: %w", key, err)
	}
	tmp, err := os.CreateTemp(dir, localTmpPrefix+"*")
	if err != nil {
		return Info{}, fmt.Errorf("media: put %q: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	hdr, err := encodeLocalHeader(localHeader{Key: key, ContentType: contentType})
	if err != nil {
		return Info{}, fmt.Errorf("media: put %q: %w", key, err)
	}
	if _, err := tmp.Write(hdr); err != nil {
		return Info{}, fmt.Errorf("media: put %q: %w", key, err)
	}
	src := newExactReader(ctxReader{ctx: ctx, r: r}, size)
	n, err := io.Copy(tmp, src)
	if err == nil {
		err = src.finish()
	}
	if err != nil {
		return Info{}, fmt.Errorf("media: put %q: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return Info{}, fmt.Errorf("media: put %q: sync: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return Info{}, fmt.Errorf("media: put %q: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Info{}, fmt.Errorf("media: put %q: %w", key, err)
	}
	committed = true
	if err := syncDir(dir); err != nil {
		return Info{}, fmt.Errorf("media: put %q: sync directory: %w", key, err)
	}
	fi, err := os.Stat(final)
	if err != nil {
		return Info{}, fmt.Errorf("media: put %q: %w", key, err)
	}
	return Info{Key: key, Size: n, ContentType: contentType, Modified: fi.ModTime().UTC()}, nil
}

// Get opens the object under key; see Store.Get. The returned reader also
// implements io.Seeker and io.ReaderAt over the object's bytes.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidKey(key); err != nil {
		return nil, Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	f, info, offset, err := l.open(key)
	if err != nil {
		return nil, Info{}, err
	}
	return &localObject{SectionReader: io.NewSectionReader(f, offset, info.Size), f: f}, info, nil
}

// Stat describes the object under key; see Store.Stat.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	f, info, _, err := l.open(key)
	if err != nil {
		return Info{}, err
	}
	_ = f.Close()
	return info, nil
}

// open opens key's file and parses its header, returning the file, the
// object's description and the offset of its first data byte.
func (l *Local) open(key string) (*os.File, Info, int64, error) {
	f, err := os.Open(l.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, Info{}, 0, fmt.Errorf("%w: %q", ErrNotFound, key)
		}
		return nil, Info{}, 0, fmt.Errorf("media: open %q: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, Info{}, 0, fmt.Errorf("media: open %q: %w", key, err)
	}
	hdr, offset, err := readLocalHeader(bufio.NewReaderSize(io.NewSectionReader(f, 0, fi.Size()), 512))
	if err == nil && hdr.Key != key {
		err = fmt.Errorf("header names key %q", hdr.Key)
	}
	if err == nil && offset > fi.Size() {
		err = errors.New("header longer than file")
	}
	if err != nil {
		_ = f.Close()
		return nil, Info{}, 0, fmt.Errorf("media: open %q: corrupt object file: %w", key, err)
	}
	return f, Info{
		Key:         key,
		Size:        fi.Size() - offset,
		ContentType: hdr.ContentType,
		Modified:    fi.ModTime().UTC(),
	}, offset, nil
}

// Delete removes the object under key; see Store.Delete.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := l.path(key)
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("media: delete %q: %w", key, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("media: delete %q: sync directory: %w", key, err)
	}
	return nil
}

// SignedURL returns a URL for key valid for ttl; see Store.SignedURL and
// NewLocal for its form. The object need not exist yet.
func (l *Local) SignedURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return l.SignedURLWith(ctx, key, "", ttl)
}

// SignedURLWith is SignedURL for a URL that also carries grant, which the signature covers:
// whoever serves the URL reads grant back (VerifyWith) to check, on every use, that the
// access it was issued under still holds. A non-empty grant adds "&g=<grant>" to the URL;
// it is 1 to MaxGrantLen characters from [A-Za-z0-9._-].
func (l *Local) SignedURLWith(ctx context.Context, key, grant string, ttl time.Duration) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	if err := validGrant(grant); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", fmt.Errorf("media: signed URL lifetime must be positive, got %v", ttl)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	expAt := time.Now().Add(ttl)
	exp := expAt.Unix()
	if expAt.Nanosecond() > 0 {
		exp++ // round up so the URL lives at least ttl
	}
	expStr := strconv.FormatInt(exp, 10)
	u := l.baseURL + "/media/" + key + "?exp=" + expStr
	if grant != "" {
		u += "&g=" + grant
	}
	return u + "&sig=" + hex.EncodeToString(l.sign(key, expStr, grant)), nil
}

// MaxGrantLen is the longest grant SignedURLWith accepts.
const MaxGrantLen = 200

// ErrInvalidGrant reports a grant SignedURLWith refuses.
var ErrInvalidGrant = errors.New("media: invalid grant")

func validGrant(grant string) error {
	if len(grant) > MaxGrantLen {
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidGrant, MaxGrantLen)
	}
	for i := 0; i < len(grant); i++ {
		if c := grant[i]; !isLowerAlnum(c) && !('A' <= c && c <= 'Z') && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("%w: %q contains %q", ErrInvalidGrant, grant, rune(c))
		}
	}
	return nil
}

// Verify checks the exp and sig query values of a URL made by SignedURL for
// key. It returns ErrInvalidKey for a key ValidKey refuses, ErrSignature when
// sig is not the signature of key and exp (compared in constant time), and
// ErrExpired when the signature is genuine but now is past exp.
func (l *Local) Verify(key string, exp string, sig string, now time.Time) error {
	return l.VerifyWith(key, exp, "", sig, now)
}

// VerifyWith is Verify for a URL made by SignedURLWith: sig must sign grant as well, so a
// URL's grant cannot be changed, added or taken away.
func (l *Local) VerifyWith(key, exp, grant, sig string, now time.Time) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if validGrant(grant) != nil {
		return ErrSignature
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return ErrSignature
	}
	if !hmac.Equal(got, l.sign(key, exp, grant)) {
		return ErrSignature
	}
	expUnix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return ErrSignature
	}
	if now.Unix() > expUnix {
		return ErrExpired
	}
	return nil
}

// sign returns the HMAC-SHA256 of key, exp and grant, joined by newlines (a byte no key,
// expiry or grant may contain, so distinct triples never sign the same message). Without a
// grant the message is key and exp alone, as URLs without one have always been signed.
func (l *Local) sign(key, exp, grant string) []byte {
	m := hmac.New(sha256.New, l.secret)
	m.Write([]byte(key))
	m.Write([]byte{'\n'})
	m.Write([]byte(exp))
	if grant != "" {
		m.Write([]byte{'\n'})
		m.Write([]byte(grant))
	}
	return m.Sum(nil)
}

// Ping checks that the store directory exists and is writable.
func (l *Local) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(l.objects)
	if err != nil {
		return fmt.Errorf("media: ping: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("media: ping: %s is not a directory", l.objects)
	}
	f, err := os.CreateTemp(l.objects, localTmpPrefix+"ping-*")
	if err != nil {
		return fmt.Errorf("media: ping: %w", err)
	}
	name := f.Name()
	cerr := f.Close()
	rerr := os.Remove(name)
	if err := errors.Join(cerr, rerr); err != nil {
		return fmt.Errorf("media: ping: %w", err)
	}
	return nil
}

func encodeLocalHeader(h localHeader) ([]byte, error) {
	js, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	if len(js) > localMaxHdrLen {
		return nil, errors.New("object header too long")
	}
	buf := make([]byte, 0, localFixedHdr+len(js))
	buf = append(buf, localMagic...)
	buf = append(buf, localVersion)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(js)))
	return append(buf, js...), nil
}

func readLocalHeader(r io.Reader) (localHeader, int64, error) {
	var fixed [localFixedHdr]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return localHeader{}, 0, fmt.Errorf("read header: %w", err)
	}
	if string(fixed[:len(localMagic)]) != localMagic {
		return localHeader{}, 0, errors.New("bad magic")
	}
	if v := fixed[len(localMagic)]; v != localVersion {
		return localHeader{}, 0, fmt.Errorf("unsupported version %d", v)
	}
	n := binary.BigEndian.Uint32(fixed[len(localMagic)+1:])
	if n > localMaxHdrLen {
		return localHeader{}, 0, fmt.Errorf("header length %d too large", n)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return localHeader{}, 0, fmt.Errorf("read header: %w", err)
	}
	var h localHeader
	if err := json.Unmarshal(js, &h); err != nil {
		return localHeader{}, 0, fmt.Errorf("decode header: %w", err)
	}
	return h, int64(localFixedHdr) + int64(n), nil
}

// syncDir fsyncs a directory so that a rename or removal in it is durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directory handles cannot be flushed there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}

// localObject is the reader Local.Get returns: the object's bytes within
// its file, seekable, closing the file on Close.
type localObject struct {
	*io.SectionReader
	f *os.File
}

func (o *localObject) Close() error { return o.f.Close() }
