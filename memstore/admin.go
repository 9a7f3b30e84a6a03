package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/storeid"
)

var (
	_ auth.UserLister  = (*Store)(nil)
	_ auth.APIKeyStore = (*Store)(nil)
	_ auth.AuditStore  = (*Store)(nil)
)

// adminData is what the Store keeps for the admin abilities, under the
// Store's mutex.
type adminData struct {
	names  []string                // every username, sorted: the list order
	keys   map[string]*auth.APIKey // by ID
	hashes map[string]string       // key hash -> ID
	audit  []*auth.AuditEntry      // sorted by ID
}

func newAdminData() adminData {
	return adminData{keys: make(map[string]*auth.APIKey), hashes: make(map[string]string)}
}

func (d *adminData) addName(name string) {
	i, _ := slices.BinarySearch(d.names, name)
	d.names = slices.Insert(d.names, i, name)
}

// deleteUser forgets a deleted user's name and keys.
func (d *adminData) deleteUser(name, id string) {
	if i, ok := slices.BinarySearch(d.names, name); ok {
		d.names = slices.Delete(d.names, i, i+1)
	}
	for kid, k := range d.keys {
		if k.UserID == id {
			delete(d.hashes, k.Hash)
			delete(d.keys, kid)
		}
	}
}

func copyUser(u *auth.User) *auth.User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	return &c
}

func copyKey(k *auth.APIKey) *auth.APIKey {
	c := *k
	c.Scopes = slices.Clone(k.Scopes)
	return &c
}

// ListUsers implements [auth.UserLister]: a binary search finds the first
// name of the page, so a page costs the same at any size.
func (s *Store) ListUsers(ctx context.Context, q auth.UserQuery) ([]*auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !storeid.WellFormed(q.After, storeid.MaxNameLen) || !storeid.WellFormed(q.Prefix, storeid.MaxNameLen) ||
		!storeid.WellFormed(q.Role, storeid.MaxIDLen) {
		return nil, nil // as sqlstore, which cannot hold them
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := s.admin.names
	byEmail := strings.Contains(q.Prefix, "@")
	start := q.After
	if !byEmail {
		start = max(q.After, q.Prefix)
	}
	i, found := slices.BinarySearch(names, start)
	if found && start == q.After && q.After != "" {
		i++
	}
	var out []*auth.User
	for ; i < len(names) && len(out) < q.Limit; i++ {
		u := s.byID[s.byName[names[i]]]
		if byEmail {
			// An email search reads the names in order, as sqlstore
			// sorts its email-index matches.
			if c, err := auth.CanonicalEmail(u.Email); err != nil || !strings.HasPrefix(c, q.Prefix) {
				continue
			}
		} else if !strings.HasPrefix(names[i], q.Prefix) {
			break
		}
		if (q.Disabled != nil && u.Disabled != *q.Disabled) || (q.Role != "" && !u.HasRole(q.Role)) {
			continue
		}
		out = append(out, copyUser(u))
	}
	return out, nil
}

// CreateAPIKey implements [auth.APIKeyStore].
func (s *Store) CreateAPIKey(ctx context.Context, k *auth.APIKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !storeid.WellFormed(k.ID, storeid.MaxIDLen) || k.ID == "" || !storeid.WellFormed(k.Hash, storeid.MaxIDLen) {
		return storeid.ErrMalformedID
	}
	if !storeid.WellFormed(k.UserID, storeid.MaxIDLen) {
		return fmt.Errorf("memstore: key user: %w", auth.ErrUserNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[k.UserID]; !ok {
		return fmt.Errorf("memstore: key user: %w", auth.ErrUserNotFound)
	}
	if _, taken := s.admin.keys[k.ID]; taken {
		return fmt.Errorf("memstore: key id: %w", auth.ErrUserExists)
	}
	if _, taken := s.admin.hashes[k.Hash]; taken {
		return fmt.Errorf("memstore: key hash: %w", auth.ErrUserExists)
	}
	s.admin.keys[k.ID] = copyKey(k)
	s.admin.hashes[k.Hash] = k.ID
	return nil
}

// APIKey implements [auth.APIKeyStore].
func (s *Store) APIKey(ctx context.Context, id string) (*auth.APIKey, error) {
	return lookup(ctx, s, s.admin.keys, id, auth.ErrAPIKeyNotFound, copyKey)
}

// APIKeyByHash implements [auth.APIKeyStore].
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*auth.APIKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.admin.hashes[hash]
	if !ok {
		return nil, auth.ErrAPIKeyNotFound
	}
	return copyKey(s.admin.keys[id]), nil
}

// UserAPIKeys implements [auth.APIKeyStore].
func (s *Store) UserAPIKeys(ctx context.Context, userID string) ([]*auth.APIKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*auth.APIKey
	for _, k := range s.admin.keys {
		if k.UserID == userID && k.RevokedAt.IsZero() {
			out = append(out, copyKey(k))
		}
	}
	slices.SortFunc(out, func(a, b *auth.APIKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// RevokeAPIKey implements [auth.APIKeyStore].
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.admin.keys[id]; ok && k.RevokedAt.IsZero() {
		k.RevokedAt = at
	}
	return nil
}

// TouchAPIKey implements [auth.APIKeyStore].
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.admin.keys[id]; ok && k.LastUsedAt.Before(at) {
		k.LastUsedAt = at
	}
	return nil
}

// DeleteAPIKeys implements [auth.APIKeyStore].
func (s *Store) DeleteAPIKeys(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, k := range s.admin.keys {
		expired := !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(before)
		revoked := !k.RevokedAt.IsZero() && !k.RevokedAt.After(before)
		if expired || revoked {
			delete(s.admin.hashes, k.Hash)
			delete(s.admin.keys, id)
			n++
		}
	}
	return n, nil
}

// AppendAudit implements [auth.AuditStore].
func (s *Store) AppendAudit(ctx context.Context, e *auth.AuditEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !storeid.WellFormed(e.ID, storeid.MaxIDLen) || e.ID == "" {
		return storeid.ErrMalformedID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := slices.BinarySearchFunc(s.admin.audit, e.ID, func(x *auth.AuditEntry, id string) int { return strings.Compare(x.ID, id) })
	if found {
		return fmt.Errorf("memstore: audit id: %w", auth.ErrUserExists)
	}
	c := *e
	s.admin.audit = slices.Insert(s.admin.audit, i, &c)
	return nil
}

// AuditEntries implements [auth.AuditStore].
func (s *Store) AuditEntries(ctx context.Context, q auth.AuditQuery) ([]*auth.AuditEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	list := s.admin.audit
	i := len(list)
	if q.Before != "" {
		i, _ = slices.BinarySearchFunc(list, q.Before, func(x *auth.AuditEntry, id string) int { return strings.Compare(x.ID, id) })
	}
	var out []*auth.AuditEntry
	for i--; i >= 0 && len(out) < q.Limit; i-- {
		e := list[i]
		if q.UserID != "" && e.ActorID != q.UserID && e.TargetID != q.UserID {
			continue
		}
		c := *e
		out = append(out, &c)
	}
	return out, nil
}

// DeleteAudit implements [auth.AuditStore].
func (s *Store) DeleteAudit(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.admin.audit[:0]
	for _, e := range s.admin.audit {
		if e.Time.Before(before) {
			continue
		}
		kept = append(kept, e)
	}
	n := len(s.admin.audit) - len(kept)
	clear(s.admin.audit[len(kept):])
	s.admin.audit = kept
	return n, nil
}
