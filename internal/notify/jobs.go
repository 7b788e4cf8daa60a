package notify

import (
	"context"
	"errors"
	"net/url"
	"time"
	_ "time/tzdata" // a day of the programme is a UK day, whatever the machine's zone files

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/assessment"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
	"polyphony/internal/mail"
)

// london is the programme's clock: "tomorrow" is the next UK day.
var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return l
}()

// ukDay is the UK date of t, as 2006-01-02.
func ukDay(t time.Time) string { return t.In(london).Format(time.DateOnly) }

// AssessmentOpened emails the trainees of the assessment's cohort that it is open, if it
// is open at now (it has opened and not closed yet). The server calls it when an
// assessment is saved, Run when its opening time comes. An assessment for no cohort is
// told to nobody. Each opening (the assessment and its opening time) is told once.
func (n *Notifier) AssessmentOpened(ctx context.Context, a assessment.AssessmentInfo, now time.Time) (int, error) {
	if a.CohortID == "" || (!a.Opens.IsZero() && now.Before(a.Opens)) || (!a.Closes.IsZero() && !now.Before(a.Closes)) {
		return 0, nil
	}
	trainees, err := n.cohortPeople(ctx, a.CohortID, accounts.RoleTrainee)
	if err != nil {
		return 0, err
	}
	event := a.ID + "/" + a.Opens.UTC().Format(time.RFC3339)
	sent := 0
	var errs []error
	for _, p := range trainees {
		ok, err := n.once(ctx, event, p, mail.Message{Kind: mail.KindAssessmentOpen,
			Link: n.page("/assessments/" + url.PathEscape(a.ID)), Values: mail.Values{Assessment: a.Title, When: a.Closes}})
		if ok {
			sent++
		}
		errs = append(errs, err)
	}
	return sent, errors.Join(errs...)
}

// openedWithin is how far back Run looks for assessments whose opening time has passed:
// one that opened longer ago was told of when it opened, or (saved already open) when it
// was saved.
const openedWithin = 24 * time.Hour

// AssessmentsOpening emails the trainees of each assessment whose opening time came in the
// day up to now. It reads every assessment through the store's list (by _id).
func (n *Notifier) AssessmentsOpening(ctx context.Context, now time.Time) (int, error) {
	if n.assessments == nil {
		return 0, nil
	}
	infos, err := n.assessments.AssessmentInfos(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, a := range infos {
		if a.Opens.IsZero() || a.Opens.After(now) || now.Sub(a.Opens) > openedWithin {
			continue
		}
		k, err := n.AssessmentOpened(ctx, a, now)
		sent += k
		errs = append(errs, err)
	}
	return sent, errors.Join(errs...)
}

// SessionsTomorrow emails the trainees and facilitators of every cohort about each of its
// programme's dialogue sessions that start on the UK day after now's, with the room's
// address. It reads the cohorts through their list, and each cohort's programme and
// members, by _id. Each session is told to each person once per day it is held on, however
// often it runs and on however many instances: a session moved to another day is told again.
func (n *Notifier) SessionsTomorrow(ctx context.Context, now time.Time) (int, error) {
	day := now.In(london)
	tomorrow := ukDay(time.Date(day.Year(), day.Month(), day.Day()+1, 12, 0, 0, 0, london))
	cohorts, err := n.courses.Cohorts(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, c := range cohorts {
		p, err := n.courses.Programme(ctx, c.ID)
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var people []string
		for _, per := range p.Periods {
			for _, a := range per.Activities {
				if a.Session == nil || a.Session.Start.IsZero() || ukDay(a.Session.Start) != tomorrow {
					continue
				}
				if people == nil {
					if people, err = n.cohortPeople(ctx, c.ID, accounts.RoleTrainee, accounts.RoleFacilitator); err != nil {
						errs = append(errs, err)
						break
					}
				}
				k, err := n.session(ctx, c, a, tomorrow, people)
				sent += k
				errs = append(errs, err)
			}
		}
	}
	return sent, errors.Join(errs...)
}

func (n *Notifier) session(ctx context.Context, c courses.Cohort, a courses.Activity, day string, people []string) (int, error) {
	room := a.Session.Room
	if room == "" {
		room = a.Title
	}
	event := c.ID + "/" + a.ID + "/" + day
	link := n.page("/rooms/" + url.PathEscape(c.ID) + "/" + url.PathEscape(a.ID))
	sent := 0
	var errs []error
	for _, p := range people {
		ok, err := n.once(ctx, event, p, mail.Message{Kind: mail.KindSessionTomorrow, Link: link,
			Values: mail.Values{Room: room, Cohort: c.Name, When: a.Session.Start}})
		if ok {
			sent++
		}
		errs = append(errs, err)
	}
	return sent, errors.Join(errs...)
}

// Run makes the timed emails until ctx ends: a few minutes after start and then every
// interval (15 minutes when 0), the assessments that opened and the sessions of tomorrow.
// Every instance may run it: the records of what was sent keep each email to one.
func (n *Notifier) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 15 * time.Minute
	}
	wait := time.Minute
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = interval
		n.Tend(ctx)
	}
}

// keepSent is how long the record of an email is kept: far longer than a retry of the
// request that told its event comes, or than the day before a session lasts. The records
// of assessments opening are kept for good (one per trainee and assessment): the
// assessment may be saved again while it is open, which must not tell it again.
const keepSent = 30 * 24 * time.Hour

// Sweep removes the records of emails queued longer ago than keepSent, those of
// assessments opening apart. It reads the whole collection: a background sweep, once a
// day, not a request.
func (n *Notifier) Sweep(ctx context.Context, now time.Time) (int64, error) {
	return n.sent.DeleteWhere(ctx, bson.M{"at": bson.M{"$lt": now.Add(-keepSent)}, "kind": bson.M{"$ne": string(mail.KindAssessmentOpen)}})
}

// Tend makes one pass of Run's work at the clock's time, logging what went wrong; once a
// day it also sweeps the old records.
func (n *Notifier) Tend(ctx context.Context) {
	now := n.cfg.Now()
	if now.Sub(n.swept) >= 24*time.Hour {
		n.swept = now
		if _, err := n.Sweep(ctx, now); err != nil && ctx.Err() == nil {
			n.log.Warn("removing old records of emails", "err", err)
		}
	}
	if k, err := n.AssessmentsOpening(ctx, now); err != nil && ctx.Err() == nil {
		n.log.Warn("emails of assessments opening", "err", err, "sent", k)
	}
	if k, err := n.SessionsTomorrow(ctx, now); err != nil && ctx.Err() == nil {
		n.log.Warn("emails of dialogue sessions tomorrow", "err", err, "sent", k)
	} else if k > 0 {
		n.log.Info("emails of dialogue sessions tomorrow queued", "emails", k)
	}
	if k, err := n.AtRiskWeekly(ctx, now); err != nil && ctx.Err() == nil {
		n.log.Warn("weekly emails of trainees at risk", "err", err, "sent", k)
	} else if k > 0 {
		n.log.Info("weekly emails of trainees at risk queued", "emails", k)
	}
}
