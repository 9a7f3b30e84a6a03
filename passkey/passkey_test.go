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

const (
	rpID   = "localhost"
	origin = "http://localhost:8080"
)

var secret = []byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-test-only")

type env struct {
	t     *testing.T
	a     *auth.Authenticator
	h     http.Handler
	clock *testutil.Clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clock := testutil.NewClock(time.Now())
	a, err := auth.New(memstore.New(), auth.WithSecret(secret), auth.WithInsecureFastHashingForTests(),
		auth.WithClock(clock.Now), passkey.WithWebAuthn(rpID, "Gatehouse test", origin))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, a: a, h: a.Handler(), clock: clock}
}

type resp struct {
	status int
	body   []byte
}

func (e *env) do(method, path, body string, token string) resp {
	e.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{rec.Code, rec.Body.Bytes()}
}

func (r resp) field(t *testing.T, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	s, _ := m[name].(string)
	return s
}

func (e *env) user(name string) string {
	e.t.Helper()
	if _, err := e.a.Register(context.Background(), name, "password-1"); err != nil {
		e.t.Fatal(err)
	}
	p, err := e.a.Login(context.Background(), name, "password-1")
	if err != nil {
		e.t.Fatal(err)
	}
	return p.AccessToken
}

// finish posts a ceremony's answer.
func finishBody(state string, credential []byte, extra string) string {
	return `{"state":"` + state + `","credential":` + string(credential) + extra + `}`
}

// register registers a passkey of sa for the holder of token.
func (e *env) register(sa *softauthn.Authenticator, token, name string) resp {
	e.t.Helper()
	r := e.do(http.MethodPost, "/auth/passkeys/register/begin", "", token)
	if r.status != 200 {
		e.t.Fatalf("register/begin: %d %s", r.status, r.body)
	}
	cred, err := sa.Register(r.body)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(http.MethodPost, "/auth/passkeys/register/finish", finishBody(r.field(e.t, "state"), cred, `,"name":"`+name+`"`), token)
}

// login runs a passkey login: begin with beginBody, answer with sa (the
// user handle handle), finish with extra members.
func (e *env) login(sa *softauthn.Authenticator, beginBody string, handle []byte, extra string) resp {
	e.t.Helper()
	r := e.do(http.MethodPost, "/auth/passkeys/login/begin", beginBody, "")
	if r.status != 200 {
		e.t.Fatalf("login/begin: %d %s", r.status, r.body)
	}
	cred, err := sa.Login(r.body, handle)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(http.MethodPost, "/auth/passkeys/login/finish", finishBody(r.field(e.t, "state"), cred, extra), "")
}

func (e *env) amr(access string) []string {
	e.t.Helper()
	var got auth.Authentication
	h := e.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = auth.AuthenticationFromContext(r.Context())
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	h.ServeHTTP(httptest.NewRecorder(), req)
	return got.Methods
}

func TestCeremonies(t *testing.T) {
	for _, tc := range []struct {
		name     string
		alg      softauthn.Algorithm
		backup   bool
		wantAMR  string
		keyCount int
	}{
		{"ES256 device-bound", softauthn.ES256, false, "hwk mfa", 1},
		{"EdDSA synced", softauthn.EdDSA, true, "swk mfa", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tok := e.user("mia")
			sa, err := softauthn.New(tc.alg, rpID, origin)
			if err != nil {
				t.Fatal(err)
			}
			sa.BackupEligible, sa.BackupState = tc.backup, tc.backup
			r := e.register(sa, tok, "Laptop")
			if r.status != 201 || r.field(t, "name") != "Laptop" || r.field(t, "id") == "" {
				t.Fatalf("register/finish: %d %s", r.status, r.body)
			}
			// Discoverable login: no username.
			r = e.login(sa, `{}`, sa.UserHandle, "")
			if r.status != 200 {
				t.Fatalf("discoverable login: %d %s", r.status, r.body)
			}
			if got := strings.Join(e.amr(r.field(t, "access_token")), " "); got != tc.wantAMR {
				t.Errorf("amr = %q, want %q", got, tc.wantAMR)
			}
			// By username, with allowCredentials.
			if r = e.login(sa, `{"username":"MIA"}`, nil, ""); r.status != 200 {
				t.Fatalf("login by username: %d %s", r.status, r.body)
			}
			// The passkey is now a second factor after the password.
			_, err = e.a.Login(context.Background(), "mia", "password-1")
			var mfa *auth.MFARequiredError
			if !asMFA(err, &mfa) {
				t.Fatalf("password login = %v, want MFARequiredError", err)
			}
			r = e.login(sa, `{"mfa_token":"`+mfa.Token+`"}`, nil, `,"mfa_token":"`+mfa.Token+`"`)
			if r.status != 200 {
				t.Fatalf("passkey as second factor: %d %s", r.status, r.body)
			}
			want := "pwd " + strings.Fields(tc.wantAMR)[0] + " mfa"
			if got := strings.Join(e.amr(r.field(t, "access_token")), " "); got != want {
				t.Errorf("amr = %q, want %q", got, want)
			}
			r = e.do(http.MethodGet, "/auth/passkeys", "", tok)
			var list []map[string]any
			if err := json.Unmarshal(r.body, &list); err != nil || len(list) != tc.keyCount || list[0]["backup_eligible"] != tc.backup {
				t.Errorf("list: %d %s", r.status, r.body)
			}
		})
	}
}

