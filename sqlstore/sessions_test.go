package sqlstore_test

// The Authenticator's session model (rotation, reuse detection, logout,
// the session list, absolute expiry) run over each dialect, with a fake
// clock instead of sleeps.

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/testutil"
	"github.com/gatehouse/auth/sqlstore"
)

// newTestClock returns the shared fake clock, started off a whole
// microsecond so that stored times compare exactly.
func newTestClock() *testutil.Clock {
	return testutil.NewClock(time.Date(2026, 11, 27, 12, 0, 0, 123456000, time.UTC))
}

// sessionEnv is one database seen by two application instances: two
// *sql.DB pools, two Stores and two Authenticators that share a secret and
// a clock.
type sessionEnv struct {
	dbs    [2]*sql.DB
	stores [2]*sqlstore.Store
	clock  *testutil.Clock
	secret []byte
}

func newSessionEnv(t *testing.T, tdb *testDB) *sessionEnv {
	t.Helper()
	prefix := uniquePrefix()
	e := &sessionEnv{dbs: [2]*sql.DB{tdb.db, tdb.open(t)}, clock: newTestClock(), secret: testSecret(t)}
	e.stores[0] = newStore(t, e.dbs[0], sqlstore.WithTablePrefix(prefix))
	s, err := sqlstore.New(e.dbs[1], sqlstore.WithTablePrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	e.stores[1] = s
	return e
}

// auth returns an Authenticator of instance i (0 or 1).
func (e *sessionEnv) auth(t *testing.T, i int, opts ...auth.Option) *auth.Authenticator {
	t.Helper()
	base := []auth.Option{auth.WithSecret(e.secret), auth.WithInsecureFastHashingForTests(), auth.WithClock(e.clock.Now)}
	a, err := auth.New(e.stores[i], append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const sessionPassword = "correct horse battery"

func registerAndLogin(t *testing.T, a *auth.Authenticator, name string) (*auth.User, auth.TokenPair) {
	t.Helper()
	ctx := context.Background()
	u, err := a.Register(ctx, name, sessionPassword)
	if err != nil {
		t.Fatal(err)
	}
	return u, login(t, a, name)
}

func login(t *testing.T, a *auth.Authenticator, name string) auth.TokenPair {
	t.Helper()
	p, err := a.Login(context.Background(), name, sessionPassword)
	if err != nil {
		t.Fatalf("Login(%s): %v", name, err)
	}
	return p
}

// refreshAll exchanges one refresh token n times at once, alternating
// between the Authenticators, and returns the refresh tokens of the
// successes.
// oneBrowser is the context of one client's requests: the grace window
// answers only the client that rotated a token.
var oneBrowser = auth.ContextWithClient(context.Background(), auth.Client{Addr: netip.MustParseAddr("198.51.100.1"), UserAgent: "Firefox/140"})

func refreshAll(t *testing.T, as []*auth.Authenticator, token string, n int) (children []string, failures int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			p, err := as[i%len(as)].Refresh(oneBrowser, token)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if !errors.Is(err, auth.ErrTokenInvalidated) {
					t.Errorf("Refresh: %v, want success or ErrTokenInvalidated", err)
				}
				failures++
				return
			}
			children = append(children, p.RefreshToken)
		}()
	}
	close(start)
	wg.Wait()
	return children, failures
}

// TestSessionConcurrentRefresh: 50 concurrent exchanges of one refresh
// token, spread over two instances with pools of their own, never yield two
// different children.
func TestSessionConcurrentRefresh(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		const n = 50
		ctx := context.Background()
		e := newSessionEnv(t, tdb)
		// n concurrent refreshes of one client need n-1 answers from the
		// grace window (the default, 2, is for a few browser tabs).
		a1, a2 := e.auth(t, 0, auth.WithRefreshGraceUses(n-1)), e.auth(t, 1, auth.WithRefreshGraceUses(n-1))
		u, _ := registerAndLogin(t, a1, "uli")
		warmPool(t, e.dbs[0], n/2)
		warmPool(t, e.dbs[1], n/2)

		t.Run("Grace", func(t *testing.T) {
			p := login(t, a2, "uli")
			children, failures := refreshAll(t, []*auth.Authenticator{a1, a2}, p.RefreshToken, n)
			if failures != 0 || len(children) != n {
				t.Fatalf("%d successes, %d failures; want %d successes inside the grace window", len(children), failures, n)
			}
			for _, c := range children {
				if c != children[0] {
					t.Fatal("one parent produced two different children")
				}
			}
			if _, err := a2.Refresh(ctx, children[0]); err != nil {
				t.Fatalf("the one child: %v", err)
			}
		})

		t.Run("NoGrace", func(t *testing.T) {
			strict1, strict2 := e.auth(t, 0, auth.WithRefreshGracePeriod(0)), e.auth(t, 1, auth.WithRefreshGracePeriod(0))
			p := login(t, strict1, "uli")
			before, err := strict1.Sessions(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			children, _ := refreshAll(t, []*auth.Authenticator{strict1, strict2}, p.RefreshToken, n)
			if len(children) > 1 {
				t.Fatalf("%d children from one parent", len(children))
			}
			// The losers count as reuse: the family is revoked, and no
			// child lives.
			for _, c := range children {
				if _, err := strict2.Refresh(ctx, c); !errors.Is(err, auth.ErrTokenInvalidated) {
					t.Fatalf("the child after concurrent reuse of its parent: %v, want ErrTokenInvalidated", err)
				}
			}
			after, err := strict1.Sessions(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before)-1 {
				t.Errorf("%d live sessions after the race, want %d", len(after), len(before)-1)
			}
		})
	})
}

