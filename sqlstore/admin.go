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

// The admin abilities keep their rows in tables named after the users
// table: <users>_api_keys and <users>_audit (gatehouse_users_api_keys and
// gatehouse_users_audit by default), so that a table prefix or names set
// with WithTableNames carry over to them.

var (
	_ auth.UserLister  = (*Store)(nil)
	_ auth.APIKeyStore = (*Store)(nil)
	_ auth.AuditStore  = (*Store)(nil)
)

// joinNames is how roles and scopes are stored: sorted names joined by
// commas, ” for none. Names never hold a comma.
func joinNames(names []string) string { return strings.Join(names, ",") }

// namesDest scans a joined list of names; ” is nil.
type namesDest struct{ names *[]string }

func (d namesDest) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case nil:
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into names", src)
	}
	*d.names = nil
	if text != "" {
		*d.names = strings.Split(text, ",")
	}
	return nil
}

const keyColumns = "id, user_id, name, hash, scopes, token_version, created_at, expires_at, last_used_at, revoked_at"

const auditColumns = "id, occurred_at, action, actor_id, target_id, ip, detail"

// adminQueries are the statements of the admin abilities.
type adminQueries struct {
	users, roleMatch string

	keyInsert, keyByID, keyByHash, userKeys, keyRevoke, keyTouch, keyPrune, deleteUserKeys string

	auditInsert, auditTable, auditPrune string
}

func newAdminQueries(d Dialect, users, keys, audit string, pruneBatch int) adminQueries {
	q := adminQueries{users: users, auditTable: audit}
	// A role is matched as ",role," inside ",roles,": exact bytes, no
	// pattern characters to escape.
	switch d {
	case Postgres:
		q.roleMatch = "strpos(',' || roles || ',', ?) > 0"
	case MySQL:
		q.roleMatch = "LOCATE(?, CONCAT(',', roles, ',')) > 0"
	default:
		q.roleMatch = "instr(',' || roles || ',', ?) > 0"
	}
	q.keyInsert = d.rebind("INSERT INTO " + keys + " (" + keyColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	q.keyByID = d.rebind("SELECT " + keyColumns + " FROM " + keys + " WHERE id = ?")
	q.keyByHash = d.rebind("SELECT " + keyColumns + " FROM " + keys + " WHERE hash = ?")
	q.userKeys = d.rebind("SELECT " + keyColumns + " FROM " + keys + " WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at, id")
	q.keyRevoke = d.rebind("UPDATE " + keys + " SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
	q.keyTouch = d.rebind("UPDATE " + keys + " SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)")
	q.keyPrune = d.rebind("DELETE FROM " + keys + " WHERE expires_at <= ? OR revoked_at <= ?")
	q.deleteUserKeys = d.rebind("DELETE FROM " + keys + " WHERE user_id = ?")
	q.auditInsert = d.rebind("INSERT INTO " + audit + " (" + auditColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?)")
	q.auditPrune = pruneQuery(d, audit, "id", "occurred_at", "<", pruneBatch)
	return q
}

// maxRune follows every name a user can have: PRECIS refuses U+10FFFF, a
// noncharacter, so every name starting with p sorts below p+maxRune.
const maxRune = "\U0010FFFF"

// ListUsers implements [auth.UserLister] with one keyset query in username
// order: the unique index on username serves the range and the order, and
// the (disabled, username) index the disabled filter. No OFFSET, so a page
// costs the same at any depth.
//
// The prefix search is one clause, on the username index or, for a
// prefix holding "@", on the unique index of the canonical email.
func (s *Store) ListUsers(ctx context.Context, q auth.UserQuery) ([]*auth.User, error) {
	const op = "list users"
	if !storeid.WellFormed(q.After, storeid.MaxNameLen) || !storeid.WellFormed(q.Prefix, storeid.MaxNameLen) ||
		!storeid.WellFormed(q.Role, storeid.MaxIDLen) || q.Limit < 1 {
		return nil, nil
	}
	var where []string
	var args []any
	if q.After != "" {
		where, args = append(where, "username > ?"), append(args, q.After)
	}
	if q.Prefix != "" {
		matchPrefix := "(username >= ? AND username < ?)"
		if strings.Contains(q.Prefix, "@") {
			matchPrefix = "(email_canonical >= ? AND email_canonical < ?)"
		}
		where, args = append(where, matchPrefix), append(args, q.Prefix, q.Prefix+maxRune)
	}
	if q.Disabled != nil {
		where, args = append(where, "disabled = ?"), append(args, *q.Disabled)
	}
	if q.Role != "" {
		where, args = append(where, s.aq.roleMatch), append(args, ","+q.Role+",")
	}
	query := "SELECT " + userColumns + " FROM " + s.aq.users
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY username LIMIT ?"
	args = append(args, q.Limit)
	return queryAll(ctx, s, op, s.dialect.rebind(query), scanUser, args...)
}

func scanUser(r rowScanner) (*auth.User, error) {
	var u auth.User
	if err := r.Scan(userDests(&u)...); err != nil {
		return nil, err
	}
	return &u, nil
}

func scanKey(r rowScanner) (*auth.APIKey, error) {
	var k auth.APIKey
	err := r.Scan(&k.ID, &k.UserID, &k.Name, &k.Hash, namesDest{&k.Scopes}, &k.TokenVersion,
		timeDest{&k.CreatedAt}, timeDest{&k.ExpiresAt}, timeDest{&k.LastUsedAt}, timeDest{&k.RevokedAt})
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// CreateAPIKey implements [auth.APIKeyStore]. The primary key and the
// unique hash decide duplicates; the foreign key decides an unknown user
// (on SQLite when foreign keys are on).
func (s *Store) CreateAPIKey(ctx context.Context, k *auth.APIKey) error {
	const op = "create API key"
	if k.ID == "" || !storeid.WellFormed(k.ID, storeid.MaxIDLen) || !storeid.WellFormed(k.Hash, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, storeid.ErrMalformedID)
	}
	if !storeid.WellFormed(k.UserID, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	d := s.dialect
	_, err := s.db.ExecContext(ctx, s.aq.keyInsert, k.ID, k.UserID, k.Name, k.Hash, joinNames(k.Scopes), k.TokenVersion,
		d.timeArg(k.CreatedAt), d.nullTimeArg(k.ExpiresAt), d.nullTimeArg(k.LastUsedAt), d.nullTimeArg(k.RevokedAt))
	switch {
	case err == nil:
		return nil
	case d.isUnique(err):
		return fmt.Errorf("sqlstore: %s: id or hash taken: %w", op, auth.ErrUserExists)
	case d.isForeignKey(err):
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	return s.fail(ctx, op, err)
}

func (s *Store) oneKey(ctx context.Context, op, query, arg string) (*auth.APIKey, error) {
	if !storeid.WellFormed(arg, storeid.MaxIDLen) {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, auth.ErrAPIKeyNotFound)
	}
	k, err := scanKey(s.db.QueryRowContext(ctx, query, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, auth.ErrAPIKeyNotFound)
	}
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return k, nil
}

// APIKey implements [auth.APIKeyStore].
func (s *Store) APIKey(ctx context.Context, id string) (*auth.APIKey, error) {
	return s.oneKey(ctx, "API key by id", s.aq.keyByID, id)
}

// APIKeyByHash implements [auth.APIKeyStore].
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*auth.APIKey, error) {
	return s.oneKey(ctx, "API key by hash", s.aq.keyByHash, hash)
}

// UserAPIKeys implements [auth.APIKeyStore].
func (s *Store) UserAPIKeys(ctx context.Context, userID string) ([]*auth.APIKey, error) {
	const op = "list API keys"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		return nil, nil
	}
	return queryAll(ctx, s, op, s.aq.userKeys, scanKey, userID)
}

// RevokeAPIKey implements [auth.APIKeyStore].
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	if !storeid.WellFormed(id, storeid.MaxIDLen) {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, s.aq.keyRevoke, s.dialect.timeArg(at), id); err != nil {
		return s.fail(ctx, "revoke API key", err)
	}
	return nil
}

