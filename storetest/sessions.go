package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// runSessions checks the [auth.SessionStore] contract.
func runSessions(t *testing.T, newStore func(t *testing.T) (auth.UserStore, auth.SessionStore)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, us auth.UserStore, ss auth.SessionStore)
	}{
		{"CreateAndGet", testSessionCreateAndGet},
		{"DuplicateID", testSessionDuplicateID},
		{"NotFound", testSessionNotFound},
		{"Rotate", testSessionRotate},
		{"ConcurrentRotate", testSessionConcurrentRotate},
		{"Revoke", testSessionRevoke},
		{"RevokeUserSessions", testRevokeUserSessions},
		{"UserSessions", testUserSessions},
		{"DeleteSessions", testDeleteSessions},
		{"DeleteUserRemovesSessions", testDeleteUserRemovesSessions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			us, ss := newStore(t)
			tc.fn(t, us, ss)
		})
	}
}

var sessionSeq atomic.Int64

func newSession(userID string, created time.Time) *auth.Session {
	n := sessionSeq.Add(1)
	return &auth.Session{
		ID:           fmt.Sprintf("0f8a2c1e-5b7d-4e3f-9a6b-%012d", n),
		UserID:       userID,
		TokenVersion: 1,
		CurrentJTI:   fmt.Sprintf("jti-%d-a", n),
		CreatedAt:    created,
		ExpiresAt:    created.Add(7 * 24 * time.Hour),
		RotatedAt:    created,
		LastUsedAt:   created,
		UserAgent:    "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0 — ünïcødé",
		IP:           "2001:db8::1",
	}
}

func mustCreateSession(t *testing.T, ss auth.SessionStore, s *auth.Session) *auth.Session {
	t.Helper()
	if err := ss.CreateSession(context.Background(), s); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return s
}

func equalSession(t *testing.T, what string, got, want *auth.Session) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.TokenVersion != want.TokenVersion ||
		got.CurrentJTI != want.CurrentJTI || got.PreviousJTI != want.PreviousJTI ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
		!got.RotatedAt.Equal(want.RotatedAt) || !got.LastUsedAt.Equal(want.LastUsedAt) ||
		!got.RevokedAt.Equal(want.RevokedAt) || got.UserAgent != want.UserAgent || got.IP != want.IP {
		t.Errorf("%s:\n got %+v\nwant %+v", what, *got, *want)
	}
}

func sessionUser(t *testing.T, us auth.UserStore, name string) *auth.User {
	return mustCreate(t, us, newUser(name))
}

func testSessionCreateAndGet(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	u := sessionUser(t, us, "sam")
	s := mustCreateSession(t, ss, newSession(u.ID, when))
	got, err := ss.Session(context.Background(), s.ID)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	equalSession(t, "Session", got, s)
	if !got.RevokedAt.IsZero() {
		t.Errorf("new session is revoked: %v", got.RevokedAt)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt not in UTC: %v", got.CreatedAt.Location())
	}
	got.CurrentJTI = "mutated"
	again, _ := ss.Session(context.Background(), s.ID)
	equalSession(t, "after mutating a copy", again, s)
}

func testSessionDuplicateID(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	u := sessionUser(t, us, "sid")
	s := mustCreateSession(t, ss, newSession(u.ID, when))
	dup := newSession(u.ID, when)
	dup.ID = s.ID
	if err := ss.CreateSession(context.Background(), dup); !errors.Is(err, auth.ErrUserExists) {
		t.Fatalf("CreateSession with a taken ID = %v, want ErrUserExists", err)
	}
}

func testSessionNotFound(t *testing.T, _ auth.UserStore, ss auth.SessionStore) {
	ctx := context.Background()
	const missing = "00000000-0000-4000-8000-000000000000"
	if _, err := ss.Session(ctx, missing); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("Session(missing) = %v, want ErrSessionNotFound", err)
	}
	if err := ss.RotateSession(ctx, missing, "a", "b", when); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("RotateSession(missing) = %v, want ErrSessionNotFound", err)
	}
	if err := ss.RevokeSession(ctx, missing, when); err != nil {
		t.Errorf("RevokeSession(missing) = %v, want nil", err)
	}
}

func testSessionRotate(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "tess")
	s := mustCreateSession(t, ss, newSession(u.ID, when))
	at := when.Add(time.Hour + 42*time.Microsecond)
	if err := ss.RotateSession(ctx, s.ID, s.CurrentJTI, "child-1", at); err != nil {
		t.Fatalf("RotateSession: %v", err)
	}
	want := *s
	want.PreviousJTI, want.CurrentJTI, want.RotatedAt, want.LastUsedAt = s.CurrentJTI, "child-1", at, at
	got, _ := ss.Session(ctx, s.ID)
	equalSession(t, "after rotation", got, &want)
	// The parent cannot be rotated again.
	if err := ss.RotateSession(ctx, s.ID, s.CurrentJTI, "child-2", at); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("second rotation from the parent = %v, want ErrConflict", err)
	}
	got, _ = ss.Session(ctx, s.ID)
	equalSession(t, "after a rejected rotation", got, &want)
	// A revoked session cannot rotate.
	if err := ss.RevokeSession(ctx, s.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := ss.RotateSession(ctx, s.ID, "child-1", "child-3", at); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("rotating a revoked session = %v, want ErrConflict", err)
	}
}

