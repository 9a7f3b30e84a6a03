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

var _ auth.CredentialStore = (*Store)(nil)

// The credential tables are named after the users table (migration 0006):
// users+"_totp", users+"_recovery_codes", users+"_passkeys" and
// users+"_nonces", so that WithTablePrefix and WithTableNames name them
// too.
const (
	totpSuffix     = "_totp"
	codesSuffix    = "_recovery_codes"
	passkeysSuffix = "_passkeys"
	noncesSuffix   = "_nonces"
)

const passkeyColumns = "id, user_id, credential_id, user_handle, public_key, name, sign_count," +
	" backup_eligible, backup_state, aaguid, transports, created_at, last_used_at"

// credentialQueries are the credential statements for one set of tables
// and dialect.
type credentialQueries struct {
	totpGet, totpSet, totpConfirm, totpUse, totpDelete                string
	codesDelete, codeInsert, codeCount, codeUse                       string
	pkInsert, pkList, pkByCred, pkUse, pkUseState, pkRename, pkDelete string
	pkDeleteUser, nonceInsert, noncePrune                             string
}

func newCredentialQueries(d Dialect, users string, pruneBatch int) credentialQueries {
	totp := d.quote(derivedName(users, totpSuffix))
	codes := d.quote(derivedName(users, codesSuffix))
	pk := d.quote(derivedName(users, passkeysSuffix))
	nonces := d.quote(derivedName(users, noncesSuffix))
	upsert := " ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, confirmed = excluded.confirmed," +
		" last_step = excluded.last_step, created_at = excluded.created_at"
	if d == MySQL {
		upsert = " ON DUPLICATE KEY UPDATE secret = VALUES(secret), confirmed = VALUES(confirmed)," +
			" last_step = VALUES(last_step), created_at = VALUES(created_at)"
	}
	return credentialQueries{
		totpGet:     d.rebind("SELECT secret, confirmed, last_step, created_at FROM " + totp + " WHERE user_id = ?"),
		totpSet:     d.rebind("INSERT INTO " + totp + " (user_id, secret, confirmed, last_step, created_at) VALUES (?, ?, ?, ?, ?)" + upsert),
		totpConfirm: d.rebind("UPDATE " + totp + " SET confirmed = ?, last_step = ? WHERE user_id = ? AND confirmed = ? AND secret = ?"),
		totpUse:     d.rebind("UPDATE " + totp + " SET last_step = ? WHERE user_id = ? AND confirmed = ? AND last_step < ?"),
		totpDelete:  d.rebind("DELETE FROM " + totp + " WHERE user_id = ?"),
		codesDelete: d.rebind("DELETE FROM " + codes + " WHERE user_id = ?"),
		codeInsert:  d.rebind("INSERT INTO " + codes + " (user_id, code_hash) VALUES (?, ?)"),
		codeCount:   d.rebind("SELECT COUNT(*) FROM " + codes + " WHERE user_id = ?"),
		codeUse:     d.rebind("DELETE FROM " + codes + " WHERE user_id = ? AND code_hash = ?"),
		pkInsert:    d.rebind("INSERT INTO " + pk + " (" + passkeyColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		pkList:      d.rebind("SELECT " + passkeyColumns + " FROM " + pk + " WHERE user_id = ? ORDER BY created_at, id"),
		pkByCred:    d.rebind("SELECT " + passkeyColumns + " FROM " + pk + " WHERE credential_id = ?"),
		pkUse: d.rebind("UPDATE " + pk + " SET sign_count = ?, backup_state = ?, last_used_at = ?" +
			" WHERE user_id = ? AND id = ? AND sign_count = ?"),
		pkUseState:   d.rebind("SELECT sign_count, backup_state, last_used_at FROM " + pk + " WHERE user_id = ? AND id = ?"),
		pkRename:     d.rebind("UPDATE " + pk + " SET name = ? WHERE user_id = ? AND id = ?"),
		pkDelete:     d.rebind("DELETE FROM " + pk + " WHERE user_id = ? AND id = ?"),
		pkDeleteUser: d.rebind("DELETE FROM " + pk + " WHERE user_id = ?"),
		nonceInsert:  d.rebind("INSERT INTO " + nonces + " (id, expires_at) VALUES (?, ?)"),
		noncePrune:   pruneQuery(d, nonces, "id", "expires_at", "<", pruneBatch),
	}
}

func notFound(op string) error { return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrCredentialNotFound) }

