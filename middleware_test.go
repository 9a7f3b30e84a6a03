package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/gatehouse/auth"
)

func whoami() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := auth.UserFromContext(r.Context())
		if !ok {
			fmt.Fprint(w, "anonymous")
			return
		}
		fmt.Fprint(w, "hello "+u.Username)
	})
}

func TestMiddleware(t *testing.T) {
	f := newFixture(t)
	f.register(t, "lena", "password-1")
	p := f.login(t, "lena", "password-1")
	h := f.a.Middleware(whoami())

	if r := do(h, http.MethodGet, "/hello", "", "", bearer(p.AccessToken)...); r.status != 200 || string(r.body) != "hello lena" {
		t.Fatalf("with token: %d %q", r.status, r.body)
	}
	wantError(t, do(h, http.MethodGet, "/hello", "", ""), http.StatusUnauthorized, "Not authenticated", "invalid_request")
	wantError(t, do(h, http.MethodGet, "/hello", "", "", bearer("x.y.z")...), http.StatusUnauthorized, "Could not validate credentials", "invalid_token")
	wantError(t, do(h, http.MethodGet, "/hello", "", "", bearer(p.RefreshToken)...), http.StatusUnauthorized, "Could not validate credentials", "invalid_token")
}

func TestOptionalMiddleware(t *testing.T) {
	f := newFixture(t)
	f.register(t, "mona", "password-1")
	p := f.login(t, "mona", "password-1")
	h := f.a.OptionalMiddleware(whoami())
	if r := do(h, http.MethodGet, "/", "", ""); r.status != 200 || string(r.body) != "anonymous" {
		t.Errorf("no token: %d %q", r.status, r.body)
	}
	if r := do(h, http.MethodGet, "/", "", "", bearer(p.AccessToken)...); r.status != 200 || string(r.body) != "hello mona" {
		t.Errorf("token: %d %q", r.status, r.body)
	}
	// A bad token is an error, not a silent downgrade to anonymous.
	wantError(t, do(h, http.MethodGet, "/", "", "", bearer("bad")...), http.StatusUnauthorized, "Could not validate credentials", "invalid_token")
}

func TestErrorHandlerReplaced(t *testing.T) {
	var seen error
	f := newFixture(t, auth.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		seen = err
		if errors.Is(err, auth.ErrNoToken) {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		auth.WriteError(w, r, err)
	}))
	h := f.a.Middleware(whoami())
	if r := do(h, http.MethodGet, "/", "", ""); r.status != http.StatusSeeOther || !errors.Is(seen, auth.ErrNoToken) {
		t.Errorf("custom handler: %d, saw %v", r.status, seen)
	}
	wantError(t, do(h, http.MethodGet, "/", "", "", bearer("bad")...), http.StatusUnauthorized, "Could not validate credentials", "invalid_token")
	// The endpoints use it too.
	if r := do(f.a.Handler(), http.MethodGet, "/auth/me", "", ""); r.status != http.StatusSeeOther {
		t.Errorf("endpoint with custom handler: %d", r.status)
	}
}

func TestUserFromContextEmpty(t *testing.T) {
	if u, ok := auth.UserFromContext(context.Background()); ok || u != nil {
		t.Fatal("UserFromContext on an empty context reported a user")
	}
}
