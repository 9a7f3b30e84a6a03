package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/golang-jwt/jwt/v5"
)

func TestNewRejectsBadKeys(t *testing.T) {
	ed := privateKey(t, "ed25519.pem").(ed25519.PrivateKey)
	p384 := privateKey(t, "p384.pem").(*ecdsa.PrivateKey)
	rsa1024 := privateKey(t, "rsa1024.pem").(*rsa.PrivateKey)
	good := auth.EdDSAKey("ed-1", ed)
	badSeed := append(ed25519.PrivateKey(nil), ed...)
	badSeed[40] ^= 1 // the public half no longer matches the seed
	tests := []struct {
		name string
		opts []auth.Option
		want error
	}{
		{"no signing key", nil, auth.ErrWeakSecret},
		{"short HMAC secret", []auth.Option{auth.WithSigningKey(auth.HS256Key("k", []byte("short")))}, auth.ErrWeakSecret},
		{"placeholder HMAC secret", []auth.Option{auth.WithSigningKey(auth.HS256Key("k", []byte("your-256-bit-secret")))}, auth.ErrWeakSecret},
		{"weak verification secret", []auth.Option{auth.WithSigningKey(good), auth.WithVerificationKeys(auth.HS256Key("old", []byte(strings.Repeat("x", 40))))}, auth.ErrWeakSecret},
		{"empty kid", []auth.Option{auth.WithSigningKey(auth.EdDSAKey("", ed))}, auth.ErrInvalidKey},
		{"kid with a space", []auth.Option{auth.WithSigningKey(auth.EdDSAKey("a b", ed))}, auth.ErrInvalidKey},
		{"kid too long", []auth.Option{auth.WithSigningKey(auth.EdDSAKey(strings.Repeat("k", 129), ed))}, auth.ErrInvalidKey},
		{"zero Key", []auth.Option{auth.WithSigningKey(auth.Key{})}, auth.ErrInvalidKey},
		{"zero verification Key", []auth.Option{auth.WithSigningKey(good), auth.WithVerificationKeys(auth.Key{})}, auth.ErrInvalidKey},
		{"P-384 key for ES256", []auth.Option{auth.WithSigningKey(auth.ES256Key("ec", p384))}, auth.ErrInvalidKey},
		{"P-384 public key", []auth.Option{auth.WithSigningKey(good), auth.WithVerificationKeys(auth.ES256PublicKey("ec", &p384.PublicKey))}, auth.ErrInvalidKey},
		{"1024-bit RSA", []auth.Option{auth.WithSigningKey(auth.RS256Key("rs", rsa1024))}, auth.ErrInvalidKey},
		{"1024-bit RSA public", []auth.Option{auth.WithSigningKey(good), auth.WithVerificationKeys(auth.RS256PublicKey("rs", &rsa1024.PublicKey))}, auth.ErrInvalidKey},
		{"nil ECDSA key", []auth.Option{auth.WithSigningKey(auth.ES256Key("ec", nil))}, auth.ErrInvalidKey},
		{"nil RSA key", []auth.Option{auth.WithSigningKey(auth.RS256Key("rs", nil))}, auth.ErrInvalidKey},
		{"nil RSA public key", []auth.Option{auth.WithSigningKey(good), auth.WithVerificationKeys(auth.RS256PublicKey("rs", nil))}, auth.ErrInvalidKey},
		{"short Ed25519 key", []auth.Option{auth.WithSigningKey(auth.EdDSAKey("ed", ed[:10]))}, auth.ErrInvalidKey},
		{"inconsistent Ed25519 key", []auth.Option{auth.WithSigningKey(auth.EdDSAKey("ed", badSeed))}, auth.ErrInvalidKey},
		{"short Ed25519 public key", []auth.Option{auth.WithSigningKey(good), auth.WithVerificationKeys(auth.EdDSAPublicKey("ed", []byte{1, 2, 3}))}, auth.ErrInvalidKey},
		{"public key as signing key", []auth.Option{auth.WithSigningKey(auth.EdDSAPublicKey("ed", ed.Public().(ed25519.PublicKey)))}, auth.ErrInvalidKey},
		{"duplicate kid", []auth.Option{auth.WithSigningKey(good), auth.WithVerificationKeys(auth.HS256Key("ed-1", testSecret))}, auth.ErrInvalidKey},
		{"duplicate verification kid", []auth.Option{auth.WithSigningKey(good), auth.WithVerificationKeys(auth.HS256Key("old", testSecret), auth.HS256Key("", testSecret), auth.HS256Key("old", testSecret))}, auth.ErrInvalidKey},
		{"two signing keys", []auth.Option{auth.WithSecret(testSecret), auth.WithSigningKey(good)}, auth.ErrInvalidKey},
		{"PEM garbage", []auth.Option{auth.WithSigningKey(auth.PEMKey("k", []byte("not pem")))}, auth.ErrInvalidKey},
		{"PEM with two keys", []auth.Option{auth.WithSigningKey(auth.PEMKey("k", append(readPEM(t, "ed25519.pem"), readPEM(t, "p256.pem")...)))}, auth.ErrInvalidKey},
		{"PEM P-384", []auth.Option{auth.WithSigningKey(auth.PEMKey("k", readPEM(t, "p384.pem")))}, auth.ErrInvalidKey},
		{"PEM 1024-bit RSA", []auth.Option{auth.WithSigningKey(auth.PEMKey("k", readPEM(t, "rsa1024.pem")))}, auth.ErrInvalidKey},
		{"PEM public key as signing key", []auth.Option{auth.WithSigningKey(auth.PEMKey("k", readPEM(t, "ed25519.pub.pem")))}, auth.ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := auth.New(memstore.New(), tc.opts...)
			if err == nil || a != nil {
				t.Fatal("New succeeded, want an error")
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("New error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPEMKeys(t *testing.T) {
	tests := []struct{ file, alg string }{
		{"ed25519.pem", "EdDSA"}, {"p256.pem", "ES256"}, {"rsa2048.pem", "RS256"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			priv := auth.PEMKey("sign", readPEM(t, tc.file))
			pub := auth.PEMKey("old", readPEM(t, strings.TrimSuffix(tc.file, ".pem")+".pub.pem"))
			if priv.Algorithm() != tc.alg || pub.Algorithm() != tc.alg || priv.KID() != "sign" {
				t.Fatalf("algorithms %q, %q; kid %q", priv.Algorithm(), pub.Algorithm(), priv.KID())
			}
			if _, err := auth.New(memstore.New(), auth.WithSigningKey(priv), auth.WithVerificationKeys(pub)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSecretKeyID(t *testing.T) {
	kid := auth.HS256Key("", testSecret).KID()
	if kid != auth.HS256Key("", append([]byte(nil), testSecret...)).KID() {
		t.Fatal("the derived key ID is not stable")
	}
	if len(kid) != 16 {
		t.Fatalf("kid %q: want 16 hex digits", kid)
	}
	if _, err := hex.DecodeString(kid); err != nil {
		t.Fatalf("kid %q is not hex", kid)
	}
	if kid == auth.HS256Key("", []byte("a-completely-different-secret-of-32-bytes")).KID() {
		t.Fatal("two secrets share a key ID")
	}
	for _, enc := range []string{string(testSecret), hex.EncodeToString(testSecret), base64.RawURLEncoding.EncodeToString(testSecret)} {
		if strings.Contains(enc, kid) || strings.Contains(kid, enc[:8]) {
			t.Fatalf("kid %q shows the secret", kid)
		}
	}
	// Instances sharing the secret issue tokens with that ID.
	f := newFixture(t)
	f.register(t, "ivy", "password-1")
	pair := f.login(t, "ivy", "password-1")
	if got := headerOf(t, pair.AccessToken)["kid"]; got != kid {
		t.Fatalf("token kid = %v, want %q", got, kid)
	}
}

// headerOf decodes a token's header without verifying anything.
func headerOf(t testing.TB, token string) map[string]any {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Header
}

func TestTokensPerAlgorithm(t *testing.T) {
	for _, k := range testKeys(t) {
		t.Run(k.alg, func(t *testing.T) {
			f := &fixture{store: memstore.New(), clock: newClock()}
			f.a = f.newInstance(t, auth.WithSigningKey(k.key))
			ctx := context.Background()
			u := f.register(t, "joan", "password-1")
			pair := f.login(t, "joan", "password-1")
			for _, tok := range []string{pair.AccessToken, pair.RefreshToken} {
				h := headerOf(t, tok)
				if h["alg"] != k.alg || h["kid"] != k.key.KID() {
					t.Fatalf("header = %v", h)
				}
			}
			got, err := f.a.VerifyAccessToken(ctx, pair.AccessToken)
			if err != nil || got.ID != u.ID {
				t.Fatalf("VerifyAccessToken = %v, %v", got, err)
			}
			if _, err := f.a.VerifyAccessToken(ctx, pair.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("refresh token accepted as access token: %v", err)
			}
			if _, err := f.a.Refresh(ctx, pair.RefreshToken); err != nil {
				t.Fatalf("Refresh: %v", err)
			}
		})
	}
}

// newInstance returns another Authenticator over the fixture's store and
// clock, as after a deploy. The signing key is given in opts.
func (f *fixture) newInstance(t testing.TB, opts ...auth.Option) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(f.store, append([]auth.Option{auth.WithInsecureFastHashingForTests(), auth.WithClock(f.clock.Now)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

// TestKeyRotation follows the README's runbook from key A to key B across
// instances that share one store: tokens of both keys work throughout, and
// A's stop working once A is removed.
func TestKeyRotation(t *testing.T) {
	keys := testKeys(t)
	for i := range keys {
		from, to := keys[i], keys[(i+1)%len(keys)]
		t.Run(from.alg+" to "+to.alg, func(t *testing.T) {
			ctx := context.Background()
			f := &fixture{store: memstore.New(), clock: newClock()}
			// Before: every instance signs with A.
			before := f.newInstance(t, auth.WithSigningKey(from.key))
			if _, err := before.Register(ctx, "kim", "password-1"); err != nil {
				t.Fatal(err)
			}
			old, err := before.Login(ctx, "kim", "password-1")
			if err != nil {
				t.Fatal(err)
			}
			// Deploy 1: B is published for verification; A still signs.
			step1 := f.newInstance(t, auth.WithSigningKey(from.key), auth.WithVerificationKeys(to.public))
			// Deploy 2: B signs; A only verifies. Instances of deploy 1
			// still run during the rollout.
			step2 := f.newInstance(t, auth.WithSigningKey(to.key), auth.WithVerificationKeys(from.public))
			for name, a := range map[string]*auth.Authenticator{"step 1": step1, "step 2": step2} {
				if _, err := a.VerifyAccessToken(ctx, old.AccessToken); err != nil {
					t.Fatalf("%s: token signed with A: %v", name, err)
				}
			}
			fresh, err := step2.Refresh(ctx, old.RefreshToken)
			if err != nil {
				t.Fatalf("step 2 refreshing A's token: %v", err)
			}
			if h := headerOf(t, fresh.AccessToken); h["kid"] != to.key.KID() || h["alg"] != to.alg {
				t.Fatalf("step 2 signed with %v", h)
			}
			for name, a := range map[string]*auth.Authenticator{"step 1": step1, "step 2": step2} {
				if _, err := a.VerifyAccessToken(ctx, fresh.AccessToken); err != nil {
					t.Fatalf("%s: token signed with B: %v", name, err)
				}
			}
			if _, err := step1.Refresh(ctx, fresh.RefreshToken); err != nil {
				t.Fatalf("step 1 refreshing B's token: %v", err)
			}
			// Deploy 3, after the refresh TTL: A is gone, and so are its tokens.
			step3 := f.newInstance(t, auth.WithSigningKey(to.key))
			if _, err := step3.VerifyAccessToken(ctx, fresh.AccessToken); err != nil {
				t.Fatalf("step 3: token signed with B: %v", err)
			}
			if _, err := step3.VerifyAccessToken(ctx, old.AccessToken); !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("step 3: token signed with removed key A: %v", err)
			}
			if _, err := step3.Refresh(ctx, old.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("step 3: refresh token signed with removed key A: %v", err)
			}
			r := do(step3.Handler(), http.MethodGet, "/auth/me", "", "", bearer(old.AccessToken)...)
			wantError(t, r, http.StatusUnauthorized, "Could not validate credentials", "invalid_token")
			if got := r.header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
				t.Fatalf("WWW-Authenticate = %q", got)
			}
		})
	}
}

func TestJWKSEndpoint(t *testing.T) {
	keys := testKeys(t)
	ed, ec, rs := keys[1], keys[2], keys[3]
	f := newFixture(t)
	a := f.newInstance(t, auth.WithSigningKey(ed.key), auth.WithVerificationKeys(ec.public, rs.key, auth.HS256Key("hs-old", testSecret)))
	r := do(a.Handler(), http.MethodGet, "/auth/.well-known/jwks.json", "", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "public, max-age=600" {
		t.Errorf("Cache-Control = %q", cc)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &set); err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	edPub := ed.private.Public().(ed25519.PublicKey)
	ecPub, _ := ec.private.Public().(*ecdsa.PublicKey).Bytes()
	rsPub := rs.private.Public().(*rsa.PublicKey)
	want := []map[string]string{
		{"kty": "OKP", "crv": "Ed25519", "x": b64(edPub), "kid": "ed-1", "alg": "EdDSA", "use": "sig"},
		{"kty": "EC", "crv": "P-256", "x": b64(ecPub[1:33]), "y": b64(ecPub[33:]), "kid": "ec-1", "alg": "ES256", "use": "sig"},
		{"kty": "RSA", "n": b64(rsPub.N.Bytes()), "e": "AQAB", "kid": "rs-1", "alg": "RS256", "use": "sig"},
	}
	if len(set.Keys) != len(want) {
		t.Fatalf("JWKS has %d keys, want %d: %s", len(set.Keys), len(want), r.body)
	}
	for i := range want {
		if len(set.Keys[i]) != len(want[i]) {
			t.Errorf("key %d = %v, want %v", i, set.Keys[i], want[i])
		}
		for k, v := range want[i] {
			if set.Keys[i][k] != v {
				t.Errorf("key %d: %s = %q, want %q", i, k, set.Keys[i][k], v)
			}
		}
	}
	r = do(a.Handler(), http.MethodPost, "/auth/.well-known/jwks.json", "", "")
	wantError(t, r, http.StatusMethodNotAllowed, "Method Not Allowed", "method_not_allowed")
	if r.header.Get("Allow") != http.MethodGet {
		t.Errorf("Allow = %q", r.header.Get("Allow"))
	}
}

func TestJWKSAbsentWithoutAsymmetricKeys(t *testing.T) {
	f := newFixture(t, auth.WithVerificationKeys(auth.HS256Key("hs-old", []byte("a-retired-hs256-secret-for-the-jwks-test-4f1c"))))
	r := do(f.a.Handler(), http.MethodGet, "/auth/.well-known/jwks.json", "", "")
	wantError(t, r, http.StatusNotFound, "Not Found", "not_found")
}

// TestJWKSNeverLeaksSecrets builds the JWKS from private keys and HMAC
// secrets and checks that no private member and no secret byte string
// appears in it, in any of the encodings a leak could take.
func TestJWKSNeverLeaksSecrets(t *testing.T) {
	keys := testKeys(t)
	hsSecret := []byte("hmac-secret-that-must-never-be-published")
	a := newFixture(t).newInstance(t,
		auth.WithSigningKey(keys[3].key),
		auth.WithVerificationKeys(keys[1].key, keys[2].key, auth.HS256Key("hs", hsSecret), auth.HS256Key("", testSecret)))
	r := do(a.Handler(), http.MethodGet, "/auth/.well-known/jwks.json", "", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	var doc any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	private := map[string]bool{"d": true, "p": true, "q": true, "dp": true, "dq": true, "qi": true, "oth": true, "k": true}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, m := range v {
				if private[k] {
					t.Errorf("JWKS has private member %q", k)
				}
				if k == "kty" && m == "oct" {
					t.Error("JWKS has a symmetric key")
				}
				walk(m)
			}
		case []any:
			for _, m := range v {
				walk(m)
			}
		}
	}
	walk(doc)

	secrets := [][]byte{hsSecret, testSecret,
		keys[1].private.(ed25519.PrivateKey).Seed(),
		mustBytes(t, keys[2].private.(*ecdsa.PrivateKey)),
		keys[3].private.(*rsa.PrivateKey).D.Bytes(),
		keys[3].private.(*rsa.PrivateKey).Primes[0].Bytes(),
	}
	for _, s := range secrets {
		for _, enc := range []string{string(s), hex.EncodeToString(s), base64.StdEncoding.EncodeToString(s),
			base64.RawStdEncoding.EncodeToString(s), base64.URLEncoding.EncodeToString(s), base64.RawURLEncoding.EncodeToString(s)} {
			if strings.Contains(string(r.body), enc[:min(len(enc), 24)]) {
				t.Errorf("JWKS contains secret material %q", enc[:min(len(enc), 24)])
			}
		}
	}
}

func mustBytes(t testing.TB, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	b, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeysDoNotPrintSecrets prints keys and an Authenticator the ways a
// careless log line would, and looks for the secret material.
func TestKeysDoNotPrintSecrets(t *testing.T) {
	ed := privateKey(t, "ed25519.pem").(ed25519.PrivateKey)
	secret := []byte("hmac-secret-that-must-never-be-printed")
	hs := auth.HS256Key("hs", secret)
	edKey := auth.EdDSAKey("ed", ed)
	a := newFixture(t).newInstance(t, auth.WithSigningKey(hs), auth.WithVerificationKeys(edKey))
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{hs, edKey, a, *a} {
			out := fmt.Sprintf(format, v)
			for _, leak := range []string{string(secret), fmt.Sprint([]byte(secret)[:8]), fmt.Sprintf("%#v", []byte(secret)[:4]),
				fmt.Sprint([]byte(ed.Seed())[:8]), hex.EncodeToString(ed.Seed())} {
				if strings.Contains(out, strings.Trim(leak, "[]{}")) {
					t.Fatalf("Sprintf(%q, %T) shows secret material: %s", format, v, out)
				}
			}
		}
	}
}
