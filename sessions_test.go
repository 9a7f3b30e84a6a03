package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

func TestRefreshRotation(t *testing.T) {
	var reused []string
	f := newFixture(t, auth.WithHooks(auth.Hooks{ReuseDetected: func(_ context.Context, e auth.Event) {
		reused = append(reused, e.UserID+"/"+e.SessionID)
	}}))
	ctx := oneBrowser // the grace window answers only the client that rotated
	u := f.register(t, "rosa", "password-1")
	p0 := f.login(t, "rosa", "password-1")

	p1, err := f.a.Refresh(ctx, p0.RefreshToken)
	if err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	if p1.RefreshToken == p0.RefreshToken {
		t.Fatal("refresh did not rotate the refresh token")
	}
	// Inside the grace window the parent yields the same child again.
	f.clock.Advance(5 * time.Second)
	again, err := f.a.Refresh(ctx, p0.RefreshToken)
	if err != nil {
		t.Fatalf("parent inside the grace window: %v", err)
	}
	if again.RefreshToken != p1.RefreshToken {
		t.Fatal("parent inside the grace window gave a second, different child")
	}
	if len(reused) != 0 {
		t.Fatalf("reuse reported inside the grace window: %v", reused)
	}
	p2, err := f.a.Refresh(ctx, p1.RefreshToken)
	if err != nil {
		t.Fatalf("child refresh: %v", err)
	}
	// The grandparent is now neither current nor previous: reuse.
	_, err = f.a.Refresh(ctx, p0.RefreshToken)
	if !errors.Is(err, auth.ErrTokenReused) || !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Fatalf("replayed grandparent: %v, want ErrTokenReused", err)
	}
	if len(reused) != 1 || !strings.HasPrefix(reused[0], u.ID+"/") {
		t.Fatalf("reuse hook calls = %v", reused)
	}
	// The whole family is dead, the newest child included.
	if _, err := f.a.Refresh(ctx, p2.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Fatalf("newest child after reuse: %v", err)
	}
	if list, _ := f.a.Sessions(ctx, u.ID); len(list) != 0 {
		t.Fatalf("revoked session still listed: %d", len(list))
	}
	// Another login is unaffected.
	p3 := f.login(t, "rosa", "password-1")
	if _, err := f.a.Refresh(ctx, p3.RefreshToken); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
}

func TestReuseAfterGraceWindow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.register(t, "saul", "password-1")
	p0 := f.login(t, "saul", "password-1")
	p1, err := f.a.Refresh(ctx, p0.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(11 * time.Second)
	if _, err := f.a.Refresh(ctx, p0.RefreshToken); !errors.Is(err, auth.ErrTokenReused) {
		t.Fatalf("parent after the grace window: %v, want ErrTokenReused", err)
	}
	if _, err := f.a.Refresh(ctx, p1.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Fatalf("child after its parent was reused: %v", err)
	}
}

func TestZeroGraceWindow(t *testing.T) {
	f := newFixture(t, auth.WithRefreshGracePeriod(0))
	ctx := context.Background()
	f.register(t, "tina", "password-1")
	p0 := f.login(t, "tina", "password-1")
	p1, err := f.a.Refresh(ctx, p0.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Refresh(ctx, p0.RefreshToken); !errors.Is(err, auth.ErrTokenReused) {
		t.Fatalf("immediate replay with no grace: %v", err)
	}
	if _, err := f.a.Refresh(ctx, p1.RefreshToken); err == nil {
		t.Fatal("child survived a replay of its parent")
	}
}

// concurrentRefresh exchanges one refresh token n times at once, spread over
// the given Authenticators, and returns the refresh tokens of the successes.
// oneBrowser is the context of one client's requests: the grace window
// answers only the client that rotated a token.
var oneBrowser = auth.ContextWithClient(context.Background(), auth.Client{Addr: netip.MustParseAddr("198.51.100.1"), UserAgent: "Firefox/140"})

func concurrentRefresh(t *testing.T, as []*auth.Authenticator, token string, n int) (children []string, failures int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := as[i%len(as)].Refresh(oneBrowser, token)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if !errors.Is(err, auth.ErrTokenInvalidated) {
					t.Errorf("unexpected error: %v", err)
				}
				failures++
				return
			}
			children = append(children, p.RefreshToken)
		}()
	}
	wg.Wait()
	return children, failures
}

