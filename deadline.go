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
	if err != nil && ctx.Err() == nil && tctx.Err() != nil && !errors.Is(err, ErrUnavailable) {
		err = fmt.Errorf("auth: store did not answer within %v: %w", d, joinErr(ErrUnavailable, err))
	}
	return v, err
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

// DeleteSessions is the one call not under the store timeout: a store may
// prune in batches with pauses between them (sqlstore does), which takes
// minutes at millions of sessions, far past a timeout meant for one
// request. PruneSessions's caller bounds it with its own context.
func (s timedSessions) DeleteSessions(ctx context.Context, before time.Time) (int, error) {
	return s.SessionStore.DeleteSessions(ctx, before)
}
