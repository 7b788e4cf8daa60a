package marking

import (
	"context"
	"fmt"

	"polyphony/internal/failure"
)

// refuseSupervisor refuses the marker if they supervise the trainee now. Allocation never
// gives a supervisor their own trainee's work, but a supervisor may be assigned after the
// markers were allocated: so whether the marker supervises the trainee is asked again at
// every request to read or mark the work, not only once when it was allocated.
func (s *Store) refuseSupervisor(ctx context.Context, a Actor, sub Submission) error {
	sup, err := s.supervises(ctx, a.UserID, sub.TraineeID)
	if err != nil {
		return fmt.Errorf("whether %s supervises the trainee: %w", a.UserID, err)
	}
	if sup {
		return fmt.Errorf("%w: you supervise this trainee now, so you may not mark their work; an administrator can allocate another marker", failure.ErrForbidden)
	}
	return nil
}
