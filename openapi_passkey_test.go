package auth_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/softauthn"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/passkey"
)

const (
	pkRPID   = "localhost"
	pkOrigin = "http://localhost:8080"
)

// passkeyCeremonies drives the passkey endpoints of h, as a browser would
// with a software authenticator.
type passkeyCeremonies struct {
	t *testing.T
	h http.Handler
}

// register runs register/begin and returns the finish call with sa's
// answer.
func (pc passkeyCeremonies) register(sa *softauthn.Authenticator, token, name string) call {
	pc.t.Helper()
	r := serve(pc.h, post("/auth/passkeys/register/begin", "", "", bearer(token)...).request())
	if r.status != http.StatusOK {
		pc.t.Fatalf("register/begin: %d %s", r.status, r.body)
	}
	cred, err := sa.Register(r.body)
	if err != nil {
		pc.t.Fatal(err)
	}
	return postJ("/auth/passkeys/register/finish", `{"state":"`+r.json(pc.t)["state"].(string)+`","credential":`+string(cred)+`,"name":"`+name+`"}`, bearer(token)...)
}

// login runs login/begin with beginBody and returns the finish call with
// sa's answer and the extra members.
func (pc passkeyCeremonies) login(sa *softauthn.Authenticator, beginBody, extra string) call {
	pc.t.Helper()
	r := serve(pc.h, postJ("/auth/passkeys/login/begin", beginBody).request())
	if r.status != http.StatusOK {
		pc.t.Fatalf("login/begin: %d %s", r.status, r.body)
	}
	cred, err := sa.Login(r.body, sa.UserHandle)
	if err != nil {
		pc.t.Fatal(err)
	}
	return postJ("/auth/passkeys/login/finish", `{"state":"`+r.json(pc.t)["state"].(string)+`","credential":`+string(cred)+extra+`}`)
}

