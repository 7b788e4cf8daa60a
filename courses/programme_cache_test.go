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
	got.Modules[0].Days[0].Slots[0].Title = "changed in a copy"
	readings, sessions := 0, 0
	for _, per := range got.Periods {
		for _, a := range per.Activities {
			if a.Reading != nil {
				a.Reading.Title = "changed in a copy"
				readings++
			}
			if a.Session != nil {
				a.Session.Room = "changed in a copy"
				sessions++
			}
		}
	}
	if readings == 0 || sessions == 0 {
		t.Fatalf("the template has %d readings and %d dialogue sessions; the test needs both", readings, sessions)
	}
	again, _ := store.Programme(ctx, c.ID)
	if again.Modules[0].Venue == "changed in a copy" || again.Periods[0].Activities[0].Title == "changed in a copy" ||
		again.Modules[0].Days[0].Slots[0].Title == "changed in a copy" {
		t.Fatal("a change to a returned programme reached the cache")
	}
	for _, per := range again.Periods {
		for _, a := range per.Activities {
			if (a.Reading != nil && a.Reading.Title == "changed in a copy") || (a.Session != nil && a.Session.Room == "changed in a copy") {
				t.Fatal("a change through a returned programme's reading or session reached the cache")
			}
		}
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
