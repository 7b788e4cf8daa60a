package courses

import (
	"fmt"
	"strings"

	"polyphony/internal/failure"
)

// TagKind groups the tags a journal entry may carry.
type TagKind string

// The kinds of tag.
const (
	TagPrinciple   TagKind = "principle"
	TagModule      TagKind = "module"
	TagResidential TagKind = "residential"
)

// JournalTag is one tag an entry may carry: its id as stored and its label as shown.
type JournalTag struct {
	ID    string  `json:"id"`
	Label string  `json:"label"`
	Kind  TagKind `json:"kind"`
}

// openDialoguePrinciples are the seven principles of Open Dialogue.
var openDialoguePrinciples = []JournalTag{
	{"immediate-help", "Immediate help", TagPrinciple},
	{"social-network-perspective", "Social network perspective", TagPrinciple},
	{"flexibility-and-mobility", "Flexibility and mobility", TagPrinciple},
	{"responsibility", "Responsibility", TagPrinciple},
	{"psychological-continuity", "Psychological continuity", TagPrinciple},
	{"tolerance-of-uncertainty", "Tolerance of uncertainty", TagPrinciple},
	{"dialogism", "Dialogism (polyphony)", TagPrinciple},
}

// journalTags is every known tag in the order pages offer them: the principles, the four
// modules, then each day of each residential module (the ids of the attendance occasions,
// "module-2-day-3").
var journalTags = func() []JournalTag {
	tags := clone(openDialoguePrinciples)
	for m := 1; m <= 4; m++ {
		tags = append(tags, JournalTag{fmt.Sprintf("module-%d", m), fmt.Sprintf("Module %d", m), TagModule})
	}
	for m := 1; m <= 4; m++ {
		for d := 1; d <= templateModuleDays; d++ {
			tags = append(tags, JournalTag{fmt.Sprintf("module-%d-day-%d", m, d), fmt.Sprintf("Module %d, day %d", m, d), TagResidential})
		}
	}
	return tags
}()

var tagOrder = func() map[string]int {
	order := map[string]int{}
	for i, t := range journalTags {
		order[t.ID] = i
	}
	return order
}()

// JournalTags lists every tag an entry may carry.
func JournalTags() []JournalTag { return clone(journalTags) }

// normaliseTags refuses an unknown tag, naming it, and returns the tags without repeats in
// the list's order.
func normaliseTags(tags []string) ([]string, error) {
	picked := make([]bool, len(journalTags))
	for i, t := range tags {
		id := strings.ToLower(strings.TrimSpace(t))
		n, ok := tagOrder[id]
		if !ok {
			return nil, failure.Problemf(fmt.Sprintf("tags[%d]", i),
				"Choose tags from the list: %q is not one of them (the tags are the seven principles, such as immediate-help or dialogism, module-1 to module-4, and residential days such as module-2-day-3)", t)
		}
		picked[n] = true
	}
	out := []string{}
	for i, p := range picked {
		if p {
			out = append(out, journalTags[i].ID)
		}
	}
	return out, nil
}
