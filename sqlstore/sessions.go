package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/storeid"
)

const sessionColumns = "id, user_id, token_version, current_jti, previous_jti," +
	" created_at, expires_at, rotated_at, last_used_at, revoked_at, user_agent, ip," +
	" rotated_user_agent, rotated_ip, grace_uses, dpop_jkt"

// sessionQueries are the session statements for one table and dialect.
type sessionQueries struct {
	insert, byID, rotate, rotated, useGrace, exists, revoke, revokeUser, list, pruneExpired, pruneRevoked, deleteUser string
}

func newSessionQueries(d Dialect, t string, pruneBatch int) sessionQueries {
	return sessionQueries{
		pruneExpired: pruneQuery(d, t, "id", "expires_at", "<=", pruneBatch),
		pruneRevoked: pruneQuery(d, t, "id", "revoked_at", "<=", pruneBatch),
		insert:       d.rebind("INSERT INTO " + t + " (" + sessionColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		byID:         d.rebind("SELECT " + sessionColumns + " FROM " + t + " WHERE id = ?"),
		rotate: d.rebind("UPDATE " + t + " SET previous_jti = ?, current_jti = ?, rotated_at = ?, last_used_at = ?," +
			" rotated_user_agent = ?, rotated_ip = ?, grace_uses = 0" +
			" WHERE id = ? AND current_jti = ? AND revoked_at IS NULL"),
		rotated: d.rebind("SELECT current_jti, previous_jti, rotated_at, last_used_at, revoked_at," +
			" rotated_user_agent, rotated_ip, grace_uses FROM " + t + " WHERE id = ?"),
		useGrace: d.rebind("UPDATE " + t + " SET grace_uses = grace_uses + 1" +
			" WHERE id = ? AND previous_jti = ? AND grace_uses < ? AND revoked_at IS NULL"),
		exists:     d.rebind("SELECT 1 FROM " + t + " WHERE id = ?"),
		revoke:     d.rebind("UPDATE " + t + " SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
		revokeUser: d.rebind("UPDATE " + t + " SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"),
		list: d.rebind("SELECT " + sessionColumns + " FROM " + t +
			" WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at, id"),
		deleteUser: d.rebind("DELETE FROM " + t + " WHERE user_id = ?"),
	}
}

type rowScanner interface{ Scan(dest ...any) error }

// queryAll runs query and scans every row with scan; a failure is op's.
func queryAll[T any](ctx context.Context, s *Store, op, query string, scan func(rowScanner) (*T, error), args ...any) ([]*T, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, s.fail(ctx, op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return out, nil
}

func scanSession(r rowScanner) (*auth.Session, error) {
	var s auth.Session
	err := r.Scan(&s.ID, &s.UserID, &s.TokenVersion, &s.CurrentJTI, &s.PreviousJTI,
		timeDest{&s.CreatedAt}, timeDest{&s.ExpiresAt}, timeDest{&s.RotatedAt}, timeDest{&s.LastUsedAt},
		timeDest{&s.RevokedAt}, &s.UserAgent, &s.IP, &s.RotatedUserAgent, &s.RotatedIP, &s.GraceUses, &s.DPoPJKT)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// CreateSession implements [auth.SessionStore]. A taken ID is an error
// wrapping [auth.ErrUserExists], decided by the primary key. A user that
// does not exist is an error wrapping [auth.ErrUserNotFound], decided by
// the foreign key (on SQLite only when foreign keys are on, as
// [SQLiteDSN] sets), or by its form when it is malformed.
func (s *Store) CreateSession(ctx context.Context, sess *auth.Session) error {
	const op = "create session"
	if !storeid.WellFormed(sess.ID, storeid.MaxIDLen) || !storeid.WellFormed(sess.CurrentJTI, storeid.MaxIDLen) || !storeid.WellFormed(sess.PreviousJTI, storeid.MaxIDLen) ||
		!storeid.WellFormed(sess.DPoPJKT, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, storeid.ErrMalformedID)
	}
	if !storeid.WellFormed(sess.UserID, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	d := s.dialect
	_, err := s.db.ExecContext(ctx, s.sq.insert, sess.ID, sess.UserID, sess.TokenVersion,
		sess.CurrentJTI, sess.PreviousJTI, d.timeArg(sess.CreatedAt), d.timeArg(sess.ExpiresAt),
		d.timeArg(sess.RotatedAt), d.timeArg(sess.LastUsedAt), d.nullTimeArg(sess.RevokedAt),
		sess.UserAgent, sess.IP, sess.RotatedUserAgent, sess.RotatedIP, sess.GraceUses, sess.DPoPJKT)
	switch {
	case err == nil:
		return nil
	case d.isUnique(err):
		return fmt.Errorf("sqlstore: %s: session id taken: %w", op, auth.ErrUserExists)
	case d.isForeignKey(err):
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	return s.fail(ctx, op, err)
}

// Session implements [auth.SessionStore].
func (s *Store) Session(ctx context.Context, id string) (*auth.Session, error) {
	const op = "session"
	if !storeid.WellFormed(id, storeid.MaxIDLen) {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, auth.ErrSessionNotFound)
	}
	sess, err := scanSession(s.db.QueryRowContext(ctx, s.sq.byID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, auth.ErrSessionNotFound)
	}
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return sess, nil
}

// RotateSession implements [auth.SessionStore] with one conditional
// UPDATE. Concurrent rotations of one session queue on its row lock, and
// each re-checks the condition against the row the one before it wrote, so
// exactly one wins on every dialect. When no row changed, a second read
// tells ErrSessionNotFound from ErrConflict. A malformed fromJTI matches no
// session, so only the read runs.
func (s *Store) RotateSession(ctx context.Context, id, fromJTI, toJTI string, at time.Time, userAgent, ip string) error {
	const op = "rotate session"
	if !storeid.WellFormed(id, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrSessionNotFound)
	}
	if !storeid.WellFormed(toJTI, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, storeid.ErrMalformedID)
	}
	d := s.dialect
	if storeid.WellFormed(fromJTI, storeid.MaxIDLen) {
		changed, err := s.execConditional(ctx, op, s.sq.rotate, fromJTI, toJTI, d.timeArg(at), d.timeArg(at),
			userAgent, ip, id, fromJTI)
		if err != nil || changed {
			return err
		}
	}
	var cur auth.Session
	err := s.db.QueryRowContext(ctx, s.sq.rotated, id).Scan(&cur.CurrentJTI, &cur.PreviousJTI,
		timeDest{&cur.RotatedAt}, timeDest{&cur.LastUsedAt}, timeDest{&cur.RevokedAt},
		&cur.RotatedUserAgent, &cur.RotatedIP, &cur.GraceUses)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrSessionNotFound)
	}
	if err != nil {
		return s.fail(ctx, op, err)
	}
	// MySQL counts changed rows, not matched ones. Only a rotation from a
	// jti to itself can match without changing anything; it holds if the
	// row is live and already as the rotation would leave it.
	at = at.UTC().Truncate(time.Microsecond)
	if fromJTI == toJTI && cur.CurrentJTI == fromJTI && cur.PreviousJTI == fromJTI && cur.RevokedAt.IsZero() &&
		cur.RotatedAt.Equal(at) && cur.LastUsedAt.Equal(at) &&
		cur.RotatedUserAgent == userAgent && cur.RotatedIP == ip && cur.GraceUses == 0 {
		return nil
	}
	return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrConflict)
}

