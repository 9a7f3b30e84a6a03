package storetest

import (
	"context"
	"errors"
	"fmt"
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
		{"UseGrace", testSessionUseGrace},
		{"ConcurrentUseGrace", testSessionConcurrentUseGrace},
		{"MalformedIDs", testSessionMalformedIDs},
		{"CanceledContext", testSessionCanceledContext},
		{"Revoke", testSessionRevoke},
		{"RevokeUserSessions", testRevokeUserSessions},
		{"UserSessions", testUserSessions},
		{"DeleteSessions", testDeleteSessions},
		{"PruneMany", testPruneMany},
		{"DeleteUserRemovesSessions", testDeleteUserRemovesSessions},
		{"DPoPBinding", testSessionDPoPBinding},
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
		!got.RevokedAt.Equal(want.RevokedAt) || got.UserAgent != want.UserAgent || got.IP != want.IP ||
		got.RotatedUserAgent != want.RotatedUserAgent || got.RotatedIP != want.RotatedIP ||
		got.GraceUses != want.GraceUses || got.DPoPJKT != want.DPoPJKT {
		t.Errorf("%s:\n got %+v\nwant %+v", what, *got, *want)
	}
}

func sessionUser(t *testing.T, us auth.UserStore, name string) *auth.User {
	return mustCreate(t, us, newUser(name))
}

func testSessionCreateAndGet(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	u := sessionUser(t, us, "sam")
	s := newSession(u.ID, when)
	// A session created with these set (an import) keeps them.
	s.PreviousJTI, s.RotatedUserAgent, s.RotatedIP, s.GraceUses = "jti-before", "curl/8.5.0 — ü", "192.0.2.7", 2
	mustCreateSession(t, ss, s)
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
	if err := ss.RotateSession(ctx, missing, "a", "b", when, "ua", "ip"); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("RotateSession(missing) = %v, want ErrSessionNotFound", err)
	}
	if err := ss.UseGrace(ctx, missing, "a", 5); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("UseGrace(missing) = %v, want ErrSessionNotFound", err)
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
	const ua, ip = "Mozilla/5.0 (iPhone) — rotated", "198.51.100.9"
	if err := ss.RotateSession(ctx, s.ID, s.CurrentJTI, "child-1", at, ua, ip); err != nil {
		t.Fatalf("RotateSession: %v", err)
	}
	want := *s
	want.PreviousJTI, want.CurrentJTI, want.RotatedAt, want.LastUsedAt = s.CurrentJTI, "child-1", at, at
	want.RotatedUserAgent, want.RotatedIP = ua, ip
	got, _ := ss.Session(ctx, s.ID)
	equalSession(t, "after rotation", got, &want)
	// The login's client is kept.
	if got.UserAgent != s.UserAgent || got.IP != s.IP {
		t.Errorf("rotation changed the login's client: %q %q", got.UserAgent, got.IP)
	}
	// The parent cannot be rotated again.
	if err := ss.RotateSession(ctx, s.ID, s.CurrentJTI, "child-2", at, "other", "203.0.113.1"); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("second rotation from the parent = %v, want ErrConflict", err)
	}
	got, _ = ss.Session(ctx, s.ID)
	equalSession(t, "after a rejected rotation", got, &want)
	// A revoked session cannot rotate.
	if err := ss.RevokeSession(ctx, s.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := ss.RotateSession(ctx, s.ID, "child-1", "child-3", at, ua, ip); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("rotating a revoked session = %v, want ErrConflict", err)
	}
}

