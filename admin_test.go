package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// adminFixture is a fixture with the admin API (role "admin") and API keys
// on, and one admin, root, logged in.
type adminFixture struct {
	*fixture
	h     http.Handler
	root  *auth.User
	token string // root's access token
}

func newAdminFixture(t testing.TB, opts ...auth.Option) *adminFixture {
	t.Helper()
	f := newFixture(t, append([]auth.Option{auth.WithAdminRole("admin"), auth.WithAPIKeys()}, opts...)...)
	af := &adminFixture{fixture: f, h: f.a.Handler()}
	af.root = f.register(t, "root", "password-1")
	if err := f.a.AddRole(context.Background(), af.root.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	af.token = f.login(t, "root", "password-1").AccessToken
	return af
}

// call sends a request with tok as bearer token ("" for none).
func (af *adminFixture) call(method, path, tok, body string) response {
	var header []string
	if tok != "" {
		header = bearer(tok)
	}
	ct := ""
	if body != "" {
		ct = ctJSON
	}
	return do(af.h, method, path, ct, body, header...)
}

// listPage is the body of GET /auth/admin/users.
type listPage struct {
	Users []struct {
		ID       string   `json:"id"`
		Username string   `json:"username"`
		Disabled bool     `json:"disabled"`
		Roles    []string `json:"roles"`
	} `json:"users"`
	Next *string `json:"next"`
}

func decode[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	return v
}

func (af *adminFixture) listNames(t *testing.T, query string) []string {
	t.Helper()
	var names []string
	after := ""
	for range 50 {
		q := query
		if after != "" {
			q += "&after=" + url.QueryEscape(after)
		}
		r := af.call(http.MethodGet, "/auth/admin/users?"+q, af.token, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET users?%s: %d %s", q, r.status, r.body)
		}
		p := decode[listPage](t, r)
		for _, u := range p.Users {
			names = append(names, u.Username)
		}
		if p.Next == nil {
			return names
		}
		after = *p.Next
	}
	t.Fatal("the listing never ended")
	return nil
}

func TestAdminListUsers(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	for _, n := range []string{"dora", "alba", "carl", "Alma", "bert", "alto"} {
		af.register(t, n, "password-1")
	}
	u, _ := af.a.UserByUsername(ctx, "carl")
	if err := af.a.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	all := []string{"alba", "alma", "alto", "bert", "carl", "dora", "root"}
	for _, tc := range []struct{ query, want string }{
		{"limit=2", fmt.Sprint(all)},
		{"limit=200", fmt.Sprint(all)},
		{"", fmt.Sprint(all)},
		{"limit=1&q=AL", "[alba alma alto]"},
		{"q=%EF%BC%A1lm", "[alma]"}, // fullwidth "Ａlm": searched in canonical form
		{"disabled=true", "[carl]"},
		{"disabled=false&limit=3", "[alba alma alto bert dora root]"},
		{"q=zzz", "[]"},
	} {
		if got := fmt.Sprint(af.listNames(t, tc.query)); got != tc.want {
			t.Errorf("users?%s = %s, want %s", tc.query, got, tc.want)
		}
	}
	r := af.call(http.MethodGet, "/auth/admin/users?limit=2", af.token, "")
	p := decode[listPage](t, r)
	if p.Next == nil || len(p.Users) != 2 || !slices.Equal(p.Users[0].Roles, []string{}) && p.Users[0].Roles != nil {
		t.Fatalf("first page = %s", r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
	}
	next := *p.Next

	// Hostile cursors: altered, made up, or from another query.
	tampered := []byte(next)
	tampered[0] ^= 1
	for _, c := range []string{string(tampered), "YWxt.AAAAAAAAAAAAAAAAAAAAAA", "x", strings.Repeat("A", 5000), next + "x"} {
		r := af.call(http.MethodGet, "/auth/admin/users?limit=2&after="+url.QueryEscape(c), af.token, "")
		wantError(t, r, http.StatusBadRequest, "Invalid cursor: use the next value of an earlier page of the same query", "invalid_cursor")
	}
	for _, q := range []string{"q=al&", "disabled=false&", "disabled=true&"} {
		r := af.call(http.MethodGet, "/auth/admin/users?"+q+"limit=2&after="+url.QueryEscape(next), af.token, "")
		if r.status != http.StatusBadRequest {
			t.Errorf("a cursor reused with %q: %d, want 400", q, r.status)
		}
	}
	// Another server's cursor (another signing key) is refused too.
	other, err := auth.New(memstore.New(), auth.WithSecret([]byte("a-second-deployment-secret-7d41e0c9b2a6")),
		auth.WithInsecureFastHashingForTests(), auth.WithAdminRole("admin"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"ann1", "ann2", "ann3"} {
		u, err := other.Register(ctx, n, "password-1")
		if err != nil {
			t.Fatal(err)
		}
		if err := other.AddRole(ctx, u.ID, "admin"); err != nil {
			t.Fatal(err)
		}
	}
	op, err := other.Login(ctx, "ann1", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	foreign := decode[listPage](t, do(other.Handler(), http.MethodGet, "/auth/admin/users?limit=1", "", "", bearer(op.AccessToken)...))
	if r := af.call(http.MethodGet, "/auth/admin/users?limit=1&after="+url.QueryEscape(*foreign.Next), af.token, ""); r.status != http.StatusBadRequest {
		t.Errorf("a foreign cursor: %d, want 400", r.status)
	}

	for _, q := range []string{"limit=0", "limit=201", "limit=x", "disabled=maybe", "limit=1&limit=2", "q=" + strings.Repeat("a", 1021)} {
		if r := af.call(http.MethodGet, "/auth/admin/users?"+q, af.token, ""); r.status != http.StatusUnprocessableEntity {
			t.Errorf("users?%.40s: %d %s, want 422", q, r.status, r.body)
		}
	}
}

func TestAdminRequiresTheRole(t *testing.T) {
	af := newAdminFixture(t)
	af.register(t, "eve", "password-1")
	eve := af.login(t, "eve", "password-1").AccessToken
	eveUser, _ := af.a.UserByUsername(context.Background(), "eve")
	_, key, err := af.a.CreateAPIKey(context.Background(), af.root.ID, "ci", []string{"admin", "introspect"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	paths := []struct{ method, path, body string }{
		{http.MethodGet, "/auth/admin/users", ""},
		{http.MethodGet, "/auth/admin/users/" + eveUser.ID, ""},
		{http.MethodPatch, "/auth/admin/users/" + eveUser.ID, `{"disabled":true}`},
		{http.MethodDelete, "/auth/admin/users/" + eveUser.ID, ""},
		{http.MethodGet, "/auth/admin/users/" + eveUser.ID + "/sessions", ""},
		{http.MethodDelete, "/auth/admin/users/" + eveUser.ID + "/sessions", ""},
		{http.MethodGet, "/auth/admin/audit", ""},
	}
	for _, p := range paths {
		if r := af.call(p.method, p.path, "", p.body); r.status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d", p.method, p.path, r.status)
		}
		wantError(t, af.call(p.method, p.path, eve, p.body), http.StatusForbidden, "Insufficient role", "insufficient_role")
		// A key of an admin never reaches the admin API, whatever its scopes.
		wantError(t, af.call(p.method, p.path, key, p.body), http.StatusForbidden,
			"API keys cannot be used here; use an access token", "api_key_not_allowed")
	}
	if u, _ := af.a.UserByID(context.Background(), eveUser.ID); u.Disabled {
		t.Error("eve was disabled by a refused request")
	}

	// Off by default.
	plain := newFixture(t)
	if r := do(plain.a.Handler(), http.MethodGet, "/auth/admin/users", "", "", bearer("x")...); r.status != http.StatusNotFound {
		t.Errorf("admin API without WithAdminRole: %d, want 404", r.status)
	}
	if _, err := auth.New(plain.store, auth.WithSecret(testSecret), auth.WithAdminRole("bad role")); !errors.Is(err, auth.ErrInvalidConfig) {
		t.Errorf("WithAdminRole(\"bad role\") = %v, want ErrInvalidConfig", err)
	}
}

func TestAdminManageUser(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	af.register(t, "fay", "password-1")
	fay, _ := af.a.UserByUsername(ctx, "fay")
	fayTokens := af.login(t, "fay", "password-1")
	_, fayKey, err := af.a.CreateAPIKey(ctx, fay.ID, "script", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	base := "/auth/admin/users/" + fay.ID

	r := af.call(http.MethodGet, base, af.token, "")
	if r.status != http.StatusOK || r.json(t)["username"] != "fay" {
		t.Fatalf("GET user: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "argon2") {
		t.Error("the admin API shows the password hash")
	}
	r = af.call(http.MethodGet, base+"/sessions", af.token, "")
	if r.status != http.StatusOK || len(decode[[]map[string]any](t, r)) != 1 {
		t.Fatalf("GET sessions: %d %s", r.status, r.body)
	}

	// Roles: added at once; removed, the user's tokens and keys end.
	r = af.call(http.MethodPatch, base, af.token, `{"roles":["support","billing"]}`)
	if r.status != http.StatusOK || fmt.Sprint(r.json(t)["roles"]) != "[billing support]" {
		t.Fatalf("PATCH roles: %d %s", r.status, r.body)
	}
	if r := af.call(http.MethodGet, "/auth/me", fayTokens.AccessToken, ""); r.status != http.StatusOK {
		t.Errorf("adding a role ended fay's token: %d", r.status)
	}
	r = af.call(http.MethodPatch, base, af.token, `{"roles":["billing"]}`)
	if r.status != http.StatusOK {
		t.Fatalf("PATCH roles: %d %s", r.status, r.body)
	}
	if r := af.call(http.MethodGet, "/auth/me", fayTokens.AccessToken, ""); r.status != http.StatusUnauthorized {
		t.Errorf("after losing a role, fay's old token: %d, want 401", r.status)
	}
	if _, err := af.a.Refresh(ctx, fayTokens.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Errorf("after losing a role, Refresh = %v", err)
	}
	if active, _, err := af.a.Introspect(ctx, fayKey); err != nil || active {
		t.Error("fay's key is still active after she lost a role")
	}

	for _, body := range []string{`{"roles":["bad role"]}`, `{"roles":"admin"}`, `{"disabled":"yes"}`, `{"disabled":null}`, `[1]`, `{"roles":[` + strings.Repeat(`"r",`, 20) + `"r"]}`,
		`{"roles":["a"],"roles":5}`, `{"disabled":false,"disabled":true}`} { // a key given twice is refused, as everywhere
		if r := af.call(http.MethodPatch, base, af.token, body); r.status != http.StatusUnprocessableEntity {
			t.Errorf("PATCH %s: %d %s, want 422", body, r.status, r.body)
		}
	}
	if r := af.call(http.MethodPatch, base, af.token, `{"roles":`); r.status != http.StatusUnprocessableEntity {
		t.Errorf("PATCH with broken JSON: %d", r.status)
	}
	if r := do(af.h, http.MethodPatch, base, "text/plain", `{}`, bearer(af.token)...); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("PATCH as text/plain: %d", r.status)
	}

	// Disable, enable, end sessions.
	fayTokens = af.login(t, "fay", "password-1")
	if r := af.call(http.MethodPatch, base, af.token, `{"disabled":true}`); r.status != http.StatusOK || r.json(t)["disabled"] != true {
		t.Fatalf("PATCH disabled: %d %s", r.status, r.body)
	}
	if r := af.call(http.MethodGet, "/auth/me", fayTokens.AccessToken, ""); r.status != http.StatusForbidden {
		t.Errorf("a disabled user's token: %d, want 403", r.status)
	}
	if r := af.call(http.MethodPatch, base, af.token, `{"disabled":false}`); r.status != http.StatusOK || r.json(t)["disabled"] != false {
		t.Fatalf("PATCH enable: %d %s", r.status, r.body)
	}
	fayTokens = af.login(t, "fay", "password-1")
	if r := af.call(http.MethodDelete, base+"/sessions", af.token, ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE sessions: %d %s", r.status, r.body)
	}
	if r := af.call(http.MethodGet, "/auth/me", fayTokens.AccessToken, ""); r.status != http.StatusUnauthorized {
		t.Errorf("after the admin ended the sessions: %d, want 401", r.status)
	}

	// Delete: the user, her sessions and her keys go.
	again, _, err := af.a.CreateAPIKey(ctx, fay.ID, "again", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := af.call(http.MethodDelete, base, af.token, ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE user: %d %s", r.status, r.body)
	}
	if _, err := af.store.APIKeyByHash(ctx, again.Hash); !errors.Is(err, auth.ErrAPIKeyNotFound) {
		t.Errorf("the deleted user's key: %v", err)
	}
	wantError(t, af.call(http.MethodGet, base, af.token, ""), http.StatusNotFound, "User not found", "user_not_found")
}

func TestAdminLockout(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	self := "/auth/admin/users/" + af.root.ID
	for _, c := range []struct{ method, body string }{
		{http.MethodPatch, `{"disabled":true}`},
		{http.MethodPatch, `{"roles":["support"]}`},
		{http.MethodDelete, ""},
	} {
		wantError(t, af.call(c.method, self, af.token, c.body), http.StatusConflict,
			"Admins cannot disable or delete themselves or drop their own admin role", "self_lockout")
	}
	// Keeping the admin role while changing others is fine.
	if r := af.call(http.MethodPatch, self, af.token, `{"roles":["admin","support"]}`); r.status != http.StatusOK {
		t.Fatalf("root adds a role: %d %s", r.status, r.body)
	}
	af.token = af.login(t, "root", "password-1").AccessToken

	// The last admin, from the library (the CLI's path).
	if err := af.a.RemoveRole(ctx, af.root.ID, "admin"); !errors.Is(err, auth.ErrLastAdmin) {
		t.Errorf("RemoveRole of the last admin = %v, want ErrLastAdmin", err)
	}
	// With a second admin, root may remove that one but not both.
	af.register(t, "gus", "password-1")
	gus, _ := af.a.UserByUsername(ctx, "gus")
	if err := af.a.AddRole(ctx, gus.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := af.a.RemoveRole(ctx, af.root.ID, "admin"); err != nil {
		t.Fatalf("RemoveRole with another admin left = %v", err)
	}
	if err := af.a.RemoveRole(ctx, gus.ID, "admin"); !errors.Is(err, auth.ErrLastAdmin) {
		t.Errorf("RemoveRole of the new last admin = %v, want ErrLastAdmin", err)
	}
	gusToken := af.login(t, "gus", "password-1").AccessToken
	if err := af.a.AddRole(ctx, af.root.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	// A disabled admin does not count.
	if err := af.a.SetDisabled(ctx, af.root.ID, true); err != nil {
		t.Fatal(err)
	}
	wantError(t, af.call(http.MethodPatch, "/auth/admin/users/"+gus.ID, gusToken, `{"roles":[]}`), http.StatusConflict,
		"Admins cannot disable or delete themselves or drop their own admin role", "self_lockout")
	if err := af.a.RemoveRole(ctx, gus.ID, "admin"); !errors.Is(err, auth.ErrLastAdmin) {
		t.Errorf("RemoveRole with only a disabled admin left = %v, want ErrLastAdmin", err)
	}
}

// TestAdminHostileIDs tries IDs that are not the target's on every admin
// and key path: unknown, malformed, and another user's key.
func TestAdminHostileIDs(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	af.register(t, "hal", "password-1")
	hal, _ := af.a.UserByUsername(ctx, "hal")
	halKey, _, err := af.a.CreateAPIKey(ctx, hal.ID, "hal's", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"no-such-user", url.PathEscape("\xff\x00"), url.PathEscape(strings.Repeat("x", 300)), halKey.ID}
	for _, id := range ids {
		for _, c := range []struct{ method, path, body string }{
			{http.MethodGet, "/auth/admin/users/" + id, ""},
			{http.MethodPatch, "/auth/admin/users/" + id, `{"disabled":true}`},
			{http.MethodDelete, "/auth/admin/users/" + id, ""},
			{http.MethodGet, "/auth/admin/users/" + id + "/sessions", ""},
			{http.MethodDelete, "/auth/admin/users/" + id + "/sessions", ""},
		} {
			wantError(t, af.call(c.method, c.path, af.token, c.body), http.StatusNotFound, "User not found", "user_not_found")
		}
	}
	// Root may not revoke hal's key through the owner's endpoint, nor a made-up one.
	for _, id := range []string{halKey.ID, "no-such-key", hal.ID} {
		wantError(t, af.call(http.MethodDelete, "/auth/api-keys/"+id, af.token, ""), http.StatusNotFound, "API key not found", "api_key_not_found")
	}
	if k, err := af.store.APIKey(ctx, halKey.ID); err != nil || !k.RevokedAt.IsZero() {
		t.Errorf("hal's key after the attempts: %+v, %v", k, err)
	}
	for _, p := range []string{"/auth/admin/users/a/b", "/auth/admin/users/", "/auth/api-keys/a/b"} {
		if r := af.call(http.MethodGet, p, af.token, ""); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.status)
		}
	}
	if r := af.call(http.MethodPut, "/auth/admin/users/"+hal.ID, af.token, ""); r.status != http.StatusMethodNotAllowed ||
		r.header.Get("Allow") != "DELETE, GET, PATCH" {
		t.Errorf("PUT user: %d, Allow %q", r.status, r.header.Get("Allow"))
	}
}

func TestAdminAudit(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	af.register(t, "ida", "password-1")
	ida, _ := af.a.UserByUsername(ctx, "ida")
	req := func(method, path, body string) {
		t.Helper()
		r := doFrom(af.h, "203.0.113.5:9", method, path, map[bool]string{true: ctJSON}[body != ""], body, bearer(af.token)...)
		if r.status >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
		}
	}
	req(http.MethodPatch, "/auth/admin/users/"+ida.ID, `{"roles":["support"],"disabled":true}`)
	req(http.MethodPatch, "/auth/admin/users/"+ida.ID, `{"disabled":false}`)
	req(http.MethodPost, "/auth/api-keys", `{"name":"ci","scopes":["introspect"]}`)
	idaTokens := af.login(t, "ida", "password-1")
	if err := af.a.ChangePassword(ctx, ida, "password-1", "password-2"); err != nil {
		t.Fatal(err)
	}
	_ = idaTokens

	type entry struct {
		Action, ActorID, TargetID, IP string
		Detail                        map[string]any
	}
	var entries []entry
	after := ""
	for range 20 {
		q := "/auth/admin/audit?limit=2"
		if after != "" {
			q += "&after=" + url.QueryEscape(after)
		}
		r := af.call(http.MethodGet, q, af.token, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET audit: %d %s", r.status, r.body)
		}
		page := decode[struct {
			Entries []struct {
				Action   string         `json:"action"`
				ActorID  string         `json:"actor_id"`
				TargetID string         `json:"target_id"`
				IP       string         `json:"ip"`
				Time     time.Time      `json:"time"`
				Detail   map[string]any `json:"detail"`
			} `json:"entries"`
			Next *string `json:"next"`
		}](t, r)
		for _, e := range page.Entries {
			entries = append(entries, entry{e.Action, e.ActorID, e.TargetID, e.IP, e.Detail})
		}
		if page.Next == nil {
			break
		}
		after = *page.Next
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Action)
	}
	want := []string{"password_changed", "api_key.created", "user.enabled", "user.disabled", "user.roles_changed", "user.roles_changed"}
	if !slices.Equal(got, want) {
		t.Fatalf("actions, newest first = %q, want %q", got, want)
	}
	if e := entries[4]; e.ActorID != af.root.ID || e.TargetID != ida.ID || e.IP != "203.0.113.5" ||
		fmt.Sprint(e.Detail["added"]) != "[support]" {
		t.Errorf("role change entry = %+v", e)
	}
	if e := entries[0]; e.ActorID != ida.ID || e.TargetID != ida.ID {
		t.Errorf("password change entry = %+v", e)
	}
	if e := entries[5]; e.ActorID != "" || e.TargetID != af.root.ID {
		t.Errorf("the fixture's own AddRole = %+v, want no actor", e)
	}
	r := af.call(http.MethodGet, "/auth/admin/audit?user="+ida.ID+"&limit=200", af.token, "")
	if n := len(decode[struct {
		Entries []any `json:"entries"`
	}](t, r).Entries); n != 4 {
		t.Errorf("entries about ida = %d, want 4: %s", n, r.body)
	}
	first := decode[struct {
		Next *string `json:"next"`
	}](t, af.call(http.MethodGet, "/auth/admin/audit?limit=1", af.token, ""))
	if r := af.call(http.MethodGet, "/auth/admin/audit?limit=1&user=x&after="+url.QueryEscape(*first.Next), af.token, ""); r.status != http.StatusBadRequest {
		t.Errorf("an audit cursor reused for another user: %d, want 400", r.status)
	}

	af.clock.Advance(48 * time.Hour)
	if n, err := af.a.PruneAudit(ctx, 24*time.Hour); err != nil || n != 6 {
		t.Errorf("PruneAudit = %d, %v; want 6", n, err)
	}
}