// UserTOTP implements [auth.CredentialStore].
func (s *Store) UserTOTP(ctx context.Context, userID string) (*auth.TOTP, error) {
	const op = "user TOTP"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		return nil, notFound(op)
	}
	var t auth.TOTP
	err := s.db.QueryRowContext(ctx, s.cq.totpGet, userID).Scan(&t.Secret, &t.Confirmed, &t.LastStep, timeDest{&t.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op)
	}
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return &t, nil
}

// SetTOTP implements [auth.CredentialStore] with one upsert.
func (s *Store) SetTOTP(ctx context.Context, userID string, t *auth.TOTP) error {
	const op = "set TOTP"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	_, err := s.db.ExecContext(ctx, s.cq.totpSet, userID, t.Secret, t.Confirmed, t.LastStep, s.dialect.timeArg(t.CreatedAt))
	if err != nil && s.dialect.isForeignKey(err) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	if err != nil {
		return s.fail(ctx, op, err)
	}
	return nil
}

// ConfirmTOTP implements [auth.CredentialStore] with one conditional
// UPDATE; confirming always changes the row, so MySQL's changed-row count
// is exact.
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, secret []byte, step int64) error {
	const op = "confirm TOTP"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		return notFound(op)
	}
	changed, err := s.execConditional(ctx, op, s.cq.totpConfirm, true, step, userID, false, secret)
	if err != nil || changed {
		return err
	}
	return s.totpConflict(ctx, op, userID)
}

// totpConflict tells ErrCredentialNotFound from ErrConflict after a
// conditional UPDATE changed nothing.
func (s *Store) totpConflict(ctx context.Context, op, userID string) error {
	if _, err := s.UserTOTP(ctx, userID); err != nil {
		return err
	}
	return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrConflict)
}

// UseTOTPStep implements [auth.CredentialStore] with one conditional
// UPDATE (last_step < step), which raising the step always changes.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	const op = "use TOTP step"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		return notFound(op)
	}
	changed, err := s.execConditional(ctx, op, s.cq.totpUse, step, userID, true, step)
	if err != nil || changed {
		return err
	}
	return s.totpConflict(ctx, op, userID)
}

// DeleteTOTP implements [auth.CredentialStore].
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, s.cq.totpDelete, userID); err != nil {
		return s.fail(ctx, "delete TOTP", err)
	}
	return nil
}

// SetRecoveryCodes implements [auth.CredentialStore] in one transaction.
func (s *Store) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) (err error) {
	const op = "set recovery codes"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		if len(hashes) == 0 {
			return nil
		}
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, s.cq.codesDelete, userID); err != nil {
		return s.fail(ctx, op, err)
	}
	if len(hashes) > 0 {
		// SQLite enforces the foreign key only when it is on: check.
		var one int
		err := tx.QueryRowContext(ctx, s.qExists, userID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
		}
		if err != nil {
			return s.fail(ctx, op, err)
		}
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, s.cq.codeInsert, userID, h); err != nil {
			if s.dialect.isForeignKey(err) {
				return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
			}
			return s.fail(ctx, op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.fail(ctx, op, err)
	}
	return nil
}

// RecoveryCodeCount implements [auth.CredentialStore].
func (s *Store) RecoveryCodeCount(ctx context.Context, userID string) (int, error) {
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		return 0, nil
	}
	var n int
	if err := s.db.QueryRowContext(ctx, s.cq.codeCount, userID).Scan(&n); err != nil {
		return 0, s.fail(ctx, "count recovery codes", err)
	}
	return n, nil
}