// TestSessionRotation: rotation, replay inside the grace window (the same
// child), and replay after it (the whole family is revoked and reported).
func TestSessionRotation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := oneBrowser // the grace window answers only the client that rotated
		e := newSessionEnv(t, tdb)
		var reused []string
		var mu sync.Mutex
		a := e.auth(t, 0, auth.WithHooks(auth.Hooks{ReuseDetected: func(_ context.Context, ev auth.Event) {
			mu.Lock()
			defer mu.Unlock()
			reused = append(reused, ev.SessionID)
		}}))
		other := e.auth(t, 1)
		u, p0 := registerAndLogin(t, a, "rosa")

		e.clock.Advance(time.Minute)
		p1, err := a.Refresh(ctx, p0.RefreshToken)
		if err != nil {
			t.Fatalf("first refresh: %v", err)
		}
		if p1.RefreshToken == p0.RefreshToken {
			t.Fatal("refresh did not rotate the refresh token")
		}
		list, err := a.Sessions(ctx, u.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("Sessions = %d, %v; want 1", len(list), err)
		}
		sess := list[0]
		if !sess.LastUsedAt.Equal(e.clock.Now()) || !sess.RotatedAt.Equal(e.clock.Now()) ||
			!sess.ExpiresAt.Equal(sess.CreatedAt.Add(7*24*time.Hour)) {
			t.Errorf("after rotation: %+v", *sess)
		}

		// Inside the grace window, on either instance: the same child.
		e.clock.Advance(5 * time.Second)
		again, err := other.Refresh(ctx, p0.RefreshToken)
		if err != nil {
			t.Fatalf("parent inside the grace window: %v", err)
		}
		if again.RefreshToken != p1.RefreshToken {
			t.Fatal("parent inside the grace window gave a second, different child")
		}

		// After the window: reuse. The family dies, the newest child too.
		e.clock.Advance(6 * time.Second)
		if _, err := a.Refresh(ctx, p0.RefreshToken); !errors.Is(err, auth.ErrTokenReused) {
			t.Fatalf("parent after the grace window: %v, want ErrTokenReused", err)
		}
		if _, err := other.Refresh(ctx, p1.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
			t.Fatalf("child after its parent was reused: %v, want ErrTokenInvalidated", err)
		}
		if len(reused) != 1 || reused[0] != sess.ID {
			t.Errorf("reuse hook calls %v, want [%s]", reused, sess.ID)
		}
		stored, err := e.stores[1].Session(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.RevokedAt.IsZero() {
			t.Error("the reused session is not revoked in the database")
		}
		// Another login is unaffected.
		if _, err := a.Refresh(ctx, login(t, a, "rosa").RefreshToken); err != nil {
			t.Fatalf("a fresh session: %v", err)
		}
	})
}

