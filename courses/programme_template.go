package courses

import (
	"fmt"
	"time"
)

// The shape of the standard programme: modules twelve weeks apart, so that four one-week
// modules and three eleven-week periods fit in nine months.
const (
	templateModuleGap   = 12 * 7 // days from one module's start to the next
	templateModuleDays  = 5      // Monday to Friday
	templateSessionMins = 90
	templateSessionRoom = "Cohort dialogue"
	templateVenue       = "To be confirmed"
)

// moduleOutline is what the template says about one module.
type moduleOutline struct {
	title  string
	themes [templateModuleDays]string // the teaching of each day
}

var templateModules = [4]moduleOutline{
	{"Foundations: the social network and the seven principles", [templateModuleDays]string{
		"Why a social model of care: the case for change",
		"The social network perspective and immediate help",
		"Responsibility and psychological continuity",
		"Flexibility and mobility: care that adapts to need",
		"The two principles of practice, and the months ahead",
	}},
	{"Dialogic practice: polyphony, uncertainty and reflecting", [templateModuleDays]string{
		"Dialogism: every voice builds on the voices before it",
		"Polyphony: making room for every voice in the meeting",
		"Tolerating uncertainty: not hurrying to conclusions",
		"Reflecting in front of the network",
		"Being present: a mindful stance in the meeting",
	}},
	{"Systems, peer support and agency", [templateModuleDays]string{
		"The network meeting as the place where decisions are made",
		"Peer support workers: the two roles in the team",
		"Cultivating agency and making meaning together",
		"Risk and governance in a dialogical service",
		"Working with families and fragmented networks",
	}},
	{"Dialogical services in the NHS", [templateModuleDays]string{
		"From crisis teams to dialogical teams",
		"Organising a service around the network meeting",
		"Evidence, evaluation and the planned trial",
		"Supervision, co-supervision and personal practice",
		"Closing the programme: looking back and ahead",
	}},
}

// Template is the standard nine-month programme for the cohort: module 1 begins on the
// cohort's start date (or the Monday after, when that is not a Monday), modules 2, 3 and 4
// twelve, twenty-four and thirty-six weeks later, each Monday to Friday with a day-by-day
// timetable; and after each of the first three a period of reading, online collaboration,
// fortnightly facilitated dialogue (Wednesdays at 18:00, UK time) and daily practice.
func Template(c Cohort) Programme {
	first := dateOf(c.StartDate)
	for first.Weekday() != time.Monday {
		first = first.AddDate(0, 0, 1)
	}
	p := Programme{CohortID: c.ID}
	for i, outline := range templateModules {
		start := first.AddDate(0, 0, i*templateModuleGap)
		m := Module{
			Number: i + 1,
			Title:  outline.title,
			Start:  start,
			End:    start.AddDate(0, 0, templateModuleDays-1),
			Venue:  templateVenue,
		}
		for d, theme := range outline.themes {
			m.Days = append(m.Days, Day{Date: start.AddDate(0, 0, d), Slots: templateDay(d, theme)})
		}
		p.Modules = append(p.Modules, m)
	}
	for n := 1; n <= 3; n++ {
		p.Periods = append(p.Periods, templatePeriod(p, n))
	}
	return p
}

// templateDay is the timetable of day d (0 = Monday) of a module. The week opens with
// introductions and closes early so that people can travel home.
func templateDay(d int, theme string) []Slot {
	opening := Slot{"09:30", "10:30", "Morning check-in and dialogue", SlotDialogue}
	if d == 0 {
		opening = Slot{"09:30", "10:30", "Welcome, introductions and hopes for the week", SlotDialogue}
	}
	slots := []Slot{
		opening,
		{"10:30", "10:45", "Break", SlotBreak},
		{"10:45", "12:15", theme, SlotTeaching},
		{"12:15", "13:15", "Lunch", SlotBreak},
		{"13:15", "14:45", "Reflecting-team practice in small groups", SlotReflectingTeam},
		{"14:45", "15:00", "Break", SlotBreak},
	}
	if d == templateModuleDays-1 {
		return append(slots, Slot{"15:00", "16:00", "Closing circle and plans for the period ahead", SlotDialogue})
	}
	return append(slots,
		Slot{"15:00", "16:15", "Afternoon practice: role-played network meetings", SlotPractice},
		Slot{"16:15", "17:00", "Closing circle", SlotDialogue},
	)
}

// templateReading is a reading of the template, cited only as far as the programme's
// background article cites it.
type templateReading struct {
	title, description, slug string
	cite                     Citation
}

