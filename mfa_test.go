package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/auth"
)

// codeAt is the TOTP code of secret at t, as an authenticator app shows it.
func codeAt(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mfaUser is a user with TOTP on, through the HTTP endpoints.
type mfaUser struct {
	secret string
	codes  []string
	pair   auth.TokenPair // from before TOTP was on: password only
}

func enrollTOTP(t *testing.T, f *fixture, h http.Handler, name string) mfaUser {
	t.Helper()
	f.register(t, name, "password-1")
	p := tokensOf(t, loginForm(h, name, "password-1"))
	r := postJSON(h, "/auth/mfa/totp", `{"password":"password-1"}`, bearer(p.AccessToken)...)
	if r.status != 200 {
		t.Fatalf("enroll: %d %s", r.status, r.body)
	}
	var e struct {
		Secret string `json:"secret"`
		URI    string `json:"otpauth_uri"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.URI, "otpauth://totp/Gatehouse:"+name+"?") || !strings.Contains(e.URI, "secret="+e.Secret) {
		t.Errorf("otpauth_uri = %q", e.URI)
	}
	// Not on yet: the password alone still logs in.
	tokensOf(t, loginForm(h, name, "password-1"))
	r = postJSON(h, "/auth/mfa/totp/confirm", `{"code":"`+codeAt(t, e.Secret, f.clock.Now())+`"}`, bearer(p.AccessToken)...)
	if r.status != 200 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	var c struct {
		Codes []string `json:"recovery_codes"`
	}
	if err := json.Unmarshal(r.body, &c); err != nil || len(c.Codes) != 10 {
		t.Fatalf("recovery codes %s", r.body)
	}
	f.clock.Advance(30 * time.Second) // the confirming code's step is used
	return mfaUser{secret: e.Secret, codes: c.Codes, pair: p}
}

// mfaToken logs in with the password and returns the mfa_token.
func mfaToken(t *testing.T, h http.Handler, name string) string {
	t.Helper()
	r := loginForm(h, name, "password-1")
	m := r.json(t)
	if r.status != 403 || m["error"] != "mfa_required" || m["detail"] != "Multi-factor authentication required" {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	tok, _ := m["mfa_token"].(string)
	if tok == "" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("no mfa_token, or cacheable: %s %v", r.body, r.header)
	}
	return tok
}

func verify(h http.Handler, tok, code string) response {
	return postJSON(h, "/auth/mfa/verify", `{"mfa_token":"`+tok+`","code":"`+code+`"}`)
}

// authOf returns what AuthenticationFromContext says for an access token.
func authOf(t *testing.T, a *auth.Authenticator, access string) auth.Authentication {
	t.Helper()
	var got auth.Authentication
	h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = auth.AuthenticationFromContext(r.Context())
	}))
	if r := do(h, http.MethodGet, "/", "", "", bearer(access)...); r.status != 200 {
		t.Fatalf("middleware: %d %s", r.status, r.body)
	}
	return got
}

func TestTOTPLogin(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	u := enrollTOTP(t, f, h, "mia")

	tok := mfaToken(t, h, "mia")
	r := verify(h, tok, "000000")
	if r.status != 401 || r.json(t)["error"] != "invalid_code" {
		t.Fatalf("wrong code: %d %s", r.status, r.body)
	}
	code := codeAt(t, u.secret, f.clock.Now())
	p := tokensOf(t, verify(h, tok, code))
	got := authOf(t, f.a, p.AccessToken)
	if strings.Join(got.Methods, " ") != "pwd otp mfa" || !got.MultiFactor() || !got.Time.Equal(f.clock.Now().Truncate(time.Second)) {
		t.Errorf("authentication = %+v", got)
	}
	// The token works once, and the code too.
	if r := verify(h, tok, codeAt(t, u.secret, f.clock.Now().Add(30*time.Second))); r.status != 401 || r.json(t)["error"] != "invalid_grant" {
		t.Errorf("spent mfa_token: %d %s", r.status, r.body)
	}
	if r := verify(h, mfaToken(t, h, "mia"), code); r.status != 401 || r.json(t)["error"] != "invalid_code" {
		t.Errorf("reused code: %d %s", r.status, r.body)
	}
	// One step of skew either way; two is too many. (The spent token
	// above used up the next step's code.)
	f.clock.Advance(2 * time.Minute)
	tokensOf(t, verify(h, mfaToken(t, h, "mia"), codeAt(t, u.secret, f.clock.Now().Add(-30*time.Second))))
	f.clock.Advance(time.Minute)
	tokensOf(t, verify(h, mfaToken(t, h, "mia"), codeAt(t, u.secret, f.clock.Now().Add(30*time.Second))))
	f.clock.Advance(2 * time.Minute)
	if r := verify(h, mfaToken(t, h, "mia"), codeAt(t, u.secret, f.clock.Now().Add(-time.Minute))); r.status != 401 {
		t.Errorf("code two steps old: %d", r.status)
	}

	// A refresh keeps amr and auth_time: they describe the login.
	f.clock.Advance(10 * time.Minute)
	rp := tokensOf(t, postJSON(h, "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`))
	if again := authOf(t, f.a, rp.AccessToken); strings.Join(again.Methods, " ") != "pwd otp mfa" || !again.Time.Equal(got.Time) {
		t.Errorf("after refresh: %+v, want %+v", again, got)
	}

	// The mfa_token expires after 5 minutes, and a forged one is refused.
	tok = mfaToken(t, h, "mia")
	f.clock.Advance(5 * time.Minute)
	if r := verify(h, tok, codeAt(t, u.secret, f.clock.Now())); r.status != 401 || r.json(t)["error"] != "invalid_grant" {
		t.Errorf("expired mfa_token: %d %s", r.status, r.body)
	}
	if r := verify(h, tok[:len(tok)-2]+"xx", "123456"); r.status != 401 {
		t.Errorf("forged mfa_token: %d", r.status)
	}
	if r := postJSON(h, "/auth/mfa/verify", `{"mfa_token":"x"}`); r.status != 422 {
		t.Errorf("missing code: %d", r.status)
	}
}