func TestConcurrentRefreshOneChild(t *testing.T) {
	store := memstore.New()
	clock := newClock()
	mk := func(opts ...auth.Option) *auth.Authenticator {
		a, err := auth.New(store, append([]auth.Option{auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// 50 concurrent refreshes of one client need 49 answers from the
	// grace window; the default (2) is for a few tabs, tested below.
	a1, a2 := mk(auth.WithRefreshGraceUses(49)), mk(auth.WithRefreshGraceUses(49))
	ctx := context.Background()
	if _, err := a1.Register(ctx, "uli", "password-1"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		as   []*auth.Authenticator
	}{{"one instance", []*auth.Authenticator{a1}}, {"two instances", []*auth.Authenticator{a1, a2}}} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := a1.Login(ctx, "uli", "password-1")
			if err != nil {
				t.Fatal(err)
			}
			children, failures := concurrentRefresh(t, tc.as, p.RefreshToken, 50)
			if failures != 0 || len(children) != 50 {
				t.Fatalf("%d successes, %d failures; want 50 successes inside the grace window", len(children), failures)
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
	}
	t.Run("no grace", func(t *testing.T) {
		strict1, strict2 := mk(auth.WithRefreshGracePeriod(0)), mk(auth.WithRefreshGracePeriod(0))
		p, err := strict1.Login(ctx, "uli", "password-1")
		if err != nil {
			t.Fatal(err)
		}
		children, _ := concurrentRefresh(t, []*auth.Authenticator{strict1, strict2}, p.RefreshToken, 50)
		if len(children) > 1 {
			t.Fatalf("%d children from one parent", len(children))
		}
		// Losers count as reuse, so the family is revoked: no child lives.
		for _, c := range children {
			if _, err := strict1.Refresh(ctx, c); err == nil {
				t.Fatal("a child survived concurrent reuse of its parent with no grace")
			}
		}
	})
}

func TestAbsoluteSessionExpiry(t *testing.T) {
	f := newFixture(t, auth.WithRefreshTTL(72*time.Hour))
	ctx := context.Background()
	f.register(t, "vera", "password-1")
	p := f.login(t, "vera", "password-1")
	for range 2 {
		f.clock.Advance(30 * time.Hour)
		var err error
		if p, err = f.a.Refresh(ctx, p.RefreshToken); err != nil {
			t.Fatalf("refresh within the session's lifetime: %v", err)
		}
	}
	// 60 h in; the newest refresh token is fresh, but the session ends at 72 h.
	f.clock.Advance(13 * time.Hour)
	if _, err := f.a.Refresh(ctx, p.RefreshToken); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("refresh after the absolute expiry: %v, want ErrTokenExpired", err)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "walt", "password-1")
	p := f.login(t, "walt", "password-1")
	other := f.login(t, "walt", "password-1")
	if err := f.a.Logout(ctx, p.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if err := f.a.Logout(ctx, p.RefreshToken); err != nil {
		t.Fatalf("second logout: %v", err)
	}
	if _, err := f.a.Refresh(ctx, p.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Fatalf("refresh after logout: %v", err)
	}
	// The session's access token dies with it; the other session's lives.
	if _, err := f.a.VerifyAccessToken(ctx, p.AccessToken); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Fatalf("access token after logout: %v, want ErrTokenInvalidated", err)
	}
	if _, err := f.a.VerifyAccessToken(ctx, other.AccessToken); err != nil {
		t.Fatalf("another session's access token after logout: %v", err)
	}
	if _, err := f.a.Refresh(ctx, other.RefreshToken); err != nil {
		t.Fatalf("another session after logout: %v", err)
	}
	if list, _ := f.a.Sessions(ctx, u.ID); len(list) != 1 {
		t.Fatalf("sessions after logout = %d, want 1", len(list))
	}
	// Pruned sessions: logout still says yes.
	if n, err := f.a.PruneSessions(ctx); err != nil || n != 1 {
		t.Fatalf("PruneSessions = %d, %v", n, err)
	}
	if err := f.a.Logout(ctx, p.RefreshToken); err != nil {
		t.Fatalf("logout of a pruned session: %v", err)
	}
	if err := f.a.Logout(ctx, "garbage"); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("logout with garbage: %v", err)
	}
	if err := f.a.Logout(ctx, p.AccessToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("logout with an access token: %v", err)
	}
	f.clock.Advance(8 * 24 * time.Hour)
	if err := f.a.Logout(ctx, other.RefreshToken); err != nil {
		t.Fatalf("logout with an expired token: %v", err)
	}
}

func TestLogoutAllAndPasswordChangeEndSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "xia", "password-1")
	p1 := f.login(t, "xia", "password-1")
	p2 := f.login(t, "xia", "password-1")
	if err := f.a.LogoutAll(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, p := range []auth.TokenPair{p1, p2} {
		if _, err := f.a.VerifyAccessToken(ctx, p.AccessToken); !errors.Is(err, auth.ErrTokenInvalidated) {
			t.Errorf("access token after logout-all: %v", err)
		}
		if _, err := f.a.Refresh(ctx, p.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
			t.Errorf("refresh token after logout-all: %v", err)
		}
	}
	if list, _ := f.a.Sessions(ctx, u.ID); len(list) != 0 {
		t.Errorf("sessions after logout-all: %d", len(list))
	}
	p3 := f.login(t, "xia", "password-1")
	fresh, _ := f.a.UserByID(ctx, u.ID)
	if err := f.a.ChangePassword(ctx, fresh, "password-1", "password-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Refresh(ctx, p3.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Errorf("refresh after password change: %v", err)
	}
	if list, _ := f.a.Sessions(ctx, u.ID); len(list) != 0 {
		t.Errorf("sessions after password change: %d", len(list))
	}
	p4 := f.login(t, "xia", "password-2")
	if err := f.a.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := f.a.SetDisabled(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Refresh(ctx, p4.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Errorf("refresh after disable and enable: %v", err)
	}
}

func TestStoreKeepsNoUsableToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "yara", "password-1")
	p := f.login(t, "yara", "password-1")
	list, err := f.a.Sessions(ctx, u.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("Sessions = %d, %v", len(list), err)
	}
	b, _ := json.Marshal(list[0])
	sig := p.RefreshToken[strings.LastIndexByte(p.RefreshToken, '.')+1:]
	if strings.Contains(string(b), sig) || strings.Contains(string(b), p.AccessToken) {
		t.Fatal("the session record holds a token")
	}
}