var templateReadings = [3][]templateReading{
	{
		{"The seven principles of open dialogue", "Read how the five organisational and two practice principles came out of research on network meetings. Note which of the principles your own service already meets, and which it does not.",
			"social-network-perspective", Citation{Authors: "Seikkula", Year: 2003}},
		{"Open dialogue as a system and as a way of talking", "Read about the two features of open dialogue: an integrated service that involves the network from the first contact, and dialogic practice within the treatment meeting.",
			"programme-overview", Citation{Authors: "Olson et al", Year: 2014}},
		{"The need-adapted treatment model", "Read about the Finnish research that led to need-adapted treatment, and the factors it found for success. Think about how care adapted to each person and family differs from care by protocol.",
			"flexibility-and-mobility", Citation{Authors: "Alanen", Year: 1997}},
		{"Two-year outcomes of open dialogue in Finland", "Read the outcome study behind the first-episode psychosis figures discussed in module 1, and look at what was measured and how.",
			"evidence-base", Citation{Authors: "Seikkula et al", Year: 2003}},
	},
	{
		{"Dialogism in Bakhtin's work", "Read the source of the idea of dialogism. Bring one passage to the next facilitated dialogue that changed how you listen.",
			"dialogism-and-polyphony", Citation{Authors: "Holquist", Year: 1981, Title: "The Dialogic Imagination"}},
		{"The reflecting team", "Read how the reflecting team came out from behind the one-way mirror and into the room with the family.",
			"module-2-overview", Citation{Authors: "Andersen", Year: 1990}},
		{"Reflecting processes and new understandings", "Read about conversations between professionals held in front of the whole network, and what they make possible.",
			"dialogism-and-polyphony", Citation{Authors: "Andersen", Year: 1995}},
		{"Every voice, and the feelings in the room", "Read about a conversational culture that makes space for every utterance, and about staying with the strong feelings a meeting can bring without explaining them away.",
			"tolerance-of-uncertainty", Citation{Authors: "Seikkula", Year: 2005}},
	},
	{
		{"The case for a new approach to mental healthcare", "Read the argument that care guided mainly by a technical paradigm leaves out the social side of mental health.",
			"module-3-overview", Citation{Authors: "Bracken", Year: 2012}},
		{"Social relationships and the future of psychiatry", "Read the editorial on social relationships in psychiatry and the slow progress of research over three decades.",
			"evidence-base", Citation{Authors: "Priebe", Year: 2013}},
		{"What peer workers bring", "Read about the benefits of peer worker roles for peer workers, for the people they support and for services. Note what would help peer workers in your own team.",
			"peer-support", Citation{Authors: "Repper & Carter", Year: 2011}},
	},
}

var templateCollaborations = [3]struct{ title, description, slug string }{
	{"Map a social network", "In your small online group, draw (in words or pictures) the social network of a person you have worked with, with every detail that could identify them removed. Post it to the group and comment on two others: who else could have been invited to the first meeting?",
		"social-network-perspective"},
	{"Reflect on a reflecting conversation", "With two others from your group, hold a short conversation online about a meeting you took part in, then take turns to reflect on it aloud while the others listen. Each of you posts a few lines on what it was like to be reflected on.",
		"dialogism-and-polyphony"},
	{"Plan a dialogical service", "As a group, sketch how a team in one of your trusts could offer a first network meeting within 24 hours, and who would be in it, peer support workers included. Bring the plan to module 4.",
		"risk-and-governance"},
}

// templatePeriod is the period after module n.
func templatePeriod(p Programme, n int) Period {
	start, end := p.PeriodDates(n)
	per := Period{AfterModule: n}
	for i, r := range templateReadings[n-1] {
		cite := r.cite
		per.Activities = append(per.Activities, Activity{
			ID: fmt.Sprintf("p%d-reading-%d", n, i+1), Kind: ActivityReading,
			Title: r.title, Description: r.description, Reading: &cite, CurriculumSlug: r.slug,
		})
	}
	collab := templateCollaborations[n-1]
	per.Activities = append(per.Activities, Activity{
		ID: fmt.Sprintf("p%d-collaboration", n), Kind: ActivityCollaboration,
		Title: collab.title, Description: collab.description, Due: end, CurriculumSlug: collab.slug,
	})
	// Fortnightly on Wednesdays, from the first Wednesday after the module ends.
	wed := start
	for wed.Weekday() != time.Wednesday {
		wed = wed.AddDate(0, 0, 1)
	}
	for i := 1; !wed.After(end); i, wed = i+1, wed.AddDate(0, 0, 14) {
		at := time.Date(wed.Year(), wed.Month(), wed.Day(), 18, 0, 0, 0, london).UTC()
		per.Activities = append(per.Activities, Activity{
			ID: fmt.Sprintf("p%d-dialogue-%d", n, i), Kind: ActivityDialogue,
			Title:       fmt.Sprintf("Facilitated dialogue %d after module %d", i, n),
			Description: "An hour and a half with your cohort and a facilitator in the dialogue room: bring what the module and the readings stirred in you, and listen to the others.",
			Session:     &DialogueSession{Start: at, Minutes: templateSessionMins, Room: templateSessionRoom},
		})
	}
	per.Activities = append(per.Activities, Activity{
		ID: fmt.Sprintf("p%d-practice", n), Kind: ActivityPractice,
		Title:          "Daily mindfulness practice",
		Description:    "Sit for ten to twenty minutes each day in mindfulness or another silent, contemplative practice, and note it in your practice log. The aim is a regular personal practice that lasts beyond the programme.",
		CurriculumSlug: "mindful-approach",
	})
	return per
}
