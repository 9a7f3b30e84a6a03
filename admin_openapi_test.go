package auth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// flakyAdminStore is a flakySessionStore with the admin abilities too,
// all failing while its error is set.
type flakyAdminStore struct {
	*flakySessionStore
	m *memstore.Store
}

func newFlakyAdminStore() *flakyAdminStore {
	m := memstore.New()
	return &flakyAdminStore{&flakySessionStore{flakyStore: &flakyStore{UserStore: m}, sessions: m}, m}
}

func (s *flakyAdminStore) ListUsers(ctx context.Context, q auth.UserQuery) ([]*auth.User, error) {
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	return s.m.ListUsers(ctx, q)
}

func (s *flakyAdminStore) CreateAPIKey(ctx context.Context, k *auth.APIKey) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.m.CreateAPIKey(ctx, k)
}

func (s *flakyAdminStore) APIKey(ctx context.Context, id string) (*auth.APIKey, error) {
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	return s.m.APIKey(ctx, id)
}

func (s *flakyAdminStore) APIKeyByHash(ctx context.Context, hash string) (*auth.APIKey, error) {
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	return s.m.APIKeyByHash(ctx, hash)
}

func (s *flakyAdminStore) UserAPIKeys(ctx context.Context, userID string) ([]*auth.APIKey, error) {
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	return s.m.UserAPIKeys(ctx, userID)
}

func (s *flakyAdminStore) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.m.RevokeAPIKey(ctx, id, at)
}

func (s *flakyAdminStore) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.m.TouchAPIKey(ctx, id, at)
}

func (s *flakyAdminStore) DeleteAPIKeys(ctx context.Context, before time.Time) (int, error) {
	if err := s.fail(ctx); err != nil {
		return 0, err
	}
	return s.m.DeleteAPIKeys(ctx, before)
}

func (s *flakyAdminStore) AppendAudit(ctx context.Context, e *auth.AuditEntry) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.m.AppendAudit(ctx, e)
}

func (s *flakyAdminStore) AuditEntries(ctx context.Context, q auth.AuditQuery) ([]*auth.AuditEntry, error) {
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	return s.m.AuditEntries(ctx, q)
}

func (s *flakyAdminStore) DeleteAudit(ctx context.Context, before time.Time) (int, error) {
	if err := s.fail(ctx); err != nil {
		return 0, err
	}
	return s.m.DeleteAudit(ctx, before)
}

func patch(path, body string, header ...string) call {
	return call{method: http.MethodPatch, path: path, contentType: ctJSON, body: body, header: header}
}

