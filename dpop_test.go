package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/dpop"
	"github.com/gatehouse/auth/internal/jose"
	"github.com/gatehouse/auth/internal/testutil"
	"github.com/gatehouse/auth/memstore"
	"github.com/golang-jwt/jwt/v5"
)

const (
	loginURL = "http://example.com/auth/login"
	helloURL = "http://example.com/hello"
)

// dpopFixture is an Authenticator with DPoP on, a client key, and the
// handler and a protected route on one mux.
type dpopFixture struct {
	*fixture
	client *dpop.Transport
	mux    *http.ServeMux
}

func newDPoPFixture(t *testing.T, opts ...auth.Option) *dpopFixture {
	t.Helper()
	f := newFixture(t, append([]auth.Option{auth.WithDPoP(auth.DPoPAllowed)}, opts...)...)
	f.register(t, "alice", "password-1")
	tr, err := dpop.New(nil, dpop.WithKey(testutil.PrivateKey(t, "p256.pem")), dpop.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", f.a.Handler())
	mux.Handle("/hello", f.a.Middleware(okHandler))
	return &dpopFixture{fixture: f, client: tr, mux: mux}
}

func (f *dpopFixture) proof(t *testing.T, method, u, token string) string {
	t.Helper()
	p, err := f.client.Proof(method, u, token, "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// loginBound logs alice in with a proof and returns the pair.
func (f *dpopFixture) loginBound(t *testing.T) auth.TokenPair {
	t.Helper()
	req := loginRequest("alice", "password-1")
	req.Header.Set("DPoP", f.proof(t, http.MethodPost, loginURL, ""))
	res := serve(f.mux, req)
	if res.status != http.StatusOK {
		t.Fatalf("login with a proof: %d %s", res.status, res.body)
	}
	var p auth.TokenPair
	if err := json.Unmarshal(res.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// hello calls the protected route with the token in the given scheme and
// the proof, if any.
func (f *dpopFixture) hello(scheme, token, proof string) response {
	req := httptest.NewRequest(http.MethodGet, helloURL, nil)
	req.Header.Set("Authorization", scheme+" "+token)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return serve(f.mux, req)
}

func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDPoPLoginBindsTokens(t *testing.T) {
	f := newDPoPFixture(t)
	p := f.loginBound(t)
	if p.TokenType != "DPoP" {
		t.Errorf("token_type = %q, want DPoP", p.TokenType)
	}
	for name, tok := range map[string]string{"access": p.AccessToken, "refresh": p.RefreshToken} {
		cnf, _ := claimsOf(t, tok)["cnf"].(map[string]any)
		if cnf["jkt"] != f.client.Thumbprint() {
			t.Errorf("%s token cnf = %v, want jkt %s", name, cnf, f.client.Thumbprint())
		}
	}
	sessions, err := f.a.Sessions(context.Background(), claimsOf(t, p.AccessToken)["sub"].(string))
	if err != nil || len(sessions) != 1 || sessions[0].DPoPJKT != f.client.Thumbprint() {
		t.Fatalf("session not bound: %v %+v", err, sessions)
	}
	if res := f.hello("DPoP", p.AccessToken, f.proof(t, http.MethodGet, helloURL, p.AccessToken)); res.status != http.StatusOK {
		t.Errorf("bound token with its proof: %d %s", res.status, res.body)
	}

	// Without a proof the same endpoint issues bearer tokens (allowed mode).
	res := serve(f.mux, loginRequest("alice", "password-1"))
	var bearer auth.TokenPair
	_ = json.Unmarshal(res.body, &bearer)
	if res.status != http.StatusOK || bearer.TokenType != "bearer" || claimsOf(t, bearer.AccessToken)["cnf"] != nil {
		t.Errorf("login without a proof: %d %+v", res.status, bearer)
	}
	if res := f.hello("Bearer", bearer.AccessToken, ""); res.status != http.StatusOK {
		t.Errorf("bearer token in allowed mode: %d %s", res.status, res.body)
	}
}

func TestDPoPBoundTokenAsBearer(t *testing.T) {
	f := newDPoPFixture(t)
	p := f.loginBound(t)
	res := f.hello("Bearer", p.AccessToken, "")
	if res.status != http.StatusUnauthorized || !strings.HasPrefix(res.header.Get("WWW-Authenticate"), `DPoP error="invalid_token"`) ||
		!strings.Contains(res.header.Get("WWW-Authenticate"), `algs="ES256 EdDSA RS256"`) {
		t.Errorf("bound token as Bearer: %d %q %s", res.status, res.header.Get("WWW-Authenticate"), res.body)
	}
	// Nor with a proof alongside: the scheme says which rules apply.
	res = f.hello("Bearer", p.AccessToken, f.proof(t, http.MethodGet, helloURL, p.AccessToken))
	if res.status != http.StatusUnauthorized {
		t.Errorf("bound token as Bearer with a proof: %d", res.status)
	}
}

func TestDPoPRefreshNeedsTheSameKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		proof func(f *dpopFixture, u string) string
	}{
		{"no proof", func(*dpopFixture, string) string { return "" }},
		{"another key", func(f *dpopFixture, u string) string {
			other, err := dpop.New(nil, dpop.WithClock(f.clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			p, _ := other.Proof(http.MethodPost, u, "", "")
			return p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newDPoPFixture(t)
			p := f.loginBound(t)
			refresh := func(proof string) response {
				req := newRequest(http.MethodPost, "/auth/refresh", "application/json", `{"refresh_token":"`+p.RefreshToken+`"}`)
				if proof != "" {
					req.Header.Set("DPoP", proof)
				}
				return serve(f.mux, req)
			}
			res := refresh(tc.proof(f, "http://example.com/auth/refresh"))
			if res.status != http.StatusUnauthorized || !strings.Contains(string(res.body), "invalid_grant") {
				t.Fatalf("refresh: %d %s, want 401 invalid_grant", res.status, res.body)
			}
			// It counted as reuse: the session is gone, for the key holder too.
			if res := refresh(f.proof(t, http.MethodPost, "http://example.com/auth/refresh", "")); res.status != http.StatusUnauthorized {
				t.Errorf("refresh with the right key after reuse: %d, want 401", res.status)
			}
			if res := f.hello("DPoP", p.AccessToken, f.proof(t, http.MethodGet, helloURL, p.AccessToken)); res.status != http.StatusUnauthorized {
				t.Errorf("access token of the revoked session: %d, want 401", res.status)
			}
		})
	}
	t.Run("same key", func(t *testing.T) {
		f := newDPoPFixture(t)
		p := f.loginBound(t)
		for i := range 3 {
			f.clock.Advance(time.Second)
			req := newRequest(http.MethodPost, "/auth/refresh", "application/json", `{"refresh_token":"`+p.RefreshToken+`"}`)
			req.Header.Set("DPoP", f.proof(t, http.MethodPost, "http://example.com/auth/refresh", ""))
			res := serve(f.mux, req)
			if res.status != http.StatusOK {
				t.Fatalf("refresh %d: %d %s", i, res.status, res.body)
			}
			_ = json.Unmarshal(res.body, &p)
			if p.TokenType != "DPoP" {
				t.Errorf("refreshed token_type %q", p.TokenType)
			}
		}
	})
}

func TestDPoPRefreshStateless(t *testing.T) {
	// A store without sessions: the refresh token's own cnf binds it.
	clock := newClock()
	a, err := auth.New(statelessStore{memstore.New()}, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(),
		auth.WithClock(clock.Now), auth.WithDPoP(auth.DPoPAllowed))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Register(ctx, "bob", "password-1"); err != nil {
		t.Fatal(err)
	}
	p, err := a.Login(auth.ContextWithDPoPThumbprint(ctx, "jkt-A"), "bob", "password-1")
	if err != nil || p.TokenType != "DPoP" {
		t.Fatalf("Login: %v %q", err, p.TokenType)
	}
	if _, err := a.Refresh(ctx, p.RefreshToken); !errors.Is(err, auth.ErrDPoPKeyMismatch) {
		t.Errorf("stateless refresh without a proof = %v, want ErrDPoPKeyMismatch", err)
	}
	if _, err := a.Refresh(auth.ContextWithDPoPThumbprint(ctx, "jkt-B"), p.RefreshToken); !errors.Is(err, auth.ErrDPoPKeyMismatch) {
		t.Errorf("stateless refresh with another key = %v, want ErrDPoPKeyMismatch", err)
	}
	q, err := a.Refresh(auth.ContextWithDPoPThumbprint(ctx, "jkt-A"), p.RefreshToken)
	if err != nil || claimsOf(t, q.RefreshToken)["cnf"].(map[string]any)["jkt"] != "jkt-A" {
		t.Errorf("stateless refresh with the key: %v; the new refresh token must stay bound", err)
	}
}

func TestDPoPRequired(t *testing.T) {
	f := newDPoPFixture(t, auth.WithDPoP(auth.DPoPRequired))
	res := serve(f.mux, loginRequest("alice", "password-1"))
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), `"invalid_dpop_proof"`) {
		t.Errorf("login without a proof: %d %s, want 400 invalid_dpop_proof", res.status, res.body)
	}
	p := f.loginBound(t)
	if res := f.hello("DPoP", p.AccessToken, f.proof(t, http.MethodGet, helloURL, p.AccessToken)); res.status != http.StatusOK {
		t.Errorf("bound request: %d %s", res.status, res.body)
	}
	req := httptest.NewRequest(http.MethodGet, helloURL, nil)
	res = serve(f.mux, req)
	if got := res.header.Get("WWW-Authenticate"); res.status != http.StatusUnauthorized || got != `DPoP algs="ES256 EdDSA RS256"` {
		t.Errorf("no token: %d %q", res.status, got)
	}
	// An unbound token (issued before DPoP was required) is refused.
	bearer, err := f.a.Login(context.Background(), "alice", "password-1")
	if err != nil || bearer.TokenType != "bearer" {
		t.Fatalf("Login without a proof: %v %q", err, bearer.TokenType)
	}
	res = f.hello("Bearer", bearer.AccessToken, "")
	if res.status != http.StatusUnauthorized || !strings.HasPrefix(res.header.Get("WWW-Authenticate"), `DPoP error=`) {
		t.Errorf("bearer token when DPoP is required: %d %q", res.status, res.header.Get("WWW-Authenticate"))
	}
}

func TestDPoPAllowedChallenge(t *testing.T) {
	f := newDPoPFixture(t)
	res := serve(f.mux, httptest.NewRequest(http.MethodGet, helloURL, nil))
	if got := res.header.Get("WWW-Authenticate"); res.status != http.StatusUnauthorized || got != `Bearer, DPoP algs="ES256 EdDSA RS256"` {
		t.Errorf("no token: %d %q", res.status, got)
	}
	res = f.hello("Bearer", "not-a-token", "")
	if got := res.header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
		t.Errorf("bad bearer token: %q", got)
	}
}

func TestDPoPOffIgnoresProofs(t *testing.T) {
	f := newFixture(t)
	f.register(t, "alice", "password-1")
	tr, _ := dpop.New(nil)
	proof, _ := tr.Proof(http.MethodPost, loginURL, "", "")
	req := loginRequest("alice", "password-1")
	req.Header.Set("DPoP", proof)
	res := serve(f.a.Handler(), req)
	var p auth.TokenPair
	_ = json.Unmarshal(res.body, &p)
	if res.status != http.StatusOK || p.TokenType != "bearer" {
		t.Errorf("DPoP off: %d %q", res.status, p.TokenType)
	}
}

func TestDPoPNonces(t *testing.T) {
	f := newDPoPFixture(t, auth.WithDPoPNonces(time.Minute))
	req := loginRequest("alice", "password-1")
	req.Header.Set("DPoP", f.proof(t, http.MethodPost, loginURL, ""))
	res := serve(f.mux, req)
	nonce := res.header.Get("DPoP-Nonce")
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), `"use_dpop_nonce"`) || nonce == "" {
		t.Fatalf("login without a nonce: %d %s nonce %q", res.status, res.body, nonce)
	}
	withNonce := func(method, u, token, nonce string) string {
		p, err := f.client.Proof(method, u, token, nonce)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	req = loginRequest("alice", "password-1")
	req.Header.Set("DPoP", withNonce(http.MethodPost, loginURL, "", nonce))
	res = serve(f.mux, req)
	if res.status != http.StatusOK || res.header.Get("DPoP-Nonce") == "" {
		t.Fatalf("login with the nonce: %d %s", res.status, res.body)
	}
	var p auth.TokenPair
	_ = json.Unmarshal(res.body, &p)
	res = f.hello("DPoP", p.AccessToken, f.proof(t, http.MethodGet, helloURL, p.AccessToken))
	if res.status != http.StatusUnauthorized || !strings.HasPrefix(res.header.Get("WWW-Authenticate"), `DPoP error="use_dpop_nonce"`) ||
		res.header.Get("DPoP-Nonce") == "" {
		t.Errorf("resource without a nonce: %d %q", res.status, res.header.Get("WWW-Authenticate"))
	}
	// A nonce is good for its window and the next, then stale.
	f.clock.Advance(90 * time.Second)
	if res := f.hello("DPoP", p.AccessToken, withNonce(http.MethodGet, helloURL, p.AccessToken, nonce)); res.status != http.StatusOK {
		t.Errorf("nonce in the next window: %d %s", res.status, res.body)
	}
	f.clock.Advance(time.Minute)
	if res := f.hello("DPoP", p.AccessToken, withNonce(http.MethodGet, helloURL, p.AccessToken, nonce)); res.status != http.StatusUnauthorized {
		t.Errorf("stale nonce: %d", res.status)
	}
	if res := f.hello("DPoP", p.AccessToken, withNonce(http.MethodGet, helloURL, p.AccessToken, "forged")); res.status != http.StatusUnauthorized {
		t.Errorf("forged nonce: %d", res.status)
	}
}

// signProof signs a proof with any header and claims, for hostile cases.
func signProof(t *testing.T, method jwt.SigningMethod, key any, header, claims map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, jwt.MapClaims(claims))
	tok.Header = header
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jwkOf(t *testing.T, pub crypto.PublicKey) map[string]any {
	t.Helper()
	m, err := jose.PublicJWK(pub)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestDPoPHostileProofs sends each proof with a bound token to the
// protected route.
func TestDPoPHostileProofs(t *testing.T) {
	f := newDPoPFixture(t)
	p := f.loginBound(t)
	other := f.loginBound(t) // another token, same key
	key := testutil.PrivateKey(t, "p256.pem").(*ecdsa.PrivateKey)
	jwk := jwkOf(t, key.Public())
	now := f.clock.Now().Unix()
	ath := jose.TokenHash(p.AccessToken)
	hdr := func(mod func(h map[string]any)) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}
		if mod != nil {
			mod(h)
		}
		return h
	}
	n := 0
	cl := func(mod func(c map[string]any)) map[string]any {
		n++
		c := map[string]any{"htm": "GET", "htu": helloURL, "iat": now, "jti": "jti-" + string(rune('a'+n%26)) + strings.Repeat("x", n), "ath": ath}
		if mod != nil {
			mod(c)
		}
		return c
	}
	es := func(h, c map[string]any) string { return signProof(t, jwt.SigningMethodES256, key, h, c) }
	withHTU := func(u string) string { return es(hdr(nil), cl(func(c map[string]any) { c["htu"] = u })) }
	withIAT := func(d time.Duration) string {
		return es(hdr(nil), cl(func(c map[string]any) { c["iat"] = f.clock.Now().Add(d).Unix() }))
	}

	private := jwkOf(t, key.Public())
	d, err := key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	private["d"] = base64.RawURLEncoding.EncodeToString(d)
	big := jwkOf(t, key.Public())
	big["pad"] = strings.Repeat("A", 2000)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	none := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(cl(nil)))
		tok.Header = hdr(func(h map[string]any) { h["alg"] = "none" })
		s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		return s
	}()
	replayed := es(hdr(nil), cl(nil))
	if res := f.hello("DPoP", p.AccessToken, replayed); res.status != http.StatusOK {
		t.Fatalf("the proof to replay: %d %s", res.status, res.body)
	}

	cases := []struct {
		name  string
		token string
		proof string
		ok    bool
	}{
		{"valid", p.AccessToken, es(hdr(nil), cl(nil)), true},
		{"alg none", p.AccessToken, none, false},
		{"HS256", p.AccessToken, signProof(t, jwt.SigningMethodHS256, []byte("0123456789abcdef0123456789abcdef"), hdr(func(h map[string]any) { h["alg"] = "HS256" }), cl(nil)), false},
		{"private key in jwk", p.AccessToken, es(hdr(func(h map[string]any) { h["jwk"] = private }), cl(nil)), false},
		{"oversized jwk", p.AccessToken, es(hdr(func(h map[string]any) { h["jwk"] = big }), cl(nil)), false},
		{"no jwk", p.AccessToken, es(hdr(func(h map[string]any) { delete(h, "jwk") }), cl(nil)), false},
		{"typ JWT", p.AccessToken, es(hdr(func(h map[string]any) { h["typ"] = "JWT" }), cl(nil)), false},
		{"crit header", p.AccessToken, es(hdr(func(h map[string]any) { h["crit"] = []string{"exp"} }), cl(nil)), false},
		{"jwk of another key", p.AccessToken, es(hdr(func(h map[string]any) { h["jwk"] = jwkOf(t, otherKey.Public()) }), cl(nil)), false},
		{"another key, its own jwk", p.AccessToken, signProof(t, jwt.SigningMethodES256, otherKey, hdr(func(h map[string]any) { h["jwk"] = jwkOf(t, otherKey.Public()) }), cl(nil)), false},
		{"missing ath", p.AccessToken, es(hdr(nil), cl(func(c map[string]any) { delete(c, "ath") })), false},
		{"wrong ath", p.AccessToken, es(hdr(nil), cl(func(c map[string]any) { c["ath"] = jose.TokenHash("other") })), false},
		{"proof for another token", other.AccessToken, es(hdr(nil), cl(nil)), false},
		{"missing jti", p.AccessToken, es(hdr(nil), cl(func(c map[string]any) { delete(c, "jti") })), false},
		{"iat as a string", p.AccessToken, es(hdr(nil), cl(func(c map[string]any) { c["iat"] = "1700000000" })), false},
		{"htm POST", p.AccessToken, es(hdr(nil), cl(func(c map[string]any) { c["htm"] = "POST" })), false},
		{"htm get", p.AccessToken, es(hdr(nil), cl(func(c map[string]any) { c["htm"] = "get" })), false},
		{"htu with query", p.AccessToken, withHTU(helloURL + "?a=1"), false},
		{"htu with empty query", p.AccessToken, withHTU(helloURL + "?"), false},
		{"htu with fragment", p.AccessToken, withHTU(helloURL + "#top"), false},
		{"htu trailing slash", p.AccessToken, withHTU(helloURL + "/"), false},
		{"htu path case", p.AccessToken, withHTU("http://example.com/Hello"), false},
		{"htu other path", p.AccessToken, withHTU("http://example.com/auth/me"), false},
		{"htu other host", p.AccessToken, withHTU("http://example.org/hello"), false},
		{"htu https", p.AccessToken, withHTU("https://example.com/hello"), false},
		{"htu other port", p.AccessToken, withHTU("http://example.com:8080/hello"), false},
		{"htu relative", p.AccessToken, withHTU("/hello"), false},
		{"htu host case", p.AccessToken, withHTU("http://EXAMPLE.com/hello"), true},
		{"htu scheme case", p.AccessToken, withHTU("HTTP://example.com/hello"), true},
		{"htu default port", p.AccessToken, withHTU("http://example.com:80/hello"), true},
		{"htu encoded unreserved", p.AccessToken, withHTU("http://example.com/h%65llo"), true},
		{"iat 59s old", p.AccessToken, withIAT(-59 * time.Second), true},
		{"iat 61s old", p.AccessToken, withIAT(-61 * time.Second), false},
		{"iat 4s ahead", p.AccessToken, withIAT(4 * time.Second), true},
		{"iat 6s ahead", p.AccessToken, withIAT(6 * time.Second), false},
		{"replayed jti", p.AccessToken, replayed, false},
		{"garbage", p.AccessToken, "a.b.c", false},
		{"two parts", p.AccessToken, "a.b", false},
		{"huge", p.AccessToken, strings.Repeat("A", 10000), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := f.hello("DPoP", tc.token, tc.proof)
			if tc.ok {
				if res.status != http.StatusOK {
					t.Errorf("%d %s, want 200", res.status, res.body)
				}
				return
			}
			ch := res.header.Get("WWW-Authenticate")
			if res.status != http.StatusUnauthorized || !strings.HasPrefix(ch, `DPoP error="invalid_dpop_proof"`) ||
				!strings.Contains(ch, `algs="ES256 EdDSA RS256"`) {
				t.Errorf("%d %q %s, want 401 with a DPoP invalid_dpop_proof challenge", res.status, ch, res.body)
			}
		})
	}

	t.Run("replayed after its lifetime", func(t *testing.T) {
		f.clock.Advance(61 * time.Second)
		if res := f.hello("DPoP", p.AccessToken, replayed); res.status != http.StatusUnauthorized {
			t.Errorf("the old proof again: %d, want 401", res.status)
		}
		// Its jti, forgotten with the proof's lifetime, may come back in a
		// new proof: jti values are unique only within the window.
		again := es(hdr(nil), cl(func(c map[string]any) {
			var old map[string]any
			b, _ := base64.RawURLEncoding.DecodeString(strings.Split(replayed, ".")[1])
			_ = json.Unmarshal(b, &old)
			c["jti"], c["iat"] = old["jti"], f.clock.Now().Unix()
		}))
		if res := f.hello("DPoP", p.AccessToken, again); res.status != http.StatusOK {
			t.Errorf("a new proof with the old jti: %d %s", res.status, res.body)
		}
	})

	t.Run("no DPoP header", func(t *testing.T) {
		if res := f.hello("DPoP", p.AccessToken, ""); res.status != http.StatusUnauthorized {
			t.Errorf("%d", res.status)
		}
	})
	t.Run("two DPoP headers", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, helloURL, nil)
		req.Header.Set("Authorization", "DPoP "+p.AccessToken)
		req.Header.Add("DPoP", f.proof(t, http.MethodGet, helloURL, p.AccessToken))
		req.Header.Add("DPoP", f.proof(t, http.MethodGet, helloURL, p.AccessToken))
		if res := serve(f.mux, req); res.status != http.StatusUnauthorized {
			t.Errorf("%d", res.status)
		}
	})
	t.Run("unbound token in the DPoP scheme", func(t *testing.T) {
		res := serve(f.mux, loginRequest("alice", "password-1"))
		var b auth.TokenPair
		_ = json.Unmarshal(res.body, &b)
		res = f.hello("DPoP", b.AccessToken, f.proof(t, http.MethodGet, helloURL, b.AccessToken))
		if res.status != http.StatusUnauthorized || !strings.HasPrefix(res.header.Get("WWW-Authenticate"), `DPoP error="invalid_token"`) {
			t.Errorf("%d %q", res.status, res.header.Get("WWW-Authenticate"))
		}
	})
}