func testSessionConcurrentRotate(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	const n = 50
	u := sessionUser(t, us, "uma")
	s := mustCreateSession(t, ss, newSession(u.ID, when))
	var ok atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := ss.RotateSession(context.Background(), s.ID, s.CurrentJTI, fmt.Sprintf("child-%d", i), when.Add(time.Second)); {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, auth.ErrConflict):
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	if ok.Load() != 1 {
		t.Fatalf("%d concurrent rotations of one token: %d succeeded, want exactly 1", n, ok.Load())
	}
}

func testSessionRevoke(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "vic")
	s := mustCreateSession(t, ss, newSession(u.ID, when))
	other := mustCreateSession(t, ss, newSession(u.ID, when))
	at := when.Add(time.Minute)
	if err := ss.RevokeSession(ctx, s.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := ss.RevokeSession(ctx, s.ID, at.Add(time.Hour)); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	got, _ := ss.Session(ctx, s.ID)
	if !got.RevokedAt.Equal(at) {
		t.Errorf("RevokedAt = %v, want the first revocation %v", got.RevokedAt, at)
	}
	if got, _ := ss.Session(ctx, other.ID); !got.RevokedAt.IsZero() {
		t.Error("revoking one session revoked another")
	}
}

func testRevokeUserSessions(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "wes")
	v := sessionUser(t, us, "xena")
	a := mustCreateSession(t, ss, newSession(u.ID, when))
	b := mustCreateSession(t, ss, newSession(u.ID, when))
	keep := mustCreateSession(t, ss, newSession(v.ID, when))
	if err := ss.RevokeUserSessions(ctx, u.ID, when.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*auth.Session{a, b} {
		if got, _ := ss.Session(ctx, s.ID); got.RevokedAt.IsZero() {
			t.Errorf("session %s not revoked", s.ID)
		}
	}
	if got, _ := ss.Session(ctx, keep.ID); !got.RevokedAt.IsZero() {
		t.Error("another user's session was revoked")
	}
}

func testUserSessions(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "yan")
	v := sessionUser(t, us, "zed")
	first := mustCreateSession(t, ss, newSession(u.ID, when))
	second := mustCreateSession(t, ss, newSession(u.ID, when.Add(time.Minute)))
	revoked := mustCreateSession(t, ss, newSession(u.ID, when.Add(2*time.Minute)))
	expired := newSession(u.ID, when.Add(-8*24*time.Hour))
	mustCreateSession(t, ss, expired)
	mustCreateSession(t, ss, newSession(v.ID, when))
	if err := ss.RevokeSession(ctx, revoked.ID, when.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	list, err := ss.UserSessions(ctx, u.ID, when.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("UserSessions returned %d sessions, want 2 (live ones only)", len(list))
	}
	equalSession(t, "oldest first", list[0], first)
	equalSession(t, "then the next", list[1], second)
	if list, _ := ss.UserSessions(ctx, "nobody", when); len(list) != 0 {
		t.Errorf("UserSessions(unknown user) = %d sessions", len(list))
	}
}

func testDeleteSessions(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "abe")
	live := mustCreateSession(t, ss, newSession(u.ID, when))
	expired := mustCreateSession(t, ss, newSession(u.ID, when.Add(-8*24*time.Hour)))
	revoked := mustCreateSession(t, ss, newSession(u.ID, when))
	if err := ss.RevokeSession(ctx, revoked.ID, when.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	n, err := ss.DeleteSessions(ctx, when)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("DeleteSessions removed %d, want 2", n)
	}
	for _, s := range []*auth.Session{expired, revoked} {
		if _, err := ss.Session(ctx, s.ID); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("session %s survived pruning: %v", s.ID, err)
		}
	}
	if _, err := ss.Session(ctx, live.ID); err != nil {
		t.Errorf("live session pruned: %v", err)
	}
	if n, _ := ss.DeleteSessions(ctx, when); n != 0 {
		t.Errorf("second prune removed %d", n)
	}
}

func testDeleteUserRemovesSessions(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "bea")
	s := mustCreateSession(t, ss, newSession(u.ID, when))
	if err := us.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Session(ctx, s.ID); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("session of a deleted user: %v, want ErrSessionNotFound", err)
	}
}
