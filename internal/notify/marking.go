package notify

import (
	"context"
	"net/url"
	"strconv"

	"polyphony/internal/mail"
)

// MarksReleased emails the trainee that the result of their assessed piece is released,
// with a link to it. Each release is one event (the piece and its revision of the result),
// so a retry, or the same release told twice, sends nothing more; a re-moderated result
// released again is a new event.
func (n *Notifier) MarksReleased(ctx context.Context, traineeID, pieceID, pieceTitle string, revision int) error {
	event := "piece/" + pieceID + "/" + strconv.Itoa(revision)
	_, err := n.once(ctx, event, traineeID, mail.Message{Kind: mail.KindMarksReleased,
		Link: n.page("/marking/pieces/" + url.PathEscape(pieceID)), Values: mail.Values{Assessment: pieceTitle}})
	return err
}