// TestDPoPTokenEndpointBadProof: a bad proof at the token endpoint is a 400
// (RFC 9449 section 5), and no session is started.
func TestDPoPTokenEndpointBadProof(t *testing.T) {
	f := newDPoPFixture(t)
	for name, proof := range map[string]string{
		"garbage":      "a.b.c",
		"wrong htu":    f.proof(t, http.MethodPost, "http://example.com/auth/refresh", ""),
		"wrong htm":    f.proof(t, http.MethodGet, loginURL, ""),
		"ath at login": f.proof(t, http.MethodPost, loginURL, "some-token"),
	} {
		req := loginRequest("alice", "password-1")
		req.Header.Set("DPoP", proof)
		res := serve(f.mux, req)
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), `"error":"invalid_dpop_proof"`) || res.header.Get("WWW-Authenticate") != "" {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
}

// TestDPoPAlgorithms: proofs of every accepted algorithm bind and verify.
func TestDPoPAlgorithms(t *testing.T) {
	for _, name := range []string{"p256.pem", "ed25519.pem", "rsa2048.pem"} {
		t.Run(name, func(t *testing.T) {
			f := newDPoPFixture(t)
			tr, err := dpop.New(nil, dpop.WithKey(testutil.PrivateKey(t, name)), dpop.WithClock(f.clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			f.client = tr
			p := f.loginBound(t)
			if res := f.hello("DPoP", p.AccessToken, f.proof(t, http.MethodGet, helloURL, p.AccessToken)); res.status != http.StatusOK {
				t.Errorf("%s: %d %s", tr.Algorithm(), res.status, res.body)
			}
		})
	}
	if _, err := dpop.New(nil, dpop.WithKey(testutil.PrivateKey(t, "p384.pem"))); err == nil {
		t.Error("a P-384 key was accepted")
	}
	if _, err := dpop.New(nil, dpop.WithKey(testutil.PrivateKey(t, "rsa1024.pem"))); err == nil {
		t.Error("a 1024-bit RSA key was accepted")
	}
}

// TestDPoPBehindProxy: with an external URL, htu names it, not the
// address the proxy used; and a prefix stripped by http.StripPrefix still
// counts.
func TestDPoPBehindProxy(t *testing.T) {
	f := newDPoPFixture(t, auth.WithDPoPExternalURL("https://api.example.com"))
	h := http.StripPrefix("/api", f.a.Handler())
	req := loginRequest("alice", "password-1")
	req.URL.Path, req.RequestURI = "/api/auth/login", "/api/auth/login"
	req.Header.Set("DPoP", f.proof(t, http.MethodPost, "https://api.example.com/api/auth/login", ""))
	if res := serve(h, req); res.status != http.StatusOK {
		t.Errorf("proof for the external URL: %d %s", res.status, res.body)
	}
	req = loginRequest("alice", "password-1")
	req.URL.Path, req.RequestURI = "/api/auth/login", "/api/auth/login"
	req.Header.Set("DPoP", f.proof(t, http.MethodPost, "http://example.com/api/auth/login", ""))
	if res := serve(h, req); res.status != http.StatusBadRequest {
		t.Errorf("proof for the internal URL: %d, want 400", res.status)
	}
}

func TestDPoPOptionsValidate(t *testing.T) {
	for name, opt := range map[string]auth.Option{
		"mode":              auth.WithDPoP(auth.DPoPMode(7)),
		"window past 0":     auth.WithDPoPProofWindow(0, time.Second),
		"window past 1h":    auth.WithDPoPProofWindow(time.Hour, time.Second),
		"window future -1":  auth.WithDPoPProofWindow(time.Minute, -time.Second),
		"nonce 1ms":         auth.WithDPoPNonces(time.Millisecond),
		"external path":     auth.WithDPoPExternalURL("https://api.example.com/v1"),
		"external relative": auth.WithDPoPExternalURL("api.example.com"),
		"external query":    auth.WithDPoPExternalURL("https://api.example.com/?a"),
		"external ftp":      auth.WithDPoPExternalURL("ftp://api.example.com"),
	} {
		if _, err := auth.New(memstore.New(), auth.WithSecret(testSecret), opt); !errors.Is(err, auth.ErrInvalidConfig) {
			t.Errorf("%s: New = %v, want ErrInvalidConfig", name, err)
		}
	}
	for _, s := range []string{"off", "allowed", "required"} {
		m, err := auth.ParseDPoPMode(s)
		if err != nil || m.String() != s {
			t.Errorf("ParseDPoPMode(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := auth.ParseDPoPMode("on"); err == nil {
		t.Error(`ParseDPoPMode("on") succeeded`)
	}
}

// failingReplay is a replay cache whose backend is down.
type failingReplay struct{}

func (failingReplay) Use(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("dial tcp 127.0.0.1:6379: connection refused")
}

func TestDPoPReplayCacheDown(t *testing.T) {
	f := newDPoPFixture(t, auth.WithDPoPReplayCache(failingReplay{}), auth.WithLogger(slog.New(slog.DiscardHandler)))
	req := loginRequest("alice", "password-1")
	req.Header.Set("DPoP", f.proof(t, http.MethodPost, loginURL, ""))
	if res := serve(f.mux, req); res.status != http.StatusServiceUnavailable {
		t.Errorf("replay cache down: %d %s, want 503", res.status, res.body)
	}
}

// TestAPIKeysUnderDPoP: API keys are a credential of their own, not access
// tokens, so DPoP does not bind them: they work as Bearer in every mode.
func TestAPIKeysUnderDPoP(t *testing.T) {
	f := newFixture(t, auth.WithDPoP(auth.DPoPRequired), auth.WithAPIKeys())
	u := f.register(t, "kim", "password-1")
	_, key, err := f.a.CreateAPIKey(context.Background(), u.ID, "script", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := f.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	if r := do(h, http.MethodGet, "/x", "", "", bearer(key)...); r.status != http.StatusNoContent {
		t.Fatalf("API key under DPoP required: %d %s", r.status, r.body)
	}
	mistyped := key[:len(key)-1] + map[bool]string{true: "y", false: "x"}[strings.HasSuffix(key, "x")]
	if r := do(h, http.MethodGet, "/x", "", "", bearer(mistyped)...); r.status != http.StatusUnauthorized {
		t.Fatalf("a mistyped key: %d %s", r.status, r.body)
	}
}

// TestIntrospectionNamesTheDPoPKey: RFC 9449 section 6.2: introspecting a
// bound token says which key it is bound to.
func TestIntrospectionNamesTheDPoPKey(t *testing.T) {
	f := newDPoPFixture(t)
	p := f.loginBound(t)
	for _, tok := range []string{p.AccessToken, p.RefreshToken} {
		active, info, err := f.a.Introspect(context.Background(), tok)
		cnf, _ := info["cnf"].(map[string]any)
		if err != nil || !active || cnf["jkt"] != f.client.Thumbprint() {
			t.Fatalf("Introspect = %v %v %v, want cnf.jkt %s", active, info, err, f.client.Thumbprint())
		}
	}
}