func TestStatelessStore(t *testing.T) {
	a, err := auth.New(statelessStore{memstore.New()}, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u, _ := a.Register(ctx, "zara", "password-1")
	p, _ := a.Login(ctx, "zara", "password-1")
	for range 3 { // no rotation: the same token keeps working
		if _, err := a.Refresh(ctx, p.RefreshToken); err != nil {
			t.Fatalf("stateless refresh: %v", err)
		}
	}
	if err := a.Logout(ctx, p.RefreshToken); err != nil {
		t.Fatalf("stateless logout: %v", err)
	}
	if _, err := a.Sessions(ctx, u.ID); !errors.Is(err, auth.ErrSessionsUnsupported) {
		t.Fatalf("Sessions: %v", err)
	}
	if err := a.LogoutAll(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Refresh(ctx, p.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Fatalf("refresh after logout-all: %v", err)
	}
	h := a.Handler()
	p2, _ := a.Login(ctx, "zara", "password-1")
	wantError(t, do(h, http.MethodGet, "/auth/sessions", "", "", bearer(p2.AccessToken)...), http.StatusNotImplemented, "Sessions are not supported by this server", "sessions_unsupported")
}

func TestSessionEndpoints(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	f.register(t, "abby", "password-1")
	f.register(t, "ben", "password-1")
	login := func(name, ua string) auth.TokenPair {
		req := loginRequest(name, "password-1")
		req.Header.Set("User-Agent", ua)
		req.RemoteAddr = "198.51.100.7:51234"
		return tokensOf(t, serve(h, req))
	}
	phone := login("abby", "Phone/1.0")
	laptop := login("abby", "Laptop/2.0")
	bens := login("ben", "Ben/1.0")

	r := do(h, http.MethodGet, "/auth/sessions", "", "", bearer(laptop.AccessToken)...)
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var list []map[string]any
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 2 {
		t.Fatalf("list = %s", r.body)
	}
	var phoneID string
	for _, s := range list {
		switch s["user_agent"] {
		case "Phone/1.0":
			phoneID = s["id"].(string)
			if s["current"] != false {
				t.Error("phone session marked current")
			}
		case "Laptop/2.0":
			if s["current"] != true {
				t.Error("laptop session not marked current")
			}
		default:
			t.Errorf("unexpected session %v", s)
		}
		if s["ip"] != "198.51.100.7" {
			t.Errorf("ip = %v", s["ip"])
		}
		for _, k := range []string{"created_at", "last_used_at", "expires_at"} {
			if _, err := time.Parse(time.RFC3339Nano, s[k].(string)); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		}
		if strings.Contains(string(r.body), "jti") {
			t.Error("the list exposes jti values")
		}
	}

	// Another user's session ID is "not found", never "forbidden".
	wantError(t, do(h, http.MethodDelete, "/auth/sessions/"+phoneID, "", "", bearer(bens.AccessToken)...), http.StatusNotFound, "Session not found", "session_not_found")
	wantError(t, do(h, http.MethodDelete, "/auth/sessions/no-such-session", "", "", bearer(laptop.AccessToken)...), http.StatusNotFound, "Session not found", "session_not_found")
	wantError(t, do(h, http.MethodDelete, "/auth/sessions/"+phoneID, "", ""), http.StatusUnauthorized, "Not authenticated", "invalid_request")
	if r := do(h, http.MethodDelete, "/auth/sessions/"+phoneID, "", "", bearer(laptop.AccessToken)...); r.status != http.StatusNoContent {
		t.Fatalf("revoke own session: %d %s", r.status, r.body)
	}
	wantError(t, do(h, http.MethodDelete, "/auth/sessions/"+phoneID, "", "", bearer(laptop.AccessToken)...), http.StatusNotFound, "Session not found", "session_not_found")
	wantError(t, postJSON(h, "/auth/refresh", `{"refresh_token":"`+phone.RefreshToken+`"}`), http.StatusUnauthorized, "Token has been invalidated, please log in again", "invalid_grant")
	wantError(t, do(h, http.MethodGet, "/auth/sessions/"+phoneID, "", "", bearer(laptop.AccessToken)...), http.StatusMethodNotAllowed, "Method Not Allowed", "method_not_allowed")
	wantError(t, do(h, http.MethodDelete, "/auth/sessions/", "", "", bearer(laptop.AccessToken)...), http.StatusNotFound, "Not Found", "not_found")

	// Logout: 204 for a live, a repeated and an unknown session alike.
	for i := range 2 {
		if r := postJSON(h, "/auth/logout", `{"refresh_token":"`+laptop.RefreshToken+`"}`); r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("logout #%d: %d %s", i+1, r.status, r.body)
		}
	}
	wantError(t, postJSON(h, "/auth/logout", `{"refresh_token":"garbage"}`), http.StatusUnauthorized, "Could not validate credentials", "invalid_token")
	wantProblems(t, postJSON(h, "/auth/logout", `{}`), "validation_error", "body.refresh_token:missing")

	// Logout-all ends Ben's access token too.
	if r := do(h, http.MethodPost, "/auth/logout-all", "", "", bearer(bens.AccessToken)...); r.status != http.StatusNoContent {
		t.Fatalf("logout-all: %d %s", r.status, r.body)
	}
	wantError(t, do(h, http.MethodGet, "/auth/me", "", "", bearer(bens.AccessToken)...), http.StatusUnauthorized, "Token has been invalidated, please log in again", "invalid_token")
	wantError(t, do(h, http.MethodPost, "/auth/logout-all", "", ""), http.StatusUnauthorized, "Not authenticated", "invalid_request")
}

func TestSessionIDFromContext(t *testing.T) {
	f := newFixture(t)
	f.register(t, "cleo", "password-1")
	p := f.login(t, "cleo", "password-1")
	var got string
	h := f.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = auth.SessionIDFromContext(r.Context())
	}))
	do(h, http.MethodGet, "/", "", "", bearer(p.AccessToken)...)
	u, _ := f.a.UserByUsername(context.Background(), "cleo")
	list, _ := f.a.Sessions(context.Background(), u.ID)
	if len(list) != 1 || got != list[0].ID {
		t.Fatalf("SessionIDFromContext = %q, sessions %v", got, list)
	}
	if _, ok := auth.SessionIDFromContext(context.Background()); ok {
		t.Fatal("session ID in an empty context")
	}
}