// UseGrace implements [auth.SessionStore] with one conditional UPDATE that
// increments grace_uses WHERE id, previous_jti, grace_uses < max and
// revoked_at IS NULL still hold. Concurrent calls queue on the row lock and
// each re-checks the count the one before it wrote, so at most max win.
// The increment always changes the row, so MySQL's changed-row count is
// exact here. When no row changed, a second read tells
// ErrSessionNotFound from ErrConflict.
func (s *Store) UseGrace(ctx context.Context, id, previousJTI string, max int) error {
	const op = "use grace"
	if !storeid.WellFormed(id, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrSessionNotFound)
	}
	if previousJTI != "" && storeid.WellFormed(previousJTI, storeid.MaxIDLen) && max > 0 {
		changed, err := s.execConditional(ctx, op, s.sq.useGrace, id, previousJTI, max)
		if err != nil || changed {
			return err
		}
	}
	var one int
	err := s.db.QueryRowContext(ctx, s.sq.exists, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrSessionNotFound)
	}
	if err != nil {
		return s.fail(ctx, op, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrConflict)
}

// RevokeSession implements [auth.SessionStore]. The first revocation's
// time is kept.
func (s *Store) RevokeSession(ctx context.Context, id string, at time.Time) error {
	if !storeid.WellFormed(id, storeid.MaxIDLen) {
		return nil // no such session
	}
	if _, err := s.db.ExecContext(ctx, s.sq.revoke, s.dialect.timeArg(at), id); err != nil {
		return s.fail(ctx, "revoke session", err)
	}
	return nil
}

// RevokeUserSessions implements [auth.SessionStore] with one UPDATE.
func (s *Store) RevokeUserSessions(ctx context.Context, userID string, at time.Time) error {
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		return nil // no such user
	}
	if _, err := s.db.ExecContext(ctx, s.sq.revokeUser, s.dialect.timeArg(at), userID); err != nil {
		return s.fail(ctx, "revoke user sessions", err)
	}
	return nil
}

// UserSessions implements [auth.SessionStore]. Sessions created at the
// same time are ordered by ID.
func (s *Store) UserSessions(ctx context.Context, userID string, now time.Time) ([]*auth.Session, error) {
	const op = "user sessions"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		return nil, nil // no such user
	}
	return queryAll(ctx, s, op, s.sq.list, scanSession, userID, s.dialect.timeArg(now))
}