func testSessionConcurrentRotate(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	const n = 50
	u := sessionUser(t, us, "uma")
	s := mustCreateSession(t, ss, newSession(u.ID, when))
	won := concurrentConflicts(t, n, func(i int) error {
		return ss.RotateSession(context.Background(), s.ID, s.CurrentJTI, fmt.Sprintf("child-%d", i), when.Add(time.Second), "ua", "ip")
	})
	if won != 1 {
		t.Fatalf("%d concurrent rotations of one token: %d succeeded, want exactly 1", n, won)
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

func testSessionUseGrace(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "gus")
	s := mustCreateSession(t, ss, newSession(u.ID, when))
	get := func() *auth.Session {
		t.Helper()
		got, err := ss.Session(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// Before the first rotation there is no previous token.
	for _, jti := range []string{"", s.CurrentJTI} {
		if err := ss.UseGrace(ctx, s.ID, jti, 5); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("UseGrace(%q) before a rotation = %v, want ErrConflict", jti, err)
		}
	}
	parent := s.CurrentJTI
	at := when.Add(time.Minute)
	if err := ss.RotateSession(ctx, s.ID, parent, "child-1", at, "ua-1", "192.0.2.10"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := ss.UseGrace(ctx, s.ID, parent, 2); err != nil {
			t.Fatalf("UseGrace #%d within max 2: %v", i+1, err)
		}
	}
	for _, c := range []struct {
		jti string
		max int
	}{
		{parent, 2},      // max reached
		{parent, 0},      // no uses allowed
		{"child-1", 5},   // the current token is not the previous one
		{"jti-other", 5}, // an unknown token
		{"", 5},
	} {
		if err := ss.UseGrace(ctx, s.ID, c.jti, c.max); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("UseGrace(%q, max %d) = %v, want ErrConflict", c.jti, c.max, err)
		}
	}
	got := get()
	if got.GraceUses != 2 {
		t.Fatalf("GraceUses = %d after two uses, want 2", got.GraceUses)
	}
	if !got.RotatedAt.Equal(at) || !got.LastUsedAt.Equal(at) || got.CurrentJTI != "child-1" || got.PreviousJTI != parent {
		t.Errorf("UseGrace changed more than GraceUses: %+v", *got)
	}
	// A higher max lets one more through.
	if err := ss.UseGrace(ctx, s.ID, parent, 3); err != nil {
		t.Errorf("UseGrace with max 3 after 2 uses: %v", err)
	}
	// The next rotation resets the count and moves the grace to its parent.
	at2 := at.Add(time.Minute)
	if err := ss.RotateSession(ctx, s.ID, "child-1", "child-2", at2, "ua-2", "192.0.2.20"); err != nil {
		t.Fatal(err)
	}
	got = get()
	if got.GraceUses != 0 || got.RotatedUserAgent != "ua-2" || got.RotatedIP != "192.0.2.20" {
		t.Errorf("after the second rotation: GraceUses %d, rotated by %q %q; want 0, ua-2, 192.0.2.20",
			got.GraceUses, got.RotatedUserAgent, got.RotatedIP)
	}
	if err := ss.UseGrace(ctx, s.ID, parent, 5); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("UseGrace of the grandparent = %v, want ErrConflict", err)
	}
	if err := ss.UseGrace(ctx, s.ID, "child-1", 1); err != nil {
		t.Errorf("UseGrace of the new parent: %v", err)
	}
	// A revoked session has no grace.
	if err := ss.RevokeSession(ctx, s.ID, at2); err != nil {
		t.Fatal(err)
	}
	if err := ss.UseGrace(ctx, s.ID, "child-1", 5); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("UseGrace on a revoked session = %v, want ErrConflict", err)
	}
	if got := get(); got.GraceUses != 1 {
		t.Errorf("GraceUses = %d after a refused use, want 1", got.GraceUses)
	}
}

