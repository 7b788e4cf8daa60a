package realtime

import (
	"slices"
	"sort"
	"strings"
	"time"

	"polyphony/internal/failure"
)

// facilitatorOnly are the messages only a facilitator may send.
var facilitatorOnly = map[string]bool{
	"give_floor": true, "start_go_round": true, "end_go_round": true, "set_phase": true,
	"start_pause": true, "lock_input": true, "unlock_input": true, "remove": true,
	"close_room": true,
}

// act carries out one well-formed message from me, or tells c (me's connection, when it is
// on this instance) why not.
func (r *room) act(me Member, c *client, in inbound) {
	st := r.st
	if facilitatorOnly[in.Type] && me.Role != Facilitator {
		r.errorTo(c, in, "only a facilitator may do this")
		return
	}
	if !st.open {
		if in.Type != "typing" {
			r.errorTo(c, in, "the room is closed")
		}
		return
	}
	switch in.Type {
	case "say":
		r.say(me, c, in)
	case "typing":
		r.broadcast(mustJSON(typingMsg{Type: "typing", UserID: me.UserID, Name: me.Name}), c)
	case "raise_hand":
		for _, h := range st.hands {
			if h.UserID == me.UserID {
				return
			}
		}
		st.hands = append(st.hands, me)
		r.emitHands()
	case "lower_hand":
		target := me.UserID
		if in.UserID != "" && in.UserID != me.UserID {
			if me.Role != Facilitator {
				r.errorTo(c, in, "only a facilitator may lower someone else's hand")
				return
			}
			target = in.UserID
		}
		r.lowerHand(target)
	case "give_floor":
		m, ok := r.presentMember(in.UserID)
		if !ok {
			r.errorTo(c, in, "userId is not in the room")
			return
		}
		if st.goRound != nil {
			r.errorTo(c, in, "the go-round holds the floor: end it first")
			return
		}
		st.floor = &m
		r.emit(Event{Type: EventFloor, UserID: me.UserID, Name: me.Name, Role: me.Role, Target: &m})
		r.lowerHand(m.UserID)
	case "start_go_round":
		if st.goRound != nil {
			r.errorTo(c, in, "a go-round is already under way")
			return
		}
		if len(st.order) == 0 {
			r.errorTo(c, in, "nobody is in the room")
			return
		}
		st.goRound, st.goTurn = r.goRoundOrder(in.Order), 0
		st.floor = nil
		r.emitGoRound()
	case "pass":
		if st.goRound == nil || st.goRound[st.goTurn].UserID != me.UserID {
			r.errorTo(c, in, "you do not hold the floor in a go-round")
			return
		}
		r.advanceGoRound()
	case "end_go_round":
		if st.goRound == nil {
			r.errorTo(c, in, "no go-round is under way")
			return
		}
		st.goRound = nil
		r.emitGoRound()
	case "set_phase":
		st.phase = in.Phase
		r.emit(Event{Type: EventPhase, UserID: me.UserID, Name: me.Name, Role: me.Role, Phase: in.Phase})
	case "start_pause":
		d := time.Duration(*in.Seconds) * r.hub.second
		until := r.hub.opts.Now().UTC().Truncate(time.Millisecond).Add(d)
		st.pauseUntil = &until
		r.pauseC = time.After(d)
		r.emit(Event{Type: EventPause, UserID: me.UserID, Name: me.Name, Role: me.Role,
			Active: boolp(true), Until: &until})
	case "lock_input", "unlock_input":
		st.locked = in.Type == "lock_input"
		r.emit(Event{Type: EventInput, UserID: me.UserID, Name: me.Name, Role: me.Role, Locked: boolp(st.locked)})
	case "remove":
		if in.UserID == me.UserID {
			r.errorTo(c, in, "you cannot remove yourself")
			return
		}
		target, ok := r.presentMember(in.UserID)
		if !ok {
			target = Member{UserID: in.UserID}
		}
		st.removed[in.UserID] = true
		r.emit(Event{Type: EventRemoved, UserID: me.UserID, Name: me.Name, Role: me.Role, Target: &target})
		r.removeEverywhere(in.UserID)
	case "close_room":
		r.setOpen(me, false)
	}
}

