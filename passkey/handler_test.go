package passkey_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/softauthn"
	"github.com/gatehouse/auth/internal/testutil"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/passkey"
)

// TestLoginBudgets: login/begin spends the address's budget of begun
// logins, and each refused primary login/finish its budget of failures;
// a spent budget answers 429 without looking at the passkey.
func TestLoginBudgets(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	a, err := auth.New(memstore.New(), auth.WithSecret(secret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now),
		auth.WithPasskeyLimits(auth.RateLimit{Burst: 3, Every: time.Minute}, auth.RateLimit{Burst: 2, Every: time.Minute}),
		passkey.WithWebAuthn(rpID, "Gatehouse test", origin))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, a: a, h: a.Handler(), clock: clock}
	tok := e.user("mia")
	sa, _ := softauthn.New(softauthn.ES256, rpID, origin)
	if r := e.register(sa, tok, "Key"); r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	evil := *sa
	evil.Origin = "http://evil.test"
	for i := range 2 {
		if r := e.login(&evil, `{}`, sa.UserHandle, ""); r.status != 401 {
			t.Fatalf("failure %d: %d %s", i+1, r.status, r.body)
		}
	}
	// The right passkey now gets 429 too: the budget is the address's.
	r := e.do(http.MethodPost, "/auth/passkeys/login/begin", `{}`, "")
	cred, _ := sa.Login(r.body, sa.UserHandle)
	r = e.do(http.MethodPost, "/auth/passkeys/login/finish", finishBody(r.field(t, "state"), cred, ""), "")
	if r.status != 429 || r.field(t, "detail") != "Too many failed passkey logins, retry later" {
		t.Fatalf("finish past the budget: %d %s", r.status, r.body)
	}
	// Three begins so far: the fourth is refused.
	r = e.do(http.MethodPost, "/auth/passkeys/login/begin", `{}`, "")
	if r.status != 429 || r.field(t, "detail") != "Too many passkey login attempts, retry later" {
		t.Fatalf("begin past the budget: %d %s", r.status, r.body)
	}
	// Another address is not affected.
	req := httptest.NewRequest(http.MethodPost, "/auth/passkeys/login/begin", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = "198.51.100.9:1000"
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("begin from another address: %d %s", rec.Code, rec.Body)
	}
	// The budgets refill, and the passkey logs in.
	clock.Advance(2 * time.Minute)
	if r := e.login(sa, `{}`, sa.UserHandle, ""); r.status != 200 {
		t.Errorf("login after the wait: %d %s", r.status, r.body)
	}
}

// FuzzLoginFinish posts arbitrary credentials to login/finish, with a
// real state token or an arbitrary one, primary or as the second factor:
// no panic, no 5xx, only the statuses the OpenAPI document lists, and
// never tokens (the one real assertion answers another challenge).
func FuzzLoginFinish(f *testing.F) {
	clock := testutil.NewClock(time.Now())
	a, err := auth.New(memstore.New(), auth.WithSecret(secret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now),
		auth.WithPasskeyLimits(auth.RateLimit{}, auth.RateLimit{}), passkey.WithWebAuthn(rpID, "Gatehouse test", origin))
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	e := &env{a: a, h: a.Handler(), clock: clock}
	if _, err := a.Register(ctx, "mia", "password-1"); err != nil {
		f.Fatal(err)
	}
	p, err := a.Login(ctx, "mia", "password-1")
	if err != nil {
		f.Fatal(err)
	}
	sa, _ := softauthn.New(softauthn.ES256, rpID, origin)
	begin := serve(e.h, http.MethodPost, "/auth/passkeys/register/begin", "", p.AccessToken)
	reg, _ := sa.Register(begin.Body.Bytes())
	if r := serve(e.h, http.MethodPost, "/auth/passkeys/register/finish", finishBody(stateOf(begin), reg, ""), p.AccessToken); r.Code != 201 {
		f.Fatalf("register: %d %s", r.Code, r.Body)
	}
	_, err = a.Login(ctx, "mia", "password-1")
	mfa, ok := err.(*auth.MFARequiredError)
	if !ok {
		f.Fatalf("password login: %v", err)
	}
	documented := testutil.DocumentedStatuses(f, auth.OpenAPI(), http.MethodPost, "/auth/passkeys/login/finish")

	lb := serve(e.h, http.MethodPost, "/auth/passkeys/login/begin", `{}`, "")
	good, _ := sa.Login(lb.Body.Bytes(), sa.UserHandle)
	f.Add(string(good), false, "")
	f.Add(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}`, true, "")
	f.Add(`{"type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`, true, mfa.Token)
	f.Add(`null`, false, "x")
	f.Add(`"string"`, true, "")
	f.Add(`[]`, true, mfa.Token)
	f.Fuzz(func(t *testing.T, credential string, realState bool, mfaToken string) {
		state := "s1.fuzz.state"
		if realState {
			state = stateOf(serve(e.h, http.MethodPost, "/auth/passkeys/login/begin", `{}`, ""))
		}
		body, _ := json.Marshal(map[string]any{"state": state, "credential": json.RawMessage(credential), "mfa_token": mfaToken})
		if !json.Valid([]byte(credential)) {
			// Not JSON: post it as the member's raw text, which makes the body malformed.
			body = []byte(`{"state":"` + state + `","credential":` + credential + `}`)
		}
		r := serve(e.h, http.MethodPost, "/auth/passkeys/login/finish", string(body), "")
		if !documented[r.Code] || r.Code >= 500 {
			t.Fatalf("status %d (documented: %v) for %s: %s", r.Code, documented, body, r.Body)
		}
		if r.Code == 200 {
			t.Fatalf("tokens for %s", body) // no assertion answers this challenge
		}
		if r.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("Content-Type %q", r.Header().Get("Content-Type"))
		}
	})
}

func serve(h http.Handler, method, path, body, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func stateOf(r *httptest.ResponseRecorder) string {
	var m struct {
		State string `json:"state"`
	}
	_ = json.Unmarshal(r.Body.Bytes(), &m)
	return m.State
}

// TestAPIKeyRefused: an API key may not register, list, rename or delete
// passkeys, as it may not act on the account elsewhere: a scoped key must
// never become a login.
func TestAPIKeyRefused(t *testing.T) {
	a, err := auth.New(memstore.New(), auth.WithSecret(secret), auth.WithInsecureFastHashingForTests(), auth.WithAPIKeys(),
		passkey.WithWebAuthn(rpID, "Gatehouse test", origin))
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Register(context.Background(), "mia", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := a.CreateAPIKey(context.Background(), u.ID, "ci", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler()
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, "/auth/passkeys/register/begin", ""},
		{http.MethodPost, "/auth/passkeys/register/finish", `{"state":"x","credential":{}}`},
		{http.MethodGet, "/auth/passkeys", ""},
		{http.MethodPatch, "/auth/passkeys/some-id", `{"name":"x"}`},
		{http.MethodDelete, "/auth/passkeys/some-id", ""},
	} {
		r := serve(h, c.method, c.path, c.body, key)
		if r.Code != 403 || !strings.Contains(r.Body.String(), `"api_key_not_allowed"`) {
			t.Errorf("%s %s with an API key: %d %s", c.method, c.path, r.Code, r.Body)
		}
	}
}
