package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"polyphony/internal/audit"
	"polyphony/internal/dbtest"
)

func numbersOf(p audit.Page) []int64 {
	var out []int64
	for _, e := range p.Entries {
		out = append(out, e.N)
	}
	return out
}

func TestRecordAndFilter(t *testing.T) {
	ctx := context.Background()
	log, err := audit.New(ctx, dbtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	// Entries 1…120: subjects p0…p2 in turn, actors a0 and a1 in turn, every tenth a disable.
	for i := 1; i <= 120; i++ {
		action := audit.PersonEdited
		if i%10 == 0 {
			action = audit.PersonDisabled
		}
		e, err := log.Record(ctx, audit.Entry{ActorID: fmt.Sprintf("a%d", i%2), ActorName: "Admin", Action: action,
			SubjectID: fmt.Sprintf("p%d", i%3), SubjectName: "Person",
			Changes: audit.Diff([]string{"name", "email"}, map[string]string{"name": "Old", "email": "x@e"}, map[string]string{"name": "New", "email": "x@e"})})
		if err != nil || e.N != int64(i) {
			t.Fatalf("entry %d: %+v %v", i, e.N, err)
		}
		if len(e.Changes) != 1 || e.Changes[0] != (audit.Change{Field: "name", Before: "Old", After: "New"}) {
			t.Fatalf("changes %+v: want only the name", e.Changes)
		}
	}
	all, err := log.List(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := numbersOf(all); len(got) != audit.PageSize || got[0] != 120 || got[len(got)-1] != 71 || all.Next != 71 {
		t.Errorf("first page: %v next %d; want 120…71, next 71", got, all.Next)
	}
	rest, err := log.List(ctx, audit.Filter{Before: all.Next})
	if err != nil {
		t.Fatal(err)
	}
	if got := numbersOf(rest); len(got) != 50 || got[0] != 70 || got[49] != 21 {
		t.Errorf("second page: %v", got)
	}
	disables, err := log.List(ctx, audit.Filter{Action: audit.PersonDisabled})
	if err != nil {
		t.Fatal(err)
	}
	if got := numbersOf(disables); len(got) != 12 || got[0] != 120 || got[11] != 10 || disables.Next != 0 {
		t.Errorf("disables: %v next %d", got, disables.Next)
	}
	// p0 is every third entry, a0 every second: both, every sixth.
	both, err := log.List(ctx, audit.Filter{SubjectID: "p0", ActorID: "a0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := numbersOf(both); len(got) != 20 || got[0] != 120 || got[19] != 6 {
		t.Errorf("subject p0 by actor a0: %v", got)
	}
	mine, err := log.List(ctx, audit.Filter{SubjectID: "p1", Action: audit.PersonDisabled})
	if err != nil {
		t.Fatal(err)
	}
	if got := numbersOf(mine); len(got) != 4 || got[0] != 100 || got[3] != 10 {
		t.Errorf("p1's disables: %v", got)
	}
	none, err := log.List(ctx, audit.Filter{SubjectID: "nobody"})
	if err != nil || len(none.Entries) != 0 {
		t.Errorf("an unknown subject: %v %v", numbersOf(none), err)
	}
}

// Writers at once (here, or in another process) each get a number of their own.
func TestConcurrentRecordsAreAllKept(t *testing.T) {
	ctx := context.Background()
	log, err := audit.New(ctx, dbtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 6, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := log.Record(ctx, audit.Entry{ActorName: "x", Action: audit.PersonAdded, SubjectID: fmt.Sprintf("s%d", w)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	p, err := log.List(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, e := range p.Entries {
		seen[e.N] = true
	}
	p2, _ := log.List(ctx, audit.Filter{Before: p.Next})
	for _, e := range p2.Entries {
		seen[e.N] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d entries listed, want %d", len(seen), writers*each)
	}
	for w := range writers {
		mine, err := log.List(ctx, audit.Filter{SubjectID: fmt.Sprintf("s%d", w)})
		if err != nil || len(mine.Entries) != each {
			t.Errorf("writer %d's subject lists %d entries, want %d (%v)", w, len(mine.Entries), each, err)
		}
	}
}

func TestRedactAnErasedPerson(t *testing.T) {
	ctx := context.Background()
	log, err := audit.New(ctx, dbtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	record := func(e audit.Entry) {
		if _, err := log.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	record(audit.Entry{ActorID: "admin", ActorName: "Ada Admin", Action: audit.PersonAdded, SubjectID: "p", SubjectName: "Pat Person",
		Changes: []audit.Change{{Field: "email", After: "pat@example.org"}}})
	record(audit.Entry{ActorID: "p", ActorName: "Pat Person", Action: audit.PersonEdited, SubjectID: "q", SubjectName: "Quinn Other",
		Changes: []audit.Change{{Field: "name", Before: "Q", After: "Quinn Other"}}})
	record(audit.Entry{ActorID: "admin", ActorName: "Ada Admin", Action: audit.PersonDisabled, SubjectID: "p", SubjectName: "Pat Person", Reason: "Pat asked"})
	if err := log.Redact(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	page, err := log.List(ctx, audit.Filter{})
	if err != nil || len(page.Entries) != 3 {
		t.Fatalf("%v %v", page, err)
	}
	for _, e := range page.Entries {
		for _, s := range []string{e.SubjectName, e.ActorName, e.Reason} {
			if s == "Pat Person" || s == "Pat asked" {
				t.Errorf("entry %d still names the erased person: %+v", e.N, e)
			}
		}
		for _, c := range e.Changes {
			if e.SubjectID == "p" && (c.After == "pat@example.org") {
				t.Errorf("entry %d keeps the erased person's address", e.N)
			}
		}
	}
	// Another person's entry keeps what it says of them.
	if e := page.Entries[1]; e.SubjectName != "Quinn Other" || e.Changes[0].After != "Quinn Other" || e.ActorName != audit.Erased {
		t.Errorf("the entry about someone else: %+v", e)
	}
}
