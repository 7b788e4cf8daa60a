package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// DefaultPartSize is the multipart chunk size MinIO uploads use when
// MinIOConfig.PartSize is zero. An upload buffers at most one part in
// memory: with 8 MiB, eight 100 MB uploads at once stayed under 250 MB of
// resident memory (B9), where 16 MiB parts went over it.
const DefaultPartSize = 8 << 20

// minPartSize and maxPartSize are the S3 limits on a multipart chunk.
const (
	minPartSize = 5 << 20
	maxPartSize = 5 << 30
)

// MaxSignedURLTTL is the longest lifetime S3 allows for a presigned URL.
const MaxSignedURLTTL = 7 * 24 * time.Hour

// MinIOConfig configures a MinIO store.
type MinIOConfig struct {
	// Endpoint is the server's host:port. An "http://" or "https://"
	// prefix is accepted and must agree with Secure.
	Endpoint string
	// AccessKey and SecretKey are the S3 credentials.
	AccessKey string
	SecretKey string
	// Bucket holds the objects; NewMinIO creates it if missing.
	Bucket string
	// Secure selects HTTPS.
	Secure bool
	// PartSize is the multipart chunk size in bytes (between 5 MiB and
	// 5 GiB); zero means DefaultPartSize. It bounds the memory one upload
	// uses.
	PartSize uint64
}

// MinIO is a Store keeping objects in one bucket of a MinIO (or other
// S3-compatible) server.
type MinIO struct {
	client   *minio.Client
	bucket   string
	partSize uint64
}

var _ Store = (*MinIO)(nil)

// NewMinIO connects to the server described by cfg and creates the bucket
// if it does not exist yet.
func NewMinIO(ctx context.Context, cfg MinIOConfig) (*MinIO, error) {
	endpoint, secure, err := parseEndpoint(cfg.Endpoint, cfg.Secure)
	if err != nil {
		return nil, err
	}
	if err := s3utils.CheckValidBucketNameStrict(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("media: bucket %q: %w", cfg.Bucket, err)
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	if partSize < minPartSize || partSize > maxPartSize {
		return nil, fmt.Errorf("media: part size %d outside [%d, %d]", partSize, minPartSize, maxPartSize)
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: secure,
	})
	if err != nil {
		return nil, fmt.Errorf("media: minio client: %w", err)
	}
	m := &MinIO{client: client, bucket: cfg.Bucket, partSize: partSize}
	if err := m.ensureBucket(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

func parseEndpoint(endpoint string, secure bool) (string, bool, error) {
	if endpoint == "" {
		return "", false, errors.New("media: minio endpoint is empty")
	}
	if !strings.Contains(endpoint, "://") {
		return endpoint, secure, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", false, fmt.Errorf("media: minio endpoint: %w", err)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Host == "" {
		return "", false, fmt.Errorf("media: minio endpoint %q must be host:port", endpoint)
	}
	switch u.Scheme {
	case "https":
		return u.Host, true, nil
	case "http":
		if secure {
			return "", false, fmt.Errorf("media: minio endpoint %q is http but Secure is set", endpoint)
		}
		return u.Host, false, nil
	}
	return "", false, fmt.Errorf("media: minio endpoint %q: unsupported scheme", endpoint)
}

func (m *MinIO) ensureBucket(ctx context.Context) error {
	ok, err := m.client.BucketExists(ctx, m.bucket)
	if err != nil {
		return fmt.Errorf("media: check bucket %q: %w", m.bucket, err)
	}
	if ok {
		return nil
	}
	err = m.client.MakeBucket(ctx, m.bucket, minio.MakeBucketOptions{})
	if err != nil {
		var resp minio.ErrorResponse
		if errors.As(err, &resp) && (resp.Code == minio.BucketAlreadyOwnedByYou) {
			return nil
		}
		return fmt.Errorf("media: create bucket %q: %w", m.bucket, err)
	}
	return nil
}

// Put stores the object under key; see Store.Put. Objects larger than the
// part size are uploaded in parts; a failed or mismatched upload is
// aborted before it completes, so nothing is stored.
func (m *MinIO) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (Info, error) {
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
	src := newExactReader(r, size)
	if size == 0 {
		// An empty body may never be read by the client; check now.
		if err := src.finish(); err != nil {
			return Info{}, fmt.Errorf("media: put %q: %w", key, err)
		}
	}
	up, err := m.client.PutObject(ctx, m.bucket, key, src, size, minio.PutObjectOptions{
		PartSize:    m.partSize,
		ContentType: contentType,
	})
	if err != nil {
		if src.err != nil && src.err != io.EOF {
			// The stream itself failed (or did not match its size);
			// report that rather than the client's rendering of it.
			return Info{}, fmt.Errorf("media: put %q: %w", key, src.err)
		}
		return Info{}, m.mapErr("put", key, err)
	}
	if err := src.finish(); err != nil {
		// The client stopped reading at the declared size without asking
		// for more; the stored object does not match the stream.
		_ = m.client.RemoveObject(context.WithoutCancel(ctx), m.bucket, key, minio.RemoveObjectOptions{})
		return Info{}, fmt.Errorf("media: put %q: %w", key, err)
	}
	modified := up.LastModified
	if modified.IsZero() {
		modified = time.Now()
	}
	return Info{Key: key, Size: src.n, ContentType: contentType, Modified: modified.UTC()}, nil
}

// Get opens the object under key; see Store.Get. The returned reader is a
// *minio.Object, which also implements io.Seeker and io.ReaderAt, and
// reads with ctx.
func (m *MinIO) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidKey(key); err != nil {
		return nil, Info{}, err
	}
	obj, err := m.client.GetObject(ctx, m.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, m.mapErr("get", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		return nil, Info{}, m.mapErr("get", key, err)
	}
	return obj, infoFromObject(key, st), nil
}

// Stat describes the object under key; see Store.Stat.
func (m *MinIO) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, err
	}
	st, err := m.client.StatObject(ctx, m.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, m.mapErr("stat", key, err)
	}
	return infoFromObject(key, st), nil
}