func TestClientInfoIsClipped(t *testing.T) {
	f := newFixture(t)
	ctx := auth.ContextWithClient(context.Background(), auth.Client{
		UserAgent: strings.Repeat("é", 300) + "\xff",
		Addr:      netip.MustParseAddr("fe80::1%" + strings.Repeat("1", 100)),
	})
	u := f.register(t, "dina", "password-1")
	if _, err := f.a.Login(ctx, "dina", "password-1"); err != nil {
		t.Fatal(err)
	}
	list, _ := f.a.Sessions(context.Background(), u.ID)
	if len(list) != 1 || len(list[0].UserAgent) > 256 || len(list[0].IP) > 64 || !utf8Valid(list[0].UserAgent) {
		t.Fatalf("client info not clipped: %q %q", list[0].UserAgent, list[0].IP)
	}
}

// TestEndedSessionsEndTheirAccessTokens: logout, revoking a session and
// reuse detection make the session's access tokens fail on the next
// request on this instance, and within the user-cache TTL on another.
func TestEndedSessionsEndTheirAccessTokens(t *testing.T) {
	ctx := context.Background()
	for _, end := range []struct {
		name string
		end  func(a *auth.Authenticator, u *auth.User, p auth.TokenPair, clock *fakeClock) error
	}{
		{"logout", func(a *auth.Authenticator, _ *auth.User, p auth.TokenPair, _ *fakeClock) error {
			return a.Logout(ctx, p.RefreshToken)
		}},
		{"revoke session", func(a *auth.Authenticator, u *auth.User, p auth.TokenPair, _ *fakeClock) error {
			list, err := a.Sessions(ctx, u.ID)
			if err != nil || len(list) == 0 {
				return fmt.Errorf("sessions: %v %d", err, len(list))
			}
			for _, s := range list {
				if err := a.RevokeSession(ctx, u.ID, s.ID); err != nil {
					return err
				}
			}
			return nil
		}},
		{"reuse detected", func(a *auth.Authenticator, _ *auth.User, p auth.TokenPair, clock *fakeClock) error {
			if _, err := a.Refresh(ctx, p.RefreshToken); err != nil {
				return err
			}
			clock.Advance(time.Minute)
			if _, err := a.Refresh(ctx, p.RefreshToken); !errors.Is(err, auth.ErrTokenReused) {
				return fmt.Errorf("second refresh = %v, want reuse", err)
			}
			return nil
		}},
	} {
		t.Run(end.name, func(t *testing.T) {
			a1, a2, clock := twoInstances(t, auth.WithUserCacheTTL(2*time.Second))
			u, err := a1.Register(ctx, "sue", "password-1")
			if err != nil {
				t.Fatal(err)
			}
			p, err := a1.Login(ctx, "sue", "password-1")
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []*auth.Authenticator{a1, a2} {
				if _, err := a.VerifyAccessToken(ctx, p.AccessToken); err != nil {
					t.Fatal(err)
				}
			}
			if err := end.end(a1, u, p, clock); err != nil {
				t.Fatal(err)
			}
			if _, err := a1.VerifyAccessToken(ctx, p.AccessToken); !errors.Is(err, auth.ErrTokenInvalidated) {
				t.Fatalf("this instance: %v, want ErrTokenInvalidated", err)
			}
			clock.Advance(2 * time.Second)
			if _, err := a2.VerifyAccessToken(ctx, p.AccessToken); !errors.Is(err, auth.ErrTokenInvalidated) {
				t.Fatalf("other instance after the TTL: %v, want ErrTokenInvalidated", err)
			}
		})
	}
}

