// Package memstore is an in-memory [auth.UserStore], for tests, prototypes
// and single-process apps that do not need users to survive a restart.
//
// It is safe for concurrent use and starts no goroutines.
package memstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/gatehouse/auth"
	"github.com/google/uuid"
)

// Store keeps users in maps guarded by a mutex. The zero value is not usable;
// call [New].
type Store struct {
	mu     sync.RWMutex
	byID   map[string]*auth.User
	byName map[string]string // username -> ID
}

// New returns an empty Store.
func New() *Store {
	return &Store{byID: make(map[string]*auth.User), byName: make(map[string]string)}
}

var _ auth.UserStore = (*Store)(nil)

// CreateUser implements [auth.UserStore].
func (s *Store) CreateUser(ctx context.Context, u *auth.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	id := u.ID
	if id == "" {
		v7, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("memstore: generate id: %w", err)
		}
		id = v7.String()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.byName[u.Username]; taken {
		return fmt.Errorf("memstore: username: %w", auth.ErrUserExists)
	}
	if _, taken := s.byID[id]; taken {
		return fmt.Errorf("memstore: id: %w", auth.ErrUserExists)
	}
	u.ID = id
	c := *u
	s.byID[id] = &c
	s.byName[u.Username] = id
	return nil
}

// UserByID implements [auth.UserStore].
func (s *Store) UserByID(ctx context.Context, id string) (*auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.byID[id]
	if !ok {
		return nil, auth.ErrUserNotFound
	}
	c := *u
	return &c, nil
}

// UserByUsername implements [auth.UserStore].
func (s *Store) UserByUsername(ctx context.Context, username string) (*auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.byName[username]
	if !ok {
		return nil, auth.ErrUserNotFound
	}
	c := *s.byID[id]
	return &c, nil
}

// UpdateUser implements [auth.UserStore].
func (s *Store) UpdateUser(ctx context.Context, u *auth.User, prevHash string, prevVersion int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.byID[u.ID]
	if !ok {
		return auth.ErrUserNotFound
	}
	if cur.PasswordHash != prevHash || cur.TokenVersion != prevVersion {
		return auth.ErrConflict
	}
	cur.PasswordHash = u.PasswordHash
	cur.TokenVersion = u.TokenVersion
	cur.Disabled = u.Disabled
	cur.UpdatedAt = u.UpdatedAt
	return nil
}

// DeleteUser implements [auth.UserStore].
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return auth.ErrUserNotFound
	}
	delete(s.byName, u.Username)
	delete(s.byID, id)
	return nil
}