// UseRecoveryCode implements [auth.CredentialStore] with one DELETE: of
// concurrent uses, only one deletes the row.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	const op = "use recovery code"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) || !storeid.WellFormed(hash, storeid.MaxIDLen) {
		return notFound(op)
	}
	res, err := s.db.ExecContext(ctx, s.cq.codeUse, userID, hash)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if n == 0 {
		return notFound(op)
	}
	return nil
}

// CreatePasskey implements [auth.CredentialStore]. A taken ID or
// credential ID is decided by the keys.
func (s *Store) CreatePasskey(ctx context.Context, p *auth.Passkey) error {
	const op = "create passkey"
	if !storeid.WellFormed(p.ID, storeid.MaxIDLen) || p.ID == "" || len(p.CredentialID) == 0 || len(p.CredentialID) > 1023 ||
		len(p.UserHandle) > 64 || len(p.AAGUID) > 16 || !storeid.WellFormed(p.Name, storeid.MaxNameLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, storeid.ErrMalformedID)
	}
	if !storeid.WellFormed(p.UserID, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	if _, err := s.UserByID(ctx, p.UserID); err != nil {
		return err // SQLite without foreign keys would not say
	}
	d := s.dialect
	aaguid := p.AAGUID
	if aaguid == nil {
		aaguid = []byte{}
	}
	_, err := s.db.ExecContext(ctx, s.cq.pkInsert, p.ID, p.UserID, p.CredentialID, p.UserHandle, p.PublicKey, p.Name,
		int64(p.SignCount), p.BackupEligible, p.BackupState, aaguid, strings.Join(p.Transports, ","),
		d.timeArg(p.CreatedAt), d.timeArg(p.LastUsedAt))
	switch {
	case err == nil:
		return nil
	case d.isUnique(err):
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrCredentialExists)
	case d.isForeignKey(err):
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	return s.fail(ctx, op, err)
}

func scanPasskey(r rowScanner) (*auth.Passkey, error) {
	var p auth.Passkey
	var count int64
	var transports string
	err := r.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.UserHandle, &p.PublicKey, &p.Name, &count,
		&p.BackupEligible, &p.BackupState, &p.AAGUID, &transports, timeDest{&p.CreatedAt}, timeDest{&p.LastUsedAt})
	if err != nil {
		return nil, err
	}
	p.SignCount = uint32(count)
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	return &p, nil
}

// UserPasskeys implements [auth.CredentialStore].
func (s *Store) UserPasskeys(ctx context.Context, userID string) ([]*auth.Passkey, error) {
	const op = "user passkeys"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		return nil, nil
	}
	return queryAll(ctx, s, op, s.cq.pkList, scanPasskey, userID)
}

// PasskeyByCredentialID implements [auth.CredentialStore].
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*auth.Passkey, error) {
	const op = "passkey by credential ID"
	if len(credentialID) == 0 || len(credentialID) > 1023 {
		return nil, notFound(op)
	}
	p, err := scanPasskey(s.db.QueryRowContext(ctx, s.cq.pkByCred, credentialID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op)
	}
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return p, nil
}

// UpdatePasskeyUse implements [auth.CredentialStore] with one conditional
// UPDATE (sign_count = prevCount). When no row changed, a second read
// tells ErrCredentialNotFound from ErrConflict, and from an update that
// changed nothing because the row already held its values (MySQL counts
// changed rows, not matched ones).
func (s *Store) UpdatePasskeyUse(ctx context.Context, userID, id string, prevCount, signCount uint32, backupState bool, at time.Time) error {
	const op = "update passkey use"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) || !storeid.WellFormed(id, storeid.MaxIDLen) {
		return notFound(op)
	}
	changed, err := s.execConditional(ctx, op, s.cq.pkUse, int64(signCount), backupState, s.dialect.timeArg(at), userID, id, int64(prevCount))
	if err != nil || changed {
		return err
	}
	var count int64
	var state bool
	var used time.Time
	err = s.db.QueryRowContext(ctx, s.cq.pkUseState, userID, id).Scan(&count, &state, timeDest{&used})
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(op)
	}
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if prevCount == signCount && count == int64(signCount) && state == backupState && used.Equal(at.UTC().Truncate(time.Microsecond)) {
		return nil
	}
	return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrConflict)
}

