package marking

// The two rubrics shipped with Polyphony, stored by Store.EnsureExamples as version 1. Their
// ids are fixed, so that every instance stores the same two once.

// SevenPrinciplesRubricID and KeyElementsRubricID are the ids of the shipped rubrics.
const (
	SevenPrinciplesRubricID = "seven-principles"
	KeyElementsRubricID     = "key-elements"
)

// SevenPrinciplesRubric is a reflective account marked against the seven principles of Open
// Dialogue. Each principle is marked refer (0), pass (2) or merit (3); the pass mark, 14 of
// 21, is the total of a pass on every principle, so an account passes overall only when its
// strengths make up for what it lacks.
func SevenPrinciplesRubric() Rubric {
	principle := func(id, title, guidance, refer, pass, merit string) Criterion {
		return Criterion{ID: id, Title: title, Guidance: guidance, Levels: []Level{
			{ID: "refer", Title: "Refer", Descriptor: refer, Marks: 0, Outcome: OutcomeRefer},
			{ID: "pass", Title: "Pass", Descriptor: pass, Marks: 2, Outcome: OutcomePass},
			{ID: "merit", Title: "Merit", Descriptor: merit, Marks: 3, Outcome: OutcomePass},
		}}
	}
	return Rubric{
		ID:       SevenPrinciplesRubricID,
		Version:  1,
		Title:    "Reflective account: the seven principles of Open Dialogue",
		Rule:     RuleSum,
		PassMark: 14,
		Criteria: []Criterion{
			principle("immediate-help", "Immediate help",
				"How the account shows meeting a crisis promptly, within a day where it can be.",
				"The account does not say how help was arranged or how quickly, or treats delay as unremarkable.",
				"The account describes how the first meeting was arranged and reflects on what its timing meant for the people involved.",
				"The account weighs the timing of help against what the people in crisis asked for, and draws on it for the trainee's own practice."),
			principle("social-network", "A social network perspective",
				"How the account brings in the family, friends and others who matter to the person.",
				"The account is about the individual alone; the people around them are absent or mentioned only in passing.",
				"The account shows who was invited, who came and why, and reflects on the network's part in the meetings.",
				"The account explores how the network's voices changed the understanding of the crisis, including the voices of those who were not in the room."),
			principle("flexibility", "Flexibility and mobility",
				"How the account shows the response adapting to the needs of the person and network.",
				"The response described follows a fixed routine, and the account does not question it.",
				"The account shows the place, timing or form of meetings chosen to fit the people, and reflects on the choices.",
				"The account reflects critically on where flexibility met the limits of the service and what the trainee learned from it."),
			principle("responsibility", "Responsibility",
				"How the account shows the team taking responsibility for the care from the first contact.",
				"Responsibility is passed on or left unclear, and the account does not notice it.",
				"The account shows who took responsibility for organising the first meeting and what followed.",
				"The account reflects on how shared responsibility felt to the team and the network, and on the trainee's own part in it."),
			principle("continuity", "Psychological continuity",
				"How the account shows the same people staying with the network across the meetings.",
				"The account does not show who stayed involved, or describes hand-overs without reflection.",
				"The account shows continuity of the team across meetings and reflects on its value.",
				"The account reflects on what continuity made possible and on a moment when it was at risk."),
			principle("uncertainty", "Tolerance of uncertainty",
				"How the account shows the team and the network bearing not knowing without hurrying to conclusions.",
				"The account moves quickly to explanations, decisions or diagnoses without reflecting on it.",
				"The account shows moments where decisions were held open and reflects on how that was sustained.",
				"The account examines the trainee's own discomfort with uncertainty and how it shaped their responses."),
			principle("dialogism", "Dialogism and polyphony",
				"How the account shows dialogue among many voices, each heard, rather than persuasion towards one view.",
				"The account reports the professionals' view, and other voices appear only as information.",
				"The account shows different voices being heard and responded to, and reflects on the trainee's own listening.",
				"The account shows new understanding arising between voices, and reflects on the trainee's contribution to it."),
		},
	}
}

// KeyElementsRubric rates a dialogue transcript against the twelve key elements of
// dialogic practice of Olson, Seikkula and Ziedonis (2014), each on their ordinal scale: 0 not
// present, 1 partly, 2 clearly, 3 exemplary, the marks being the level's number. A rater
// cites the turns that show each element.
//
// The pass mark is 18 of 36, on average between "partly" and "clearly" on every element: a
// training dialogue among trainees cannot show every element fully (there may be no family or
// network present, or only one practitioner), so asking for "clearly" on all twelve would
// refer sound practice; half the maximum asks that most elements be present and some clearly.
func KeyElementsRubric() Rubric {
	element := func(id, title, guidance string) Criterion {
		return Criterion{ID: id, Title: title, Guidance: guidance, Levels: []Level{
			{ID: "0", Title: "Not present", Descriptor: "The element does not appear in the dialogue.", Marks: 0, Outcome: OutcomeRefer},
			{ID: "1", Title: "Partly", Descriptor: "The element appears briefly or incompletely.", Marks: 1, Outcome: OutcomeRefer},
			{ID: "2", Title: "Clearly", Descriptor: "The element appears clearly and more than once.", Marks: 2, Outcome: OutcomePass},
			{ID: "3", Title: "Exemplary", Descriptor: "The element runs through the dialogue and could be shown to others as an example.", Marks: 3, Outcome: OutcomePass},
		}}
	}
	return Rubric{
		ID:         KeyElementsRubricID,
		Version:    1,
		Title:      "Key elements of dialogic practice (Olson, Seikkula and Ziedonis, 2014)",
		Rule:       RuleSum,
		PassMark:   18,
		CitesTurns: true,
		Criteria: []Criterion{
			element("two-therapists", "Two (or more) therapists in the meeting", "More than one practitioner takes part, and they work together in the dialogue."),
			element("network", "Participation of family and network", "The people who matter to the person are invited and their voices are part of the meeting."),
			element("open-questions", "Use of open-ended questions", "Questions leave room for the person's own words rather than asking for facts or yes and no."),
			element("responding", "Responding to clients' utterances", "Responses take up what was just said, in the person's words, rather than moving to a new topic."),
			element("present-moment", "Emphasising the present moment", "The practitioners attend to what is happening here and now in the meeting, including feelings in the room."),
			element("multiple-viewpoints", "Eliciting multiple viewpoints", "Every participant's view is sought and each is given room."),
			element("relational-focus", "Use of a relational focus in the dialogue", "The dialogue attends to relationships between people rather than to one person's symptoms alone."),
			element("matter-of-fact", "Responding to problem discourse in a matter-of-fact style, attentive to meaning", "Talk of problems is met calmly, neither alarmed nor dismissive, with interest in what it means."),
			element("own-words", "Emphasising the clients' own words and stories, not symptoms", "The person's own language and stories lead, rather than clinical terms."),
			element("reflections", "Conversation amongst professionals (reflections) in the meeting", "The practitioners reflect with each other openly in front of the network, and the network responds."),
			element("transparency", "Being transparent", "Plans, thoughts and decisions about the person are spoken of openly in the meeting."),
			element("uncertainty", "Tolerating uncertainty", "The practitioners hold back from early conclusions and keep questions open."),
		},
	}
}