func newSoftAuthn(t *testing.T, origin string) *softauthn.Authenticator {
	t.Helper()
	sa, err := softauthn.New(softauthn.ES256, pkRPID, origin)
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

// checkPasskeyContract drives the passkey plug-in's endpoints through
// every documented status, for TestOpenAPIContract.
func checkPasskeyContract(t *testing.T, ct *contract) {
	clock := newClock()
	store := newCredStore()
	newAuth := func(s auth.UserStore, opts ...auth.Option) (*auth.Authenticator, http.Handler) {
		base := []auth.Option{auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now),
			auth.WithAccessTTL(12 * time.Hour), auth.WithRefreshTTL(24 * time.Hour),
			passkey.WithWebAuthn(pkRPID, "Contract", pkOrigin)}
		a, err := auth.New(s, append(base, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return a, a.Handler()
	}
	// The budgets have an Authenticator of their own (hb below).
	a, h := newAuth(store, auth.WithPasskeyLimits(auth.RateLimit{}, auth.RateLimit{}))
	pc := passkeyCeremonies{t, h}
	ctx := context.Background()
	for _, name := range []string{"pam", "quin", "rex", "sid"} {
		if _, err := a.Register(ctx, name, "password-1"); err != nil {
			t.Fatal(err)
		}
	}
	big := strings.Repeat("x", 70<<10)
	const well, malformed = true, false
	pwd := func(name string) string { return tokensOf(t, serve(h, loginRequest(name, "password-1"))).AccessToken }
	pam, quin, rex := pwd("pam"), pwd("quin"), pwd("rex")
	tok := bearer(pam)
	sa := newSoftAuthn(t, pkOrigin)

	var id string
	t.Run("register", func(t *testing.T) {
		pc.t = t
		ct.check(t, h, post("/auth/passkeys/register/begin", "", ""), malformed, 401)
		ct.check(t, h, post("/auth/passkeys/register/begin", "", "", bearer("garbage")...), well, 401)
		ct.check(t, h, post("/auth/passkeys/register/begin", "", "", tok...), well, 200)

		fin := pc.register(newSoftAuthn(t, "http://evil.test"), pam, "Evil")
		r := ct.check(t, h, fin, well, 401)
		if r.json(t)["error"] != "invalid_passkey" {
			t.Errorf("another origin: %s", r.body)
		}
		ct.check(t, h, postJ("/auth/passkeys/register/finish", `{"state":"x","credential":{}}`), malformed, 401)
		ct.check(t, h, postJ("/auth/passkeys/register/finish", `{}`, tok...), malformed, 422)
		ct.check(t, h, postJ("/auth/passkeys/register/finish", `{"state":"x","credential":"y"}`, tok...), malformed, 422)
		ct.check(t, h, postJ("/auth/passkeys/register/finish", `{"state":"x","credential":{},"name":"`+strings.Repeat("n", 65)+`"}`, tok...), malformed, 422)
		ct.check(t, h, post("/auth/passkeys/register/finish", "text/plain", `{"state":"x","credential":{}}`, tok...), malformed, 415)
		ct.check(t, h, postJ("/auth/passkeys/register/finish", `{"state":"x","credential":{"pad":"`+big+`"}}`, tok...), well, 413)

		r = ct.check(t, h, pc.register(sa, pam, "Laptop"), well, 201)
		id = r.json(t)["id"].(string)
		// The same credential again, for another user: taken.
		dup := *sa
		ct.check(t, h, pc.register(&dup, quin, "Copy"), well, 409)
	})

	t.Run("list and rename", func(t *testing.T) {
		pc.t = t
		r := ct.check(t, h, get("/auth/passkeys", tok...), well, 200)
		if !strings.Contains(string(r.body), `"name":"Laptop"`) {
			t.Errorf("list: %s", r.body)
		}
		ct.check(t, h, get("/auth/passkeys"), malformed, 401)
		ct.check(t, h, get("/auth/passkeys", bearer("garbage")...), well, 401)

		patch := func(id, body string, header ...string) call {
			return call{method: http.MethodPatch, path: "/auth/passkeys/" + id, contentType: ctJSON, body: body, header: header}
		}
		ct.check(t, h, patch(id, `{"name":"  Phone  "}`, tok...), well, 200)
		ct.check(t, h, patch(id, `{"name":"x"}`), malformed, 401)
		ct.check(t, h, patch(id, `{"name":"x"}`, bearer(quin)...), well, 404)
		ct.check(t, h, patch("no-such-passkey", `{"name":"x"}`, tok...), well, 404)
		ct.check(t, h, patch(id, `{"name":""}`, tok...), malformed, 422)
		ct.check(t, h, patch(id, `{}`, tok...), malformed, 422)
		ct.check(t, h, call{method: http.MethodPatch, path: "/auth/passkeys/" + id, contentType: "text/plain", body: `{"name":"x"}`, header: tok}, malformed, 415)
		ct.check(t, h, patch(id, `{"name":"x","pad":"`+big+`"}`, tok...), well, 413)
	})

	var fresh string // pam's token from a passkey login: multi-factor
	t.Run("login", func(t *testing.T) {
		pc.t = t
		ct.check(t, h, post("/auth/passkeys/login/begin", "", ""), well, 200)
		ct.check(t, h, postJ("/auth/passkeys/login/begin", `{"username":"PAM"}`), well, 200)
		ct.check(t, h, postJ("/auth/passkeys/login/begin", `{"mfa_token":"forged"}`), well, 401)
		ct.check(t, h, postJ("/auth/passkeys/login/begin", `[1]`), malformed, 422)
		ct.check(t, h, postJ("/auth/passkeys/login/begin", `{"username":1}`), malformed, 422)
		ct.check(t, h, post("/auth/passkeys/login/begin", "text/plain", `{}`), malformed, 415)
		ct.check(t, h, postJ("/auth/passkeys/login/begin", `{"username":"`+big+`"}`), well, 413)

		fin := pc.login(sa, `{}`, "")
		fresh = tokensOf(t, ct.check(t, h, fin, well, 200)).AccessToken
		r := ct.check(t, h, fin, well, 401) // the challenge is spent
		if r.json(t)["error"] != "invalid_passkey" {
			t.Errorf("replay: %s", r.body)
		}
		// The second factor after the password.
		mt := serve(h, loginRequest("pam", "password-1")).json(t)["mfa_token"].(string)
		ct.check(t, h, pc.login(sa, `{"mfa_token":"`+mt+`"}`, `,"mfa_token":"`+mt+`"`), well, 200)
		ct.check(t, h, pc.login(sa, `{"mfa_token":"`+mt+`"}`, `,"mfa_token":"`+mt+`"`), well, 401) // spent
		ct.check(t, h, postJ("/auth/passkeys/login/finish", `{}`), malformed, 422)
		ct.check(t, h, postJ("/auth/passkeys/login/finish", `{"state":"x","credential":"y"}`), malformed, 422)
		ct.check(t, h, post("/auth/passkeys/login/finish", ctForm, "state=x&credential=y"), malformed, 415)
		ct.check(t, h, postJ("/auth/passkeys/login/finish", `{"state":"x","credential":{"pad":"`+big+`"}}`), well, 413)
	})

	t.Run("delete", func(t *testing.T) {
		pc.t = t
		delJ := func(id, body string, header ...string) call {
			c := call{method: http.MethodDelete, path: "/auth/passkeys/" + id, body: body, header: header}
			if body != "" {
				c.contentType = ctJSON
			}
			return c
		}
		ct.check(t, h, delJ(id, ""), malformed, 401)
		ct.check(t, h, delJ(id, "", bearer(quin)...), well, 404)
		r := ct.check(t, h, delJ(id, "", tok...), well, 403)
		if r.json(t)["error"] != "mfa_required" {
			t.Errorf("delete without a second factor: %s", r.body)
		}
		ct.check(t, h, delJ(id, `{"code":"000000"}`, tok...), well, 401)
		ct.check(t, h, delJ(id, `{"code":1}`, tok...), malformed, 422)
		ct.check(t, h, call{method: http.MethodDelete, path: "/auth/passkeys/" + id, contentType: "text/plain", body: `{}`, header: tok}, malformed, 415)
		ct.check(t, h, delJ(id, `{"code":"`+big+`"}`, tok...), well, 413)

		// Wrong codes spend rex's second-factor budget.
		rexKey := newSoftAuthn(t, pkOrigin)
		rid := ct.check(t, h, pc.register(rexKey, rex, "Key"), well, 201).json(t)["id"].(string)
		spend(t, ct, h, delJ(rid, `{"code":"000000"}`, bearer(rex)...))

		ct.check(t, h, delJ(id, "", bearer(fresh)...), well, 204)
		ct.check(t, h, delJ(id, "", bearer(fresh)...), well, 404)
	})

	t.Run("disabled user", func(t *testing.T) {
		pc.t = t
		sid := pwd("sid")
		key := newSoftAuthn(t, pkOrigin)
		ct.check(t, h, pc.register(key, sid, "Key"), well, 201)
		fin := pc.login(key, `{}`, "")
		u, _ := a.UserByUsername(ctx, "sid")
		// Disabled by another instance: this one's token cache still knows the user.
		if err := store.UpdateUser(ctx, &auth.User{ID: u.ID, Username: u.Username, PasswordHash: u.PasswordHash,
			Disabled: true, TokenVersion: u.TokenVersion, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}, u.PasswordHash, u.TokenVersion); err != nil {
			t.Fatal(err)
		}
		clock.Advance(3 * time.Second)
		r := ct.check(t, h, fin, well, 403)
		if r.json(t)["error"] != "user_disabled" {
			t.Errorf("login of a disabled user: %s", r.body)
		}
		st := bearer(sid)
		ct.check(t, h, post("/auth/passkeys/register/begin", "", "", st...), well, 403)
		ct.check(t, h, postJ("/auth/passkeys/register/finish", `{"state":"x","credential":{}}`, st...), well, 403)
		ct.check(t, h, get("/auth/passkeys", st...), well, 403)
		ct.check(t, h, call{method: http.MethodPatch, path: "/auth/passkeys/x", contentType: ctJSON, body: `{"name":"x"}`, header: st}, well, 403)
		ct.check(t, h, call{method: http.MethodDelete, path: "/auth/passkeys/x", header: st}, well, 403)
	})

	t.Run("API key", func(t *testing.T) {
		ka, kh := newAuth(memstore.New(), auth.WithAPIKeys())
		u, err := ka.Register(ctx, "una", "password-1")
		if err != nil {
			t.Fatal(err)
		}
		_, key, err := ka.CreateAPIKey(ctx, u.ID, "ci", nil, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []call{
			post("/auth/passkeys/register/begin", "", "", bearer(key)...),
			postJ("/auth/passkeys/register/finish", `{"state":"x","credential":{}}`, bearer(key)...),
			get("/auth/passkeys", bearer(key)...),
			{method: http.MethodPatch, path: "/auth/passkeys/x", contentType: ctJSON, body: `{"name":"x"}`, header: bearer(key)},
			{method: http.MethodDelete, path: "/auth/passkeys/x", header: bearer(key)},
		} {
			if r := ct.check(t, kh, c, well, 403); r.json(t)["error"] != "api_key_not_allowed" {
				t.Errorf("%s %s: %s", c.method, c.path, r.body)
			}
		}
	})

	t.Run("budgets", func(t *testing.T) {
		ba, hb := newAuth(memstore.New(), auth.WithPasskeyLimits(auth.RateLimit{Burst: 8, Every: time.Minute}, auth.RateLimit{Burst: 3, Every: time.Minute}))
		bc := passkeyCeremonies{t, hb}
		if _, err := ba.Register(ctx, "val", "password-1"); err != nil {
			t.Fatal(err)
		}
		key := newSoftAuthn(t, pkOrigin)
		if r := serve(hb, bc.register(key, tokensOf(t, serve(hb, loginRequest("val", "password-1"))).AccessToken, "Key").request()); r.status != 201 {
			t.Fatalf("register: %d %s", r.status, r.body)
		}
		evil := *key
		evil.Origin = "http://evil.test"
		for range 3 {
			ct.check(t, hb, bc.login(&evil, `{}`, ""), well, 401)
		}
		r := ct.check(t, hb, bc.login(key, `{}`, ""), well, 429)
		if r.json(t)["detail"] != "Too many failed passkey logins, retry later" || r.header.Get("Retry-After") == "" {
			t.Errorf("failures: %s, Retry-After %q", r.body, r.header.Get("Retry-After"))
		}
		for range 4 {
			ct.check(t, hb, postJ("/auth/passkeys/login/begin", `{}`), well, 200)
		}
		r = ct.check(t, hb, postJ("/auth/passkeys/login/begin", `{}`), well, 429)
		if r.json(t)["detail"] != "Too many passkey login attempts, retry later" {
			t.Errorf("begins: %s", r.body)
		}
	})

	t.Run("store failures", func(t *testing.T) {
		pc.t = t
		p := bearer(fresh)
		calls := []call{
			post("/auth/passkeys/register/begin", "", "", p...),
			postJ("/auth/passkeys/register/finish", `{"state":"x","credential":{}}`, p...),
			get("/auth/passkeys", p...),
			{method: http.MethodPatch, path: "/auth/passkeys/x", contentType: ctJSON, body: `{"name":"x"}`, header: p},
			{method: http.MethodDelete, path: "/auth/passkeys/x", header: p},
			postJ("/auth/passkeys/login/begin", `{"username":"rex"}`),
		}
		ct.checkStoreFailures(t, h, store.setErr, clock, calls) // admin_openapi_test.go
		// login/finish: each try spends its ceremony, so each gets its own.
		key := newSoftAuthn(t, pkOrigin)
		ct.check(t, h, pc.register(key, quin, "Key"), well, 201)
		for _, c := range []struct {
			err    error
			status int
		}{{errDown, 503}, {errBroken, 500}} {
			fin := pc.login(key, `{}`, "")
			store.setErr(c.err)
			r := ct.check(t, h, fin, well, c.status)
			store.setErr(nil)
			if strings.Contains(string(r.body), "pq:") || strings.Contains(string(r.body), "dial tcp") {
				t.Errorf("login/finish leaks the store error: %s", r.body)
			}
		}
	})

	t.Run("no credential store", func(t *testing.T) {
		sa, sh := newAuth(statelessStore{memstore.New()})
		if _, err := sa.Register(ctx, "ruth", "password-1"); err != nil {
			t.Fatal(err)
		}
		rt := bearer(tokensOf(t, serve(sh, loginRequest("ruth", "password-1"))).AccessToken)
		for _, c := range []call{
			post("/auth/passkeys/register/begin", "", "", rt...),
			postJ("/auth/passkeys/register/finish", `{"state":"x","credential":{}}`, rt...),
			get("/auth/passkeys", rt...),
			{method: http.MethodPatch, path: "/auth/passkeys/x", contentType: ctJSON, body: `{"name":"x"}`, header: rt},
			{method: http.MethodDelete, path: "/auth/passkeys/x", header: rt},
			postJ("/auth/passkeys/login/begin", `{}`),
			postJ("/auth/passkeys/login/finish", `{"state":"x","credential":{}}`),
		} {
			ct.check(t, sh, c, well, 501)
		}
	})

	t.Run("routing", func(t *testing.T) {
		ct.checkRouting(t, h, get("/auth/passkeys/login/begin"), http.StatusMethodNotAllowed)
		ct.checkRouting(t, h, post("/auth/passkeys", "", ""), http.StatusMethodNotAllowed)
		ct.checkRouting(t, h, get("/auth/passkeys/a/b"), http.StatusNotFound)
	})
}