func testSessionConcurrentUseGrace(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	const n, max = 40, 5
	ctx := context.Background()
	u := sessionUser(t, us, "hal")
	s := mustCreateSession(t, ss, newSession(u.ID, when))
	if err := ss.RotateSession(ctx, s.ID, s.CurrentJTI, "child", when.Add(time.Second), "ua", "ip"); err != nil {
		t.Fatal(err)
	}
	won := concurrentConflicts(t, n, func(int) error { return ss.UseGrace(ctx, s.ID, s.CurrentJTI, max) })
	if won < 1 || won > max {
		t.Fatalf("%d concurrent UseGrace calls with max %d: %d succeeded, want 1 to %d", n, max, won, max)
	}
	got, err := ss.Session(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.GraceUses != won {
		t.Errorf("GraceUses = %d, but %d calls succeeded", got.GraceUses, won)
	}
}

// testSessionMalformedIDs: IDs and jtis that no store can hold are not
// found, never a backend error.
func testSessionMalformedIDs(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "ida")
	s := mustCreateSession(t, ss, newSession(u.ID, when))
	for _, id := range malformedIDs {
		if _, err := ss.Session(ctx, id); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("Session(%q) = %v, want ErrSessionNotFound", id, err)
		}
		if err := ss.RotateSession(ctx, id, s.CurrentJTI, "child", when, "ua", "ip"); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("RotateSession(%q) = %v, want ErrSessionNotFound", id, err)
		}
		if err := ss.UseGrace(ctx, id, "jti", 5); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("UseGrace(%q) = %v, want ErrSessionNotFound", id, err)
		}
		if err := ss.RevokeSession(ctx, id, when); err != nil {
			t.Errorf("RevokeSession(%q) = %v, want nil", id, err)
		}
		if err := ss.RevokeUserSessions(ctx, id, when); err != nil {
			t.Errorf("RevokeUserSessions(%q) = %v, want nil", id, err)
		}
		if list, err := ss.UserSessions(ctx, id, when); err != nil || len(list) != 0 {
			t.Errorf("UserSessions(%q) = %d sessions, %v; want none", id, len(list), err)
		}
		// A malformed jti is not the session's: a conflict, as any other.
		if err := ss.RotateSession(ctx, s.ID, id, "child", when, "ua", "ip"); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("RotateSession from jti %q = %v, want ErrConflict", id, err)
		}
		if err := ss.UseGrace(ctx, s.ID, id, 5); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("UseGrace of jti %q = %v, want ErrConflict", id, err)
		}
		bad := newSession(id, when)
		if err := ss.CreateSession(ctx, bad); !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("CreateSession for user %q = %v, want ErrUserNotFound", id, err)
		}
		bad = newSession(u.ID, when)
		bad.ID = id
		if err := ss.CreateSession(ctx, bad); err == nil || errors.Is(err, auth.ErrUserExists) {
			t.Errorf("CreateSession with ID %q = %v, want an error other than ErrUserExists", id, err)
		}
	}
	got, err := ss.Session(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	equalSession(t, "session after malformed calls", got, s)
	if list, err := ss.UserSessions(ctx, u.ID, when); err != nil || len(list) != 1 {
		t.Errorf("UserSessions = %d sessions, %v; want only the one created", len(list), err)
	}
}

// testSessionCanceledContext: every method fails under a canceled context
// and changes nothing.
func testSessionCanceledContext(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	bg := context.Background()
	u := sessionUser(t, us, "kim")
	s := mustCreateSession(t, ss, newSession(u.ID, when))
	if err := ss.RotateSession(bg, s.ID, s.CurrentJTI, "child", when, "ua", "ip"); err != nil {
		t.Fatal(err)
	}
	want, err := ss.Session(bg, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	fresh := newSession(u.ID, when)
	later := when.Add(time.Hour)
	results := map[string]error{}
	results["CreateSession"] = ss.CreateSession(ctx, fresh)
	_, results["Session"] = ss.Session(ctx, s.ID)
	results["RotateSession"] = ss.RotateSession(ctx, s.ID, "child", "grandchild", later, "ua", "ip")
	results["UseGrace"] = ss.UseGrace(ctx, s.ID, s.CurrentJTI, 5)
	results["RevokeSession"] = ss.RevokeSession(ctx, s.ID, later)
	results["RevokeUserSessions"] = ss.RevokeUserSessions(ctx, u.ID, later)
	_, results["UserSessions"] = ss.UserSessions(ctx, u.ID, when)
	_, results["DeleteSessions"] = ss.DeleteSessions(ctx, when.Add(30*24*time.Hour))
	for op, err := range results {
		if err == nil {
			t.Errorf("%s with a canceled context succeeded", op)
		}
	}
	if _, err := ss.Session(bg, fresh.ID); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("session created under a canceled context: %v", err)
	}
	got, err := ss.Session(bg, s.ID)
	if err != nil {
		t.Fatalf("session after canceled calls: %v", err)
	}
	equalSession(t, "session after canceled calls", got, want)
}

// concurrentConflicts runs call n times at once and returns how many
// succeeded. Every failure must be ErrConflict.
func concurrentConflicts(t *testing.T, n int, call func(i int) error) int {
	t.Helper()
	return concurrentOutcomes(t, n, auth.ErrConflict, call)
}