// adminContract is TestOpenAPIContract for the admin API, API keys,
// introspection and revocation: every documented status of each, produced
// by a live request and checked against the document.
func adminContract(t *testing.T, ct *contract) {
	ctx := context.Background()
	clock := newClock()
	store := newFlakyAdminStore()
	a, err := auth.New(store, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now),
		auth.WithAdminRole("admin"), auth.WithAPIKeys())
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler()
	const well, malformed = true, false
	reg := func(name string) *auth.User {
		u, err := a.Register(ctx, name, "password-1")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	root, uma, vic := reg("root"), reg("uma"), reg("vic")
	if err := a.AddRole(ctx, root.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	rootTok := bearer(tokensOf(t, serve(h, loginRequest("root", "password-1"))).AccessToken)
	umaPair := tokensOf(t, serve(h, loginRequest("uma", "password-1")))
	umaTok := bearer(umaPair.AccessToken)
	_, callerKey, err := a.CreateAPIKey(ctx, root.ID, "rs", []string{auth.ScopeIntrospect}, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, plainKey, err := a.CreateAPIKey(ctx, root.ID, "plain", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	keyTok, garbage := bearer(callerKey), bearer("garbage")
	big := strings.Repeat("x", 70<<10)
	users, umaPath := "/auth/admin/users", "/auth/admin/users/"+uma.ID

	// A store that cannot list users, keep sessions or an audit trail: 501.
	sa, err := auth.New(statelessStore{memstore.New()}, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithAdminRole("admin"))
	if err != nil {
		t.Fatal(err)
	}
	su, err := sa.Register(ctx, "sol", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.AddRole(ctx, su.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	sh := sa.Handler()
	solTok := bearer(tokensOf(t, serve(sh, loginRequest("sol", "password-1"))).AccessToken)
	ct.check(t, sh, get(users, solTok...), well, 501)
	ct.check(t, sh, get("/auth/admin/audit", solTok...), well, 501)
	ct.check(t, sh, get("/auth/admin/users/"+su.ID+"/sessions", solTok...), well, 501)

	// Every admin operation: 401 without a token or with a bad one, 403
	// for a user without the role and for an API key.
	for _, c := range []func(...string) call{
		func(hd ...string) call { return get(users, hd...) },
		func(hd ...string) call { return get(umaPath, hd...) },
		func(hd ...string) call { return patch(umaPath, `{"disabled":false}`, hd...) },
		func(hd ...string) call { return del(umaPath, hd...) },
		func(hd ...string) call { return get(umaPath+"/sessions", hd...) },
		func(hd ...string) call { return del(umaPath+"/sessions", hd...) },
		func(hd ...string) call { return get("/auth/admin/audit", hd...) },
		func(hd ...string) call { return get("/auth/api-keys", hd...) },
		func(hd ...string) call { return postJ("/auth/api-keys", `{"name":"n","scopes":[]}`, hd...) },
		func(hd ...string) call { return del("/auth/api-keys/some-id", hd...) },
	} {
		ct.check(t, h, c(), malformed, 401)
		ct.check(t, h, c(garbage...), well, 401)
		ct.check(t, h, c(keyTok...), well, 403)
		if !strings.HasPrefix(c().path, "/auth/api-keys") {
			ct.check(t, h, c(umaTok...), well, 403)
		}
	}

	t.Run("users", func(t *testing.T) {
		r := ct.check(t, h, get(users+"?limit=2", rootTok...), well, 200)
		next := decode[listPage](t, r).Next
		ct.check(t, h, get(users+"?limit=2&q=U&disabled=false", rootTok...), well, 200)
		ct.check(t, h, get(users+"?limit=2&after="+url.QueryEscape(*next), rootTok...), well, 200)
		ct.check(t, h, get(users+"?limit=2&after=bm90LW91cnM.AAAAAAAAAAAAAAAAAAAAAA", rootTok...), well, 400)
		ct.check(t, h, get(users+"?limit=0", rootTok...), malformed, 422)
		ct.check(t, h, get(users+"?disabled=maybe", rootTok...), malformed, 422)
	})
	t.Run("user", func(t *testing.T) {
		ct.check(t, h, get(umaPath, rootTok...), well, 200)
		ct.check(t, h, get(users+"/no-such-user", rootTok...), well, 404)
		ct.check(t, h, patch(umaPath, `{"roles":["support"],"disabled":false}`, rootTok...), well, 200)
		ct.check(t, h, patch(users+"/no-such-user", `{"disabled":true}`, rootTok...), well, 404)
		ct.check(t, h, patch("/auth/admin/users/"+root.ID, `{"disabled":true}`, rootTok...), well, 409)
		ct.check(t, h, patch(umaPath, `{"roles":"support"}`, rootTok...), malformed, 422)
		ct.check(t, h, patch(umaPath, `{"pad":"`+big+`"}`, rootTok...), well, 413)
		ct.check(t, h, call{method: http.MethodPatch, path: umaPath, contentType: "text/plain", body: "{}", header: rootTok}, malformed, 415)
		ct.check(t, h, del("/auth/admin/users/"+root.ID, rootTok...), well, 409)
		ct.check(t, h, del(users+"/no-such-user", rootTok...), well, 404)
		ct.check(t, h, del("/auth/admin/users/"+vic.ID, rootTok...), well, 204)
	})
	t.Run("sessions", func(t *testing.T) {
		ct.check(t, h, get(umaPath+"/sessions", rootTok...), well, 200)
		ct.check(t, h, get(users+"/no-such-user/sessions", rootTok...), well, 404)
		ct.check(t, h, del(users+"/no-such-user/sessions", rootTok...), well, 404)
		ct.check(t, h, del("/auth/admin/users/"+vic.ID+"/sessions", rootTok...), well, 404)
		ct.check(t, h, del(umaPath+"/sessions", rootTok...), well, 204)
	})
	t.Run("audit", func(t *testing.T) {
		r := ct.check(t, h, get("/auth/admin/audit?limit=1", rootTok...), well, 200)
		next := decode[struct {
			Next *string `json:"next"`
		}](t, r).Next
		ct.check(t, h, get("/auth/admin/audit?limit=1&user="+uma.ID, rootTok...), well, 200)
		ct.check(t, h, get("/auth/admin/audit?limit=5&after="+url.QueryEscape(*next), rootTok...), well, 200)
		ct.check(t, h, get("/auth/admin/audit?after="+url.QueryEscape(*next)+"x", rootTok...), well, 400)
		ct.check(t, h, get("/auth/admin/audit?limit=x", rootTok...), malformed, 422)
	})
	umaTok = bearer(tokensOf(t, serve(h, loginRequest("uma", "password-1"))).AccessToken)
	umaPair = tokensOf(t, serve(h, loginRequest("uma", "password-1")))
	var umaKeyID string
	t.Run("api keys", func(t *testing.T) {
		r := ct.check(t, h, postJ("/auth/api-keys", `{"name":"ci","scopes":["repo:read"],"expires_in":3600}`, umaTok...), well, 201)
		umaKeyID = r.json(t)["id"].(string)
		ct.check(t, h, postJ("/auth/api-keys", `{"name":"ci","scopes":["repo:read"]}`, umaTok...), well, 201)
		ct.check(t, h, postJ("/auth/api-keys", `{"name":"ci"}`, umaTok...), malformed, 422)
		ct.check(t, h, postJ("/auth/api-keys", `{"name":"ci","scopes":[],"pad":"`+big+`"}`, umaTok...), well, 413)
		ct.check(t, h, post("/auth/api-keys", ctForm, "name=ci", umaTok...), malformed, 415)
		ct.check(t, h, get("/auth/api-keys", umaTok...), well, 200)
		ct.check(t, h, del("/auth/api-keys/"+umaKeyID, rootTok...), well, 404)
		ct.check(t, h, del("/auth/api-keys/"+umaKeyID, umaTok...), well, 204)
		ct.check(t, h, del("/auth/api-keys/"+umaKeyID, umaTok...), well, 404)
	})
	t.Run("introspect", func(t *testing.T) {
		form := "token=" + url.QueryEscape(umaPair.AccessToken)
		r := ct.check(t, h, post("/auth/introspect", ctForm, form, keyTok...), well, 200)
		if r.json(t)["active"] != true {
			t.Errorf("introspect = %s", r.body)
		}
		ct.check(t, h, post("/auth/introspect", ctForm, "token=garbage&token_type_hint=access_token", keyTok...), well, 200)
		ct.check(t, h, post("/auth/introspect", ctForm, form), malformed, 401)
		ct.check(t, h, post("/auth/introspect", ctForm, form, bearer("gh_"+strings.Repeat("q", 46))...), well, 401)
		ct.check(t, h, post("/auth/introspect", ctForm, form, garbage...), well, 403)
		ct.check(t, h, post("/auth/introspect", ctForm, form, bearer(plainKey)...), well, 403)
		ct.check(t, h, post("/auth/introspect", ctForm, form, umaTok...), well, 403)
		ct.check(t, h, post("/auth/introspect", ctForm, "token_type_hint=x", keyTok...), malformed, 422)
		ct.check(t, h, post("/auth/introspect", ctJSON, `{"token":"x"}`, keyTok...), malformed, 415)
		ct.check(t, h, post("/auth/introspect", ctForm, form+"&pad="+big, keyTok...), well, 413)
		guess := func(c call) call { c.remoteAddr = "203.0.113.99:1"; return c }
		for range 20 {
			ct.check(t, h, guess(post("/auth/introspect", ctForm, form, bearer("gh_"+strings.Repeat("z", 46))...)), well, 401)
		}
		ct.check(t, h, guess(post("/auth/introspect", ctForm, form, bearer("gh_"+strings.Repeat("y", 46))...)), well, 429)
	})
	t.Run("revoke", func(t *testing.T) {
		p := tokensOf(t, serve(h, loginRequest("uma", "password-1")))
		ct.check(t, h, post("/auth/revoke", ctForm, "token="+url.QueryEscape(p.RefreshToken)+"&token_type_hint=refresh_token"), well, 200)
		ct.check(t, h, post("/auth/revoke", ctForm, "token=garbage"), well, 200)
		ct.check(t, h, post("/auth/revoke", ctForm, ""), malformed, 422)
		ct.check(t, h, post("/auth/revoke", ctJSON, `{"token":"x"}`), malformed, 415)
		ct.check(t, h, post("/auth/revoke", ctForm, "token=x&pad="+big), well, 413)
		guess := func(c call) call { c.remoteAddr = "203.0.113.98:1"; return c }
		for range 20 {
			ct.check(t, h, guess(post("/auth/revoke", ctForm, "token=gh_"+strings.Repeat("z", 46))), well, 200)
		}
		ct.check(t, h, guess(post("/auth/revoke", ctForm, "token=gh_"+strings.Repeat("y", 46))), well, 429)
	})
	t.Run("store failures", func(t *testing.T) {
		p := tokensOf(t, serve(h, loginRequest("uma", "password-1")))
		calls := []call{
			get(users, rootTok...), get(umaPath, rootTok...), patch(umaPath, `{"disabled":false}`, rootTok...),
			del(umaPath, rootTok...), get(umaPath+"/sessions", rootTok...), del(umaPath+"/sessions", rootTok...),
			get("/auth/admin/audit", rootTok...), get("/auth/api-keys", rootTok...),
			postJ("/auth/api-keys", `{"name":"n","scopes":[]}`, rootTok...), del("/auth/api-keys/x", rootTok...),
			post("/auth/introspect", ctForm, "token=x", keyTok...),
			post("/auth/revoke", ctForm, "token="+url.QueryEscape(p.RefreshToken)),
		}
		ct.checkStoreFailures(t, h, store.setErr, clock, calls)
	})
	t.Run("routing", func(t *testing.T) {
		for _, c := range []call{
			{method: http.MethodPut, path: umaPath},
			{method: http.MethodPost, path: umaPath + "/sessions"},
			{method: http.MethodDelete, path: "/auth/api-keys"},
			get("/auth/revoke"),
		} {
			ct.checkRouting(t, h, c, http.StatusMethodNotAllowed)
		}
	})
}

// checkStoreFailures makes the store fail each call with an outage (503)
// and then with another error (500), past the user cache's TTL so that the
// middleware asks the store, and checks that no response leaks the error.
func (ct *contract) checkStoreFailures(t *testing.T, h http.Handler, setErr func(error), clock *fakeClock, calls []call) {
	t.Helper()
	for _, c := range []struct {
		err    error
		status int
	}{{errDown, 503}, {errBroken, 500}} {
		setErr(c.err)
		clock.Advance(3 * time.Second)
		for _, cl := range calls {
			r := ct.check(t, h, cl, true, c.status)
			if strings.Contains(string(r.body), "pq:") || strings.Contains(string(r.body), "dial tcp") {
				t.Errorf("%s %s leaks the store error: %s", cl.method, cl.path, r.body)
			}
		}
	}
	setErr(nil)
}