// RenamePasskey implements [auth.CredentialStore].
func (s *Store) RenamePasskey(ctx context.Context, userID, id, name string) error {
	const op = "rename passkey"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) || !storeid.WellFormed(id, storeid.MaxIDLen) {
		return notFound(op)
	}
	if !storeid.WellFormed(name, storeid.MaxNameLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, storeid.ErrMalformedName)
	}
	if _, err := s.db.ExecContext(ctx, s.cq.pkRename, name, userID, id); err != nil {
		return s.fail(ctx, op, err)
	}
	// MySQL reports no change for the same name: ask whether it exists.
	return s.passkeyExists(ctx, op, userID, id)
}

func (s *Store) passkeyExists(ctx context.Context, op, userID, id string) error {
	var count int64
	var state bool
	var used time.Time
	err := s.db.QueryRowContext(ctx, s.cq.pkUseState, userID, id).Scan(&count, &state, timeDest{&used})
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(op)
	}
	if err != nil {
		return s.fail(ctx, op, err)
	}
	return nil
}

// DeletePasskey implements [auth.CredentialStore].
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	const op = "delete passkey"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) || !storeid.WellFormed(id, storeid.MaxIDLen) {
		return notFound(op)
	}
	res, err := s.db.ExecContext(ctx, s.cq.pkDelete, userID, id)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if n == 0 {
		return notFound(op)
	}
	return nil
}

// deleteCredentials removes a user's TOTP, recovery codes and passkeys
// through q (a transaction of DeleteUser, or the database).
func (s *Store) deleteCredentials(ctx context.Context, q querier, userID string) error {
	for _, stmt := range []string{s.cq.totpDelete, s.cq.codesDelete, s.cq.pkDeleteUser} {
		if _, err := q.ExecContext(ctx, stmt, userID); err != nil {
			return err
		}
	}
	return nil
}

// DeleteUserCredentials implements [auth.CredentialStore] in one
// transaction.
func (s *Store) DeleteUserCredentials(ctx context.Context, userID string) (err error) {
	const op = "delete user credentials"
	if !storeid.WellFormed(userID, storeid.MaxIDLen) {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := s.deleteCredentials(ctx, tx, userID); err != nil {
		return s.fail(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.fail(ctx, op, err)
	}
	return nil
}

// UseNonce implements [auth.CredentialStore] with one INSERT: the primary
// key lets exactly one of concurrent uses in.
func (s *Store) UseNonce(ctx context.Context, id string, expires time.Time) error {
	const op = "use nonce"
	if !storeid.WellFormed(id, storeid.MaxIDLen) || id == "" {
		return fmt.Errorf("sqlstore: %s: %w", op, storeid.ErrMalformedID)
	}
	_, err := s.db.ExecContext(ctx, s.cq.nonceInsert, id, s.dialect.timeArg(expires))
	switch {
	case err == nil:
		return nil
	case s.dialect.isUnique(err):
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrConflict)
	}
	return s.fail(ctx, op, err)
}

// DeleteNonces implements [auth.CredentialStore] in bounded batches
// through the index on expires_at, as [Store.DeleteSessions] does.
func (s *Store) DeleteNonces(ctx context.Context, before time.Time) (int, error) {
	return s.deleteInBatches(ctx, "delete nonces", s.dialect.timeArg(before), s.cq.noncePrune)
}