func TestRecoveryCodes(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	u := enrollTOTP(t, f, h, "mia")
	ctx := context.Background()
	me, _ := f.a.UserByUsername(ctx, "mia")

	p := tokensOf(t, verify(h, mfaToken(t, h, "mia"), strings.ToUpper(u.codes[0])))
	if got := authOf(t, f.a, p.AccessToken); strings.Join(got.Methods, " ") != "pwd otp mfa" {
		t.Errorf("amr = %v", got.Methods)
	}
	if r := verify(h, mfaToken(t, h, "mia"), u.codes[0]); r.status != 401 {
		t.Errorf("reused recovery code: %d", r.status)
	}
	// Typed without dashes, with spaces: the same code.
	tokensOf(t, verify(h, mfaToken(t, h, "mia"), strings.ReplaceAll(u.codes[1], "-", " ")))
	if n, err := f.a.RecoveryCodesLeft(ctx, me.ID); err != nil || n != 8 {
		t.Errorf("left = %d, %v", n, err)
	}
	// Stored hashed: no code appears in the store.
	for _, c := range u.codes[2:] {
		if err := f.store.UseRecoveryCode(ctx, me.ID, c); !errors.Is(err, auth.ErrCredentialNotFound) {
			t.Errorf("code %q stored as is", c)
		}
	}

	// Regenerating needs a second factor; the old codes die.
	r := postJSON(h, "/auth/mfa/recovery-codes", `{}`, bearer(u.pair.AccessToken)...)
	if r.status != 403 || r.json(t)["error"] != "mfa_required" {
		t.Fatalf("regenerate without factor: %d %s", r.status, r.body)
	}
	r = postJSON(h, "/auth/mfa/recovery-codes", `{"code":"`+u.codes[2]+`"}`, bearer(u.pair.AccessToken)...)
	if r.status != 200 {
		t.Fatalf("regenerate: %d %s", r.status, r.body)
	}
	if r := verify(h, mfaToken(t, h, "mia"), u.codes[3]); r.status != 401 {
		t.Errorf("old code after regeneration: %d", r.status)
	}
	var fresh struct {
		Codes []string `json:"recovery_codes"`
	}
	_ = json.Unmarshal(r.body, &fresh)
	// The multi-factor token p is recent: no code needed.
	if r := postJSON(h, "/auth/mfa/recovery-codes", `{}`, bearer(p.AccessToken)...); r.status != 200 {
		t.Errorf("regenerate with a recent MFA login: %d %s", r.status, r.body)
	}
	f.clock.Advance(11 * time.Minute)
	if r := postJSON(h, "/auth/mfa/recovery-codes", `{}`, bearer(p.AccessToken)...); r.status != 403 {
		t.Errorf("regenerate with an old MFA login: %d %s", r.status, r.body)
	}
}

