package assessment

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
