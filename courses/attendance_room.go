package courses

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// ErrNotHeldYet is the answer to taking a session's register from its dialogue room before
// the session's date, unless a facilitator confirms that the session was held: a room can be
// used early for something else, so the room alone does not decide.
var ErrNotHeldYet = errors.New("the session's date has not come yet")

// RoomRegister is the register of a dialogue session as its room gives it.
type RoomRegister struct {
	Occasion Occasion
	// Begun says the session's date has come; before it, the register is taken from the room
	// only when a facilitator confirms that the session was held.
	Begun bool
	// Lines has one line for each trainee of the cohort, in the order they joined it.
	Lines []RoomRegisterLine
	// Present and Absent count the marks the room gives (kept marks are not counted).
	Present, Absent int
	// Taken says the marks are stored.
	Taken bool
}

// RoomRegisterLine is what the room gives one trainee: present, with how long, if they were
// in the room; otherwise absent, unless the register already marks them (an agreed absence,
// or a mark a facilitator made), which is kept.
type RoomRegisterLine struct {
	UserID string
	Mark   Mark
	Note   string
	// Kept says Mark and Note are the register's current ones, which the room leaves alone.
	Kept bool
}

// PlanRoomRegister works out the register of a dialogue session from how long each person
// was in its room (by user id; anyone not listed never came), without storing it.
func (s *Store) PlanRoomRegister(ctx context.Context, cohortID, occasion string, inRoom map[string]time.Duration) (RoomRegister, error) {
	_, o, err := s.programmeOccasion(ctx, cohortID, occasion)
	if err != nil {
		return RoomRegister{}, err
	}
	if o.Kind != OccasionDialogue {
		return RoomRegister{}, failure.Invalidf("occasion", "%s is not a dialogue session", o.Title)
	}
	members, err := s.Members(ctx, cohortID)
	if err != nil {
		return RoomRegister{}, err
	}
	current, err := s.currentMarks(ctx, registerID(cohortID, occasion))
	if err != nil {
		return RoomRegister{}, err
	}
	reg := RoomRegister{Occasion: o, Begun: o.begun(s.now())}
	for _, m := range members {
		if m.Role != accounts.RoleTrainee {
			continue
		}
		line := RoomRegisterLine{UserID: m.UserID}
		if d, came := inRoom[m.UserID]; came {
			line.Mark, line.Note = Present, "In the dialogue room for "+roomMinutes(d)
			reg.Present++
		} else if doc, marked := current[markKey{occasion, m.UserID}]; marked {
			line.Mark, line.Note, line.Kept = doc.Mark, doc.Note, true
		} else {
			line.Mark, line.Note = Absent, "Not in the dialogue room"
			reg.Absent++
		}
		reg.Lines = append(reg.Lines, line)
	}
	return reg, nil
}

// TakeRoomRegister takes the register of a dialogue session from its room, as
// PlanRoomRegister works it out. When no trainee came, nothing is stored: a room opened and
// closed with nobody in it says nothing about the session. Before the session's date it
// answers ErrNotHeldYet, with the plan, unless held confirms that the session took place.
func (s *Store) TakeRoomRegister(ctx context.Context, cohortID, occasion string, inRoom map[string]time.Duration, by string, held bool) (RoomRegister, error) {
	reg, err := s.PlanRoomRegister(ctx, cohortID, occasion, inRoom)
	if err != nil {
		return RoomRegister{}, err
	}
	if reg.Present == 0 {
		return reg, nil
	}
	if !reg.Begun && !held {
		return reg, fmt.Errorf("register of %s from its room: %w", occasion, ErrNotHeldYet)
	}
	var entries []AttendanceEntry
	for _, l := range reg.Lines {
		if !l.Kept {
			entries = append(entries, AttendanceEntry{UserID: l.UserID, Mark: l.Mark, Note: l.Note})
		}
	}
	if err := s.takeRegister(ctx, cohortID, reg.Occasion, entries, by, true); err != nil {
		return RoomRegister{}, err
	}
	reg.Taken = true
	return reg, nil
}

// roomMinutes says how long someone was in a room in words a register reads well with: a
// short visit is "less than a minute", never "0 minutes".
func roomMinutes(d time.Duration) string {
	switch n := int(d.Round(time.Minute).Minutes()); {
	case d < time.Minute:
		return "less than a minute"
	case n == 1:
		return "1 minute"
	default:
		return strconv.Itoa(n) + " minutes"
	}
}
