package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The store wrappers below put every store call under the deadline of
// WithStoreTimeout, so that a database that stops answering costs a request
// at most that long and answers 503, instead of holding it for as long as
// the database is silent. A store must honour its context for this to work;
// sqlstore does, through database/sql.

// timedUsers is a UserStore whose calls end at the store timeout.
type timedUsers struct {
	UserStore
	d time.Duration
}

// timedSessions is a SessionStore whose calls end at the store timeout.
type timedSessions struct {
	SessionStore
	d time.Duration
}

// within runs call under a deadline d from now. When the deadline, and
// not the caller's own context, ended it, the error wraps ErrUnavailable.
func within[T any](ctx context.Context, d time.Duration, call func(context.Context) (T, error)) (T, error) {
	tctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	v, err := call(tctx)
	if err != nil && ctx.Err() == nil && tctx.Err() != nil && !errors.Is(err, ErrUnavailable) && !isOutcome(err) {
		err = fmt.Errorf("auth: store did not answer within %v: %w", d, joinErr(ErrUnavailable, err))
	}
	return v, err
}

// isOutcome reports whether err is an answer of the store (not found,
// taken, changed meanwhile) rather than a failure: one that arrives just
// as the deadline passes is still that answer.
func isOutcome(err error) bool {
	return errors.Is(err, ErrUserNotFound) || errors.Is(err, ErrUserExists) ||
		errors.Is(err, ErrConflict) || errors.Is(err, ErrSessionNotFound)
}

// withinErr is within for calls that return only an error.
func withinErr(ctx context.Context, d time.Duration, call func(context.Context) error) error {
	_, err := within(ctx, d, func(ctx context.Context) (struct{}, error) { return struct{}{}, call(ctx) })
	return err
}

func (s timedUsers) CreateUser(ctx context.Context, u *User) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.UserStore.CreateUser(ctx, u) })
}

func (s timedUsers) UserByID(ctx context.Context, id string) (*User, error) {
	return within(ctx, s.d, func(ctx context.Context) (*User, error) { return s.UserStore.UserByID(ctx, id) })
}

func (s timedUsers) UserByUsername(ctx context.Context, name string) (*User, error) {
	return within(ctx, s.d, func(ctx context.Context) (*User, error) { return s.UserStore.UserByUsername(ctx, name) })
}

func (s timedUsers) UpdateUser(ctx context.Context, u *User, prevHash string, prevVersion int64) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.UserStore.UpdateUser(ctx, u, prevHash, prevVersion) })
}

func (s timedUsers) DeleteUser(ctx context.Context, id string) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.UserStore.DeleteUser(ctx, id) })
}

func (s timedSessions) CreateSession(ctx context.Context, sess *Session) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.SessionStore.CreateSession(ctx, sess) })
}

func (s timedSessions) Session(ctx context.Context, id string) (*Session, error) {
	return within(ctx, s.d, func(ctx context.Context) (*Session, error) { return s.SessionStore.Session(ctx, id) })
}

func (s timedSessions) RotateSession(ctx context.Context, id, fromJTI, toJTI string, at time.Time, userAgent, ip string) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error {
		return s.SessionStore.RotateSession(ctx, id, fromJTI, toJTI, at, userAgent, ip)
	})
}

func (s timedSessions) UseGrace(ctx context.Context, id, previousJTI string, max int) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.SessionStore.UseGrace(ctx, id, previousJTI, max) })
}

func (s timedSessions) RevokeSession(ctx context.Context, id string, at time.Time) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.SessionStore.RevokeSession(ctx, id, at) })
}

func (s timedSessions) RevokeUserSessions(ctx context.Context, userID string, at time.Time) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.SessionStore.RevokeUserSessions(ctx, userID, at) })
}

func (s timedSessions) UserSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error) {
	return within(ctx, s.d, func(ctx context.Context) ([]*Session, error) { return s.SessionStore.UserSessions(ctx, userID, now) })
}

