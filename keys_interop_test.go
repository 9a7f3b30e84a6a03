package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/verifier"
	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// These tests hold Gatehouse to an independent JOSE implementation,
// go-jose, in both directions: go-jose verifies Gatehouse's tokens with
// nothing but the served JWKS, and Gatehouse (the Authenticator and the
// verifier package) accepts go-jose's tokens signed with a key of the set
// and refuses every forged variant.

const (
	interopIssuer   = "https://login.example.test"
	interopAudience = "orders"
)

// interopSetup is an Authenticator holding one key of each asymmetric
// algorithm, the first active, with its JWKS served on loopback.
type interopSetup struct {
	f     *fixture
	a     *auth.Authenticator
	user  *auth.User
	jwks  []byte
	srv   *httptest.Server
	ed    ed25519.PrivateKey
	ec    *ecdsa.PrivateKey
	rs    *rsa.PrivateKey
	other ed25519.PrivateKey // an attacker's key, in no set
}

func newInterop(t *testing.T, active string) *interopSetup {
	t.Helper()
	s := &interopSetup{
		f:     &fixture{store: memstore.New(), clock: newClock()},
		ed:    privateKey(t, "ed25519.pem").(ed25519.PrivateKey),
		ec:    privateKey(t, "p256.pem").(*ecdsa.PrivateKey),
		rs:    privateKey(t, "rsa2048.pem").(*rsa.PrivateKey),
		other: privateKey(t, "ed25519-b.pem").(ed25519.PrivateKey),
	}
	keys := map[string]auth.Key{
		"EdDSA": auth.EdDSAKey("ed-1", s.ed),
		"ES256": auth.ES256Key("ec-1", s.ec),
		"RS256": auth.RS256Key("rs-1", s.rs),
	}
	var rest []auth.Key
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		if alg != active {
			rest = append(rest, keys[alg])
		}
	}
	s.a = s.f.newInstance(t, auth.WithSigningKey(keys[active]), auth.WithVerificationKeys(rest...),
		auth.WithIssuer(interopIssuer), auth.WithAudience(interopAudience))
	s.f.a = s.a
	s.user = s.f.register(t, "ines", "password-1")
	s.srv = httptest.NewServer(s.a.Handler())
	t.Cleanup(s.srv.Close)
	res, err := s.srv.Client().Get(s.srv.URL + "/auth/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if s.jwks, err = io.ReadAll(res.Body); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("JWKS: %d, %v", res.StatusCode, err)
	}
	return s
}

func (s *interopSetup) verifier(t *testing.T) *verifier.Verifier {
	t.Helper()
	v, err := verifier.New(verifier.WithJWKSURL(s.srv.URL+"/auth/.well-known/jwks.json"), verifier.WithHTTPClient(s.srv.Client()),
		verifier.WithClock(s.f.clock.Now), verifier.WithIssuer(interopIssuer), verifier.WithAudience(interopAudience))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type gatehouseClaims struct {
	Type string `json:"type"`
	Ver  *int64 `json:"ver"`
}

func TestInteropGoJOSEVerifiesGatehouseTokens(t *testing.T) {
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			s := newInterop(t, alg)
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(s.jwks, &set); err != nil {
				t.Fatalf("go-jose cannot read the JWKS: %v", err)
			}
			if len(set.Keys) != 3 {
				t.Fatalf("JWKS has %d keys", len(set.Keys))
			}
			for _, k := range set.Keys {
				if !k.Valid() || !k.IsPublic() || k.Use != "sig" || k.KeyID == "" || k.Algorithm == "" {
					t.Errorf("go-jose finds key %q unfit: valid %v, public %v, use %q, alg %q", k.KeyID, k.Valid(), k.IsPublic(), k.Use, k.Algorithm)
				}
			}
			pair := s.f.login(t, "ines", "password-1")
			tok, err := josejwt.ParseSigned(pair.AccessToken, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.RS256})
			if err != nil {
				t.Fatal(err)
			}
			h := tok.Headers[0]
			if h.Algorithm != alg {
				t.Fatalf("alg = %q", h.Algorithm)
			}
			keys := set.Key(h.KeyID)
			if len(keys) != 1 || keys[0].Algorithm != alg {
				t.Fatalf("JWKS keys for kid %q: %v", h.KeyID, keys)
			}
			var std josejwt.Claims
			var own gatehouseClaims
			if err := tok.Claims(keys[0].Key, &std, &own); err != nil {
				t.Fatalf("go-jose rejects the signature: %v", err)
			}
			err = std.ValidateWithLeeway(josejwt.Expected{Issuer: interopIssuer, AnyAudience: josejwt.Audience{interopAudience}, Time: s.f.clock.Now()}, 0)
			if err != nil {
				t.Fatalf("go-jose rejects the claims: %v", err)
			}
			if std.Subject != s.user.ID || std.ID == "" || own.Type != "access" || own.Ver == nil || *own.Ver != 1 {
				t.Fatalf("claims = %+v, %+v", std, own)
			}
			// The other keys of the set do not verify it.
			for _, k := range set.Keys {
				if k.KeyID != h.KeyID && tok.Claims(k.Key, &std) == nil {
					t.Fatalf("key %q verifies a token of key %q", k.KeyID, h.KeyID)
				}
			}
		})
	}
}

