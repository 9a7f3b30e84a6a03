package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzAdminInputs sends what a client controls on the admin, key,
// introspection and revocation endpoints (query strings with cursors, path
// IDs, JSON and form bodies, bearer keys) as an admin, as a plain user and
// as an API key. Nothing may answer 5xx or panic; nothing may change
// another user unless the admin asked; no key may reach the admin API.
func FuzzAdminInputs(f *testing.F) {
	af := newAdminFixture(f)
	ctx := context.Background()
	victim := af.register(f, "victim", "password-1")
	plain := af.login(f, "victim", "password-1").AccessToken
	_, key, err := af.a.CreateAPIKey(ctx, af.root.ID, "k", []string{"introspect"}, 0)
	if err != nil {
		f.Fatal(err)
	}
	first := decode[listPage](f, af.call(http.MethodGet, "/auth/admin/users?limit=1", af.token, ""))
	for _, seed := range []struct{ method, path, body string }{
		{"GET", "/auth/admin/users?limit=1&after=" + url.QueryEscape(*first.Next), ""},
		{"GET", "/auth/admin/users?q=%00&disabled=true", ""},
		{"GET", "/auth/admin/audit?user=x&after=AA.AA", ""},
		{"PATCH", "/auth/admin/users/" + victim.ID, `{"roles":["a","a"],"disabled":false}`},
		{"DELETE", "/auth/admin/users/%ff/sessions", ""},
		{"POST", "/auth/api-keys", `{"name":"n","scopes":["s"],"expires_in":1e99}`},
		{"POST", "/auth/introspect", "token=" + key},
		{"POST", "/auth/revoke", "token=gh_" + strings.Repeat("A", 46)},
	} {
		for who := range 3 {
			f.Add(seed.method, seed.path, seed.body, uint8(who))
		}
	}
	f.Fuzz(func(t *testing.T, method, path, body string, who uint8) {
		if !strings.HasPrefix(path, "/auth/") || strings.ContainsAny(path, " \r\n#") {
			return
		}
		tok := []string{af.token, plain, key}[int(who)%3]
		req, err := http.NewRequest(method, "http://x"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		ct := ctJSON
		if strings.HasPrefix(path, "/auth/introspect") || strings.HasPrefix(path, "/auth/revoke") {
			ct = ctForm
		}
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.RemoteAddr = "192.0.2.1:1"
		rec := httptest.NewRecorder()
		af.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		if tok != af.token && strings.HasPrefix(req.URL.Path, "/auth/admin/") && rec.Code < 300 {
			t.Fatalf("%s %s as a non-admin: %d %s", method, path, rec.Code, rec.Body)
		}
		if tok == key && strings.HasPrefix(req.URL.Path, "/auth/api-keys") && rec.Code < 300 {
			t.Fatalf("%s %s with a key: %d", method, path, rec.Code)
		}
		// The fixture's admin may never lose access: self-lockout and the
		// last-admin checks hold whatever the requests.
		if u, err := af.a.UserByID(ctx, af.root.ID); err != nil || u.Disabled || !u.HasRole("admin") {
			t.Fatalf("%s %s %q locked the admin out: %+v, %v", method, path, body, u, err)
		}
	})
}
