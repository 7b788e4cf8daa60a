package realtime

import (
	"sort"
	"strings"
)

// voice is what one person has said since the room opened.
type voice struct {
	Member
	Turns int
	Words int
}

// MeterLine is one person's share of voice.
type MeterLine struct {
	UserID    string  `json:"userId"`
	Name      string  `json:"name"`
	Role      Role    `json:"role"`
	Turns     int     `json:"turns"`
	Words     int     `json:"words"`
	WordShare float64 `json:"wordShare"`
	TurnShare float64 `json:"turnShare"`
}

// meterMsg is the polyphony meter as one recipient sees it: the whole room for a
// facilitator, only their own line for a trainee.
type meterMsg struct {
	Type    string      `json:"type"`
	Members []MeterLine `json:"members,omitempty"`
	Equity  *float64    `json:"equity,omitempty"`
	Self    *MeterLine  `json:"self,omitempty"`
}

// meter counts turns and words per person present at least once since the room opened.
type meter struct {
	voices map[string]*voice
	order  []string // first appearance
}

func newMeter() *meter { return &meter{voices: map[string]*voice{}} }

// seen adds a person with no words yet; everyone present counts in the equity index.
func (m *meter) seen(p Member) {
	if _, ok := m.voices[p.UserID]; ok {
		return
	}
	m.voices[p.UserID] = &voice{Member: p}
	m.order = append(m.order, p.UserID)
}

// said counts one turn.
func (m *meter) said(p Member, text string) {
	m.seen(p)
	v := m.voices[p.UserID]
	v.Turns++
	v.Words += len(strings.Fields(text))
}

func (m *meter) lines() []MeterLine {
	var words, turns int
	for _, v := range m.voices {
		words += v.Words
		turns += v.Turns
	}
	out := make([]MeterLine, 0, len(m.order))
	for _, id := range m.order {
		v := m.voices[id]
		l := MeterLine{UserID: v.UserID, Name: v.Name, Role: v.Role, Turns: v.Turns, Words: v.Words}
		if words > 0 {
			l.WordShare = float64(v.Words) / float64(words)
		}
		if turns > 0 {
			l.TurnShare = float64(v.Turns) / float64(turns)
		}
		out = append(out, l)
	}
	return out
}

// equity is 1 − the Gini coefficient of word counts, normalised by n/(n−1): 1 when everyone
// present spoke equally (or nobody has spoken, or one person was there), 0 when one person
// spoke every word.
func (m *meter) equity() float64 {
	n := len(m.voices)
	if n < 2 {
		return 1
	}
	xs := make([]float64, 0, n)
	var sum float64
	for _, v := range m.voices {
		xs = append(xs, float64(v.Words))
		sum += float64(v.Words)
	}
	if sum == 0 {
		return 1
	}
	sort.Float64s(xs)
	// Gini from sorted values: Σ (2i − n − 1)·x_i / (n·Σx), i from 1.
	var acc float64
	for i, x := range xs {
		acc += float64(2*(i+1)-n-1) * x
	}
	g := acc / (float64(n) * sum)
	return 1 - g*float64(n)/float64(n-1)
}

// view is the meter message for one recipient.
func (m *meter) view(p Member) meterMsg {
	lines := m.lines()
	if p.Role == Facilitator {
		eq := m.equity()
		return meterMsg{Type: "meter", Members: lines, Equity: &eq}
	}
	for _, l := range lines {
		if l.UserID == p.UserID {
			return meterMsg{Type: "meter", Self: &l}
		}
	}
	return meterMsg{Type: "meter", Self: &MeterLine{UserID: p.UserID, Name: p.Name, Role: p.Role}}
}
