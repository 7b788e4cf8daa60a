package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"polyphony/assessment"
	"polyphony/content"
	"polyphony/content/curriculum"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/realtime"
)

// people creates the trust: three cohorts a term apart, each with two facilitators, thirty
// trainees and a supervisor of them all; one assessor and one administrator.
func (b *builder) people(ctx context.Context) error {
	s := b.s
	trust, err := s.courses.CreateTrust(ctx, "B10 Synthetic NHS Foundation Trust")
	if err != nil {
		return err
	}
	add := func(email, name string, role accounts.Role) (accounts.User, error) {
		return s.accounts.Users.Create(ctx, accounts.NewUser{Email: email, Name: name, Role: role,
			TrustID: trust.ID, Password: b.m.Password})
	}
	year := time.Now().UTC().AddDate(-1, 0, 0)
	for c := range cohortCount {
		start := monday(year.AddDate(0, 0, 7*16*c))
		cohort, _, err := s.courses.CreateCohortFromTemplate(ctx, courses.NewCohort{
			Name: fmt.Sprintf("B10 cohort %d", c+1), StartDate: start, TrustIDs: []string{trust.ID}}, "b10")
		if err != nil {
			return err
		}
		b.p.cohorts = append(b.p.cohorts, cohort)
		enrol := func(email, name string, role accounts.Role) (accounts.User, error) {
			u, err := add(email, name, role)
			if err == nil {
				_, err = s.courses.Enrol(ctx, cohort.ID, u.ID, role)
			}
			return u, err
		}
		var facs []accounts.User
		for f := range 2 {
			u, err := enrol(fmt.Sprintf("facilitator%d.%d@b10.example", c, f), fmt.Sprintf("Facilitator %d.%d", c, f), accounts.RoleFacilitator)
			if err != nil {
				return err
			}
			facs = append(facs, u)
		}
		b.p.facilitators = append(b.p.facilitators, facs)
		sup, err := enrol(fmt.Sprintf("supervisor%d@b10.example", c), fmt.Sprintf("Supervisor %d", c), accounts.RoleSupervisor)
		if err != nil {
			return err
		}
		b.p.supervisors = append(b.p.supervisors, sup)
		trainees := make([]accounts.User, traineesPerCohort)
		err = parallel(ctx, traineesPerCohort, 2, func(ctx context.Context, i int) error {
			u, err := enrol(fmt.Sprintf("trainee%d.%d@b10.example", c, i), fmt.Sprintf("Trainee %d.%d", c, i), accounts.RoleTrainee)
			trainees[i] = u
			return err
		})
		if err != nil {
			return err
		}
		b.p.trainees = append(b.p.trainees, trainees)
		// The cohort's supervisor supervises its thirty trainees, and so reads what they share.
		ids := make([]string, len(trainees))
		for i, t := range trainees {
			ids[i] = t.ID
		}
		if _, _, err := s.courses.ChangeMember(ctx, cohort.ID, sup.ID, courses.MemberChange{Role: accounts.RoleSupervisor, Supervises: ids}); err != nil {
			return err
		}
	}
	if b.p.assessor, err = add("assessor@b10.example", "Assessor", accounts.RoleAssessor); err != nil {
		return err
	}
	if b.p.admin, err = add("admin@b10.example", "Administrator", accounts.RoleAdmin); err != nil {
		return err
	}
	if _, err := s.courses.Enrol(ctx, b.p.cohorts[0].ID, b.p.assessor.ID, accounts.RoleAssessor); err != nil {
		return err
	}
	b.m.Trainee, b.m.Assessor, b.m.Cohort = b.p.trainees[0][0].Email, b.p.assessor.Email, b.p.cohorts[0].ID
	return nil
}

func monday(t time.Time) time.Time {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for day.Weekday() != time.Monday {
		day = day.AddDate(0, 0, -1)
	}
	return day
}

// curriculum loads the built-in curriculum, as the server's first start would, and names a
// page every trainee may read.
func (b *builder) curriculum(ctx context.Context) error {
	pack, err := content.LoadPack(curriculum.FS)
	if err != nil {
		return err
	}
	if _, err := b.s.pages.Import(ctx, pack, "polyphony"); err != nil {
		return err
	}
	for _, p := range pack.Pages {
		if p.Release.IsImmediate() {
			b.m.Slug = p.Slug
			return nil
		}
	}
	return errors.New("the built-in curriculum has no page released immediately")
}

