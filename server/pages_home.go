package server

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/assessment/marking"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// homeCohort is one cohort as a person's home page shows it.
type homeCohort struct {
	Cohort       courses.Cohort
	Role         accounts.Role
	Trainees     int
	Facilitators []string
	Trusts       []string
}

// nextStep is one thing the home page suggests doing, with where to do it.
type nextStep struct {
	Text string
	Href string
	Link string
}

type homeData struct {
	Intro   string
	Cohorts []homeCohort
	Next    []nextStep
	People  int
	Counts  map[string]int
	// Notices are unread notifications of comments on journal entries (pages_journal.go).
	Notices []homeNotice
	// Session is the next dialogue session of a member of a room, with its room.
	Session *homeSession
}

// homeSession is the next dialogue session as the home page shows it.
type homeSession struct {
	Cohort   string
	Activity courses.Activity
	Room     string // the room's address
	Now      bool   // under way
}

var roleIntro = map[accounts.Role]string{
	accounts.RoleTrainee:     "Between the residential modules this is where you read, join dialogue with your cohort, keep your reflective journal and log your practice and supervision.",
	accounts.RoleFacilitator: "You run the residential modules and the dialogue rooms for your cohorts, and take attendance. The same facilitators stay with a cohort throughout.",
	accounts.RoleSupervisor:  "You support trainees' practice. You see what trainees choose to share with you, and confirm the supervision they log.",
	accounts.RoleAssessor:    "You read the work trainees submit, mark and moderate it, and recommend the award of the diploma.",
	accounts.RoleAdmin:       "You manage the trusts taking part, the cohorts, and the accounts of everyone on the programme.",
}

func (s *Server) home(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	data := homeData{Intro: roleIntro[u.Role]}
	cohorts, err := s.cohortsOf(ctx, u.ID)
	if err != nil {
		return err
	}
	data.Cohorts = cohorts
	if data.Notices, err = s.homeNotices(ctx, u); err != nil {
		return err
	}
	if data.Session, err = s.nextSession(ctx, cohorts, time.Now()); err != nil {
		return err
	}
	switch u.Role {
	case accounts.RoleAdmin:
		counts, err := s.adminCounts(ctx)
		if err != nil {
			return err
		}
		data.Counts = counts
		if counts["trusts"] == 0 {
			data.Next = append(data.Next, nextStep{Text: "No trusts are registered yet.", Href: "/admin#add-trust", Link: "Add the first trust"})
		}
		if counts["cohorts"] == 0 {
			data.Next = append(data.Next, nextStep{Text: "No cohort has been set up.", Href: "/admin#add-cohort", Link: "Set up a cohort"})
		}
		data.Next = append(data.Next, nextStep{Text: "Register trainees, facilitators, supervisors and assessors.", Href: "/admin#add-person", Link: "Add a person"})
	default:
		if len(cohorts) == 0 {
			data.Next = append(data.Next, nextStep{Text: "You are not in a cohort yet. Your programme administrator adds you to one; until then there is nothing to do here."})
			break
		}
		data.Next = append(data.Next, nextStep{Text: "See where your cohort is in the nine months and what comes next.", Href: "/programme", Link: "Your programme"})
		work, err := s.homeMarking(c)
		if err != nil {
			return err
		}
		data.Next = append(data.Next, work...)
		switch u.Role {
		case accounts.RoleTrainee:
			data.Next = append(data.Next,
				nextStep{Text: "Read the pages for this part of the programme.", Href: "/curriculum", Link: "Curriculum"},
				nextStep{Text: "Residential days and dialogue sessions, your attendance, and a calendar to subscribe to.", Href: "/schedule", Link: "Your schedule"})
		case accounts.RoleFacilitator:
			for _, hc := range cohorts {
				if hc.Role == accounts.RoleFacilitator {
					data.Next = append(data.Next, nextStep{Text: "Module dates, members and registers for " + hc.Cohort.Name + ".", Href: "/cohorts/" + hc.Cohort.ID, Link: "Run the cohort"})
				}
			}
			data.Next = append(data.Next, nextStep{Text: "Write and revise curriculum pages.", Href: "/curriculum", Link: "Curriculum"})
		default:
			data.Next = append(data.Next, nextStep{Text: "What trainees read at each stage.", Href: "/curriculum", Link: "Curriculum"})
		}
		data.Next = append(data.Next, nextStep{Text: "Scripts and reports can use Polyphony's API with a personal token.", Href: "/account", Link: "Manage your API tokens"})
	}
	return s.render(c, "home", pageData{Title: "Home", Nav: "home", Data: data})
}

