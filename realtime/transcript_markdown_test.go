package realtime

import (
	"context"
	"testing"
	"time"
)

// The Markdown transcript is a document a person would keep: title, date, facilitators, who
// was present, phases as headings and the turns, with no joins and leaves and no escaping of
// ordinary punctuation; a withdrawn turn keeps its place without its words.
func TestTranscriptDocument(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	tara := Member{UserID: "u4", Name: "Tara", Role: Trainee}
	events := []Event{
		{Type: EventJoined, UserID: fac1.UserID, Name: fac1.Name, Role: Facilitator, At: at(0)},
		{Type: EventRoom, UserID: fac1.UserID, Name: fac1.Name, Role: Facilitator, Open: boolp(true), At: at(0)},
		{Type: EventPhase, Phase: PhaseNetworkSpeaks, At: at(0)},
		{Type: EventJoined, UserID: tara.UserID, Name: tara.Name, Role: Trainee, At: at(1)},
		{Type: EventJoined, UserID: ada.UserID, Name: ada.Name, Role: Trainee, At: at(1)},
		{Type: EventSay, UserID: tara.UserID, Name: tara.Name, Role: Trainee, Text: "Thanks, Tara. I heard you (mostly): it's 50% hope & 50% fear!", ClientID: "t1", At: at(2)},
		{Type: EventLeft, UserID: ada.UserID, Name: ada.Name, Role: Trainee, At: at(3)},
		{Type: EventJoined, UserID: ada.UserID, Name: ada.Name, Role: Trainee, At: at(4)},
		{Type: EventSay, UserID: ada.UserID, Name: ada.Name, Role: Trainee, Text: "something I regret", ClientID: "a1", At: at(5)},
		{Type: EventSay, UserID: ada.UserID, Name: ada.Name, Role: Trainee, Text: "# not a heading\n1. not a list\n*not bold* <b>x</b> [link](javascript:x) snake_case", ClientID: "a2", At: at(6)},
		{Type: EventGoRound, Active: boolp(true), Order: []Member{tara, ada}, Target: &tara, At: at(7)},
		{Type: EventGoRound, Active: boolp(true), Order: []Member{tara, ada}, Target: &ada, At: at(8)},
		{Type: EventGoRound, Active: boolp(false), At: at(9)},
		{Type: EventPhase, Phase: PhaseTeamReflects, At: at(10)},
		{Type: EventSay, UserID: fac1.UserID, Name: fac1.Name, Role: Facilitator, Text: "I wonder.", ClientID: "f1", At: at(11)},
		{Type: EventRoom, UserID: fac1.UserID, Name: fac1.Name, Role: Facilitator, Open: boolp(false), At: at(40)},
	}
	for i := range events {
		events[i].Seq = uint64(i + 1)
	}
	if err := store.append(ctx, "r1", events); err != nil {
		t.Fatal(err)
	}
	if err := store.Withdraw(ctx, "r1", 9, ada.UserID); err != nil {
		t.Fatal(err)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	md, err := store.Document(ctx, "r1", TranscriptHeading{Title: "Facilitated dialogue 3", Cohort: "North cohort 2026", Scheduled: t0, Location: london})
	if err != nil {
		t.Fatal(err)
	}
	want := `# Facilitated dialogue 3

North cohort 2026: transcript of the dialogue room.

- Planned for: Monday 7 December 2026, 18:00
- Held: Monday 7 December 2026
- Facilitators: Fran
- Present: Tara, Ada

## Monday 7 December 2026, 18:00

*18:00: room opened.*

### The network speaks

*18:00*

**Tara**, 18:02: Thanks, Tara. I heard you (mostly): it's 50% hope & 50% fear!

**Ada**, 18:05: *(withdrawn by the speaker)*

**Ada**, 18:06: \# not a heading\
1\. not a list\
\*not bold\* \<b\>x\</b\> \[link\](javascript:x) snake_case

*18:07: a go-round began, in this order: Tara, Ada.*

*18:09: the go-round ended.*

### The team reflects

*18:10*

**Fran (facilitator)**, 18:11: I wonder.

*18:40: room closed.*
`
	if string(md) != want {
		t.Errorf("transcript document:\n%s\nwant:\n%s", md, want)
	}
}
