package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/storeid"
)

var (
	_ auth.EmailStore        = (*Store)(nil)
	_ auth.OneTimeTokenStore = (*Store)(nil)
)

// emailKey is the key of an address in byEmail: its canonical form, "" for
// no address. An address that no canonical form exists for cannot be
// stored.
func emailKey(email string) (string, error) {
	if email == "" {
		return "", nil
	}
	c, err := auth.CanonicalEmail(email)
	if err != nil {
		return "", fmt.Errorf("memstore: email: %w", err)
	}
	return c, nil
}

// forgetEmail drops u's address and one-time tokens. The caller holds mu.
func (s *Store) forgetEmail(u *auth.User) {
	if key, err := emailKey(u.Email); err == nil && key != "" && s.byEmail[key] == u.ID {
		delete(s.byEmail, key)
	}
	for h, t := range s.tokens {
		if t.UserID == u.ID {
			delete(s.tokens, h)
		}
	}
}

// UserByEmail implements [auth.EmailStore].
func (s *Store) UserByEmail(ctx context.Context, canonical string) (*auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.byEmail[canonical]
	if !ok || canonical == "" {
		return nil, auth.ErrUserNotFound
	}
	return copyUser(s.byID[id]), nil
}

// SetUserEmail implements [auth.EmailStore].
func (s *Store) SetUserEmail(ctx context.Context, u *auth.User, prevEmail string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key, err := emailKey(u.Email)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.byID[u.ID]
	if !ok {
		return auth.ErrUserNotFound
	}
	if cur.Email != prevEmail {
		return auth.ErrConflict
	}
	if owner, taken := s.byEmail[key]; taken && key != "" && owner != u.ID {
		return fmt.Errorf("memstore: email: %w", auth.ErrEmailTaken)
	}
	if old, _ := emailKey(cur.Email); old != "" {
		delete(s.byEmail, old)
	}
	if key != "" {
		s.byEmail[key] = u.ID
	}
	cur.Email, cur.EmailVerified, cur.EmailVerifiedAt, cur.UpdatedAt = u.Email, u.EmailVerified, u.EmailVerifiedAt, u.UpdatedAt
	return nil
}

// SaveOneTimeToken implements [auth.OneTimeTokenStore].
func (s *Store) SaveOneTimeToken(ctx context.Context, t *auth.OneTimeToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !storeid.WellFormed(t.UserID, storeid.MaxIDLen) {
		return fmt.Errorf("memstore: one-time token user: %w", auth.ErrUserNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[t.UserID]; !ok {
		return fmt.Errorf("memstore: one-time token user: %w", auth.ErrUserNotFound)
	}
	for h, old := range s.tokens {
		if old.UserID == t.UserID && old.Purpose == t.Purpose {
			delete(s.tokens, h)
		}
	}
	c := *t
	s.tokens[t.Hash] = &c
	return nil
}

// OneTimeToken implements [auth.OneTimeTokenStore].
func (s *Store) OneTimeToken(ctx context.Context, hash string) (*auth.OneTimeToken, error) {
	return lookup(ctx, s, s.tokens, hash, auth.ErrOneTimeTokenNotFound, shallow)
}

// ConsumeOneTimeToken implements [auth.OneTimeTokenStore].
func (s *Store) ConsumeOneTimeToken(ctx context.Context, hash string) (*auth.OneTimeToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[hash]
	if !ok {
		return nil, auth.ErrOneTimeTokenNotFound
	}
	delete(s.tokens, hash)
	return t, nil
}

// DeleteOneTimeTokens implements [auth.OneTimeTokenStore].
func (s *Store) DeleteOneTimeTokens(ctx context.Context, userID, purpose string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, t := range s.tokens {
		if t.UserID == userID && (purpose == "" || t.Purpose == purpose) {
			delete(s.tokens, h)
		}
	}
	return nil
}

// DeleteExpiredOneTimeTokens implements [auth.OneTimeTokenStore].
func (s *Store) DeleteExpiredOneTimeTokens(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for h, t := range s.tokens {
		if !t.ExpiresAt.After(before) {
			delete(s.tokens, h)
			n++
		}
	}
	return n, nil
}