// say puts a turn on the timeline if the room's rules let c speak now. A resend of a turn
// already made is acknowledged again, once stored, and not repeated.
func (r *room) say(me Member, c *client, in inbound) {
	st := r.st
	if seq, ok := st.said[me.UserID+"\x00"+in.ID]; ok {
		if c == nil {
			return
		}
		if seq <= st.stored {
			r.deliver(c, mustJSON(ack{Type: "ack", ID: in.ID, AckSeq: seq}))
			return
		}
		// Acks wait in sequence order.
		i := sort.Search(len(r.acks), func(i int) bool { return r.acks[i].seq > seq })
		r.acks = slices.Insert(r.acks, i, pendingAck{seq: seq, c: c, id: in.ID})
		return
	}
	facilitator := me.Role == Facilitator
	holder := ""
	if st.goRound != nil {
		holder = st.goRound[st.goTurn].UserID
	} else if st.floor != nil {
		holder = st.floor.UserID
	}
	switch {
	case st.pauseUntil != nil:
		r.errorTo(c, in, "the room is in a mindful pause")
		return
	case st.phase == PhaseTeamReflects && !facilitator:
		r.errorTo(c, in, "the reflecting team is speaking: the network listens until the facilitator moves on")
		return
	case st.goRound != nil && !facilitator && holder != me.UserID:
		r.errorTo(c, in, "the floor is with "+st.goRound[st.goTurn].Name+" in the go-round")
		return
	case st.locked && !facilitator && holder != me.UserID:
		r.errorTo(c, in, "input is locked by the facilitator")
		return
	}
	text := strings.TrimSpace(in.Text)
	seq := r.emit(Event{Type: EventSay, UserID: me.UserID, Name: me.Name, Role: me.Role,
		Text: text, ClientID: in.ID})
	st.remember(me.UserID, in.ID, seq)
	if c != nil {
		r.acks = append(r.acks, pendingAck{seq: seq, c: c, id: in.ID})
	}
	st.meter.said(me, text)
	r.armMeter()
	if st.goRound != nil && holder == me.UserID {
		r.advanceGoRound()
	}
}

func (r *room) presentMember(userID string) (Member, bool) {
	for _, m := range r.st.order {
		if m.UserID == userID {
			return m, true
		}
	}
	return Member{}, false
}

func (r *room) lowerHand(userID string) {
	st := r.st
	for i, h := range st.hands {
		if h.UserID == userID {
			st.hands = append(st.hands[:i:i], st.hands[i+1:]...)
			r.emitHands()
			return
		}
	}
}

func (r *room) emitHands() {
	r.emit(Event{Type: EventHandQueue, Queue: append([]Member{}, r.st.hands...)})
}

// goRoundOrder is the order of a go-round the facilitator starts: the people named in asked,
// in that order, and then everyone else present in the order they came into the room. The
// facilitator's list was made from the room as their page saw it, so a name that has left
// since is passed over and a person who came in since is not left out.
func (r *room) goRoundOrder(asked []string) []Member {
	out := make([]Member, 0, len(r.st.order))
	placed := map[string]bool{}
	for _, id := range asked {
		if m, ok := r.presentMember(id); ok && !placed[id] {
			out = append(out, m)
			placed[id] = true
		}
	}
	for _, m := range r.st.order {
		if !placed[m.UserID] {
			out = append(out, m)
		}
	}
	return out
}

// advanceGoRound passes the floor to the next person still present; after the last the
// round ends.
func (r *room) advanceGoRound() {
	st := r.st
	for st.goTurn++; st.goTurn < len(st.goRound); st.goTurn++ {
		if st.present[st.goRound[st.goTurn].UserID] > 0 {
			r.emitGoRound()
			return
		}
	}
	st.goRound = nil
	r.emitGoRound()
}

func (r *room) emitGoRound() {
	st := r.st
	if st.goRound == nil {
		r.emit(Event{Type: EventGoRound, Active: boolp(false)})
		return
	}
	h := st.goRound[st.goTurn]
	r.emit(Event{Type: EventGoRound, Active: boolp(true), Order: append([]Member{}, st.goRound...), Target: &h})
}

// setOpen opens or closes the room. Opening starts a fresh session: removals are lifted, the
// phase is network_speaks and the meter starts again; closing ends hands, floor, go-round,
// pause and lock.
func (r *room) setOpen(by Member, open bool) error {
	st := r.st
	if by.Role != Facilitator {
		return failure.ErrForbidden
	}
	if st.open == open {
		return nil
	}
	st.resetForOpen(open, st.order)
	r.pauseC = nil
	r.emit(Event{Type: EventRoom, UserID: by.UserID, Name: by.Name, Role: by.Role, Open: boolp(open)})
	if open {
		if len(st.order) > 0 {
			r.armMeter()
		}
		r.emit(Event{Type: EventPhase, UserID: by.UserID, Name: by.Name, Role: by.Role, Phase: st.phase})
	}
	return nil
}
