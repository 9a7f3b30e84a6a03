package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/storeid"
)

// The email abilities (issue 13): the email columns of the users table and
// the one-time token table, whose name is derived from the users table's
// as an index's is (gatehouse_users_one_time_tokens by default).

var (
	_ auth.EmailStore        = (*Store)(nil)
	_ auth.OneTimeTokenStore = (*Store)(nil)
)

// oneTimeSuffix names the one-time token table after the users table.
const oneTimeSuffix = "_one_time_tokens"

const oneTimeColumns = "hash, user_id, purpose, email, binding, created_at, expires_at"

// emailQueries are the statements of the email abilities.
type emailQueries struct {
	byEmail, setEmail, state                                  string
	insertToken, deletePurpose, byHash, deleteHash, deleteAll string
	prune, deleteUser                                         string
}

func newEmailQueries(d Dialect, users, tokens string, pruneBatch int) emailQueries {
	return emailQueries{
		byEmail: d.rebind("SELECT " + userColumns + " FROM " + users + " WHERE email_canonical = ?"),
		setEmail: d.rebind("UPDATE " + users + " SET email = ?, email_canonical = ?, email_verified = ?, email_verified_at = ?, updated_at = ?" +
			" WHERE id = ? AND " + nullSafeEqual(d, "email") + ""),
		state: d.rebind("SELECT email, email_verified, email_verified_at, updated_at FROM " + users + " WHERE id = ?"),
		// Saving is one upsert on the unique key (user_id, purpose), so
		// that a newer token replaces the older one atomically.
		insertToken:   d.rebind("INSERT INTO " + tokens + " (" + oneTimeColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?)" + upsertToken(d)),
		deletePurpose: d.rebind("DELETE FROM " + tokens + " WHERE user_id = ? AND purpose = ?"),
		byHash:        d.rebind("SELECT " + oneTimeColumns + " FROM " + tokens + " WHERE hash = ?"),
		deleteHash:    d.rebind("DELETE FROM " + tokens + " WHERE hash = ?"),
		deleteAll:     d.rebind("DELETE FROM " + tokens + " WHERE user_id = ?"),
		prune:         pruneQuery(d, tokens, "hash", "expires_at", "<=", pruneBatch),
		deleteUser:    d.rebind("DELETE FROM " + tokens + " WHERE user_id = ?"),
	}
}

// upsertToken is the clause that makes a token's insert replace the
// user's token of the same purpose.
func upsertToken(d Dialect) string {
	if d == MySQL {
		return " ON DUPLICATE KEY UPDATE hash = VALUES(hash), email = VALUES(email), binding = VALUES(binding)," +
			" created_at = VALUES(created_at), expires_at = VALUES(expires_at)"
	}
	return " ON CONFLICT (user_id, purpose) DO UPDATE SET hash = excluded.hash, email = excluded.email," +
		" binding = excluded.binding, created_at = excluded.created_at, expires_at = excluded.expires_at"
}

// nullSafeEqual compares column with a parameter where NULL (no address)
// equals NULL.
func nullSafeEqual(d Dialect, column string) string {
	switch d {
	case MySQL:
		return column + " <=> ?"
	case Postgres:
		return column + " IS NOT DISTINCT FROM ?"
	}
	return column + " IS ?"
}

// nullIfEmpty is the value bound for an optional text column.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// emailArgs are the values of the email columns of u, in userColumns
// order.
func emailArgs(d Dialect, u *auth.User) ([]any, error) {
	if u.Email == "" {
		return []any{nil, nil, u.EmailVerified, d.nullTimeArg(u.EmailVerifiedAt)}, nil
	}
	canonical, err := auth.CanonicalEmail(u.Email)
	if err != nil {
		return nil, err
	}
	return []any{u.Email, canonical, u.EmailVerified, d.nullTimeArg(u.EmailVerifiedAt)}, nil
}

// emailDests scans the email columns into u, in userColumns order.
func emailDests(u *auth.User) []any {
	return []any{nullString{&u.Email}, new(any), &u.EmailVerified, timeDest{&u.EmailVerifiedAt}}
}

// nullString scans a nullable text column: NULL is "".
type nullString struct{ s *string }

func (n nullString) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.s = ""
	case string:
		*n.s = v
	case []byte:
		*n.s = string(v)
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a string", src)
	}
	return nil
}

// uniqueErr tells which unique key a duplicate broke: the email's, or the
// username's or ID's. Every dialect names the column or the key in the
// message.
func uniqueErr(err error) error {
	if strings.Contains(err.Error(), "email_canonical") {
		return auth.ErrEmailTaken
	}
	return auth.ErrUserExists
}

// UserByEmail implements [auth.EmailStore].
func (s *Store) UserByEmail(ctx context.Context, canonical string) (*auth.User, error) {
	if canonical == "" || len(canonical) > storeid.MaxNameLen {
		return nil, fmt.Errorf("sqlstore: user by email: %w", auth.ErrUserNotFound)
	}
	return s.get(ctx, "user by email", s.eq.byEmail, canonical, storeid.MaxNameLen)
}

