package auth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// twoInstances returns two Authenticators sharing one store and one clock,
// as two processes behind a load balancer would.
func twoInstances(t *testing.T, opts ...auth.Option) (a1, a2 *auth.Authenticator, clock *fakeClock) {
	t.Helper()
	store := memstore.New()
	clock = newClock()
	mk := func() *auth.Authenticator {
		a, err := auth.New(store, append([]auth.Option{auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	return mk(), mk(), clock
}

func TestRevocationAcrossInstances(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		revoke func(a *auth.Authenticator, u *auth.User) error
	}{
		{"disable", func(a *auth.Authenticator, u *auth.User) error { return a.SetDisabled(ctx, u.ID, true) }},
		{"password change", func(a *auth.Authenticator, u *auth.User) error {
			return a.ChangePassword(ctx, u, "password-1", "password-2")
		}},
		{"logout-all", func(a *auth.Authenticator, u *auth.User) error { return a.LogoutAll(ctx, u.ID) }},
		{"delete", func(a *auth.Authenticator, u *auth.User) error { return a.DeleteUser(ctx, u.ID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a1, a2, clock := twoInstances(t, auth.WithUserCacheTTL(3*time.Second))
			u, err := a1.Register(ctx, "ruth", "password-1")
			if err != nil {
				t.Fatal(err)
			}
			p, _ := a1.Login(ctx, "ruth", "password-1")
			// Both instances have seen the token and cached the user.
			for _, a := range []*auth.Authenticator{a1, a2} {
				if _, err := a.VerifyAccessToken(ctx, p.AccessToken); err != nil {
					t.Fatal(err)
				}
			}
			if err := tc.revoke(a1, u); err != nil {
				t.Fatal(err)
			}
			if _, err := a1.VerifyAccessToken(ctx, p.AccessToken); err == nil {
				t.Fatal("the instance that revoked still accepts the token")
			}
			// The other instance may trust its cache for at most the TTL.
			clock.Advance(2 * time.Second)
			if _, err := a2.VerifyAccessToken(ctx, p.AccessToken); err != nil {
				t.Fatalf("within the staleness bound the other instance rejected early: %v (allowed, but the cache is not working)", err)
			}
			clock.Advance(1 * time.Second)
			if _, err := a2.VerifyAccessToken(ctx, p.AccessToken); err == nil {
				t.Fatal("the other instance still accepts the token after the staleness bound")
			}
		})
	}
}

func TestUserCacheTTLZeroAlwaysAsksTheStore(t *testing.T) {
	ctx := context.Background()
	a1, a2, _ := twoInstances(t, auth.WithUserCacheTTL(0))
	u, _ := a1.Register(ctx, "sara", "password-1")
	p, _ := a1.Login(ctx, "sara", "password-1")
	if _, err := a2.VerifyAccessToken(ctx, p.AccessToken); err != nil {
		t.Fatal(err)
	}
	if err := a1.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := a2.VerifyAccessToken(ctx, p.AccessToken); err == nil {
		t.Fatal("with no user cache the other instance still accepts the token")
	}
}

func TestCachedTokenStillExpires(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{0, 10000} {
		f := newFixture(t, auth.WithTokenCacheSize(size), auth.WithAccessTTL(time.Minute), auth.WithLeeway(0))
		f.register(t, "tom", "password-1")
		p := f.login(t, "tom", "password-1")
		if _, err := f.a.VerifyAccessToken(ctx, p.AccessToken); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		if _, err := f.a.VerifyAccessToken(ctx, p.AccessToken); !errors.Is(err, auth.ErrTokenExpired) {
			t.Fatalf("cache size %d: expired token: %v", size, err)
		}
	}
}

func TestStoreDownWithFreshCache(t *testing.T) {
	ctx := context.Background()
	fs := &flakyStore{UserStore: memstore.New()}
	clock := newClock()
	a, _ := auth.New(fs, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now))
	_, _ = a.Register(ctx, "uma", "password-1")
	p, _ := a.Login(ctx, "uma", "password-1")
	if _, err := a.VerifyAccessToken(ctx, p.AccessToken); err != nil {
		t.Fatal(err)
	}
	fs.setErr(errDown)
	if _, err := a.VerifyAccessToken(ctx, p.AccessToken); err != nil {
		t.Fatalf("fresh cached user while the store is down: %v", err)
	}
	clock.Advance(3 * time.Second)
	if _, err := a.VerifyAccessToken(ctx, p.AccessToken); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("stale cache while the store is down: %v, want ErrUnavailable (fail closed)", err)
	}
}

func TestContextUserIsACopy(t *testing.T) {
	f := newFixture(t)
	f.register(t, "vic", "password-1")
	p := f.login(t, "vic", "password-1")
	h := f.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.UserFromContext(r.Context())
		_, _ = w.Write([]byte(u.Username))
		u.Username = "mallory" // a careless handler
		u.Disabled = true
	}))
	for range 3 {
		if r := do(h, http.MethodGet, "/", "", "", bearer(p.AccessToken)...); r.status != 200 || string(r.body) != "vic" {
			t.Fatalf("request after a handler mutated its user: %d %q", r.status, r.body)
		}
	}
}

