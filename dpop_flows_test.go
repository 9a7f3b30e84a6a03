package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/dpop"
	"github.com/gatehouse/auth/internal/testutil"
)

// TestDPoPBindsTheOtherLogins: the endpoints that issue a pair besides
// login and refresh (MFA verify, magic-link verify) honour DPoP like login:
// required mode refuses them without a proof, and a proof binds the pair.
func TestDPoPBindsTheOtherLogins(t *testing.T) {
	t.Run("mfa verify", func(t *testing.T) {
		f := newFixture(t, auth.WithDPoP(auth.DPoPRequired))
		h := f.a.Handler()
		// Enrol through an instance without DPoP on the same store.
		a2, err := auth.New(f.store, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(f.clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		u := enrollTOTP(t, &fixture{store: f.store, clock: f.clock, a: a2}, a2.Handler(), "mia")
		tr, err := dpop.New(nil, dpop.WithKey(testutil.PrivateKey(t, "p256.pem")), dpop.WithClock(f.clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		proofed := func(r *http.Request, url string) *http.Request {
			p, err := tr.Proof(http.MethodPost, url, "", "")
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("DPoP", p)
			return r
		}
		req := loginRequest("mia", "password-1")
		req.URL.Scheme, req.URL.Host, req.Host = "http", "example.com", "example.com"
		res := serve(h, proofed(req, "http://example.com/auth/login"))
		var m map[string]any
		_ = json.Unmarshal(res.body, &m)
		tok, _ := m["mfa_token"].(string)
		if res.status != http.StatusForbidden || tok == "" {
			t.Fatalf("login: %d %s", res.status, res.body)
		}
		verify := func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "http://example.com/auth/mfa/verify",
				strings.NewReader(`{"mfa_token":"`+tok+`","code":"`+codeAt(t, u.secret, f.clock.Now())+`"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}
		if res := serve(h, verify()); res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "invalid_dpop_proof") {
			t.Fatalf("mfa/verify without a proof in required mode: %d %s", res.status, res.body)
		}
		res = serve(h, proofed(verify(), "http://example.com/auth/mfa/verify"))
		var pair auth.TokenPair
		_ = json.Unmarshal(res.body, &pair)
		if res.status != http.StatusOK || pair.TokenType != "DPoP" {
			t.Fatalf("mfa/verify with a proof: %d %s", res.status, res.body)
		}
		if cnf, _ := claimsOf(t, pair.RefreshToken)["cnf"].(map[string]any); cnf["jkt"] != tr.Thumbprint() {
			t.Fatalf("refresh token not bound: %v", cnf)
		}
	})
	t.Run("magic link", func(t *testing.T) {
		f := newMailFix(t, auth.WithMagicLinks(), auth.WithDPoP(auth.DPoPRequired))
		f.register(t, "bob", "bob@example.com")
		f.post("/auth/magic-link", `{"email":"bob@example.com"}`)
		tok := f.lastToken(t, "bob@example.com", auth.MailMagicLink)
		if r := f.post("/auth/magic-link/verify", `{"token":"`+tok+`"}`); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid_dpop_proof") {
			t.Fatalf("magic-link verify without a proof in required mode: %d %s", r.status, r.body)
		}
	})
}
