package verifier_test

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/dpop"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/verifier"
)

const helloURL = "http://example.com/hello"

// TestDPoPBoundTokens: a token bound at Gatehouse is accepted by the
// verifier's middleware with a proof of its key, as Gatehouse's own
// middleware accepts it, and refused without.
func TestDPoPBoundTokens(t *testing.T) {
	clock := newClock()
	ed := auth.EdDSAKey("ed-1", privateKey(t, "ed25519.pem").(ed25519.PrivateKey))
	g := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(ed), auth.WithDPoP(auth.DPoPAllowed))
	client, err := dpop.New(nil, dpop.WithKey(privateKey(t, "p256.pem")), dpop.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	p, err := g.a.Login(auth.ContextWithDPoPThumbprint(context.Background(), client.Thumbprint()), "uma", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	bearer := g.login(t)
	keys, err := verifier.KeysFromJWKS(jwksOf(t, g.a))
	if err != nil {
		t.Fatal(err)
	}
	newV := func(opts ...verifier.Option) http.Handler {
		v, err := verifier.New(append([]verifier.Option{verifier.WithKeys(keys...), verifier.WithClock(clock.Now),
			verifier.WithIssuer(issuer), verifier.WithAudience(audience)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := verifier.ClaimsFromContext(r.Context())
			_, _ = w.Write([]byte(c.DPoPThumbprint))
		}))
	}
	proof := func(token string) string {
		s, err := client.Proof(http.MethodGet, helloURL, token, "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	call := func(h http.Handler, scheme, token, proof string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, helloURL, nil)
		req.Header.Set("Authorization", scheme+" "+token)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	allowed := newV(verifier.WithDPoP(false))
	if rec := call(allowed, "DPoP", p.AccessToken, proof(p.AccessToken)); rec.Code != http.StatusOK || rec.Body.String() != client.Thumbprint() {
		t.Errorf("bound token with its proof: %d %s", rec.Code, rec.Body)
	}
	if rec := call(allowed, "Bearer", bearer.AccessToken, ""); rec.Code != http.StatusOK {
		t.Errorf("bearer token, DPoP allowed: %d", rec.Code)
	}
	for name, tc := range map[string]struct{ scheme, token, proof, challenge string }{
		"bound as Bearer":      {"Bearer", p.AccessToken, "", `DPoP error="invalid_token", algs="ES256 EdDSA RS256"`},
		"no proof":             {"DPoP", p.AccessToken, "", `DPoP error="invalid_dpop_proof", algs="ES256 EdDSA RS256"`},
		"proof of other token": {"DPoP", p.AccessToken, proof(bearer.AccessToken), `DPoP error="invalid_dpop_proof", algs="ES256 EdDSA RS256"`},
		"unbound as DPoP":      {"DPoP", bearer.AccessToken, proof(bearer.AccessToken), `DPoP error="invalid_token", algs="ES256 EdDSA RS256"`},
	} {
		rec := call(allowed, tc.scheme, tc.token, tc.proof)
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != tc.challenge {
			t.Errorf("%s: %d %q, want 401 %q", name, rec.Code, rec.Header().Get("WWW-Authenticate"), tc.challenge)
		}
	}
	replayed := proof(p.AccessToken)
	_ = call(allowed, "DPoP", p.AccessToken, replayed)
	if rec := call(allowed, "DPoP", p.AccessToken, replayed); rec.Code != http.StatusUnauthorized {
		t.Errorf("replayed proof: %d", rec.Code)
	}
	clock.Advance(2 * time.Minute)
	if rec := call(allowed, "DPoP", p.AccessToken, replayed); rec.Code != http.StatusUnauthorized {
		t.Errorf("stale proof: %d", rec.Code)
	}

	required := newV(verifier.WithDPoP(true))
	if rec := call(required, "Bearer", bearer.AccessToken, ""); rec.Code != http.StatusUnauthorized ||
		!strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "DPoP ") {
		t.Errorf("bearer token, DPoP required: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	rec := call(required, "", "", "")
	if rec.Header().Get("WWW-Authenticate") != `DPoP algs="ES256 EdDSA RS256"` {
		t.Errorf("no token, DPoP required: %q", rec.Header().Get("WWW-Authenticate"))
	}

	// Without WithDPoP a bound token is refused outright: it can never be
	// used as a bearer token.
	off := newV()
	if rec := call(off, "Bearer", p.AccessToken, ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("bound token, DPoP off: %d", rec.Code)
	}
	if rec := call(off, "Bearer", bearer.AccessToken, ""); rec.Code != http.StatusOK {
		t.Errorf("bearer token, DPoP off: %d", rec.Code)
	}
}

func TestDPoPOptionsValidate(t *testing.T) {
	edPub := verifier.EdDSAKey("k", privateKey(t, "ed25519.pem").Public().(ed25519.PublicKey))
	for name, opt := range map[string]verifier.Option{
		"past 0":        verifier.WithDPoPProofWindow(0, 0),
		"future 2m":     verifier.WithDPoPProofWindow(time.Minute, 2*time.Minute),
		"external path": verifier.WithDPoPExternalURL("https://a.example/x"),
	} {
		if _, err := verifier.New(verifier.WithKeys(edPub), opt); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