// goJOSESign signs Gatehouse claims for user with go-jose. kid == "" leaves
// the header without one; extra headers are added as given.
func goJOSESign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any, opts *jose.SignerOptions) string {
	t.Helper()
	if opts == nil {
		opts = &jose.SignerOptions{}
	}
	opts = opts.WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := josejwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestInteropGatehouseVerifiesGoJOSETokens(t *testing.T) {
	s := newInterop(t, "EdDSA")
	v := s.verifier(t)
	ctx := context.Background()
	now := s.f.clock.Now()
	claims := map[string]any{
		"sub": s.user.ID, "type": "access", "ver": s.user.TokenVersion, "jti": "go-jose-1",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"iss": interopIssuer, "aud": interopAudience,
	}
	accept := func(t *testing.T, tok string) {
		t.Helper()
		if u, err := s.a.VerifyAccessToken(ctx, tok); err != nil || u.ID != s.user.ID {
			t.Fatalf("Authenticator: %v", err)
		}
		if c, err := v.Verify(ctx, tok); err != nil || c.Subject != s.user.ID || c.ID != "go-jose-1" {
			t.Fatalf("verifier: %v", err)
		}
	}
	refuse := func(t *testing.T, tok string) {
		t.Helper()
		if _, err := s.a.VerifyAccessToken(ctx, tok); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Authenticator: %v, want ErrInvalidToken", err)
		}
		if _, err := v.Verify(ctx, tok); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Errorf("verifier: %v, want ErrInvalidToken", err)
		}
		r := do(s.a.Handler(), http.MethodGet, "/auth/me", "", "", bearer(tok)...)
		wantError(t, r, http.StatusUnauthorized, "Could not validate credentials", "invalid_token")
	}

	t.Run("signed with a key of the set", func(t *testing.T) {
		accept(t, goJOSESign(t, jose.EdDSA, s.ed, "ed-1", claims, nil))
		accept(t, goJOSESign(t, jose.ES256, s.ec, "ec-1", claims, nil))
		accept(t, goJOSESign(t, jose.RS256, s.rs, "rs-1", claims, nil))
	})

	// The classic confusion: HS256 keyed with the public key's bytes, in
	// every form an attacker can get them.
	edPub := s.ed.Public().(ed25519.PublicKey)
	ecDER, _ := x509.MarshalPKIXPublicKey(&s.ec.PublicKey)
	rsDER, _ := x509.MarshalPKIXPublicKey(&s.rs.PublicKey)
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	_ = json.Unmarshal(s.jwks, &jwks)
	publicForms := map[string][][]byte{
		"ed-1": {edPub, readPEM(t, "ed25519.pub.pem"), []byte(jwks.Keys[0]["x"])},
		"ec-1": {ecDER, readPEM(t, "p256.pub.pem"), []byte(jwks.Keys[1]["x"])},
		"rs-1": {rsDER, readPEM(t, "rsa2048.pub.pem"), s.rs.N.Bytes(), []byte(jwks.Keys[2]["n"])},
	}
	for kid, forms := range publicForms {
		for i, secret := range forms {
			t.Run("HS256 keyed with public key "+kid+" form "+string(rune('a'+i)), func(t *testing.T) {
				refuse(t, goJOSESign(t, jose.HS256, secret, kid, claims, nil))
			})
		}
	}

	payload := strings.Split(goJOSESign(t, jose.EdDSA, s.ed, "ed-1", claims, nil), ".")[1]
	none := func(header string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + payload + "."
	}
	withJKU := (&jose.SignerOptions{}).WithHeader("jku", "https://evil.example.test/jwks.json")
	withX5U := (&jose.SignerOptions{}).WithHeader("x5u", "https://evil.example.test/cert.pem")
	forged := map[string]string{
		"alg none":                        none(`{"alg":"none","kid":"ed-1","typ":"JWT"}`),
		"alg none, lower case":            none(`{"alg":"None","kid":"ed-1","typ":"JWT"}`),
		"no kid":                          goJOSESign(t, jose.EdDSA, s.ed, "", claims, nil),
		"unknown kid":                     goJOSESign(t, jose.EdDSA, s.other, "nope", claims, nil),
		"attacker's key, kid of ours":     goJOSESign(t, jose.EdDSA, s.other, "ed-1", claims, nil),
		"our EdDSA key, kid of ES256 key": goJOSESign(t, jose.EdDSA, s.ed, "ec-1", claims, nil),
		"ES256 token, kid of EdDSA key":   goJOSESign(t, jose.ES256, s.ec, "ed-1", claims, nil),
		"RS256 token, kid of ES256 key":   goJOSESign(t, jose.RS256, s.rs, "ec-1", claims, nil),
		"PS256 with our RSA key":          goJOSESign(t, jose.PS256, s.rs, "rs-1", claims, nil),
		"jku to the attacker's JWKS":      goJOSESign(t, jose.EdDSA, s.other, "ed-1", claims, withJKU),
		"x5u to the attacker's cert":      goJOSESign(t, jose.EdDSA, s.other, "ed-1", claims, withX5U),
		"embedded jwk of the attacker":    goJOSESign(t, jose.EdDSA, s.other, "ed-1", claims, &jose.SignerOptions{EmbedJWK: true}),
		"embedded jwk, no kid":            goJOSESign(t, jose.EdDSA, s.other, "", claims, &jose.SignerOptions{EmbedJWK: true}),
		"crit header not understood":      goJOSESign(t, jose.EdDSA, s.ed, "ed-1", claims, (&jose.SignerOptions{}).WithHeader("exp", 1).WithCritical("exp")),
	}
	for name, tok := range forged {
		t.Run(name, func(t *testing.T) { refuse(t, tok) })
	}

	// With a real key, a jku header is ignored, not followed: the token
	// verifies with the key its kid names, and nothing is fetched.
	t.Run("jku ignored on a genuine token", func(t *testing.T) {
		accept(t, goJOSESign(t, jose.EdDSA, s.ed, "ed-1", claims, withJKU))
	})
}