// writeEntry creates one entry and saves it again until it has revisions revisions.
func (b *builder) writeEntry(ctx context.Context, owner accounts.User, n, revisions int) (string, error) {
	v := courses.Viewer{UserID: owner.ID, Role: owner.Role}
	d := courses.Draft{Title: fmt.Sprintf("Reflection %d", n), Body: reflection(n, 0)}
	e, err := b.s.journals.Create(ctx, v, d, fmt.Sprintf("b10-%s-%d-0", owner.ID, n))
	if err != nil {
		return "", err
	}
	b.n.revisions.Add(1)
	for r := 1; r < revisions; r++ {
		d.Body = reflection(n, r)
		if e, err = b.s.journals.Save(ctx, v, e.ID, d, e.Version, fmt.Sprintf("b10-%s-%d-%d", owner.ID, n, r)); err != nil {
			return "", err
		}
		b.n.revisions.Add(1)
	}
	return e.ID, nil
}

// reflection is an entry's text at a revision: a few paragraphs, longer as it is revised.
func reflection(n, rev int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# After the network meeting %d\n\n", n)
	for p := 0; p <= rev%4+1; p++ {
		sb.WriteString("What stayed with me was how the family's words found room when nobody hurried to an answer. ")
		sb.WriteString("I noticed my wish to fix things, and let it pass; the reflecting team's voices opened another way of seeing it.\n\n")
	}
	return sb.String()
}

// benchJournal writes the measured trainee's entries: the same in every folder.
func (b *builder) benchJournal(ctx context.Context) error {
	owner := b.p.trainees[0][0]
	b.m.Entries = make([]string, benchEntries)
	return parallel(ctx, benchEntries, 2, func(ctx context.Context, i int) error {
		id, err := b.writeEntry(ctx, owner, i, revisionsPerEntry)
		b.m.Entries[i] = id
		return err
	})
}