// DeleteSessions is not under the store timeout: pruning a large table
// may take longer (stores prune in batches, with pauses), and runs from
// the application's own ticker, whose context bounds it. Its siblings
// (nonces, the audit trail, one-time tokens) are not either.
func (s timedSessions) DeleteSessions(ctx context.Context, before time.Time) (int, error) {
	return s.SessionStore.DeleteSessions(ctx, before)
}

// timedCredentials is a CredentialStore whose calls end at the store
// timeout.
type timedCredentials struct {
	CredentialStore
	d time.Duration
}

func (s timedCredentials) UserTOTP(ctx context.Context, userID string) (*TOTP, error) {
	return within(ctx, s.d, func(ctx context.Context) (*TOTP, error) { return s.CredentialStore.UserTOTP(ctx, userID) })
}

func (s timedCredentials) SetTOTP(ctx context.Context, userID string, t *TOTP) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.CredentialStore.SetTOTP(ctx, userID, t) })
}

func (s timedCredentials) ConfirmTOTP(ctx context.Context, userID string, secret []byte, step int64) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.CredentialStore.ConfirmTOTP(ctx, userID, secret, step) })
}

func (s timedCredentials) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.CredentialStore.UseTOTPStep(ctx, userID, step) })
}

func (s timedCredentials) DeleteTOTP(ctx context.Context, userID string) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.CredentialStore.DeleteTOTP(ctx, userID) })
}

func (s timedCredentials) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.CredentialStore.SetRecoveryCodes(ctx, userID, hashes) })
}

func (s timedCredentials) RecoveryCodeCount(ctx context.Context, userID string) (int, error) {
	return within(ctx, s.d, func(ctx context.Context) (int, error) { return s.CredentialStore.RecoveryCodeCount(ctx, userID) })
}

func (s timedCredentials) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.CredentialStore.UseRecoveryCode(ctx, userID, hash) })
}

func (s timedCredentials) CreatePasskey(ctx context.Context, p *Passkey) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.CredentialStore.CreatePasskey(ctx, p) })
}

func (s timedCredentials) UserPasskeys(ctx context.Context, userID string) ([]*Passkey, error) {
	return within(ctx, s.d, func(ctx context.Context) ([]*Passkey, error) { return s.CredentialStore.UserPasskeys(ctx, userID) })
}

func (s timedCredentials) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error) {
	return within(ctx, s.d, func(ctx context.Context) (*Passkey, error) {
		return s.CredentialStore.PasskeyByCredentialID(ctx, credentialID)
	})
}

func (s timedCredentials) UpdatePasskeyUse(ctx context.Context, userID, id string, prevCount, signCount uint32, backupState bool, at time.Time) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error {
		return s.CredentialStore.UpdatePasskeyUse(ctx, userID, id, prevCount, signCount, backupState, at)
	})
}

func (s timedCredentials) RenamePasskey(ctx context.Context, userID, id, name string) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.CredentialStore.RenamePasskey(ctx, userID, id, name) })
}

func (s timedCredentials) DeletePasskey(ctx context.Context, userID, id string) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.CredentialStore.DeletePasskey(ctx, userID, id) })
}

func (s timedCredentials) DeleteUserCredentials(ctx context.Context, userID string) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.CredentialStore.DeleteUserCredentials(ctx, userID) })
}

func (s timedCredentials) UseNonce(ctx context.Context, id string, expires time.Time) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.CredentialStore.UseNonce(ctx, id, expires) })
}

// DeleteNonces is not under the store timeout, as DeleteSessions.
func (s timedCredentials) DeleteNonces(ctx context.Context, before time.Time) (int, error) {
	return s.CredentialStore.DeleteNonces(ctx, before)
}

// timedLister, timedKeys and timedAudit are the optional abilities of
// admin.go under the store timeout.
type timedLister struct {
	UserLister
	d time.Duration
}

func (s timedLister) ListUsers(ctx context.Context, q UserQuery) ([]*User, error) {
	return within(ctx, s.d, func(ctx context.Context) ([]*User, error) { return s.UserLister.ListUsers(ctx, q) })
}

type timedKeys struct {
	APIKeyStore
	d time.Duration
}

func (s timedKeys) CreateAPIKey(ctx context.Context, k *APIKey) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.APIKeyStore.CreateAPIKey(ctx, k) })
}

