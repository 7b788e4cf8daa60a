package server

import (
	"sort"
	"strconv"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
)

// sharedEntry is one entry on a supervisor's or assessor's journal page, with who wrote it
// and why it waits for the reader, if it does.
type sharedEntry struct {
	courses.EntrySummary
	Author string
	// Waiting says what is new for the reader: comments they have not read, an entry (or a
	// version of it) they have not opened.
	Waiting []string
}

type sharedJournalData struct {
	Assessor bool
	// Trainees is how many trainees the reader has in their cohorts.
	Trainees int
	Waiting  []sharedEntry
	Shared   []sharedEntry
}

// sharedJournalPage is the journal page of a supervisor or an assessor: every entry their
// trainees share with them, newest first, and above it what waits for them.
func (s *Server) sharedJournalPage(c echo.Context, v courses.Viewer) error {
	ctx := c.Request().Context()
	trainees, err := s.traineesOf(ctx, v.UserID, accounts.RoleSupervisor, accounts.RoleAssessor)
	if err != nil {
		return err
	}
	d := sharedJournalData{Assessor: v.Role == accounts.RoleAssessor, Trainees: len(trainees)}
	for _, t := range trainees {
		entries, err := s.deps.Journals.Entries(ctx, v, t.ID)
		if err != nil {
			return err
		}
		for _, e := range entries {
			d.Shared = append(d.Shared, sharedEntry{EntrySummary: e, Author: t.Name})
		}
	}
	sort.SliceStable(d.Shared, func(a, b int) bool { return d.Shared[a].UpdatedAt.After(d.Shared[b].UpdatedAt) })
	opened, err := s.deps.Journals.OpenedVersions(ctx, v)
	if err != nil {
		return err
	}
	notices, err := s.deps.Journals.Notifications(ctx, v)
	if err != nil {
		return err
	}
	unread := map[string]int{}
	for _, n := range notices {
		unread[n.EntryID]++
	}
	for i := range d.Shared {
		e := &d.Shared[i]
		e.Waiting = waitingReasons(e.EntrySummary, opened[e.ID], unread[e.ID])
		if len(e.Waiting) > 0 {
			d.Waiting = append(d.Waiting, *e)
		}
	}
	return s.render(c, "journal_shared", pageData{Title: "Journal", Nav: "journal", Notice: c.QueryParam("done"), Data: d})
}

// waitingReasons says why an entry waits for its reader: comments they have not read, and
// whether the version shared with them (the latest for a supervisor, the one submitted for
// an assessor) is one they have not opened. opened is the highest version they opened.
func waitingReasons(e courses.EntrySummary, opened, unreadComments int) []string {
	var out []string
	switch {
	case unreadComments == 1:
		out = append(out, "A new comment")
	case unreadComments > 1:
		out = append(out, strconv.Itoa(unreadComments)+" new comments")
	}
	assessor := e.As == courses.AccessAssessor
	switch {
	case opened == 0 && assessor:
		out = append(out, "Submitted, and you have not read it yet")
	case opened == 0:
		out = append(out, "You have not read it yet")
	case opened < e.Version && assessor:
		out = append(out, "Submitted again since you read it")
	case opened < e.Version:
		out = append(out, "Changed since you read it")
	}
	return out
}
