package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/auth"
)

// samples collects durations by name, safe for concurrent use.
type samples struct {
	mu sync.Mutex
	m  map[string][]time.Duration
}

func newSamples() *samples { return &samples{m: map[string][]time.Duration{}} }

func (s *samples) reset() {
	s.mu.Lock()
	s.m = map[string][]time.Duration{}
	s.mu.Unlock()
}

func (s *samples) add(name string, d time.Duration) {
	s.mu.Lock()
	s.m[name] = append(s.m[name], d)
	s.mu.Unlock()
}

// storeTimeKey carries a request's total time in the store.
type storeTimeKey struct{}

// withStoreTime returns a context that adds up the time of the store calls
// made with it into *total.
func withStoreTime(ctx context.Context, total *atomic.Int64) context.Context {
	return context.WithValue(ctx, storeTimeKey{}, total)
}

// timedStore times every call of the store it wraps: per method into
// calls, and per request into the total in the call's context.
//
// It hides every optional interface of the store but those of backend: a
// store capability the workload comes to use (one-time tokens, passkeys)
// needs its methods here too, or the Authenticator will not find it.
type timedStore struct {
	s     backend
	calls *samples
}

func (t *timedStore) done(ctx context.Context, name string, start time.Time) {
	d := time.Since(start)
	t.calls.add(name, d)
	if total, ok := ctx.Value(storeTimeKey{}).(*atomic.Int64); ok {
		total.Add(int64(d))
	}
}

func (t *timedStore) CreateUser(ctx context.Context, u *auth.User) error {
	defer t.done(ctx, "CreateUser", time.Now())
	return t.s.CreateUser(ctx, u)
}

func (t *timedStore) UserByID(ctx context.Context, id string) (*auth.User, error) {
	defer t.done(ctx, "UserByID", time.Now())
	return t.s.UserByID(ctx, id)
}

func (t *timedStore) UserByUsername(ctx context.Context, username string) (*auth.User, error) {
	defer t.done(ctx, "UserByUsername", time.Now())
	return t.s.UserByUsername(ctx, username)
}

func (t *timedStore) UpdateUser(ctx context.Context, u *auth.User, prevHash string, prevVersion int64) error {
	defer t.done(ctx, "UpdateUser", time.Now())
	return t.s.UpdateUser(ctx, u, prevHash, prevVersion)
}

func (t *timedStore) DeleteUser(ctx context.Context, id string) error {
	defer t.done(ctx, "DeleteUser", time.Now())
	return t.s.DeleteUser(ctx, id)
}

func (t *timedStore) CreateSession(ctx context.Context, s *auth.Session) error {
	defer t.done(ctx, "CreateSession", time.Now())
	return t.s.CreateSession(ctx, s)
}

func (t *timedStore) Session(ctx context.Context, id string) (*auth.Session, error) {
	defer t.done(ctx, "Session", time.Now())
	return t.s.Session(ctx, id)
}

func (t *timedStore) RotateSession(ctx context.Context, id, fromJTI, toJTI string, at time.Time, userAgent, ip string) error {
	defer t.done(ctx, "RotateSession", time.Now())
	return t.s.RotateSession(ctx, id, fromJTI, toJTI, at, userAgent, ip)
}

func (t *timedStore) UseGrace(ctx context.Context, id, previousJTI string, max int) error {
	defer t.done(ctx, "UseGrace", time.Now())
	return t.s.UseGrace(ctx, id, previousJTI, max)
}

func (t *timedStore) RevokeSession(ctx context.Context, id string, at time.Time) error {
	defer t.done(ctx, "RevokeSession", time.Now())
	return t.s.RevokeSession(ctx, id, at)
}

func (t *timedStore) RevokeUserSessions(ctx context.Context, userID string, at time.Time) error {
	defer t.done(ctx, "RevokeUserSessions", time.Now())
	return t.s.RevokeUserSessions(ctx, userID, at)
}

func (t *timedStore) UserSessions(ctx context.Context, userID string, now time.Time) ([]*auth.Session, error) {
	defer t.done(ctx, "UserSessions", time.Now())
	return t.s.UserSessions(ctx, userID, now)
}

func (t *timedStore) DeleteSessions(ctx context.Context, before time.Time) (int, error) {
	defer t.done(ctx, "DeleteSessions", time.Now())
	return t.s.DeleteSessions(ctx, before)
}

func (t *timedStore) ListUsers(ctx context.Context, q auth.UserQuery) ([]*auth.User, error) {
	defer t.done(ctx, "ListUsers", time.Now())
	return t.s.ListUsers(ctx, q)
}

func (t *timedStore) CreateAPIKey(ctx context.Context, k *auth.APIKey) error {
	defer t.done(ctx, "CreateAPIKey", time.Now())
	return t.s.CreateAPIKey(ctx, k)
}

func (t *timedStore) APIKey(ctx context.Context, id string) (*auth.APIKey, error) {
	defer t.done(ctx, "APIKey", time.Now())
	return t.s.APIKey(ctx, id)
}

func (t *timedStore) APIKeyByHash(ctx context.Context, hash string) (*auth.APIKey, error) {
	defer t.done(ctx, "APIKeyByHash", time.Now())
	return t.s.APIKeyByHash(ctx, hash)
}

func (t *timedStore) UserAPIKeys(ctx context.Context, userID string) ([]*auth.APIKey, error) {
	defer t.done(ctx, "UserAPIKeys", time.Now())
	return t.s.UserAPIKeys(ctx, userID)
}

func (t *timedStore) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	defer t.done(ctx, "RevokeAPIKey", time.Now())
	return t.s.RevokeAPIKey(ctx, id, at)
}

func (t *timedStore) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	defer t.done(ctx, "TouchAPIKey", time.Now())
	return t.s.TouchAPIKey(ctx, id, at)
}

func (t *timedStore) DeleteAPIKeys(ctx context.Context, before time.Time) (int, error) {
	defer t.done(ctx, "DeleteAPIKeys", time.Now())
	return t.s.DeleteAPIKeys(ctx, before)
}

func (t *timedStore) AppendAudit(ctx context.Context, e *auth.AuditEntry) error {
	defer t.done(ctx, "AppendAudit", time.Now())
	return t.s.AppendAudit(ctx, e)
}

func (t *timedStore) AuditEntries(ctx context.Context, q auth.AuditQuery) ([]*auth.AuditEntry, error) {
	defer t.done(ctx, "AuditEntries", time.Now())
	return t.s.AuditEntries(ctx, q)
}

func (t *timedStore) DeleteAudit(ctx context.Context, before time.Time) (int, error) {
	defer t.done(ctx, "DeleteAudit", time.Now())
	return t.s.DeleteAudit(ctx, before)
}
