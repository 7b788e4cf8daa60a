package courses_test

import (
	"context"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/dbtest"
)

// The programme is cached; what a caller changes in its copy must not reach the cache, and a
// save must be seen at once.
func TestProgrammeCache(t *testing.T) {
	ctx := context.Background()
	store, err := courses.NewStore(ctx, dbtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	c, p, err := store.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: "Cached", StartDate: time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)}, "t")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := store.Programme(ctx, c.ID)
	got.Modules[0].Venue = "changed in a copy"
	got.Periods[0].Activities[0].Title = "changed in a copy"
	again, _ := store.Programme(ctx, c.ID)
	if again.Modules[0].Venue == "changed in a copy" || again.Periods[0].Activities[0].Title == "changed in a copy" {
		t.Fatal("a change to a returned programme reached the cache")
	}
	p.Modules[1].Venue = "Riverside Centre"
	if _, err := store.SaveProgramme(ctx, p, p.Version, "t"); err != nil {
		t.Fatal(err)
	}
	after, _ := store.Programme(ctx, c.ID)
	if after.Modules[1].Venue != "Riverside Centre" || after.Version != p.Version+1 {
		t.Errorf("after a save: venue %q version %d", after.Modules[1].Venue, after.Version)
	}
}