func asMFA(err error, target **auth.MFARequiredError) bool {
	m, ok := err.(*auth.MFARequiredError)
	if ok {
		*target = m
	}
	return ok
}

func TestCeremonyAttacks(t *testing.T) {
	e := newEnv(t)
	tok := e.user("mia")
	sa, _ := softauthn.New(softauthn.ES256, rpID, origin)
	if r := e.register(sa, tok, "Key"); r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	// A user with a passkey has a second factor, so adding another needs a
	// recent login with one: a passkey login's token.
	fresh := func() string {
		t.Helper()
		r := e.login(sa, `{}`, sa.UserHandle, "")
		if r.status != 200 {
			t.Fatalf("passkey login: %d %s", r.status, r.body)
		}
		return r.field(t, "access_token")
	}
	wantRejected := func(what string, r resp) {
		t.Helper()
		if r.status != 401 || r.field(t, "error") != "invalid_passkey" {
			t.Errorf("%s: %d %s, want 401 invalid_passkey", what, r.status, r.body)
		}
	}

	t.Run("wrong origin", func(t *testing.T) {
		sa.Origin = "http://evil.localhost:8080"
		defer func() { sa.Origin = origin }()
		wantRejected("wrong origin", e.login(sa, `{}`, sa.UserHandle, ""))
	})
	t.Run("wrong RP ID", func(t *testing.T) {
		sa.RPID = "evil.test"
		defer func() { sa.RPID = rpID }()
		wantRejected("wrong RP ID", e.login(sa, `{}`, sa.UserHandle, ""))
	})
	t.Run("user handle mismatch", func(t *testing.T) {
		wantRejected("other user handle", e.login(sa, `{}`, []byte("someone else's handle"), ""))
	})
	t.Run("replayed challenge", func(t *testing.T) {
		r := e.do(http.MethodPost, "/auth/passkeys/login/begin", `{}`, "")
		cred, _ := sa.Login(r.body, sa.UserHandle)
		body := finishBody(r.field(t, "state"), cred, "")
		if r := e.do(http.MethodPost, "/auth/passkeys/login/finish", body, ""); r.status != 200 {
			t.Fatalf("first use: %d %s", r.status, r.body)
		}
		wantRejected("replay", e.do(http.MethodPost, "/auth/passkeys/login/finish", body, ""))
		// A fresh assertion for the spent challenge fails too.
		cred, _ = sa.Login(r.body, sa.UserHandle)
		wantRejected("new assertion, spent state", e.do(http.MethodPost, "/auth/passkeys/login/finish", finishBody(r.field(t, "state"), cred, ""), ""))
	})
	t.Run("expired ceremony", func(t *testing.T) {
		r := e.do(http.MethodPost, "/auth/passkeys/login/begin", `{}`, "")
		cred, _ := sa.Login(r.body, sa.UserHandle)
		e.clock.Advance(6 * time.Minute)
		r = e.do(http.MethodPost, "/auth/passkeys/login/finish", finishBody(r.field(t, "state"), cred, ""), "")
		if r.status != 401 {
			t.Errorf("expired state: %d %s", r.status, r.body)
		}
	})
	t.Run("cloned authenticator", func(t *testing.T) {
		clone := *sa
		if r := e.login(sa, `{}`, sa.UserHandle, ""); r.status != 200 {
			t.Fatalf("original: %d %s", r.status, r.body)
		}
		clone.Counter = sa.Counter - 2 // the clone's counter is behind
		wantRejected("clone", e.login(&clone, `{}`, sa.UserHandle, ""))
		clone.Counter = sa.Counter - 1 // equal to the stored one
		wantRejected("clone at the same count", e.login(&clone, `{}`, sa.UserHandle, ""))
	})
	t.Run("unknown credential", func(t *testing.T) {
		other, _ := softauthn.New(softauthn.EdDSA, rpID, origin)
		other.CredentialID, other.UserHandle = []byte("never registered"), sa.UserHandle
		wantRejected("unknown", e.login(other, `{}`, sa.UserHandle, ""))
	})
	t.Run("registration answered from another origin", func(t *testing.T) {
		evil, _ := softauthn.New(softauthn.ES256, rpID, "http://evil.test")
		wantRejected("register", e.register(evil, fresh(), "Evil"))
	})
	t.Run("registration state of another user", func(t *testing.T) {
		other := e.user("olga")
		tok := fresh()
		r := e.do(http.MethodPost, "/auth/passkeys/register/begin", "", tok)
		na, _ := softauthn.New(softauthn.ES256, rpID, origin)
		cred, _ := na.Register(r.body)
		wantRejected("other user's state", e.do(http.MethodPost, "/auth/passkeys/register/finish", finishBody(r.field(t, "state"), cred, ""), other))
		wantRejected("login state for registration", e.do(http.MethodPost, "/auth/passkeys/register/finish",
			finishBody(e.do(http.MethodPost, "/auth/passkeys/login/begin", `{}`, "").field(t, "state"), cred, ""), tok))
	})
	t.Run("same authenticator twice", func(t *testing.T) {
		tok := fresh()
		r := e.do(http.MethodPost, "/auth/passkeys/register/begin", "", tok)
		if !strings.Contains(string(r.body), "excludeCredentials") {
			t.Errorf("no excludeCredentials: %s", r.body)
		}
	})
}

