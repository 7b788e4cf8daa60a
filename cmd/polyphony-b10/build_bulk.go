package main

import (
	"context"
	"fmt"

	"polyphony/courses"
	"polyphony/internal/accounts"
)

// bulkJournals writes the year's journals for every trainee but the measured one (whose
// own entries are the same in every folder, so that what is compared is the cost of
// everyone else's data): entries of ten revisions; a quarter shared with the supervisor, who
// reads each (an access-log line) and comments on every third (a notification).
func (b *builder) bulkJournals(ctx context.Context) error {
	var owners []accounts.User
	supervisorOf := map[string]accounts.User{}
	for c, ts := range b.p.trainees {
		for i, t := range ts {
			if c == 0 && i == 0 {
				continue
			}
			owners = append(owners, t)
			supervisorOf[t.ID] = b.p.supervisors[c]
		}
	}
	entries := (b.scaled(yearRevisions, 0) - benchEntries*revisionsPerEntry) / revisionsPerEntry
	return parallel(ctx, entries, 4, func(ctx context.Context, n int) error {
		owner := owners[n%len(owners)]
		id, err := b.writeEntry(ctx, owner, benchEntries+n, revisionsPerEntry)
		if err != nil || n%4 != 0 {
			return err
		}
		author := courses.Viewer{UserID: owner.ID, Role: owner.Role}
		if _, err := b.s.journals.SetSharing(ctx, author, id, courses.AudienceSupervisor, true); err != nil {
			return err
		}
		sup := supervisorOf[owner.ID]
		reader := courses.Viewer{UserID: sup.ID, Role: sup.Role}
		if _, err := b.s.journals.ReadEntry(ctx, reader, id); err != nil {
			return err
		}
		b.n.reads.Add(1)
		if n%12 != 0 {
			return nil
		}
		_, err = b.s.journals.AddComment(ctx, reader, id, courses.NewComment{Audience: courses.AudienceSupervisor,
			Body: "Thank you for this. What did you notice in yourself when the silence came?", Key: fmt.Sprintf("b10-c-%d", n)})
		b.n.comments.Add(1)
		return err
	})
}

// bulkRooms writes the year's timelines: every other room of every cohort gets a history
// as long as the measured room's.
func (b *builder) bulkRooms(ctx context.Context) error {
	rooms, err := b.rooms(ctx)
	if err != nil {
		return err
	}
	per := b.eventsPerRoom(rooms)
	type job struct {
		cohort int
		hubID  string
	}
	var jobs []job
	for c, ids := range rooms {
		for i, id := range ids {
			if c == 0 && i == 0 {
				continue // the measured room, written already
			}
			jobs = append(jobs, job{c, id})
		}
	}
	return parallel(ctx, len(jobs), 2, func(ctx context.Context, i int) error {
		return b.writeRoom(ctx, jobs[i].hubID, jobs[i].cohort, per)
	})
}

// bulkAnswers has each cohort in turn sit further assessments until the year's answers are
// written.
func (b *builder) bulkAnswers(ctx context.Context) error {
	perSitting := traineesPerCohort * len(b.questions)
	sittings := (b.scaled(yearAnswers, 0) - perSitting) / perSitting
	for n := range sittings {
		if _, err := b.sitAssessment(ctx, b.bank, b.questions, n%cohortCount, n+1); err != nil {
			return err
		}
	}
	return nil
}

// bulkSessions signs every trainee in many times over: the year's sessions.
func (b *builder) bulkSessions(ctx context.Context) error {
	var all []accounts.User
	for _, ts := range b.p.trainees {
		all = append(all, ts...)
	}
	return parallel(ctx, b.scaled(yearSessions, 0), 4, func(ctx context.Context, n int) error {
		u := all[n%len(all)]
		_, _, err := b.s.accounts.Sessions.Create(ctx, u.ID, fmt.Sprintf("10.0.%d.%d", n/250%250, n%250), "B10 synthetic browser")
		if err == nil {
			b.n.sessions.Add(1)
		}
		return err
	})
}
