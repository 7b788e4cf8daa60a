package media_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"polyphony/content/media"
	"polyphony/content/media/mediatest"
	"polyphony/internal/miniotest"
)

// B9: 8 concurrent 100 MiB video uploads into MinIO, through Upload (app)
// and through minio-go directly (direct), against the same server in the
// same run, both with the default 8 MiB parts; app-16MiB-parts repeats app
// with MinIOConfig.PartSize at 16 MiB, to show what the part size costs. Reported per run: MB/s (10^6 bytes per second over all eight),
// peak-RSS-MB (this process's resident set, sampled every 5 ms; MinIO runs
// in its own process), peak-heap-MB (Go heap in use, sampled likewise) and,
// for app after direct, x-direct (the throughput ratio).
//
//	go test -run '^$' -bench B9 -benchtime 1x ./content/media/
const (
	b9Uploads = 8
	b9Size    = 100 << 20
)

func BenchmarkB9Uploads(b *testing.B) {
	srv := miniotest.Shared(b)
	cfg := media.MinIOConfig{
		Endpoint:  srv.Endpoint,
		AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey,
		Bucket:    miniotest.BucketName(b),
	}
	store, err := media.NewMinIO(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		b.Fatal(err)
	}
	var direct float64 // MB/s of the direct run, for the ratio
	b.Run("direct", func(b *testing.B) {
		direct = runB9(b, func(ctx context.Context, i int, r io.Reader) (string, error) {
			key := fmt.Sprintf("direct/%d.mp4", i)
			_, err := raw.PutObject(ctx, cfg.Bucket, key, r, b9Size, minio.PutObjectOptions{
				ContentType: "video/mp4",
				PartSize:    media.DefaultPartSize,
			})
			return key, err
		}, store)
	})
	b.Run("app", func(b *testing.B) {
		app := runB9(b, func(ctx context.Context, i int, r io.Reader) (string, error) {
			up, err := media.Upload(ctx, store, r, b9Size, media.UploadOptions{})
			return up.Key, err
		}, store)
		if direct > 0 {
			b.ReportMetric(app/direct, "x-direct")
		}
	})
	// Each MinIO upload holds one part in memory (minio-go's buffer), so
	// the part size sets the memory eight uploads need.
	cfg.PartSize = 16 << 20
	large, err := media.NewMinIO(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("app-16MiB-parts", func(b *testing.B) {
		app := runB9(b, func(ctx context.Context, i int, r io.Reader) (string, error) {
			up, err := media.Upload(ctx, large, r, b9Size, media.UploadOptions{})
			return up.Key, err
		}, large)
		if direct > 0 {
			b.ReportMetric(app/direct, "x-direct")
		}
	})
}

// runB9 runs b.N rounds of b9Uploads concurrent uploads and returns the
// throughput in MB/s.
func runB9(b *testing.B, upload func(ctx context.Context, i int, r io.Reader) (string, error), store media.Store) float64 {
	block := mediatest.NoiseBlock()
	runtime.GC()
	debug.FreeOSMemory()
	peaks := mediatest.SamplePeaks()
	b.SetBytes(b9Uploads * b9Size)
	b.ResetTimer()
	var busy time.Duration
	for range b.N {
		start := time.Now()
		keys := make([]string, b9Uploads)
		errs := make([]error, b9Uploads)
		var wg sync.WaitGroup
		for i := range b9Uploads {
			wg.Go(func() {
				keys[i], errs[i] = upload(b.Context(), i, mediatest.MP4Stream(b9Size, block))
			})
		}
		wg.Wait()
		busy += time.Since(start)
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for _, k := range keys {
			if err := store.Delete(b.Context(), k); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	rss, heap := peaks.Stop()
	mbps := float64(b.N*b9Uploads*b9Size) / 1e6 / busy.Seconds()
	b.ReportMetric(mbps, "MB/s")
	b.ReportMetric(rss, "peak-RSS-MB")
	b.ReportMetric(heap, "peak-heap-MB")
	return mbps
}
