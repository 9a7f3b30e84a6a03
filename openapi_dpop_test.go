package auth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/dpop"
	"github.com/gatehouse/auth/internal/testutil"
	"github.com/gatehouse/auth/memstore"
)

// checkDPoPContract drives the DPoP exchanges of the token endpoints and a
// protected endpoint through ct: the DPoP header, token_type "DPoP", 400
// invalid_dpop_proof and use_dpop_nonce, and 401 with DPoP challenges.
func checkDPoPContract(t *testing.T, ct *contract, clock *fakeClock) {
	const well = true
	newA := func(opts ...auth.Option) http.Handler {
		a, err := auth.New(memstore.New(), append([]auth.Option{auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(),
			auth.WithClock(clock.Now), auth.WithDPoP(auth.DPoPAllowed)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Register(t.Context(), "dora", "password-1"); err != nil {
			t.Fatal(err)
		}
		return a.Handler()
	}
	h := newA()
	client, err := dpop.New(nil, dpop.WithKey(testutil.PrivateKey(t, "ed25519.pem")), dpop.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	proof := func(method, path, token, nonce string) string {
		p, err := client.Proof(method, "http://example.com"+path, token, nonce)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	form := url.Values{"username": {"dora"}, "password": {"password-1"}}.Encode()

	p := tokensOf(t, ct.check(t, h, post("/auth/login", ctForm, form, "DPoP", proof(http.MethodPost, "/auth/login", "", "")), well, 200))
	if p.TokenType != "DPoP" {
		t.Fatalf("token_type %q", p.TokenType)
	}
	r := ct.check(t, h, post("/auth/login", ctForm, form, "DPoP", "not.a.proof"), well, 400)
	if r.json(t)["error"] != "invalid_dpop_proof" {
		t.Errorf("body %s", r.body)
	}
	refresh := `{"refresh_token":"` + p.RefreshToken + `"}`
	ct.check(t, h, postJ("/auth/refresh", refresh, "DPoP", proof(http.MethodGet, "/auth/refresh", "", "")), well, 400)
	p = tokensOf(t, ct.check(t, h, postJ("/auth/refresh", refresh, "DPoP", proof(http.MethodPost, "/auth/refresh", "", "")), well, 200))

	ct.check(t, h, get("/auth/me", "Authorization", "DPoP "+p.AccessToken, "DPoP", proof(http.MethodGet, "/auth/me", p.AccessToken, "")), well, 200)
	r = ct.check(t, h, get("/auth/me", "Authorization", "Bearer "+p.AccessToken), well, 401)
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `DPoP error="invalid_token"`) {
		t.Errorf("bound token as Bearer: %q", r.header.Get("WWW-Authenticate"))
	}
	r = ct.check(t, h, get("/auth/me", "Authorization", "DPoP "+p.AccessToken, "DPoP", proof(http.MethodGet, "/auth/sessions", p.AccessToken, "")), well, 401)
	if r.json(t)["error"] != "invalid_dpop_proof" {
		t.Errorf("proof for another URL: %s", r.body)
	}
	r = ct.check(t, h, get("/auth/me"), false, 401)
	if r.header.Get("WWW-Authenticate") != `Bearer, DPoP algs="ES256 EdDSA RS256"` {
		t.Errorf("no token: %q", r.header.Get("WWW-Authenticate"))
	}

	// Server nonces: 400 at the token endpoint, 401 at a resource, both
	// with DPoP-Nonce.
	hn := newA(auth.WithDPoPNonces(time.Minute))
	r = ct.check(t, hn, post("/auth/login", ctForm, form, "DPoP", proof(http.MethodPost, "/auth/login", "", "")), well, 400)
	nonce := r.header.Get("DPoP-Nonce")
	if r.json(t)["error"] != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("no nonce asked for: %s", r.body)
	}
	ct.check(t, hn, postJ("/auth/refresh", refresh, "DPoP", proof(http.MethodPost, "/auth/refresh", "", "")), well, 400)
	p = tokensOf(t, ct.check(t, hn, post("/auth/login", ctForm, form, "DPoP", proof(http.MethodPost, "/auth/login", "", nonce)), well, 200))
	r = ct.check(t, hn, get("/auth/me", "Authorization", "DPoP "+p.AccessToken, "DPoP", proof(http.MethodGet, "/auth/me", p.AccessToken, "")), well, 401)
	if r.json(t)["error"] != "use_dpop_nonce" || r.header.Get("DPoP-Nonce") == "" {
		t.Errorf("resource without a nonce: %s", r.body)
	}
}
