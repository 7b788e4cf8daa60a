package notify

import (
	"context"
	"errors"

	"polyphony/internal/mail"
)

// MarksReleased emails each of the trainees that the result of their assessed work titled
// title is released, with a link to path, where they read it. The email names the work and
// nothing of the marking: not the result, not who marked it. Each trainee is told once per
// piece (pieceID), however often a release is retried and on however many instances; it
// reports how many emails were queued.
func (n *Notifier) MarksReleased(ctx context.Context, pieceID, title, path string, traineeIDs []string) (int, error) {
	sent := 0
	var errs []error
	for _, id := range traineeIDs {
		ok, err := n.once(ctx, "piece/"+pieceID, id, mail.Message{Kind: mail.KindMarksReleased,
			Link: n.page(path), Values: mail.Values{Assessment: title}})
		if ok {
			sent++
		}
		errs = append(errs, err)
	}
	return sent, errors.Join(errs...)
}
