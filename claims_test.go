package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/golang-jwt/jwt/v5"
)

func TestCustomClaims(t *testing.T) {
	f := newFixture(t, auth.WithClaims(func(_ context.Context, u *auth.User) (map[string]any, error) {
		return map[string]any{"roles": []string{"admin", "ops"}, "tenant": "acme", "tier": 3}, nil
	}))
	f.register(t, "ivan", "password-1")
	p := f.login(t, "ivan", "password-1")
	var got map[string]any
	h := f.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = auth.ClaimsFromContext(r.Context())
		got["tenant"] = "mutated" // the caller's own copy
	}))
	for range 2 { // first sight, then from the token cache
		got = nil
		do(h, http.MethodGet, "/", "", "", bearer(p.AccessToken)...)
		if fmt.Sprint(got["roles"]) != "[admin ops]" || got["tier"] != float64(3) || got["sub"] != nil || got["ver"] != nil {
			t.Fatalf("ClaimsFromContext = %v", got)
		}
	}
	// The refresh token carries none, and refreshed access tokens carry them again.
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(p.RefreshToken, c); err != nil || c["tenant"] != nil {
		t.Fatalf("refresh token claims: %v %v", c, err)
	}
	next, err := f.a.Refresh(context.Background(), p.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	c = jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(next.AccessToken, c); err != nil || c["tenant"] != "acme" || c["type"] != "access" {
		t.Fatalf("refreshed access token claims: %v %v", c, err)
	}
}

func TestReservedClaimsAreAnError(t *testing.T) {
	for _, name := range []string{"sub", "exp", "iat", "nbf", "jti", "type", "ver", "iss", "aud", "sid",
		// encoding/json matches keys ignoring case: these would override
		// the subject, expiry and type for some parsers.
		"SUB", "Sub", "EXP", "Exp", "TYPE", "Type", "Ver", "SID", "Aud"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, auth.WithClaims(func(context.Context, *auth.User) (map[string]any, error) {
				return map[string]any{name: "x"}, nil
			}))
			f.register(t, "jane", "password-1")
			if _, err := f.a.Login(context.Background(), "jane", "password-1"); !errors.Is(err, auth.ErrReservedClaim) {
				t.Fatalf("Login = %v, want ErrReservedClaim", err)
			}
		})
	}
	boom := errors.New("claims backend down")
	f := newFixture(t, auth.WithClaims(func(context.Context, *auth.User) (map[string]any, error) { return nil, boom }))
	f.register(t, "joe", "password-1")
	if _, err := f.a.Login(context.Background(), "joe", "password-1"); !errors.Is(err, boom) {
		t.Fatalf("Login with a failing claims func = %v", err)
	}
}

func TestNoClaimsWithoutOption(t *testing.T) {
	f := newFixture(t)
	f.register(t, "kurt", "password-1")
	p := f.login(t, "kurt", "password-1")
	var ok bool
	h := f.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok = auth.ClaimsFromContext(r.Context())
	}))
	do(h, http.MethodGet, "/", "", "", bearer(p.AccessToken)...)
	if ok {
		t.Fatal("ClaimsFromContext reported claims without WithClaims")
	}
}

func TestClaimsFromContextIsADeepCopy(t *testing.T) {
	f := newFixture(t, auth.WithClaims(func(context.Context, *auth.User) (map[string]any, error) {
		return map[string]any{"roles": []string{"user"}, "org": map[string]any{"id": "o1"}}, nil
	}))
	f.register(t, "lena", "password-1")
	p := f.login(t, "lena", "password-1")
	var seen []string
	h := f.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := auth.ClaimsFromContext(r.Context())
		roles := c["roles"].([]any)
		seen = append(seen, fmt.Sprint(roles[0], " ", c["org"].(map[string]any)["id"]))
		roles[0] = "admin" // a handler normalizing in place
		c["org"].(map[string]any)["id"] = "o2"
	}))
	for range 3 {
		do(h, http.MethodGet, "/", "", "", bearer(p.AccessToken)...)
	}
	for _, s := range seen {
		if s != "user o1" {
			t.Fatalf("claims seen by successive requests: %v", seen)
		}
	}
}

func TestFailedClaimsLeaveNoSession(t *testing.T) {
	f := newFixture(t, auth.WithClaims(func(context.Context, *auth.User) (map[string]any, error) {
		return nil, errors.New("claims backend down")
	}))
	u := f.register(t, "nils", "password-1")
	if _, err := f.a.Login(context.Background(), "nils", "password-1"); err == nil {
		t.Fatal("Login succeeded")
	}
	if list, err := f.a.Sessions(context.Background(), u.ID); err != nil || len(list) != 0 {
		t.Fatalf("a failed login left sessions behind: %d, %v", len(list), err)
	}
}