func (s timedKeys) APIKey(ctx context.Context, id string) (*APIKey, error) {
	return within(ctx, s.d, func(ctx context.Context) (*APIKey, error) { return s.APIKeyStore.APIKey(ctx, id) })
}

func (s timedKeys) APIKeyByHash(ctx context.Context, hash string) (*APIKey, error) {
	return within(ctx, s.d, func(ctx context.Context) (*APIKey, error) { return s.APIKeyStore.APIKeyByHash(ctx, hash) })
}

func (s timedKeys) UserAPIKeys(ctx context.Context, userID string) ([]*APIKey, error) {
	return within(ctx, s.d, func(ctx context.Context) ([]*APIKey, error) { return s.APIKeyStore.UserAPIKeys(ctx, userID) })
}

func (s timedKeys) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.APIKeyStore.RevokeAPIKey(ctx, id, at) })
}

func (s timedKeys) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.APIKeyStore.TouchAPIKey(ctx, id, at) })
}

func (s timedKeys) DeleteAPIKeys(ctx context.Context, before time.Time) (int, error) {
	return within(ctx, s.d, func(ctx context.Context) (int, error) { return s.APIKeyStore.DeleteAPIKeys(ctx, before) })
}

type timedAudit struct {
	AuditStore
	d time.Duration
}

func (s timedAudit) AppendAudit(ctx context.Context, e *AuditEntry) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.AuditStore.AppendAudit(ctx, e) })
}

func (s timedAudit) AuditEntries(ctx context.Context, q AuditQuery) ([]*AuditEntry, error) {
	return within(ctx, s.d, func(ctx context.Context) ([]*AuditEntry, error) { return s.AuditStore.AuditEntries(ctx, q) })
}

// DeleteAudit is not under the store timeout, as DeleteSessions.
func (s timedAudit) DeleteAudit(ctx context.Context, before time.Time) (int, error) {
	return s.AuditStore.DeleteAudit(ctx, before)
}

// Email flows (issue 13).

// timedEmails is an EmailStore whose calls end at the store timeout.
type timedEmails struct {
	EmailStore
	d time.Duration
}

// timedOneTime is a OneTimeTokenStore whose calls end at the store timeout.
type timedOneTime struct {
	OneTimeTokenStore
	d time.Duration
}

func (s timedEmails) UserByEmail(ctx context.Context, canonical string) (*User, error) {
	return within(ctx, s.d, func(ctx context.Context) (*User, error) { return s.EmailStore.UserByEmail(ctx, canonical) })
}

func (s timedEmails) SetUserEmail(ctx context.Context, u *User, prevEmail string) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.EmailStore.SetUserEmail(ctx, u, prevEmail) })
}

func (s timedOneTime) SaveOneTimeToken(ctx context.Context, t *OneTimeToken) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error { return s.OneTimeTokenStore.SaveOneTimeToken(ctx, t) })
}

func (s timedOneTime) OneTimeToken(ctx context.Context, hash string) (*OneTimeToken, error) {
	return within(ctx, s.d, func(ctx context.Context) (*OneTimeToken, error) { return s.OneTimeTokenStore.OneTimeToken(ctx, hash) })
}

func (s timedOneTime) ConsumeOneTimeToken(ctx context.Context, hash string) (*OneTimeToken, error) {
	return within(ctx, s.d, func(ctx context.Context) (*OneTimeToken, error) {
		return s.OneTimeTokenStore.ConsumeOneTimeToken(ctx, hash)
	})
}

func (s timedOneTime) DeleteOneTimeTokens(ctx context.Context, userID, purpose string) error {
	return withinErr(ctx, s.d, func(ctx context.Context) error {
		return s.OneTimeTokenStore.DeleteOneTimeTokens(ctx, userID, purpose)
	})
}

// DeleteExpiredOneTimeTokens is not under the store timeout, as
// DeleteSessions.
func (s timedOneTime) DeleteExpiredOneTimeTokens(ctx context.Context, before time.Time) (int, error) {
	return s.OneTimeTokenStore.DeleteExpiredOneTimeTokens(ctx, before)
}