func TestNewRejectsBadCacheOptions(t *testing.T) {
	for _, opt := range []auth.Option{auth.WithTokenCacheSize(-1), auth.WithUserCacheTTL(-time.Second), auth.WithUserCacheTTL(2 * time.Minute)} {
		if _, err := auth.New(memstore.New(), auth.WithSecret(testSecret), opt); err == nil {
			t.Error("New accepted a bad cache option")
		}
	}
}

// A token issued by one instance right after it changed the user must work
// at once on the others, whose cache still holds the user's older state.
func TestFreshTokenAcceptedOnOtherInstance(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(a *auth.Authenticator, u *auth.User) error
	}{
		{"password change", func(a *auth.Authenticator, u *auth.User) error {
			return a.ChangePassword(ctx, u, "password-1", "password-2")
		}},
		{"logout-all", func(a *auth.Authenticator, u *auth.User) error { return a.LogoutAll(ctx, u.ID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a1, a2, _ := twoInstances(t, auth.WithUserCacheTTL(10*time.Second))
			u, _ := a1.Register(ctx, "walt", "password-1")
			old, _ := a1.Login(ctx, "walt", "password-1")
			if _, err := a2.VerifyAccessToken(ctx, old.AccessToken); err != nil { // a2 caches version 1
				t.Fatal(err)
			}
			if err := tc.change(a1, u); err != nil {
				t.Fatal(err)
			}
			password := "password-1"
			if tc.name == "password change" {
				password = "password-2"
			}
			fresh, err := a1.Login(ctx, "walt", password)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a2.VerifyAccessToken(ctx, fresh.AccessToken); err != nil {
				t.Fatalf("the other instance refused a token issued after the change: %v", err)
			}
			// Having looked, it now refuses the old one at once.
			if _, err := a2.VerifyAccessToken(ctx, old.AccessToken); !errors.Is(err, auth.ErrTokenInvalidated) {
				t.Fatalf("old token on the other instance: %v", err)
			}
		})
	}
}

// A user deleted on another instance, while this one still trusts its cache,
// gets 401 from the endpoints that read the user again: never a 500.
func TestDeletedElsewhereIsNotA500(t *testing.T) {
	ctx := context.Background()
	a1, a2, _ := twoInstances(t)
	u, _ := a1.Register(ctx, "xena", "password-1")
	p, _ := a1.Login(ctx, "xena", "password-1")
	h := a1.Handler()
	if r := do(h, http.MethodGet, "/auth/me", "", "", bearer(p.AccessToken)...); r.status != http.StatusOK {
		t.Fatal(r.status)
	}
	if err := a2.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range []response{
		do(h, http.MethodGet, "/auth/sessions", "", "", bearer(p.AccessToken)...),
		do(h, http.MethodPost, "/auth/logout-all", "", "", bearer(p.AccessToken)...),
		do(h, http.MethodDelete, "/auth/sessions/x", "", "", bearer(p.AccessToken)...),
		postJSON(h, "/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`, bearer(p.AccessToken)...),
	} {
		wantError(t, r, http.StatusUnauthorized, "Could not validate credentials", "invalid_token")
	}
}