func infoFromObject(key string, st minio.ObjectInfo) Info {
	ct := st.ContentType
	if ct == "" {
		ct = DefaultContentType
	}
	return Info{Key: key, Size: st.Size, ContentType: ct, Modified: st.LastModified.UTC()}
}

// Delete removes the object under key; see Store.Delete.
func (m *MinIO) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	err := m.client.RemoveObject(ctx, m.bucket, key, minio.RemoveObjectOptions{})
	if err != nil {
		if err := m.mapErr("delete", key, err); !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// SignedURL returns a presigned GET URL for key valid for ttl, which is
// rounded up to whole seconds and may not exceed MaxSignedURLTTL. The URL
// points at the configured endpoint, so it must be reachable by whoever
// receives it.
func (m *MinIO) SignedURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	if ttl <= 0 || ttl > MaxSignedURLTTL {
		return "", fmt.Errorf("media: signed URL lifetime %v outside (0, %v]", ttl, MaxSignedURLTTL)
	}
	if rem := ttl % time.Second; rem != 0 {
		ttl += time.Second - rem
		ttl = min(ttl, MaxSignedURLTTL)
	}
	u, err := m.client.PresignedGetObject(ctx, m.bucket, key, ttl, nil)
	if err != nil {
		return "", m.mapErr("sign", key, err)
	}
	return u.String(), nil
}

// Origin is the scheme and host that signed URLs point at, for pages that must allow
// loading media from there.
func (m *MinIO) Origin() string {
	u := m.client.EndpointURL()
	return u.Scheme + "://" + u.Host
}

// Ping checks that the server answers and the bucket exists.
func (m *MinIO) Ping(ctx context.Context) error {
	ok, err := m.client.BucketExists(ctx, m.bucket)
	if err != nil {
		return fmt.Errorf("media: ping: %w", err)
	}
	if !ok {
		return fmt.Errorf("media: ping: bucket %q does not exist", m.bucket)
	}
	return nil
}

// mapErr turns a minio-go error into one wrapping ErrNotFound when the
// object is missing, and adds context otherwise.
func (m *MinIO) mapErr(op, key string, err error) error {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && resp.Code == minio.NoSuchKey {
		return fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	return fmt.Errorf("media: %s %q: %w", op, key, err)
}