// TestSessionLogout: logout is idempotent and says nothing about the
// session, through the Go API and the HTTP endpoint.
func TestSessionLogout(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		e := newSessionEnv(t, tdb)
		a, b := e.auth(t, 0), e.auth(t, 1)
		u, p := registerAndLogin(t, a, "walt")
		keep := login(t, a, "walt")

		if err := a.Logout(ctx, p.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if err := b.Logout(ctx, p.RefreshToken); err != nil {
			t.Fatalf("second logout: %v", err)
		}
		if _, err := b.Refresh(ctx, p.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
			t.Fatalf("refresh after logout: %v, want ErrTokenInvalidated", err)
		}
		for i, inst := range []*auth.Authenticator{a, b} {
			if _, err := inst.VerifyAccessToken(ctx, p.AccessToken); !errors.Is(err, auth.ErrTokenInvalidated) {
				t.Fatalf("instance %d: the session's access token after logout: %v, want ErrTokenInvalidated", i, err)
			}
		}
		if _, err := b.VerifyAccessToken(ctx, keep.AccessToken); err != nil {
			t.Fatalf("another session's access token after logout: %v", err)
		}
		if list, _ := a.Sessions(ctx, u.ID); len(list) != 1 {
			t.Fatalf("%d sessions after logout, want 1", len(list))
		}

		srv := httptest.NewServer(b.Handler())
		defer srv.Close()
		for i, tok := range []string{keep.RefreshToken, keep.RefreshToken, p.RefreshToken} {
			resp, body, err := postJSON(t, srv.Client(), srv.URL+"/auth/logout", map[string]string{"refresh_token": tok})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("logout #%d: %d %s, want 204", i, resp.StatusCode, body)
			}
		}
		if list, _ := a.Sessions(ctx, u.ID); len(list) != 0 {
			t.Fatalf("%d sessions after logging both out, want 0", len(list))
		}

		// Pruned: logout still says yes.
		if n, err := a.PruneSessions(ctx); err != nil || n != 2 {
			t.Fatalf("PruneSessions = %d, %v; want 2", n, err)
		}
		if err := a.Logout(ctx, p.RefreshToken); err != nil {
			t.Fatalf("logout of a pruned session: %v", err)
		}
	})
}

// TestSessionLogoutAll ends every session and token of the user, and no
// one else's.
func TestSessionLogoutAll(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		e := newSessionEnv(t, tdb)
		a, b := e.auth(t, 0), e.auth(t, 1)
		u, p1 := registerAndLogin(t, a, "xia")
		p2 := login(t, b, "xia")
		v, pv := registerAndLogin(t, a, "yuri")
		if err := a.LogoutAll(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		for _, p := range []auth.TokenPair{p1, p2} {
			if _, err := b.VerifyAccessToken(ctx, p.AccessToken); !errors.Is(err, auth.ErrTokenInvalidated) {
				t.Errorf("access token after logout-all: %v, want ErrTokenInvalidated", err)
			}
			if _, err := b.Refresh(ctx, p.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
				t.Errorf("refresh token after logout-all: %v, want ErrTokenInvalidated", err)
			}
		}
		stored, err := e.stores[1].UserSessions(ctx, u.ID, e.clock.Now())
		if err != nil || len(stored) != 0 {
			t.Errorf("UserSessions after logout-all = %d, %v; want every session revoked", len(stored), err)
		}
		if list, _ := a.Sessions(ctx, v.ID); len(list) != 1 {
			t.Errorf("another user's sessions after logout-all: %d, want 1", len(list))
		}
		if _, err := b.Refresh(ctx, pv.RefreshToken); err != nil {
			t.Errorf("another user's refresh after logout-all: %v", err)
		}
		if _, err := a.Refresh(ctx, login(t, a, "xia").RefreshToken); err != nil {
			t.Errorf("a new login after logout-all: %v", err)
		}
	})
}

// TestSessionListAndRevoke: the session list, and revoking one's own
// session; another user's session is not found, never forbidden.
func TestSessionListAndRevoke(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		e := newSessionEnv(t, tdb)
		a, b := e.auth(t, 0), e.auth(t, 1)
		alice, _ := registerAndLogin(t, a, "alice")
		e.clock.Advance(time.Second)
		if _, err := a.Login(auth.ContextWithClient(ctx, auth.Client{UserAgent: "Firefox — ünïcødé", Addr: netip.MustParseAddr("2001:db8::7")}), "alice", sessionPassword); err != nil {
			t.Fatal(err)
		}
		bob, bobPair := registerAndLogin(t, b, "bob")

		list, err := b.Sessions(ctx, alice.ID)
		if err != nil || len(list) != 2 {
			t.Fatalf("Sessions = %d, %v; want 2", len(list), err)
		}
		if !list[0].CreatedAt.Before(list[1].CreatedAt) {
			t.Error("sessions not oldest first")
		}
		if list[1].UserAgent != "Firefox — ünïcødé" || list[1].IP != "2001:db8::7" {
			t.Errorf("client info = %q %q", list[1].UserAgent, list[1].IP)
		}
		bobs, err := a.Sessions(ctx, bob.ID)
		if err != nil || len(bobs) != 1 {
			t.Fatalf("bob's Sessions = %d, %v; want 1", len(bobs), err)
		}

		if err := a.RevokeSession(ctx, alice.ID, bobs[0].ID); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("revoking another user's session: %v, want ErrSessionNotFound", err)
		}
		if err := a.RevokeSession(ctx, alice.ID, "no-such-session"); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("revoking an unknown session: %v, want ErrSessionNotFound", err)
		}
		if err := a.RevokeSession(ctx, alice.ID, list[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := b.RevokeSession(ctx, alice.ID, list[0].ID); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("revoking a revoked session: %v, want ErrSessionNotFound", err)
		}
		if left, _ := b.Sessions(ctx, alice.ID); len(left) != 1 || left[0].ID != list[1].ID {
			t.Errorf("after revoking the first: %d sessions", len(left))
		}

		// Over HTTP, another user's session ID is a 404, and it lives on.
		srv := httptest.NewServer(a.Handler())
		defer srv.Close()
		alicePair := login(t, b, "alice")
		req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/auth/sessions/"+bobs[0].ID, nil)
		req.Header.Set("Authorization", "Bearer "+alicePair.AccessToken)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("DELETE another user's session: %d, want 404", resp.StatusCode)
		}
		if _, err := b.Refresh(ctx, bobPair.RefreshToken); err != nil {
			t.Errorf("bob's session after alice tried to end it: %v", err)
		}
	})
}

