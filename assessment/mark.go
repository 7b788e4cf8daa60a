package assessment

import (
	"fmt"
	"strconv"
	"strings"
)

// noAnswer marks a question left unanswered.
const noAnswer = -1

// markedItem is one question of a marked attempt, in the order the trainee saw them.
type markedItem struct {
	QuestionID string `bson:"questionId"`
	Revision   int    `bson:"revision"`
	// Shown is the option the trainee chose as shown to them (-1: none); Chosen is the same
	// option's index in the question as written, the one item analysis counts.
	Shown   int  `bson:"shown"`
	Chosen  int  `bson:"chosen"`
	Right   int  `bson:"right"`
	Options int  `bson:"options"`
	Correct bool `bson:"correct"`
}

// mark scores an attempt: one mark for each question whose chosen option is the right one.
// answers[k] is the option chosen for the k-th question as shown (-1 for none). It reads
// nothing but its arguments, so that what a result says follows from the attempt as stored.
func mark(p *paper, items []item, answers []int) (marks int, out []markedItem) {
	out = make([]markedItem, len(items))
	for k, it := range items {
		q := &p.questions[it.Q]
		m := markedItem{QuestionID: q.ID, Revision: q.Revision, Shown: noAnswer, Chosen: noAnswer, Right: p.right[it.Q], Options: len(it.Options)}
		if k < len(answers) && answers[k] >= 0 && answers[k] < len(it.Options) {
			m.Shown, m.Chosen = answers[k], it.Options[answers[k]]
			m.Correct = m.Chosen == m.Right
		}
		if m.Correct {
			marks++
		}
		out[k] = m
	}
	return marks, out
}

// packItems writes marked items as one string, the form results are stored in: for each
// item its question id, revision, shown, chosen and right options and number of options,
// separated by spaces, the items separated by semicolons. A result holds one item per
// question, and embedded FerretDB spends far longer turning an array of documents from its
// storage form into BSON than one string (a result of 50 items as documents took
// milliseconds to read). ok is false when a question id holds a separator, and the items are
// then stored as documents.
func packItems(items []markedItem) (packed string, ok bool) {
	var b strings.Builder
	for i, m := range items {
		if m.QuestionID == "" || strings.ContainsAny(m.QuestionID, " ;") {
			return "", false
		}
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(m.QuestionID)
		for _, n := range []int{m.Revision, m.Shown, m.Chosen, m.Right, m.Options} {
			b.WriteByte(' ')
			b.WriteString(strconv.Itoa(n))
		}
	}
	return b.String(), true
}

// unpackItems reads what packItems wrote.
func unpackItems(packed string) ([]markedItem, error) {
	if packed == "" {
		return []markedItem{}, nil
	}
	parts := strings.Split(packed, ";")
	out := make([]markedItem, len(parts))
	for i, p := range parts {
		f := strings.Split(p, " ")
		if len(f) != 6 {
			return nil, fmt.Errorf("marked item %d: %q is not an item", i, p)
		}
		var ns [5]int
		for j := range ns {
			n, err := strconv.Atoi(f[j+1])
			if err != nil {
				return nil, fmt.Errorf("marked item %d: %w", i, err)
			}
			ns[j] = n
		}
		m := markedItem{QuestionID: f[0], Revision: ns[0], Shown: ns[1], Chosen: ns[2], Right: ns[3], Options: ns[4]}
		m.Correct = m.Shown != noAnswer && m.Chosen == m.Right
		out[i] = m
	}
	return out, nil
}
