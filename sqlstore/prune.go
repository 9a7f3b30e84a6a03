package sqlstore

import (
	"context"
	"strconv"
	"time"
)

// pruneQuery deletes up to batch rows of table t whose column (such as
// expires_at) compares with cmp ("<" or "<=") to the bound argument, found
// through the column's index in index order, so that each statement reads
// and locks only the rows it deletes; key is the table's primary key.
// MySQL cannot LIMIT a subquery under IN, but its DELETE takes ORDER BY and
// LIMIT itself; SQLite's DELETE takes LIMIT only when built with an option,
// so SQLite and PostgreSQL use a subquery.
func pruneQuery(d Dialect, t, key, column, cmp string, batch int) string {
	limit := strconv.Itoa(batch)
	if d == MySQL {
		// The key after the column makes the order total, as
		// statement-based replication wants of a DELETE with LIMIT.
		return "DELETE FROM " + t + " WHERE " + column + " " + cmp + " ? ORDER BY " + column + ", " + key + " LIMIT " + limit
	}
	return d.rebind("DELETE FROM " + t + " WHERE " + key + " IN (SELECT " + key + " FROM " + t +
		" WHERE " + column + " " + cmp + " ? ORDER BY " + column + " LIMIT " + limit + ")")
}

// deleteInBatches runs each of the prune queries (see pruneQuery) with
// the bound arg until a statement deletes fewer rows than a batch, pausing
// between statements, and returns how many rows they deleted, also with an
// error.
func (s *Store) deleteInBatches(ctx context.Context, op string, arg any, queries ...string) (int, error) {
	total := 0
	for _, q := range queries {
		for {
			res, err := s.db.ExecContext(ctx, q, arg)
			if err != nil {
				return total, s.fail(ctx, op, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, s.fail(ctx, op, err)
			}
			total += int(n)
			if int(n) < s.pruneBatch {
				break
			}
			if err := pause(ctx, s.prunePause); err != nil {
				return total, s.fail(ctx, op, err)
			}
		}
	}
	return total, nil
}

// DeleteSessions implements [auth.SessionStore] in bounded batches: first
// the expired sessions, then the revoked ones, each batch one DELETE of at
// most the batch size of [WithPruneBatch] (500 on SQLite and 1000 on the
// servers by default) chosen through
// the index on expires_at or revoked_at, with the pause between batches.
// Every statement is a short transaction of its own, so a concurrent login
// or refresh waits for one batch at most, never for the whole prune; and
// since expires_at never changes and revoked_at is only ever set, a
// session that is live when a batch runs is never one it deletes.
//
// The prune runs until no expired or revoked session is left or ctx ends;
// on an error it returns how many sessions it had removed, with the error.
// At scale it takes a while (10 million expired sessions are 10000
// batches), so give it a context without a short deadline.
func (s *Store) DeleteSessions(ctx context.Context, before time.Time) (int, error) {
	return s.deleteInBatches(ctx, "delete sessions", s.dialect.timeArg(before), s.sq.pruneExpired, s.sq.pruneRevoked)
}

// pause waits d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