// TestGraceWindowIsForTheSameClient: two tabs of one client refreshing at
// once both get the child; a replay from another client inside the window,
// or one more than the window allows, is reuse and revokes the family. A
// grace answer is its own event.
func TestGraceWindowIsForTheSameClient(t *testing.T) {
	ctx := context.Background()
	browser := auth.ContextWithClient(ctx, auth.Client{Addr: netip.MustParseAddr("198.51.100.7"), UserAgent: "Firefox/140"})
	thief := auth.ContextWithClient(ctx, auth.Client{Addr: netip.MustParseAddr("203.0.113.66"), UserAgent: "Firefox/140"})
	sameAddrOtherAgent := auth.ContextWithClient(ctx, auth.Client{Addr: netip.MustParseAddr("198.51.100.7"), UserAgent: "curl/8"})

	setup := func(t *testing.T) (*fixture, auth.TokenPair, *recorder) {
		rec := &recorder{}
		f := newFixture(t, auth.WithHooks(auth.Hooks{
			Refreshed:     rec.hook("refreshed"),
			GraceRefresh:  rec.hook("grace"),
			ReuseDetected: rec.hook("reused"),
		}))
		f.register(t, "gil", "password-1")
		p, err := f.a.Login(browser, "gil", "password-1")
		if err != nil {
			t.Fatal(err)
		}
		return f, p, rec
	}

	t.Run("two tabs", func(t *testing.T) {
		f, p, rec := setup(t)
		first, err := f.a.Refresh(browser, p.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		second, err := f.a.Refresh(browser, p.RefreshToken) // the other tab
		if err != nil {
			t.Fatalf("second tab: %v", err)
		}
		if first.RefreshToken != second.RefreshToken {
			t.Fatal("two tabs got two children")
		}
		if got := rec.take(); got != "refreshed:gil@198.51.100.7 grace:gil@198.51.100.7" {
			t.Fatalf("events = %q", got)
		}
		if _, err := f.a.Refresh(browser, first.RefreshToken); err != nil {
			t.Fatalf("the child: %v", err)
		}
	})
	for name, other := range map[string]context.Context{"another address": thief, "another user agent": sameAddrOtherAgent} {
		t.Run(name, func(t *testing.T) {
			f, p, rec := setup(t)
			child, err := f.a.Refresh(browser, p.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.a.Refresh(other, p.RefreshToken); !errors.Is(err, auth.ErrTokenReused) {
				t.Fatalf("replay from %s inside the window = %v, want reuse", name, err)
			}
			if _, err := f.a.Refresh(browser, child.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
				t.Fatalf("the family survived a replay from %s: %v", name, err)
			}
			if _, err := f.a.VerifyAccessToken(ctx, child.AccessToken); !errors.Is(err, auth.ErrTokenInvalidated) {
				t.Fatalf("the family's access token survived: %v", err)
			}
			if got := rec.take(); !strings.Contains(got, "reused:gil@") {
				t.Fatalf("events = %q, want reuse", got)
			}
		})
	}
	t.Run("no client named", func(t *testing.T) {
		// A direct call without ContextWithClient: there is nobody to bind
		// the window to, so a replay is reuse.
		f, _, _ := setup(t)
		p, err := f.a.Login(ctx, "gil", "password-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.a.Refresh(ctx, p.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if _, err := f.a.Refresh(ctx, p.RefreshToken); !errors.Is(err, auth.ErrTokenReused) {
			t.Fatalf("replay without a client = %v, want reuse", err)
		}
	})
	t.Run("more than the window allows", func(t *testing.T) {
		f, p, _ := setup(t)
		if _, err := f.a.Refresh(browser, p.RefreshToken); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if _, err := f.a.Refresh(browser, p.RefreshToken); err != nil {
				t.Fatalf("grace answer %d: %v", i+1, err)
			}
		}
		if _, err := f.a.Refresh(browser, p.RefreshToken); !errors.Is(err, auth.ErrTokenReused) {
			t.Fatalf("third replay = %v, want reuse", err)
		}
	})
}

// Session IDs are UUIDv7, so that stores index new sessions in time order:
// a later session's ID sorts after an earlier one's.
func TestSessionIDsAreTimeOrdered(t *testing.T) {
	f := newFixture(t)
	u := f.register(t, "tess", "password-1")
	var ids []string
	for range 3 {
		f.login(t, "tess", "password-1") // the fake clock stands still: the IDs' order is the library's
		list, err := f.a.Sessions(context.Background(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			if !slices.Contains(ids, s.ID) {
				ids = append(ids, s.ID)
			}
		}
	}
	if len(ids) != 3 {
		t.Fatalf("%d sessions, want 3", len(ids))
	}
	for i, id := range ids {
		if id[14] != '7' {
			t.Errorf("session ID %s is not a UUIDv7", id)
		}
		if i > 0 && id <= ids[i-1] {
			t.Errorf("session %d's ID %s sorts before the earlier %s", i, id, ids[i-1])
		}
	}
}