// TouchAPIKey implements [auth.APIKeyStore] with one conditional UPDATE,
// so instances racing to record a use write at most once each.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if !storeid.WellFormed(id, storeid.MaxIDLen) {
		return nil
	}
	t := s.dialect.timeArg(at)
	if _, err := s.db.ExecContext(ctx, s.aq.keyTouch, t, id, t); err != nil {
		return s.fail(ctx, "touch API key", err)
	}
	return nil
}

// DeleteAPIKeys implements [auth.APIKeyStore].
func (s *Store) DeleteAPIKeys(ctx context.Context, before time.Time) (int, error) {
	t := s.dialect.timeArg(before)
	res, err := s.db.ExecContext(ctx, s.aq.keyPrune, t, t)
	if err != nil {
		return 0, s.fail(ctx, "prune API keys", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail(ctx, "prune API keys", err)
	}
	return int(n), nil
}

// AppendAudit implements [auth.AuditStore].
func (s *Store) AppendAudit(ctx context.Context, e *auth.AuditEntry) error {
	const op = "append audit entry"
	if e.ID == "" || !storeid.WellFormed(e.ID, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, storeid.ErrMalformedID)
	}
	detail := e.Detail
	if detail == "" {
		detail = "{}"
	}
	_, err := s.db.ExecContext(ctx, s.aq.auditInsert, e.ID, s.dialect.timeArg(e.Time), e.Action,
		e.ActorID, e.TargetID, e.IP, detail)
	switch {
	case err == nil:
		return nil
	case s.dialect.isUnique(err):
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserExists)
	}
	return s.fail(ctx, op, err)
}

// AuditEntries implements [auth.AuditStore]: newest first by ID, a keyset
// page on the primary key, or on the actor and target indexes for a user.
func (s *Store) AuditEntries(ctx context.Context, q auth.AuditQuery) ([]*auth.AuditEntry, error) {
	const op = "read audit trail"
	if !storeid.WellFormed(q.UserID, storeid.MaxIDLen) || !storeid.WellFormed(q.Before, storeid.MaxIDLen) || q.Limit < 1 {
		return nil, nil
	}
	var where []string
	var args []any
	if q.Before != "" {
		where, args = append(where, "id < ?"), append(args, q.Before)
	}
	if q.UserID != "" {
		where, args = append(where, "(actor_id = ? OR target_id = ?)"), append(args, q.UserID, q.UserID)
	}
	query := "SELECT " + auditColumns + " FROM " + s.aq.auditTable
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, q.Limit)
	return queryAll(ctx, s, op, s.dialect.rebind(query), scanAudit, args...)
}

func scanAudit(r rowScanner) (*auth.AuditEntry, error) {
	var e auth.AuditEntry
	var detail []byte
	if err := r.Scan(&e.ID, timeDest{&e.Time}, &e.Action, &e.ActorID, &e.TargetID, &e.IP, &detail); err != nil {
		return nil, err
	}
	e.Detail = string(detail)
	return &e, nil
}

// DeleteAudit implements [auth.AuditStore] in bounded batches through the
// index on occurred_at, as [Store.DeleteSessions] does.
func (s *Store) DeleteAudit(ctx context.Context, before time.Time) (int, error) {
	return s.deleteInBatches(ctx, "prune audit trail", s.dialect.timeArg(before), s.aq.auditPrune)
}
