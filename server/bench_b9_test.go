package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"polyphony/content/media"
	"polyphony/content/media/mediatest"
	"polyphony/internal/accounts"
	"polyphony/internal/miniotest"
	"polyphony/server"
)

// BenchmarkB9AppUploads measures B9 (README, Performance) through the whole application: eight
// trainees' browsers at once each POST a 100 MiB MP4 to the journal upload route (session,
// CSRF, access check, type sniffing, streaming into MinIO, the attachment record), against
// minio-go putting the same eight streams straight into the same MinIO, both in this run.
// It reports MB/s (10^6 bytes per second over all eight) for each, the ratio, and the peak
// resident set and Go heap of this process (the server and the clients; MinIO runs in its own
// process).
//
//	go test -run '^$' -bench B9AppUploads -benchtime 1x ./server/
func BenchmarkB9AppUploads(b *testing.B) {
	const uploads, size = 8, 100 << 20
	srv := miniotest.Start(b)
	f := newFixture(b)
	cfg := media.MinIOConfig{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: miniotest.BucketName(b)}
	store, err := media.NewMinIO(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		b.Fatal(err)
	}
	app := f.secondServer(b, server.Config{}, store)
	l := f.byRole[accounts.RoleTrainee]
	tr := app.signInAs(b, l.Email, l.Password)
	block := mediatest.NoiseBlock()

	run := func(name string, round func(n int) error) float64 {
		runtime.GC()
		debug.FreeOSMemory()
		peaks := mediatest.SamplePeaks()
		var busy time.Duration
		for n := range b.N {
			start := time.Now()
			if err := round(n); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			busy += time.Since(start)
		}
		rss, heap := peaks.Stop()
		mbps := float64(b.N*uploads*size) / 1e6 / busy.Seconds()
		b.ReportMetric(mbps, name+"-MB/s")
		b.ReportMetric(rss, name+"-peak-RSS-MB")
		b.ReportMetric(heap, name+"-peak-heap-MB")
		return mbps
	}
	concurrently := func(do func(i int) error) error {
		errs := make([]error, uploads)
		var wg sync.WaitGroup
		for i := range uploads {
			wg.Go(func() { errs[i] = do(i) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}

	b.ResetTimer()
	direct := run("direct", func(n int) error {
		return concurrently(func(i int) error {
			_, err := raw.PutObject(context.Background(), cfg.Bucket, fmt.Sprintf("direct/%d-%d.mp4", n, i),
				mediatest.MP4Stream(size, block), size, minio.PutObjectOptions{ContentType: "video/mp4", PartSize: media.DefaultPartSize})
			return err
		})
	})
	viaApp := run("app", func(n int) error {
		b.StopTimer()
		e := createEntry(b, tr, fmt.Sprintf("Recordings %d", n), "Eight reflections.")
		b.StartTimer()
		return concurrently(func(i int) error {
			path := "/api/v1/journal/entries/" + e.ID + "/media?name=" + url.QueryEscape(fmt.Sprintf("reflection-%d.mp4", i))
			req, err := http.NewRequest("POST", tr.base+path, mediatest.MP4Stream(size, block))
			if err != nil {
				return err
			}
			req.ContentLength = size
			req.Header.Set("Content-Type", "video/mp4")
			req.Header.Set("X-CSRF-Token", tr.csrf)
			res, err := tr.http.Do(req)
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				return fmt.Errorf("upload %d: %d %s", i, res.StatusCode, body)
			}
			return nil
		})
	})
	b.StopTimer()
	b.ReportMetric(viaApp/direct, "app/direct")
}