// TestSessionAbsoluteExpiry: rotation never extends a session; it ends at
// login plus the refresh TTL, and pruning removes it then.
func TestSessionAbsoluteExpiry(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		e := newSessionEnv(t, tdb)
		a, b := e.auth(t, 0, auth.WithRefreshTTL(72*time.Hour)), e.auth(t, 1, auth.WithRefreshTTL(72*time.Hour))
		u, p := registerAndLogin(t, a, "vera")
		loginAt := e.clock.Now()
		for i := range 2 {
			e.clock.Advance(30 * time.Hour)
			var err error
			if p, err = []*auth.Authenticator{a, b}[i].Refresh(ctx, p.RefreshToken); err != nil {
				t.Fatalf("refresh within the session's lifetime: %v", err)
			}
		}
		list, err := a.Sessions(ctx, u.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("Sessions = %d, %v", len(list), err)
		}
		if !list[0].ExpiresAt.Equal(loginAt.Add(72 * time.Hour)) {
			t.Errorf("ExpiresAt = %v, want login + 72h = %v", list[0].ExpiresAt, loginAt.Add(72*time.Hour))
		}
		// 60 h in; the newest refresh token is fresh, but the session ends
		// at 72 h.
		e.clock.Advance(13 * time.Hour)
		if _, err := b.Refresh(ctx, p.RefreshToken); !errors.Is(err, auth.ErrTokenExpired) {
			t.Fatalf("refresh after the absolute expiry: %v, want ErrTokenExpired", err)
		}
		if list, _ := a.Sessions(ctx, u.ID); len(list) != 0 {
			t.Errorf("%d sessions listed after expiry, want 0", len(list))
		}
		if n, err := b.PruneSessions(ctx); err != nil || n != 1 {
			t.Errorf("PruneSessions = %d, %v; want 1", n, err)
		}
	})
}

// TestSessionGraceIsForTheSameClient: on every database, two tabs of one
// client refreshing at once both get the child, and a replay from another
// client inside the window revokes the family.
func TestSessionGraceIsForTheSameClient(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		e := newSessionEnv(t, tdb)
		a1, a2 := e.auth(t, 0), e.auth(t, 1)
		registerAndLogin(t, a1, "tab")
		browser := auth.ContextWithClient(context.Background(), auth.Client{Addr: netip.MustParseAddr("198.51.100.7"), UserAgent: "Firefox/140"})
		thief := auth.ContextWithClient(context.Background(), auth.Client{Addr: netip.MustParseAddr("203.0.113.66"), UserAgent: "Firefox/140"})
		p, err := a1.Login(browser, "tab", sessionPassword)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var children [2]auth.TokenPair
		var errs [2]error
		for i, a := range []*auth.Authenticator{a1, a2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				children[i], errs[i] = a.Refresh(browser, p.RefreshToken)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil || children[0].RefreshToken != children[1].RefreshToken {
			t.Fatalf("two tabs: %v %v, same child %v", errs[0], errs[1], children[0].RefreshToken == children[1].RefreshToken)
		}
		if _, err := a2.Refresh(thief, p.RefreshToken); !errors.Is(err, auth.ErrTokenReused) {
			t.Fatalf("replay from another client = %v, want reuse", err)
		}
		if _, err := a1.Refresh(browser, children[0].RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
			t.Fatalf("the family survived: %v", err)
		}
	})
}
