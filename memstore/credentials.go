package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/storeid"
)

var _ auth.CredentialStore = (*Store)(nil)

// credentials are the second factors of every user, guarded by the
// Store's mutex.
type credentials struct {
	totp     map[string]*auth.TOTP
	codes    map[string]map[string]bool // user ID -> set of hashes
	passkeys map[string]*auth.Passkey   // by ID
	nonces   map[string]time.Time
}

func newCredentials() credentials {
	return credentials{
		totp:     map[string]*auth.TOTP{},
		codes:    map[string]map[string]bool{},
		passkeys: map[string]*auth.Passkey{},
		nonces:   map[string]time.Time{},
	}
}

func (c *credentials) deleteUser(id string) {
	delete(c.totp, id)
	delete(c.codes, id)
	for pid, p := range c.passkeys {
		if p.UserID == id {
			delete(c.passkeys, pid)
		}
	}
}

func copyTOTP(t *auth.TOTP) *auth.TOTP {
	c := *t
	c.Secret = bytes.Clone(t.Secret)
	return &c
}

func copyPasskey(p *auth.Passkey) *auth.Passkey {
	c := *p
	c.CredentialID = bytes.Clone(p.CredentialID)
	c.UserHandle = bytes.Clone(p.UserHandle)
	c.PublicKey = bytes.Clone(p.PublicKey)
	c.AAGUID = bytes.Clone(p.AAGUID)
	c.Transports = slices.Clone(p.Transports)
	return &c
}

// UserTOTP implements [auth.CredentialStore].
func (s *Store) UserTOTP(ctx context.Context, userID string) (*auth.TOTP, error) {
	return lookup(ctx, s, s.creds.totp, userID, auth.ErrCredentialNotFound, copyTOTP)
}

// SetTOTP implements [auth.CredentialStore].
func (s *Store) SetTOTP(ctx context.Context, userID string, t *auth.TOTP) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[userID]; !ok {
		return fmt.Errorf("memstore: set TOTP: %w", auth.ErrUserNotFound)
	}
	s.creds.totp[userID] = copyTOTP(t)
	return nil
}

// ConfirmTOTP implements [auth.CredentialStore].
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, secret []byte, step int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.creds.totp[userID]
	switch {
	case !ok:
		return auth.ErrCredentialNotFound
	case t.Confirmed || !bytes.Equal(t.Secret, secret):
		return fmt.Errorf("memstore: confirm TOTP: %w", auth.ErrConflict)
	}
	t.Confirmed, t.LastStep = true, step
	return nil
}

// UseTOTPStep implements [auth.CredentialStore].
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.creds.totp[userID]
	switch {
	case !ok:
		return auth.ErrCredentialNotFound
	case !t.Confirmed || t.LastStep >= step:
		return fmt.Errorf("memstore: use TOTP step: %w", auth.ErrConflict)
	}
	t.LastStep = step
	return nil
}

// DeleteTOTP implements [auth.CredentialStore].
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.creds.totp, userID)
	return nil
}

// SetRecoveryCodes implements [auth.CredentialStore].
func (s *Store) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(hashes) == 0 {
		delete(s.creds.codes, userID)
		return nil
	}
	if _, ok := s.byID[userID]; !ok {
		return fmt.Errorf("memstore: set recovery codes: %w", auth.ErrUserNotFound)
	}
	set := make(map[string]bool, len(hashes))
	for _, h := range hashes {
		set[h] = true
	}
	s.creds.codes[userID] = set
	return nil
}

// RecoveryCodeCount implements [auth.CredentialStore].
func (s *Store) RecoveryCodeCount(ctx context.Context, userID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.creds.codes[userID]), nil
}

// UseRecoveryCode implements [auth.CredentialStore].
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.creds.codes[userID][hash] {
		return auth.ErrCredentialNotFound
	}
	delete(s.creds.codes[userID], hash)
	return nil
}

// CreatePasskey implements [auth.CredentialStore].
func (s *Store) CreatePasskey(ctx context.Context, p *auth.Passkey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !storeid.WellFormed(p.ID, storeid.MaxIDLen) || p.ID == "" || len(p.CredentialID) == 0 || len(p.CredentialID) > 1023 {
		return fmt.Errorf("memstore: create passkey: %w", storeid.ErrMalformedID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[p.UserID]; !ok {
		return fmt.Errorf("memstore: create passkey: %w", auth.ErrUserNotFound)
	}
	for _, o := range s.creds.passkeys {
		if o.ID == p.ID || bytes.Equal(o.CredentialID, p.CredentialID) {
			return fmt.Errorf("memstore: create passkey: %w", auth.ErrCredentialExists)
		}
	}
	s.creds.passkeys[p.ID] = copyPasskey(p)
	return nil
}

// UserPasskeys implements [auth.CredentialStore].
func (s *Store) UserPasskeys(ctx context.Context, userID string) ([]*auth.Passkey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*auth.Passkey
	for _, p := range s.creds.passkeys {
		if p.UserID == userID {
			out = append(out, copyPasskey(p))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// PasskeyByCredentialID implements [auth.CredentialStore].
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*auth.Passkey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, p := range s.creds.passkeys {
		if bytes.Equal(p.CredentialID, credentialID) {
			return copyPasskey(p), nil
		}
	}
	return nil, auth.ErrCredentialNotFound
}

// ownPasskey returns the user's passkey id; the caller holds the lock.
func (s *Store) ownPasskey(userID, id string) (*auth.Passkey, error) {
	p, ok := s.creds.passkeys[id]
	if !ok || p.UserID != userID {
		return nil, auth.ErrCredentialNotFound
	}
	return p, nil
}

// UpdatePasskeyUse implements [auth.CredentialStore].
func (s *Store) UpdatePasskeyUse(ctx context.Context, userID, id string, prevCount, signCount uint32, backupState bool, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.ownPasskey(userID, id)
	if err != nil {
		return err
	}
	if p.SignCount != prevCount {
		return fmt.Errorf("memstore: update passkey: %w", auth.ErrConflict)
	}
	p.SignCount, p.BackupState, p.LastUsedAt = signCount, backupState, at
	return nil
}

// RenamePasskey implements [auth.CredentialStore].
func (s *Store) RenamePasskey(ctx context.Context, userID, id, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.ownPasskey(userID, id)
	if err != nil {
		return err
	}
	p.Name = name
	return nil
}

// DeletePasskey implements [auth.CredentialStore].
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.ownPasskey(userID, id); err != nil {
		return err
	}
	delete(s.creds.passkeys, id)
	return nil
}

// DeleteUserCredentials implements [auth.CredentialStore].
func (s *Store) DeleteUserCredentials(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds.deleteUser(userID)
	return nil
}

// UseNonce implements [auth.CredentialStore].
func (s *Store) UseNonce(ctx context.Context, id string, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, used := s.creds.nonces[id]; used {
		return fmt.Errorf("memstore: use nonce: %w", auth.ErrConflict)
	}
	s.creds.nonces[id] = expires
	return nil
}

// DeleteNonces implements [auth.CredentialStore].
func (s *Store) DeleteNonces(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, exp := range s.creds.nonces {
		if exp.Before(before) {
			delete(s.creds.nonces, id)
			n++
		}
	}
	return n, nil
}
