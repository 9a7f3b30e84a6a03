package auth_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// credStore is a flakySessionStore that keeps second factors too; its
// user calls fail while its error is set.
type credStore struct {
	*flakySessionStore
	auth.CredentialStore
}

func newCredStore() *credStore {
	m := memstore.New()
	return &credStore{&flakySessionStore{flakyStore: &flakyStore{UserStore: m}, sessions: m}, m}
}

// checkMFAContract drives the second-factor endpoints through every
// documented status, for TestOpenAPIContract.
func checkMFAContract(t *testing.T, ct *contract) {
	clock := newClock()
	store := newCredStore()
	// Tokens outlive the waits for budgets to refill.
	a, err := auth.New(store, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now),
		auth.WithAccessTTL(12*time.Hour), auth.WithRefreshTTL(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler()
	ctx := context.Background()
	for _, name := range []string{"uma", "vic", "wes"} {
		if _, err := a.Register(ctx, name, "password-1"); err != nil {
			t.Fatal(err)
		}
	}
	big := strings.Repeat("x", 70<<10)
	const well, malformed = true, false
	uma := tokensOf(t, serve(h, loginRequest("uma", "password-1")))
	tok := bearer(uma.AccessToken)

	var secret string
	var codes []string
	t.Run("enroll", func(t *testing.T) {
		ct.check(t, h, postJ("/auth/mfa/totp", `{"password":"password-1"}`), malformed, 401)
		ct.check(t, h, postJ("/auth/mfa/totp", `{"password":"wrong-pass"}`, tok...), well, 400)
		ct.check(t, h, postJ("/auth/mfa/totp", `{}`, tok...), malformed, 422)
		ct.check(t, h, post("/auth/mfa/totp", ctForm, "password=password-1", tok...), malformed, 415)
		ct.check(t, h, postJ("/auth/mfa/totp", `{"password":"password-1","pad":"`+big+`"}`, tok...), well, 413)
		r := ct.check(t, h, postJ("/auth/mfa/totp", `{"password":"password-1"}`, tok...), well, 200)
		secret = r.json(t)["secret"].(string)
	})
	t.Run("confirm", func(t *testing.T) {
		vic := tokensOf(t, serve(h, loginRequest("vic", "password-1")))
		ct.check(t, h, postJ("/auth/mfa/totp/confirm", `{"code":"123456"}`, bearer(vic.AccessToken)...), well, 404)
		ct.check(t, h, postJ("/auth/mfa/totp/confirm", `{"code":"123456"}`), malformed, 401)
		ct.check(t, h, postJ("/auth/mfa/totp/confirm", `{"code":"000000"}`, tok...), well, 401)
		ct.check(t, h, postJ("/auth/mfa/totp/confirm", `{}`, tok...), malformed, 422)
		ct.check(t, h, post("/auth/mfa/totp/confirm", "text/plain", `{"code":"1"}`, tok...), malformed, 415)
		ct.check(t, h, postJ("/auth/mfa/totp/confirm", `{"code":"`+big+`"}`, tok...), well, 413)
		r := ct.check(t, h, postJ("/auth/mfa/totp/confirm", `{"code":"`+codeAt(t, secret, clock.Now())+`"}`, tok...), well, 200)
		for _, c := range r.json(t)["recovery_codes"].([]any) {
			codes = append(codes, c.(string))
		}
		ct.check(t, h, postJ("/auth/mfa/totp/confirm", `{"code":"123456"}`, tok...), well, 409)
		ct.check(t, h, postJ("/auth/mfa/totp", `{"password":"password-1"}`, tok...), well, 409)
		clock.Advance(30 * time.Second)
	})

	var mfaTok string
	t.Run("verify", func(t *testing.T) {
		r := ct.check(t, h, postJ("/auth/login", `{"username":"uma","password":"password-1"}`), well, 403)
		mfaTok = r.json(t)["mfa_token"].(string)
		ct.check(t, h, postJ("/auth/mfa/verify", `{"mfa_token":"`+mfaTok+`","code":"000000"}`), well, 401)
		ct.check(t, h, postJ("/auth/mfa/verify", `{"mfa_token":"garbage","code":"000000"}`), well, 401)
		ct.check(t, h, postJ("/auth/mfa/verify", `{"mfa_token":"`+mfaTok+`"}`), malformed, 422)
		ct.check(t, h, post("/auth/mfa/verify", ctForm, "mfa_token=x&code=1"), malformed, 415)
		ct.check(t, h, postJ("/auth/mfa/verify", `{"mfa_token":"`+big+`","code":"1"}`), well, 413)
		ct.check(t, h, postJ("/auth/mfa/verify", `{"mfa_token":"`+mfaTok+`","code":"`+codeAt(t, secret, clock.Now())+`"}`), well, 200)
		ct.check(t, h, postJ("/auth/mfa/verify", `{"mfa_token":"`+mfaTok+`","code":"`+codes[0]+`"}`), well, 401)
		// Wrong codes spend the budgets.
		mt := serve(h, loginRequest("uma", "password-1")).json(t)["mfa_token"].(string)
		spend(t, ct, h, postJ("/auth/mfa/verify", `{"mfa_token":"`+mt+`","code":"000000"}`))
		clock.Advance(30 * time.Minute)
	})

	t.Run("recovery-codes", func(t *testing.T) {
		ct.check(t, h, postJ("/auth/mfa/recovery-codes", `{}`), malformed, 401)
		ct.check(t, h, postJ("/auth/mfa/recovery-codes", `{}`, tok...), well, 403)
		ct.check(t, h, postJ("/auth/mfa/recovery-codes", `{"code":"000000"}`, tok...), well, 401)
		ct.check(t, h, postJ("/auth/mfa/recovery-codes", `[]`, tok...), malformed, 422)
		ct.check(t, h, post("/auth/mfa/recovery-codes", "text/plain", `{}`, tok...), malformed, 415)
		ct.check(t, h, postJ("/auth/mfa/recovery-codes", `{"code":"`+big+`"}`, tok...), well, 413)
		r := ct.check(t, h, postJ("/auth/mfa/recovery-codes", `{"code":"`+codes[1]+`"}`, tok...), well, 200)
		codes = nil
		for _, c := range r.json(t)["recovery_codes"].([]any) {
			codes = append(codes, c.(string))
		}
		wes := tokensOf(t, serve(h, loginRequest("wes", "password-1")))
		ct.check(t, h, postJ("/auth/mfa/recovery-codes", `{}`, bearer(wes.AccessToken)...), well, 404)
		spend(t, ct, h, postJ("/auth/mfa/recovery-codes", `{"code":"000000"}`, tok...))
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-1","new_password":"password-2","code":"000000"}`, tok...), well, 429)
		wt := bearer(wes.AccessToken)
		if r := serve(h, postJ("/auth/mfa/totp", `{"password":"password-1"}`, wt...).request()); r.status != 200 {
			t.Fatalf("enroll wes: %d %s", r.status, r.body)
		}
		spend(t, ct, h, postJ("/auth/mfa/totp/confirm", `{"code":"000000"}`, wt...))
		clock.Advance(30 * time.Minute)
	})

	t.Run("change-password", func(t *testing.T) {
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`, tok...), well, 403)
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-1","new_password":"password-2","code":"000000"}`, tok...), well, 401)
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-1","new_password":"password-2","code":1}`, tok...), malformed, 422)
	})

	t.Run("disable", func(t *testing.T) {
		delJ := func(body string, header ...string) call {
			return call{method: http.MethodDelete, path: "/auth/mfa/totp", contentType: ctJSON, body: body, header: header}
		}
		ct.check(t, h, delJ(`{"password":"password-1"}`), malformed, 401)
		ct.check(t, h, delJ(`{"password":"password-1"}`, tok...), well, 403)
		ct.check(t, h, delJ(`{"password":"password-1","code":"000000"}`, tok...), well, 401)
		ct.check(t, h, delJ(`{"password":"wrong-pass","code":"000000"}`, tok...), well, 400)
		ct.check(t, h, delJ(`{"code":"000000"}`, tok...), malformed, 422)
		ct.check(t, h, call{method: http.MethodDelete, path: "/auth/mfa/totp", contentType: "text/plain", body: "{}", header: tok}, malformed, 415)
		ct.check(t, h, delJ(`{"password":"`+big+`"}`, tok...), well, 413)
		ct.check(t, h, delJ(`{"password":"password-1","code":"`+codes[2]+`"}`, tok...), well, 204)
		ct.check(t, h, delJ(`{"password":"password-1"}`, tok...), well, 404)
		spend(t, ct, h, delJ(`{"password":"wrong-pass"}`, tok...))
		ct.check(t, h, postJ("/auth/mfa/totp", `{"password":"password-1"}`, tok...), well, 429)
		clock.Advance(time.Hour)
	})

	t.Run("disabled user", func(t *testing.T) {
		vic := tokensOf(t, serve(h, loginRequest("vic", "password-1")))
		r := ct.check(t, h, postJ("/auth/mfa/totp", `{"password":"password-1"}`, bearer(vic.AccessToken)...), well, 200)
		s := r.json(t)["secret"].(string)
		ct.check(t, h, postJ("/auth/mfa/totp/confirm", `{"code":"`+codeAt(t, s, clock.Now())+`"}`, bearer(vic.AccessToken)...), well, 200)
		clock.Advance(30 * time.Second)
		mt := serve(h, loginRequest("vic", "password-1")).json(t)["mfa_token"].(string)
		u, _ := a.UserByUsername(ctx, "vic")
		// Disabled by another instance: this one's token cache still knows the user.
		if err := store.UpdateUser(ctx, &auth.User{ID: u.ID, Username: u.Username, PasswordHash: u.PasswordHash,
			Disabled: true, TokenVersion: u.TokenVersion, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}, u.PasswordHash, u.TokenVersion); err != nil {
			t.Fatal(err)
		}
		clock.Advance(3 * time.Second)
		vt := bearer(vic.AccessToken)
		ct.check(t, h, postJ("/auth/mfa/verify", `{"mfa_token":"`+mt+`","code":"`+codeAt(t, s, clock.Now())+`"}`), well, 403)
		ct.check(t, h, postJ("/auth/mfa/totp", `{"password":"password-1"}`, vt...), well, 403)
		ct.check(t, h, postJ("/auth/mfa/totp/confirm", `{"code":"1"}`, vt...), well, 403)
		ct.check(t, h, call{method: http.MethodDelete, path: "/auth/mfa/totp", contentType: ctJSON, body: `{"password":"password-1"}`, header: vt}, well, 403)
	})

	t.Run("store failures", func(t *testing.T) {
		p := tokensOf(t, serve(h, loginRequest("wes", "password-1")))
		wt := bearer(p.AccessToken)
		if _, err := a.Register(ctx, "yul", "password-1"); err != nil {
			t.Fatal(err)
		}
		yp := tokensOf(t, serve(h, loginRequest("yul", "password-1")))
		r := serve(h, postJ("/auth/mfa/totp", `{"password":"password-1"}`, bearer(yp.AccessToken)...).request())
		ys := r.json(t)["secret"].(string)
		serve(h, postJ("/auth/mfa/totp/confirm", `{"code":"`+codeAt(t, ys, clock.Now())+`"}`, bearer(yp.AccessToken)...).request())
		mt, _ := serve(h, loginRequest("yul", "password-1")).json(t)["mfa_token"].(string)
		if mt == "" {
			t.Fatal("no mfa_token for yul")
		}
		for _, c := range []struct {
			err    error
			status int
		}{{errDown, 503}, {errBroken, 500}} {
			store.setErr(c.err)
			clock.Advance(3 * time.Second)
			for _, cl := range []call{
				postJ("/auth/mfa/totp", `{"password":"password-1"}`, wt...),
				postJ("/auth/mfa/totp/confirm", `{"code":"123456"}`, wt...),
				{method: http.MethodDelete, path: "/auth/mfa/totp", contentType: ctJSON, body: `{"password":"password-1"}`, header: wt},
				postJ("/auth/mfa/recovery-codes", `{}`, wt...),
				postJ("/auth/mfa/verify", `{"mfa_token":"`+mt+`","code":"123456"}`),
			} {
				r := ct.check(t, h, cl, well, c.status)
				if strings.Contains(string(r.body), "pq:") || strings.Contains(string(r.body), "dial tcp") {
					t.Errorf("%s %s leaks the store error: %s", cl.method, cl.path, r.body)
				}
			}
		}
		store.setErr(nil)
	})

	t.Run("no credential store", func(t *testing.T) {
		sa, err := auth.New(statelessStore{memstore.New()}, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests())
		if err != nil {
			t.Fatal(err)
		}
		sh := sa.Handler()
		if _, err := sa.Register(ctx, "ruth", "password-1"); err != nil {
			t.Fatal(err)
		}
		p := tokensOf(t, serve(sh, loginRequest("ruth", "password-1")))
		rt := bearer(p.AccessToken)
		ct.check(t, sh, postJ("/auth/mfa/totp", `{"password":"password-1"}`, rt...), well, 501)
		ct.check(t, sh, postJ("/auth/mfa/totp/confirm", `{"code":"123456"}`, rt...), well, 501)
		ct.check(t, sh, call{method: http.MethodDelete, path: "/auth/mfa/totp", contentType: ctJSON, body: `{"password":"password-1"}`, header: rt}, well, 501)
		ct.check(t, sh, postJ("/auth/mfa/recovery-codes", `{}`, rt...), well, 501)
		ct.check(t, sh, postJ("/auth/mfa/verify", `{"mfa_token":"x","code":"123456"}`), well, 501)
	})

	t.Run("routing", func(t *testing.T) {
		ct.checkRouting(t, h, get("/auth/mfa/totp"), http.StatusMethodNotAllowed)
		ct.checkRouting(t, h, get("/auth/mfa/verify"), http.StatusMethodNotAllowed)
		ct.checkRouting(t, h, get("/auth/mfa"), http.StatusNotFound)
	})
}

// spend sends c until a budget is spent, and checks the 429.
func spend(t *testing.T, ct *contract, h http.Handler, c call) {
	t.Helper()
	for range 20 {
		if r := serve(h, c.request()); r.status == http.StatusTooManyRequests {
			break
		} else if r.status != http.StatusUnauthorized && r.status != http.StatusBadRequest {
			t.Fatalf("%s %s: %d %s while spending a budget", c.method, c.path, r.status, r.body)
		}
	}
	ct.check(t, h, c, true, http.StatusTooManyRequests)
}