func TestManagePasskeys(t *testing.T) {
	e := newEnv(t)
	tok := e.user("mia")
	olga := e.user("olga")
	sa, _ := softauthn.New(softauthn.ES256, rpID, origin)
	id := e.register(sa, tok, "Key").field(t, "id")

	if r := e.do(http.MethodPatch, "/auth/passkeys/"+id, `{"name":"Olga's"}`, olga); r.status != 404 {
		t.Errorf("rename another user's: %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodDelete, "/auth/passkeys/"+id, "", olga); r.status != 404 {
		t.Errorf("delete another user's: %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodPatch, "/auth/passkeys/"+id, `{"name":"  Phone  "}`, tok); r.status != 200 || r.field(t, "name") != "Phone" {
		t.Errorf("rename: %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodPatch, "/auth/passkeys/"+id, `{"name":""}`, tok); r.status != 422 {
		t.Errorf("empty name: %d %s", r.status, r.body)
	}
	// Deleting needs a second factor: the password-only token has none.
	if r := e.do(http.MethodDelete, "/auth/passkeys/"+id, "", tok); r.status != 403 || r.field(t, "error") != "mfa_required" {
		t.Errorf("delete without a second factor: %d %s", r.status, r.body)
	}
	fresh := e.login(sa, `{}`, sa.UserHandle, "").field(t, "access_token")
	if r := e.do(http.MethodDelete, "/auth/passkeys/"+id, "", fresh); r.status != 204 {
		t.Errorf("delete after a passkey login: %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodDelete, "/auth/passkeys/"+id, "", fresh); r.status != 404 {
		t.Errorf("delete twice: %d %s", r.status, r.body)
	}
	// The password alone logs in again.
	if _, err := e.a.Login(context.Background(), "mia", "password-1"); err != nil {
		t.Errorf("login after the last passkey went: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	tok := e.user("mia")
	for _, tc := range []struct {
		path, body string
		want       int
	}{
		{"/auth/passkeys/login/finish", `{}`, 422},
		{"/auth/passkeys/login/finish", `{"state":"x","credential":"y"}`, 422},
		{"/auth/passkeys/login/finish", `{"state":"x","credential":{}}`, 401},
		{"/auth/passkeys/login/finish", `[1]`, 422},
		{"/auth/passkeys/login/finish", `{"state":`, 422},
		{"/auth/passkeys/register/finish", `{"state":"x","credential":{"id":1}}`, 401},
		{"/auth/passkeys/login/begin", `{"mfa_token":"forged"}`, 401},
	} {
		if r := e.do(http.MethodPost, tc.path, tc.body, tok); r.status != tc.want {
			t.Errorf("POST %s %s: %d %s, want %d", tc.path, tc.body, r.status, r.body, tc.want)
		}
	}
	if _, err := auth.New(memstore.New(), auth.WithSecret(secret), passkey.WithWebAuthn("", "x", origin)); err == nil {
		t.Error("empty RP ID accepted")
	}
	if _, err := auth.New(memstore.New(), auth.WithSecret(secret), passkey.WithWebAuthn(rpID, "x")); err == nil {
		t.Error("no origin accepted")
	}
}

// TestRegisteringNeedsTheSecondFactor: a stolen access token of a user who
// has a second factor cannot add a passkey, a way in without the password.
func TestRegisteringNeedsTheSecondFactor(t *testing.T) {
	e := newEnv(t)
	tok := e.user("nils")
	sa, _ := softauthn.New(softauthn.ES256, rpID, origin)
	if r := e.register(sa, tok, "Key"); r.status != 201 {
		t.Fatalf("first passkey: %d %s", r.status, r.body)
	}
	// tok is from a password login: no second factor shown.
	r := e.do(http.MethodPost, "/auth/passkeys/register/begin", "", tok)
	if r.status != http.StatusForbidden || r.field(t, "error") != "mfa_required" {
		t.Fatalf("register/begin with a password-only token: %d %s, want 403 mfa_required", r.status, r.body)
	}
	l := e.login(sa, `{}`, sa.UserHandle, "")
	other, _ := softauthn.New(softauthn.EdDSA, rpID, origin)
	if r := e.register(other, l.field(t, "access_token"), "Second"); r.status != 201 {
		t.Fatalf("after a passkey login: %d %s", r.status, r.body)
	}
	e.clock.Advance(11 * time.Minute) // past the step-up window
	if r := e.do(http.MethodPost, "/auth/passkeys/register/begin", "", l.field(t, "access_token")); r.status != http.StatusForbidden {
		t.Fatalf("after the step-up window: %d %s, want 403", r.status, r.body)
	}
}
