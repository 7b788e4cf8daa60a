package accounts

import (
	"context"
	"errors"
	"fmt"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// namesCollection holds one document, the directory of every account's name by its id,
// for the pages that list people (results, standard setting): one read by _id, where
// reading each account would cost a read for every person listed and reading the users
// collection would cost a scan. The directory is a hint: an account missing from it (made
// by a process whose write was lost to another's, or before the directory existed) is read
// by its id and added, so a name is never missing from an answer.
const namesCollection = "user_names"

const namesID = "names"

type namesDoc struct {
	ID    string            `bson:"_id"`
	Names map[string]string `bson:"names"`
}

// noteName adds the account's name to the directory. The account is stored already, so a
// failure here loses nothing: the next Names reads the account and adds it then.
func (s *Users) noteName(ctx context.Context, id, name string) {
	_ = s.db.AddField(ctx, s.names, namesID, "names."+id, name)
}

// Names maps each of ids to the account's name; ids with no account are left out.
func (s *Users) Names(ctx context.Context, ids []string) (map[string]string, error) {
	d, err := database.FindByID[namesDoc](ctx, s.names, namesID)
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return nil, fmt.Errorf("account names: %w", err)
	}
	out := make(map[string]string, len(ids))
	for _, id := range ids {
		if n, ok := d.Names[id]; ok {
			out[id] = n
			continue
		}
		if _, done := out[id]; done || id == "" {
			continue
		}
		u, err := database.FindByID[User](ctx, s.coll, id)
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("account names: %w", err)
		}
		out[id] = u.Name
		s.noteName(ctx, id, u.Name)
	}
	return out, nil
}
