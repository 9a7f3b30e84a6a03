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
