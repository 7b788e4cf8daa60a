package notify

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"polyphony/courses"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/mail"
)

// atRiskFrom is when in the UK week the weekly email of trainees at risk is sent: from
// Monday at 8am.
const atRiskFrom = 8 * time.Hour

// AtRiskWeekly emails each facilitator of a cohort under way, once a week from Monday at
// 8am (UK time), that trainees of the cohort are at risk, when any are (progress.Service's
// AtRisk). The email lists each of them with the rules at risk (atRiskLines) and links to
// the cohort's progress filtered to those at risk, where the evidence is; it is off until a
// facilitator turns it on (mail.KindAtRisk). Each cohort is worked out once a week, whichever instance comes first.
// Without Config.Progress it sends nothing.
func (n *Notifier) AtRiskWeekly(ctx context.Context, now time.Time) (int, error) {
	if n.cfg.Progress == nil {
		return 0, nil
	}
	local := now.In(london)
	monday := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, london).AddDate(0, 0, -((int(local.Weekday()) + 6) % 7))
	if local.Before(monday.Add(atRiskFrom)) {
		return 0, nil // the week's email goes from Monday at 8am; last week's went already
	}
	year, week := local.ISOWeek()
	cohorts, err := n.courses.Cohorts(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, c := range cohorts {
		p, err := n.courses.Programme(ctx, c.ID)
		if err != nil {
			continue // no programme: nothing to be at risk of
		}
		if phase := p.Now(now).Phase; phase != courses.PhaseModule && phase != courses.PhasePeriod {
			continue
		}
		event := c.ID + "/" + strconv.Itoa(year) + "-W" + strconv.Itoa(week)
		// The cohort is worked out once a week: the first to insert its record does it.
		err = database.Insert(ctx, n.sent, sentRecord{ID: string(mail.KindAtRisk) + "/" + event + "/cohort", Kind: mail.KindAtRisk, At: n.cfg.Now()})
		if errors.Is(err, database.ErrDuplicate) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		atRisk, err := n.cfg.Progress.AtRisk(ctx, c.ID)
		if err != nil || len(atRisk) == 0 {
			errs = append(errs, err)
			continue
		}
		facilitators, err := n.cohortPeople(ctx, c.ID, accounts.RoleFacilitator)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lines, err := n.atRiskLines(ctx, atRisk)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range facilitators {
			ok, err := n.once(ctx, event, f, mail.Message{Kind: mail.KindAtRisk,
				Link: n.page("/cohorts/" + url.PathEscape(c.ID) + "/progress?show=at-risk"), Values: mail.Values{Cohort: c.Name, Lines: lines}})
			if ok {
				sent++
			}
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

// maxAtRiskLine is how long one line of the at-risk email may be, within mail's bound on a
// field.
const maxAtRiskLine = 190

// atRiskLines are the lines of the at-risk email: each trainee's name and the titles of their
// rules at risk or not met, with the first reason given, in the platform's own words; past
// the mail's bound on lines, the last says how many more the page lists.
func (n *Notifier) atRiskLines(ctx context.Context, atRisk []progress.Progress) (mail.Lines, error) {
	var lines mail.Lines
	for i, p := range atRisk {
		if i == maxAtRiskLines-1 && len(atRisk) > maxAtRiskLines {
			lines = append(lines, strconv.Itoa(len(atRisk)-i)+" more trainees: see the cohort's progress")
			break
		}
		name, err := n.name(ctx, p.TraineeID)
		if err != nil {
			return nil, err
		}
		if name == "" {
			continue // the account is gone
		}
		var why []string
		for _, r := range p.Results {
			if r.State != progress.AtRisk && r.State != progress.NotMet {
				continue
			}
			w := r.Title + ", " + string(r.State)
			if len(r.Reasons) > 0 {
				w += " (" + strings.TrimSuffix(r.Reasons[0], ".") + ")"
			}
			why = append(why, w)
		}
		line := name + ": " + strings.Join(why, "; ")
		if len(line) > maxAtRiskLine {
			line = strings.ToValidUTF8(line[:maxAtRiskLine-1], "") + "…"
		}
		lines = append(lines, line)
	}
	return lines, nil
}

// maxAtRiskLines is as many lines as an email holds (mail's bound).
const maxAtRiskLines = 50
