// Package memstore is an in-memory [auth.UserStore], for tests, prototypes
// and single-process apps that do not need users to survive a restart.
//
// It is safe for concurrent use and starts no goroutines.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/storeid"
	"github.com/google/uuid"
)

// Store keeps users in maps guarded by a mutex. The zero value is not usable;
// call [New].
type Store struct {
	mu       sync.RWMutex
	byID     map[string]*auth.User
	byName   map[string]string // username -> ID
	sessions map[string]*auth.Session
	creds    credentials // second factors: see credentials.go

	admin adminData // user list order, API keys, audit trail: admin.go

	// Email flows (issue 13): see email.go.
	byEmail map[string]string // canonical email -> ID
	tokens  map[string]*auth.OneTimeToken
	// byUser indexes sessions by user, so that listing and revoking a
	// user's sessions cost that user's sessions, not every session.
	byUser map[string]map[string]*auth.Session
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		byID:     make(map[string]*auth.User),
		byName:   make(map[string]string),
		sessions: make(map[string]*auth.Session),
		creds:    newCredentials(),
		admin:    newAdminData(),
		byEmail:  make(map[string]string),
		tokens:   make(map[string]*auth.OneTimeToken),
		byUser:   make(map[string]map[string]*auth.Session),
	}
}

var (
	_ auth.UserStore    = (*Store)(nil)
	_ auth.SessionStore = (*Store)(nil)
)

// CreateUser implements [auth.UserStore].
func (s *Store) CreateUser(ctx context.Context, u *auth.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !storeid.WellFormed(u.ID, storeid.MaxIDLen) {
		return storeid.ErrMalformedID
	}
	if !storeid.WellFormed(u.Username, storeid.MaxNameLen) {
		return storeid.ErrMalformedName
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
	email, err := emailKey(u.Email)
	if err != nil {
		return err
	}
	if _, taken := s.byEmail[email]; taken && email != "" {
		return fmt.Errorf("memstore: email: %w", auth.ErrEmailTaken)
	}
	u.ID = id
	s.byID[id] = copyUser(u)
	s.byName[u.Username] = id
	s.admin.addName(u.Username)
	if email != "" {
		s.byEmail[email] = id
	}
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
	return copyUser(u), nil
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
	return copyUser(s.byID[id]), nil
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
	cur.Roles = slices.Clone(u.Roles)
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
	s.admin.deleteUser(u.Username, id)
	s.forgetEmail(u)
	for sid := range s.byUser[id] {
		delete(s.sessions, sid)
	}
	delete(s.byUser, id)
	s.creds.deleteUser(id)
	return nil
}

// CreateSession implements [auth.SessionStore].
func (s *Store) CreateSession(ctx context.Context, sess *auth.Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !storeid.WellFormed(sess.ID, storeid.MaxIDLen) || !storeid.WellFormed(sess.CurrentJTI, storeid.MaxIDLen) {
		return storeid.ErrMalformedID
	}
	if !storeid.WellFormed(sess.UserID, storeid.MaxIDLen) {
		return fmt.Errorf("memstore: session user: %w", auth.ErrUserNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.sessions[sess.ID]; taken {
		return fmt.Errorf("memstore: session id: %w", auth.ErrUserExists)
	}
	c := *sess
	s.sessions[sess.ID] = &c
	own := s.byUser[c.UserID]
	if own == nil {
		own = make(map[string]*auth.Session)
		s.byUser[c.UserID] = own
	}
	own[c.ID] = &c
	return nil
}

// Session implements [auth.SessionStore].
func (s *Store) Session(ctx context.Context, id string) (*auth.Session, error) {
	return lookup(ctx, s, s.sessions, id, auth.ErrSessionNotFound, shallow)
}

// lookup returns a copy, made by cp, of m[key] read under the store's read
// lock, or notFound.
func lookup[T any](ctx context.Context, s *Store, m map[string]*T, key string, notFound error, cp func(*T) *T) (*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := m[key]
	if !ok {
		return nil, notFound
	}
	return cp(v), nil
}

// shallow copies a value that holds no slices or maps.
func shallow[T any](v *T) *T {
	c := *v
	return &c
}

// RotateSession implements [auth.SessionStore].
func (s *Store) RotateSession(ctx context.Context, id, fromJTI, toJTI string, at time.Time, userAgent, ip string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !storeid.WellFormed(toJTI, storeid.MaxIDLen) {
		return storeid.ErrMalformedID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return auth.ErrSessionNotFound
	}
	if sess.CurrentJTI != fromJTI || !sess.RevokedAt.IsZero() {
		return auth.ErrConflict
	}
	sess.PreviousJTI, sess.CurrentJTI = fromJTI, toJTI
	sess.RotatedAt, sess.LastUsedAt = at, at
	sess.RotatedUserAgent, sess.RotatedIP = userAgent, ip
	sess.GraceUses = 0
	return nil
}

// UseGrace implements [auth.SessionStore].
func (s *Store) UseGrace(ctx context.Context, id, previousJTI string, max int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return auth.ErrSessionNotFound
	}
	if previousJTI == "" || sess.PreviousJTI != previousJTI || sess.GraceUses >= max || !sess.RevokedAt.IsZero() {
		return auth.ErrConflict
	}
	sess.GraceUses++
	return nil
}

// RevokeSession implements [auth.SessionStore].
func (s *Store) RevokeSession(ctx context.Context, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.sessions[id]; ok && sess.RevokedAt.IsZero() {
		sess.RevokedAt = at
	}
	return nil
}

// RevokeUserSessions implements [auth.SessionStore].
func (s *Store) RevokeUserSessions(ctx context.Context, userID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.byUser[userID] {
		if sess.RevokedAt.IsZero() {
			sess.RevokedAt = at
		}
	}
	return nil
}

// UserSessions implements [auth.SessionStore].
func (s *Store) UserSessions(ctx context.Context, userID string, now time.Time) ([]*auth.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*auth.Session
	for _, sess := range s.byUser[userID] {
		if sess.RevokedAt.IsZero() && sess.ExpiresAt.After(now) {
			c := *sess
			out = append(out, &c)
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

// pruneChunk is how many sessions DeleteSessions looks at between letting
// other calls take the lock: a few milliseconds of work.
const pruneChunk = 4096

// DeleteSessions implements [auth.SessionStore]. It lets other calls take
// the lock after every 4096 sessions it looks at, so that a prune of
// millions (one scan of a million takes most of a second) does not stop
// logins and refreshes for its whole length. Go permits changes to a map
// between the steps of a range over it: a session deleted meanwhile is not
// visited, and one added meanwhile is live.
func (s *Store) DeleteSessions(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	n, seen := 0, 0
	for id, sess := range s.sessions {
		expired := !sess.ExpiresAt.After(before)
		revoked := !sess.RevokedAt.IsZero() && !sess.RevokedAt.After(before)
		if expired || revoked {
			delete(s.sessions, id)
			if own := s.byUser[sess.UserID]; own != nil {
				delete(own, id)
				if len(own) == 0 {
					delete(s.byUser, sess.UserID)
				}
			}
			n++
		}
		if seen++; seen%pruneChunk == 0 {
			s.mu.Unlock()
			if err := ctx.Err(); err != nil {
				return n, err
			}
			s.mu.Lock()
		}
	}
	s.mu.Unlock()
	return n, nil
}
