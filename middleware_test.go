package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
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

// Hostile Authorization headers get the same answers on every protected
// entry point; TestMeEndpoint covers /auth/me.
func TestHostileAuthorizationHeaders(t *testing.T) {
	f := newFixture(t)
	f.register(t, "hugo", "password-1")
	p := f.login(t, "hugo", "password-1")
	entry := map[string]struct {
		h            http.Handler
		method, path string
		ct, body     string
	}{
		"change-password":     {f.a.Handler(), http.MethodPost, "/auth/change-password", ctJSON, `{"current_password":"password-1","new_password":"password-1"}`},
		"middleware":          {f.a.Middleware(whoami()), http.MethodGet, "/hello", "", ""},
		"optional middleware": {f.a.OptionalMiddleware(whoami()), http.MethodGet, "/hello", "", ""},
	}
	tests := []struct {
		name   string
		header []string
		status int
		code   string
	}{
		{"Bearer and 1 MiB of dots", []string{"Authorization", "Bearer " + strings.Repeat(".", 1<<20)}, http.StatusUnauthorized, "invalid_token"},
		{"two Authorization headers", []string{"Authorization", "Bearer " + p.AccessToken, "Authorization", "Bearer " + p.AccessToken}, http.StatusUnauthorized, "invalid_token"},
		{"two tokens in one header", []string{"Authorization", "Bearer a b"}, http.StatusUnauthorized, "invalid_token"},
		{"scheme without a token", []string{"Authorization", "Bearer "}, http.StatusUnauthorized, "invalid_token"},
		{"another scheme", []string{"Authorization", "Basic aHVnbzpwYXNzd29yZC0x"}, http.StatusUnauthorized, "invalid_request"},
		{"lower-case scheme", []string{"Authorization", "bearer " + p.AccessToken}, 0, ""},
		{"mixed-case scheme", []string{"Authorization", "bEaReR " + p.AccessToken}, 0, ""},
	}
	for name, e := range entry {
		for _, tc := range tests {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				r := do(e.h, e.method, e.path, e.ct, e.body, tc.header...)
				if tc.status == 0 {
					if r.status >= 300 && r.status != http.StatusBadRequest { // 400: same password, past authentication
						t.Fatalf("status %d: %s", r.status, r.body)
					}
					return
				}
				wantError(t, r, tc.status, "", tc.code)
			})
		}
	}
}