func TestMFABudgets(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	u := enrollTOTP(t, f, h, "mia")

	tok := mfaToken(t, h, "mia")
	for i := range 10 {
		if r := verify(h, tok, "000000"); r.status != 401 {
			t.Fatalf("wrong code %d: %d %s", i, r.status, r.body)
		}
	}
	// The token's ten are spent: even the right code is refused unchecked.
	r := verify(h, tok, codeAt(t, u.secret, f.clock.Now()))
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.json(t)["detail"] != "Too many wrong codes, retry later" {
		t.Fatalf("spent token budget: %d %s %v", r.status, r.body, r.header)
	}
	// So is the user's, across tokens.
	if r := verify(h, mfaToken(t, h, "mia"), codeAt(t, u.secret, f.clock.Now())); r.status != 429 {
		t.Errorf("spent user budget: %d %s", r.status, r.body)
	}
	f.clock.Advance(3 * time.Minute)
	tokensOf(t, verify(h, mfaToken(t, h, "mia"), codeAt(t, u.secret, f.clock.Now())))
}

func TestStepUp(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	u := enrollTOTP(t, f, h, "mia")
	old := bearer(u.pair.AccessToken) // a password-only login

	change := func(code string, tok []string) response {
		body := `{"current_password":"password-1","new_password":"password-2"` + code + `}`
		return postJSON(h, "/auth/change-password", body, tok...)
	}
	if r := change("", old); r.status != 403 || r.json(t)["error"] != "mfa_required" {
		t.Fatalf("change without factor: %d %s", r.status, r.body)
	}
	if r := change(`,"code":"999999"`, old); r.status != 401 || r.json(t)["error"] != "invalid_code" {
		t.Fatalf("change with a wrong code: %d %s", r.status, r.body)
	}
	if r := change(`,"code":"`+codeAt(t, u.secret, f.clock.Now())+`"`, old); r.status != 204 {
		t.Fatalf("change with a code: %d %s", r.status, r.body)
	}

	// Disabling TOTP: password and factor. Afterwards the password alone logs in.
	f.clock.Advance(time.Minute)
	r := loginForm(h, "mia", "password-2")
	tok := r.json(t)["mfa_token"].(string)
	p := tokensOf(t, verify(h, tok, codeAt(t, u.secret, f.clock.Now())))
	del := func(body string) response {
		return do(h, http.MethodDelete, "/auth/mfa/totp", ctJSON, body, bearer(p.AccessToken)...)
	}
	if r := del(`{"password":"wrong-pass"}`); r.status != 400 {
		t.Errorf("disable with a wrong password: %d %s", r.status, r.body)
	}
	if r := del(`{"password":"password-2"}`); r.status != 204 {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	if r := del(`{"password":"password-2"}`); r.status != 404 {
		t.Errorf("disable again: %d %s", r.status, r.body)
	}
	tokensOf(t, loginForm(h, "mia", "password-2"))
}

func TestRequireMFAAndRecentAuth(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	u := enrollTOTP(t, f, h, "mia")
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mfaOnly := f.a.Middleware(f.a.RequireMFA(ok))
	recent := f.a.Middleware(f.a.RequireRecentAuth(5 * time.Minute)(ok))

	if r := do(mfaOnly, http.MethodGet, "/", "", "", bearer(u.pair.AccessToken)...); r.status != 403 || r.json(t)["error"] != "mfa_required" {
		t.Errorf("password-only token: %d %s", r.status, r.body)
	}
	p := tokensOf(t, verify(h, mfaToken(t, h, "mia"), codeAt(t, u.secret, f.clock.Now())))
	if r := do(mfaOnly, http.MethodGet, "/", "", "", bearer(p.AccessToken)...); r.status != 204 {
		t.Errorf("MFA token: %d %s", r.status, r.body)
	}
	if r := do(recent, http.MethodGet, "/", "", "", bearer(p.AccessToken)...); r.status != 204 {
		t.Errorf("recent login: %d %s", r.status, r.body)
	}
	f.clock.Advance(6 * time.Minute)
	if r := do(recent, http.MethodGet, "/", "", "", bearer(p.AccessToken)...); r.status != 403 || r.json(t)["error"] != "reauthentication_required" {
		t.Errorf("old login: %d %s", r.status, r.body)
	}
	if r := do(f.a.RequireMFA(ok), http.MethodGet, "/", "", ""); r.status != 401 {
		t.Errorf("without Middleware: %d", r.status)
	}
}

func TestResetMFA(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	u := enrollTOTP(t, f, h, "mia")
	ctx := context.Background()
	me, _ := f.a.UserByUsername(ctx, "mia")
	if err := f.a.ResetMFA(ctx, me.ID); err != nil {
		t.Fatal(err)
	}
	if r := do(h, http.MethodGet, "/auth/me", "", "", bearer(u.pair.AccessToken)...); r.status != 401 {
		t.Errorf("token after reset: %d", r.status)
	}
	tokensOf(t, loginForm(h, "mia", "password-1"))
	if n, _ := f.a.RecoveryCodesLeft(ctx, me.ID); n != 0 {
		t.Errorf("recovery codes left: %d", n)
	}
	if err := f.a.ResetMFA(ctx, "nobody"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("unknown user: %v", err)
	}
}

// TestTOTPSecretSealed checks that the store holds no usable secret, that a
// secret opens under a previous key after rotation, and not under another.
func TestTOTPSecretSealed(t *testing.T) {
	k1 := []byte(strings.Repeat("k", 32))
	k2 := []byte(strings.Repeat("n", 32))
	f := newFixture(t, auth.WithEncryptionKey(k1))
	u := enrollTOTP(t, f, f.a.Handler(), "mia")
	ctx := context.Background()
	me, _ := f.a.UserByUsername(ctx, "mia")
	stored, err := f.store.UserTOTP(ctx, me.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored.Secret), u.secret) || len(stored.Secret) < 20+16 {
		t.Fatalf("secret stored in the clear: %q", stored.Secret)
	}
	newAuth := func(opts ...auth.Option) http.Handler {
		a, err := auth.New(f.store, append([]auth.Option{auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(f.clock.Now)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return a.Handler()
	}
	rotated := newAuth(auth.WithEncryptionKey(k2, k1))
	tokensOf(t, verify(rotated, mfaToken(t, rotated, "mia"), codeAt(t, u.secret, f.clock.Now())))
	tokensOf(t, verify(rotated, mfaToken(t, rotated, "mia"), u.codes[0]))
	f.clock.Advance(30 * time.Second)
	other := newAuth(auth.WithEncryptionKey(k2))
	if r := verify(other, mfaToken(t, other, "mia"), codeAt(t, u.secret, f.clock.Now())); r.status != 500 {
		t.Errorf("secret under an unknown key: %d %s", r.status, r.body)
	}
	if _, err := auth.New(f.store, auth.WithSecret(testSecret), auth.WithEncryptionKey([]byte("short"))); !errors.Is(err, auth.ErrInvalidConfig) {
		t.Errorf("short key: %v", err)
	}
}

func TestEnrollTOTPErrors(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	u := enrollTOTP(t, f, h, "mia")
	tok := bearer(u.pair.AccessToken)
	if r := postJSON(h, "/auth/mfa/totp", `{"password":"password-1"}`, tok...); r.status != 409 {
		t.Errorf("enroll twice: %d %s", r.status, r.body)
	}
	if r := postJSON(h, "/auth/mfa/totp", `{"password":"nope-nope"}`, tok...); r.status != 400 {
		t.Errorf("wrong password: %d %s", r.status, r.body)
	}
	if r := postJSON(h, "/auth/mfa/totp/confirm", `{"code":"123456"}`, tok...); r.status != 409 {
		t.Errorf("confirm when on: %d %s", r.status, r.body)
	}
	f.register(t, "olga", "password-1")
	op := tokensOf(t, loginForm(h, "olga", "password-1"))
	if r := postJSON(h, "/auth/mfa/totp/confirm", `{"code":"123456"}`, bearer(op.AccessToken)...); r.status != 404 {
		t.Errorf("confirm without enrolment: %d %s", r.status, r.body)
	}
	if r := postJSON(h, "/auth/mfa/totp", `{"password":"password-1"}`, bearer(op.AccessToken)...); r.status != 200 {
		t.Fatalf("enroll: %d", r.status)
	}
	if r := postJSON(h, "/auth/mfa/totp/confirm", `{"code":"12345x"}`, bearer(op.AccessToken)...); r.status != 401 {
		t.Errorf("confirm with a wrong code: %d %s", r.status, r.body)
	}
	s := newFixture(t)
	sa, err := auth.New(statelessStore{s.store}, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sa.Register(context.Background(), "ruth", "password-1"); err != nil {
		t.Fatal(err)
	}
	sp := tokensOf(t, loginForm(sa.Handler(), "ruth", "password-1"))
	if r := postJSON(sa.Handler(), "/auth/mfa/totp", `{"password":"password-1"}`, bearer(sp.AccessToken)...); r.status != 501 {
		t.Errorf("store without credentials: %d %s", r.status, r.body)
	}
}
