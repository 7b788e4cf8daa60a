package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"syscall"
	"testing"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/demo"
	"polyphony/realtime"
)

// BenchmarkTranscriptPage measures the transcript page of the cohort's room with a history
// (384 events: the B10 room at its smallest, whole blocks; 500: with the tail of a block not
// yet complete) through the whole handler chain, in process, and reports the p50 and p99 of
// one request, and the CPU time of the whole process (the embedded database's included) for
// one request, which a machine shared with other work changes least.
func BenchmarkTranscriptPage(b *testing.B) {
	for _, n := range []int{384, 500} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			f := newFixture(b)
			cohort, err := f.courses.CohortByName(context.Background(), demo.CohortName)
			if err != nil {
				b.Fatal(err)
			}
			c := f.signedIn(b, accounts.RoleTrainee)
			var cookie *http.Cookie
			for _, ck := range c.http.Jar.Cookies(mustURL(f.ts.URL)) {
				cookie = ck
			}
			app := f.srv.Handler()
			at := time.Now().UTC().AddDate(0, -1, 0)
			events := make([]realtime.Event, n)
			for i := range events {
				seq := uint64(i + 1)
				events[i] = realtime.Event{Seq: seq, Type: realtime.EventSay, At: at.Add(time.Duration(i) * time.Second),
					UserID: fmt.Sprintf("u%d", i%10), Name: fmt.Sprintf("Trainee %d", i%10), Role: realtime.Trainee,
					Text: fmt.Sprintf("Turn %d: I hear something different in what was just said, and I want to stay with it.", seq)}
			}
			if err := f.transcripts.AppendHistory(context.Background(), cohort.ID+"/cohort", events); err != nil {
				b.Fatal(err)
			}
			var took []time.Duration
			cpu0 := processCPU()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/rooms/"+cohort.ID+"/cohort/transcript", nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				start := time.Now()
				app.ServeHTTP(rec, req)
				took = append(took, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/1000/float64(len(took)), "cpu-ms/op")
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
