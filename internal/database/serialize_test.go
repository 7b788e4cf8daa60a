package database_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"polyphony/internal/database"
)

// childDirEnv, when set, makes TestSerializeHoldsAcrossProcesses the second process: it
// shares the folder the first one serves and adds its own values to the same list.
const childDirEnv = "POLYPHONY_SERIALIZE_CHILD_DIR"

const (
	raceList   = "shared"
	raceAdds   = 60
	raceWriter = 4 // goroutines adding in each process
)

// addValues adds prefix-0 … prefix-(raceAdds-1) to the race's list, from raceWriter
// goroutines at once.
func addValues(ctx context.Context, db *database.DB, prefix string) error {
	coll := db.Collection("lists")
	errs := make(chan error, raceAdds)
	var wg sync.WaitGroup
	for w := range raceWriter {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < raceAdds; i += raceWriter {
				errs <- db.AddToList(ctx, coll, raceList, "items", fmt.Sprintf("%s-%02d", prefix, i))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Two processes add to one list document at once: the server holding an embedded folder,
// and a second process going through its listener as the command line does (Config.Share).
// The engine's update is a read and a write, so without a lock that both processes honour
// some adds overwrite others; with Serialize's lock on the folder every value is kept.
func TestSerializeHoldsAcrossProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if dir := os.Getenv(childDirEnv); dir != "" {
		db, err := database.Open(ctx, database.Config{Dir: dir, Listen: "127.0.0.1:0", Share: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close(ctx)
		if !db.Shared() {
			t.Fatal("the second process did not share the first one's listener")
		}
		if err := addValues(ctx, db, "child"); err != nil {
			t.Fatal(err)
		}
		return
	}

	dir := t.TempDir()
	db, err := database.Open(ctx, database.Config{Dir: filepath.Join(dir, "db"), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if err := db.EnsureCollections(ctx); err != nil {
		t.Fatal(err)
	}

	var child []byte
	var childErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSerializeHoldsAcrossProcesses$", "-test.count=1")
		cmd.Env = append(os.Environ(), childDirEnv+"="+filepath.Join(dir, "db"))
		child, childErr = cmd.CombinedOutput()
	}()
	if err := addValues(ctx, db, "server"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if childErr != nil {
		t.Fatalf("second process: %v\n%s", childErr, child)
	}

	got, err := database.FindByID[struct{ Items []string }](ctx, db.Collection("lists"), raceList)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, v := range got.Items {
		have[v] = true
	}
	var lost []string
	for _, prefix := range []string{"server", "child"} {
		for i := range raceAdds {
			if v := fmt.Sprintf("%s-%02d", prefix, i); !have[v] {
				lost = append(lost, v)
			}
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d values added by two processes were lost: %v", len(lost), 2*raceAdds, lost)
	}
}

// BenchmarkSerialize is what taking and giving back one document's lock costs on the
// embedded engine, the machine-wide lock included: about 2 µs, where the update it guards
// costs a few hundred.
func BenchmarkSerialize(b *testing.B) {
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{Dir: b.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close(ctx)
	b.Run("embedded", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			db.Serialize("lists", fmt.Sprint(i%100))()
		}
	})
}
