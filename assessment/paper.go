package assessment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"math/rand/v2"
	"sync"

	"polyphony/internal/failure"
)

// A paper is the set of question revisions attempts are made from: an assessment's fixed
// questions and the pools of its draws, as they were when an attempt started. Its id is the
// hash of the revisions it holds, so every attempt started while the bank is unchanged shares
// one paper; it never changes once stored.
type paperDoc struct {
	ID        string        `bson:"_id"`
	Questions []revisionDoc `bson:"questions"`
}

type paper struct {
	id        string
	questions []Question
	right     []int // right[i] is the index of question i's right option

	renderOnce sync.Once
	html       []QuestionHTML
}

func newPaper(d paperDoc) *paper {
	p := &paper{id: d.ID, questions: make([]Question, len(d.Questions)), right: make([]int, len(d.Questions))}
	for i, r := range d.Questions {
		p.questions[i] = r.question()
		p.right[i] = p.questions[i].Right()
	}
	return p
}

// rendered is the paper's questions turned into HTML, done once for each paper in memory.
func (p *paper) rendered() []QuestionHTML {
	p.renderOnce.Do(func() {
		p.html = make([]QuestionHTML, len(p.questions))
		for i, q := range p.questions {
			p.html[i] = q.Render()
		}
	})
	return p.html
}

// paperFor builds the paper of an assessment from the bank as it is now, storing it if it
// is new. Fixed questions come first, in order, then each draw's pool.
func (s *Store) paperFor(ctx context.Context, a Assessment) (*paper, error) {
	qs, err := s.questionsOf(ctx, a.BankID)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Question, len(qs))
	for _, q := range qs {
		byID[q.ID] = q
	}
	var chosen []Question
	in := map[string]bool{}
	for _, id := range a.Questions {
		q, ok := byID[id]
		if !ok {
			return nil, failure.Conflict(fmt.Sprintf("question %s of the assessment is no longer in its bank; an assessor must correct the assessment", id))
		}
		chosen, in[id] = append(chosen, q), true
	}
	for _, d := range a.Draws {
		for _, q := range qs {
			if !in[q.ID] && q.HasTag(d.Tag) {
				chosen, in[q.ID] = append(chosen, q), true
			}
		}
	}
	h := sha256.New()
	doc := paperDoc{Questions: make([]revisionDoc, len(chosen))}
	for i, q := range chosen {
		fmt.Fprintf(h, "%s\n", revisionID(q.ID, q.Revision))
		doc.Questions[i] = toRevisionDoc(q)
	}
	doc.ID = hex.EncodeToString(h.Sum(nil))[:32]
	if p, ok := s.paperCache.Get(doc.ID); ok {
		return p, nil
	}
	// Another start may have stored the same paper: its content is the same, being named by
	// its hash.
	if _, err := s.insertOnce(ctx, s.papers, doc.ID, doc, nil); err != nil {
		return nil, err
	}
	p := newPaper(doc)
	s.paperCache.Put(doc.ID, p)
	return p, nil
}

// paper reads a stored paper, from memory when it has been read before.
func (s *Store) paper(ctx context.Context, id string) (*paper, error) {
	if p, ok := s.paperCache.Get(id); ok {
		return p, nil
	}
	var d paperDoc
	if err := findOne(ctx, s.papers, id, &d); err != nil {
		return nil, err
	}
	p := newPaper(d)
	s.paperCache.Put(id, p)
	return p, nil
}

// item is one question of an attempt as the trainee sees it: which question of the paper,
// and the order of its options (Options[k] is the index in the question of the option shown
// k-th).
type item struct {
	Q       int   `bson:"q"`
	Options []int `bson:"o"`
}

// layout chooses an attempt's questions from the paper and orders them and their options:
// the fixed questions, then each draw's questions at random from what is left of its pool,
// shuffled as the assessment says.
func layout(a Assessment, p *paper) ([]item, error) {
	var picks []int
	used := map[int]bool{}
	for i := range a.Questions {
		picks, used[i] = append(picks, i), true
	}
	for _, d := range a.Draws {
		var pool []int
		for i, q := range p.questions {
			if !used[i] && q.HasTag(d.Tag) {
				pool = append(pool, i)
			}
		}
		if len(pool) < d.Count {
			return nil, failure.Conflict(fmt.Sprintf("the bank has only %d questions tagged %q left to draw %d from; an assessor must correct the assessment", len(pool), d.Tag, d.Count))
		}
		rand.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		for _, i := range pool[:d.Count] {
			picks, used[i] = append(picks, i), true
		}
	}
	if a.ShuffleQuestions {
		rand.Shuffle(len(picks), func(i, j int) { picks[i], picks[j] = picks[j], picks[i] })
	}
	items := make([]item, len(picks))
	for k, qi := range picks {
		n := len(p.questions[qi].Options)
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		if a.ShuffleOptions {
			rand.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		items[k] = item{Q: qi, Options: order}
	}
	return items, nil
}

// questionHTML is the rendered question and option texts of an item, in the order shown.
func (p *paper) questionHTML(it item) (stem template.HTML, options []OptionHTML, explanation template.HTML) {
	h := p.rendered()[it.Q]
	options = make([]OptionHTML, len(it.Options))
	for k, o := range it.Options {
		options[k] = h.Options[o]
	}
	return h.Stem, options, h.Explanation
}