// rooms lists every room of the trust, by hub id: each cohort's own room and one per
// dialogue session of its programme.
func (b *builder) rooms(ctx context.Context) ([][]string, error) {
	var out [][]string
	for _, c := range b.p.cohorts {
		prog, err := b.s.courses.Programme(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		ids := []string{c.ID + "/cohort"}
		for _, per := range prog.Periods {
			for _, a := range per.Activities {
				if a.Kind == courses.ActivityDialogue {
					ids = append(ids, c.ID+"/"+a.ID)
				}
			}
		}
		out = append(out, ids)
	}
	return out, nil
}

// eventsPerRoom is a room's history at a year's scale: the year's events shared by its rooms.
func (b *builder) eventsPerRoom(rooms [][]string) int {
	n := 0
	for _, r := range rooms {
		n += len(r)
	}
	return max(b.scaled(yearEvents, 0)/n, 3*blockEvents)
}

// blockEvents is the transcripts' block size: histories are written a whole number of them.
const blockEvents = 128

// benchRoom writes the history of cohort 1's own room, the one the requests join and read.
func (b *builder) benchRoom(ctx context.Context) error {
	rooms, err := b.rooms(ctx)
	if err != nil {
		return err
	}
	b.m.Room = "cohort"
	return b.writeRoom(ctx, rooms[0][0], 0, b.eventsPerRoom(rooms))
}

// writeRoom stores a session's timeline: its members join, speak in turn and leave.
func (b *builder) writeRoom(ctx context.Context, hubID string, cohort, n int) error {
	var members []realtime.Member
	for _, f := range b.p.facilitators[cohort] {
		members = append(members, realtime.Member{UserID: f.ID, Name: f.Name, Role: realtime.Facilitator})
	}
	for _, t := range b.p.trainees[cohort][:10] {
		members = append(members, realtime.Member{UserID: t.ID, Name: t.Name, Role: realtime.Trainee})
	}
	at := time.Now().UTC().AddDate(0, -1, 0)
	events := make([]realtime.Event, 0, n)
	for seq := 1; seq <= n; seq++ {
		e := realtime.Event{Seq: uint64(seq), At: at.Add(time.Duration(seq) * time.Second)}
		switch {
		case seq <= len(members):
			m := members[seq-1]
			e.Type, e.UserID, e.Name, e.Role = realtime.EventJoined, m.UserID, m.Name, m.Role
		case seq > n-len(members):
			m := members[n-seq]
			e.Type, e.UserID, e.Name, e.Role = realtime.EventLeft, m.UserID, m.Name, m.Role
		default:
			m := members[seq%len(members)]
			e.Type, e.UserID, e.Name, e.Role = realtime.EventSay, m.UserID, m.Name, m.Role
			e.Text = fmt.Sprintf("Turn %d: I hear something different in what was just said, and I want to stay with it.", seq)
			e.ClientID = fmt.Sprintf("b10-%d", seq)
		}
		events = append(events, e)
	}
	const chunk = 8 * blockEvents
	for from := 0; from < len(events); from += chunk {
		if err := b.s.transcripts.AppendHistory(ctx, hubID, events[from:min(from+chunk, len(events))]); err != nil {
			return err
		}
		b.n.events.Add(int64(min(chunk, len(events)-from)))
	}
	return nil
}

// questionBank imports a bank of sixty single-best-answer questions in Aiken.
func (b *builder) questionBank(ctx context.Context) (string, []string, error) {
	staff := assessment.Actor{ID: b.p.assessor.ID, Role: accounts.RoleAssessor}
	bank, err := b.s.assessments.CreateBank(ctx, staff, "B10 questions")
	if err != nil {
		return "", nil, err
	}
	var src strings.Builder
	for q := range questionsPerAttempt + 10 {
		fmt.Fprintf(&src, "Question %d: in an open dialogue network meeting, what helps most?\nA. Waiting for every voice\nB. A quick plan\nC. A diagnosis\nANSWER: A\n\n", q)
	}
	if _, err := b.s.assessments.Import(ctx, staff, bank.ID, assessment.FormatAiken, []byte(src.String()), assessment.ImportOptions{}); err != nil {
		return "", nil, err
	}
	qs, err := b.s.assessments.Questions(ctx, staff, bank.ID)
	if err != nil {
		return "", nil, err
	}
	ids := make([]string, 0, questionsPerAttempt)
	for _, q := range qs[:questionsPerAttempt] {
		ids = append(ids, q.ID)
	}
	return bank.ID, ids, nil
}

// sitAssessment creates an assessment for a cohort and has each of its trainees answer every
// question and submit.
func (b *builder) sitAssessment(ctx context.Context, bank string, questions []string, cohort, n int) (string, error) {
	staff := assessment.Actor{ID: b.p.assessor.ID, Role: accounts.RoleAssessor}
	a, err := b.s.assessments.CreateAssessment(ctx, staff, assessment.AssessmentInput{
		Title: fmt.Sprintf("B10 assessment %d", n), BankID: bank, CohortID: b.p.cohorts[cohort].ID,
		Questions: questions, AttemptsAllowed: 2, ReviewAfterAttempt: assessment.ReviewScore, ReviewAfterClose: assessment.ReviewScore,
	})
	if err != nil {
		return "", err
	}
	err = parallel(ctx, traineesPerCohort, 4, func(ctx context.Context, i int) error {
		t := b.p.trainees[cohort][i]
		me := assessment.Actor{ID: t.ID, Role: t.Role}
		at, err := b.s.assessments.Start(ctx, me, a.ID)
		if err != nil {
			return err
		}
		for q := range questions {
			if _, err := b.s.assessments.SaveAnswer(ctx, me, at.ID, q, (i+q)%3); err != nil {
				return err
			}
			b.n.answers.Add(1)
		}
		_, err = b.s.assessments.Submit(ctx, me, at.ID)
		return err
	})
	return a.ID, err
}

// benchAssessment is the assessment whose results and analysis are read, with cohort 1's
// thirty attempts, and the measured trainee's second attempt left open to answer.
func (b *builder) benchAssessment(ctx context.Context) error {
	bank, questions, err := b.questionBank(ctx)
	if err != nil {
		return err
	}
	b.bank, b.questions = bank, questions
	if b.m.Assessment, err = b.sitAssessment(ctx, bank, questions, 0, 0); err != nil {
		return err
	}
	t := b.p.trainees[0][0]
	at, err := b.s.assessments.Start(ctx, assessment.Actor{ID: t.ID, Role: t.Role}, b.m.Assessment)
	b.m.Attempt, b.m.Questions = at.ID, len(questions)
	return err
}