// nextSession finds the next dialogue session among the cohorts in which the person takes
// part in the rooms (trainees and facilitators); nil when there is none.
func (s *Server) nextSession(ctx context.Context, cohorts []homeCohort, now time.Time) (*homeSession, error) {
	var best *homeSession
	for _, hc := range cohorts {
		if hc.Role != accounts.RoleTrainee && hc.Role != accounts.RoleFacilitator {
			continue
		}
		p, err := s.deps.Courses.Programme(ctx, hc.Cohort.ID)
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		a, ok := p.NextSession(now)
		if !ok || best != nil && !a.Session.Start.Before(best.Activity.Session.Start) {
			continue
		}
		best = &homeSession{Cohort: hc.Cohort.Name, Activity: a, Room: roomPath(hc.Cohort.ID, a.ID), Now: !a.Session.Start.After(now)}
	}
	return best, nil
}

// cohortsOf gathers the person's cohorts with who else is in them.
func (s *Server) cohortsOf(ctx context.Context, userID string) ([]homeCohort, error) {
	ms, err := s.deps.Courses.MembershipsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := []homeCohort{}
	for _, m := range ms {
		c, err := s.deps.Courses.Cohort(ctx, m.CohortID)
		if err != nil {
			return nil, err
		}
		hc := homeCohort{Cohort: c, Role: m.Role}
		members, err := s.deps.Courses.Members(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for _, mm := range members {
			switch mm.Role {
			case accounts.RoleTrainee:
				hc.Trainees++
			case accounts.RoleFacilitator:
				if f, err := s.deps.Accounts.Users.ByID(ctx, mm.UserID); err == nil {
					hc.Facilitators = append(hc.Facilitators, f.Name)
				}
			}
		}
		for _, id := range c.TrustIDs {
			if t, err := s.deps.Courses.Trust(ctx, id); err == nil {
				hc.Trusts = append(hc.Trusts, t.Name)
			}
		}
		out = append(out, hc)
	}
	return out, nil
}

func (s *Server) adminCounts(ctx context.Context) (map[string]int, error) {
	people, err := s.deps.Accounts.Users.Count(ctx)
	if err != nil {
		return nil, err
	}
	cohorts, err := s.deps.Courses.Cohorts(ctx)
	if err != nil {
		return nil, err
	}
	trusts, err := s.deps.Courses.Trusts(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]int{"people": int(people), "cohorts": len(cohorts), "trusts": len(trusts)}, nil
}

// homeMarking is what assessed work asks of the person now: for a trainee, each piece of
// their cohorts not yet submitted, with its deadline; for an assessor, what waits for them
// to mark and when the soonest is due. Nothing where assessed work is not set up.
func (s *Server) homeMarking(c echo.Context) ([]nextStep, error) {
	if s.deps.Marking == nil {
		return nil, nil
	}
	st, a, err := s.markingActor(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	var out []nextStep
	switch a.Role {
	case accounts.RoleTrainee:
		for _, cohortID := range a.CohortIDs {
			ps, err := st.Pieces(ctx, a, cohortID)
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				v, err := st.TraineeView(ctx, a, p.ID, a.UserID)
				if err != nil {
					return nil, err
				}
				if v.State != marking.NotSubmitted {
					continue
				}
				when := "is due " + viewDatetime(v.Deadline) + " (UK time)."
				if time.Now().After(v.Deadline) {
					when = "was due " + viewDatetime(v.Deadline) + " (UK time); you can still submit it, and it is marked late."
				}
				out = append(out, nextStep{Text: "Assessed work: “" + p.Title + "” " + when, Href: "/marking/pieces/" + p.ID, Link: "Submit your work"})
			}
		}
	case accounts.RoleAssessor:
		q, err := st.Queue(ctx, a, a.UserID)
		if err != nil {
			return nil, err
		}
		switch len(q) {
		case 0:
			out = append(out, nextStep{Text: "Nothing waits for you to mark.", Href: "/marking", Link: "Assessed work"})
		case 1:
			out = append(out, nextStep{Text: "One submission waits for you to mark, due " + viewDatetime(q[0].Due) + " (UK time).", Href: "/marking#queue-heading", Link: "Your marking"})
		default:
			out = append(out, nextStep{Text: strconv.Itoa(len(q)) + " submissions wait for you to mark; the soonest is due " + viewDatetime(q[0].Due) + " (UK time).", Href: "/marking#queue-heading", Link: "Your marking"})
		}
	}
	return out, nil
}
