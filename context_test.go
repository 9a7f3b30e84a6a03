package auth_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse/auth"
)

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

// The user in a request's context is copied for the request once: every
// UserFromContext of the request, from any goroutine, returns that one
// copy, and its roles are its own too.
func TestContextUserOneCopyPerRequest(t *testing.T) {
	f := newFixture(t)
	u := f.register(t, "rhea", "password-1")
	if err := f.a.SetRoles(t.Context(), u.ID, []string{"editor"}); err != nil {
		t.Fatal(err)
	}
	p := f.login(t, "rhea", "password-1")
	h := f.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := make(chan *auth.User, 4)
		for range cap(got) {
			go func() {
				u, _ := auth.UserFromContext(r.Context())
				got <- u
			}()
		}
		first := <-got
		for range cap(got) - 1 {
			if u := <-got; u != first {
				t.Error("two copies of the user in one request")
			}
		}
		_, _ = w.Write([]byte(first.Roles[0]))
		first.Roles[0] = "admin" // a careless handler, again
	}))
	for range 3 {
		if r := do(h, http.MethodGet, "/", "", "", bearer(p.AccessToken)...); r.status != 200 || string(r.body) != "editor" {
			t.Fatalf("request after a handler changed its user's roles: %d %q", r.status, r.body)
		}
	}
}