// SetUserEmail implements [auth.EmailStore] with one conditional UPDATE;
// the unique key on the canonical address decides between two users.
func (s *Store) SetUserEmail(ctx context.Context, u *auth.User, prevEmail string) error {
	const op = "set user email"
	if !storeid.WellFormed(u.ID, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	d := s.dialect
	args, err := emailArgs(d, u)
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	res, err := s.db.ExecContext(ctx, s.eq.setEmail, append(args, d.timeArg(u.UpdatedAt), u.ID, nullIfEmpty(prevEmail))...)
	if err != nil {
		if d.isUnique(err) {
			return fmt.Errorf("sqlstore: %s: %w", op, uniqueErr(err))
		}
		if d.isSerializationFailure(err) {
			return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrConflict)
		}
		return s.fail(ctx, op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.fail(ctx, op, err)
	} else if n > 0 {
		return nil
	}
	var cur auth.User
	err = s.db.QueryRowContext(ctx, s.eq.state, u.ID).Scan(nullString{&cur.Email}, &cur.EmailVerified,
		timeDest{&cur.EmailVerifiedAt}, timeDest{&cur.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	if err != nil {
		return s.fail(ctx, op, err)
	}
	// MySQL counts changed rows: an update to the values stored already
	// reports none.
	if cur.Email == prevEmail && cur.Email == u.Email && cur.EmailVerified == u.EmailVerified &&
		cur.EmailVerifiedAt.Equal(u.EmailVerifiedAt.Truncate(time.Microsecond)) &&
		cur.UpdatedAt.Equal(u.UpdatedAt.Truncate(time.Microsecond)) {
		return nil
	}
	return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrConflict)
}

// SaveOneTimeToken implements [auth.OneTimeTokenStore] with one upsert on
// the unique key (user_id, purpose). A serialization failure or deadlock
// is retried.
func (s *Store) SaveOneTimeToken(ctx context.Context, t *auth.OneTimeToken) error {
	const op = "save one-time token"
	if !storeid.WellFormed(t.UserID, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	if !storeid.WellFormed(t.Hash, 64) || !storeid.WellFormed(t.Purpose, 64) || !storeid.WellFormed(t.Binding, 64) {
		return fmt.Errorf("sqlstore: %s: %w", op, storeid.ErrMalformedID)
	}
	var err error
	for range 3 {
		if err = s.saveToken(ctx, t); err == nil || !(s.dialect.isUnique(err) || s.dialect.isSerializationFailure(err) || (s.dialect.isUnavailable(err) && ctx.Err() == nil)) {
			break
		}
	}
	switch {
	case err == nil:
		return nil
	case s.dialect.isForeignKey(err):
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	return s.fail(ctx, op, err)
}

func (s *Store) saveToken(ctx context.Context, t *auth.OneTimeToken) error {
	d := s.dialect
	_, err := s.db.ExecContext(ctx, s.eq.insertToken, t.Hash, t.UserID, t.Purpose, t.Email, t.Binding,
		d.timeArg(t.CreatedAt), d.timeArg(t.ExpiresAt))
	return err
}

// OneTimeToken implements [auth.OneTimeTokenStore].
func (s *Store) OneTimeToken(ctx context.Context, hash string) (*auth.OneTimeToken, error) {
	const op = "one-time token"
	if !storeid.WellFormed(hash, 64) {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, auth.ErrOneTimeTokenNotFound)
	}
	var t auth.OneTimeToken
	err := s.db.QueryRowContext(ctx, s.eq.byHash, hash).Scan(&t.Hash, &t.UserID, &t.Purpose, &t.Email, &t.Binding,
		timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, auth.ErrOneTimeTokenNotFound)
	}
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return &t, nil
}

// ConsumeOneTimeToken implements [auth.OneTimeTokenStore]: a read, then a
// delete by hash. Only the call whose delete removed the row gets the
// token; a token's row is never changed in place, so what was read is
// what was deleted.
func (s *Store) ConsumeOneTimeToken(ctx context.Context, hash string) (*auth.OneTimeToken, error) {
	const op = "consume one-time token"
	t, err := s.OneTimeToken(ctx, hash)
	if err != nil {
		return nil, err
	}
	res, err := s.db.ExecContext(ctx, s.eq.deleteHash, hash)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, auth.ErrOneTimeTokenNotFound)
	}
	return t, nil
}

// DeleteOneTimeTokens implements [auth.OneTimeTokenStore].
func (s *Store) DeleteOneTimeTokens(ctx context.Context, userID, purpose string) error {
	const op = "delete one-time tokens"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		return nil
	}
	var err error
	if purpose == "" {
		_, err = s.db.ExecContext(ctx, s.eq.deleteAll, userID)
	} else {
		_, err = s.db.ExecContext(ctx, s.eq.deletePurpose, userID, purpose)
	}
	if err != nil {
		return s.fail(ctx, op, err)
	}
	return nil
}

// DeleteExpiredOneTimeTokens implements [auth.OneTimeTokenStore] in
// bounded batches through the index on expires_at, as
// [Store.DeleteSessions] does.
func (s *Store) DeleteExpiredOneTimeTokens(ctx context.Context, before time.Time) (int, error) {
	return s.deleteInBatches(ctx, "delete expired one-time tokens", s.dialect.timeArg(before), s.eq.prune)
}
