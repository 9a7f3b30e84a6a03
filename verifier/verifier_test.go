package verifier_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/verifier"
)

var testSecret = []byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-test-only")

func TestNewRejectsBadConfig(t *testing.T) {
	edPub := verifier.PEMKey("ed", readPEM(t, "ed25519.pub.pem"))
	p384 := privateKey(t, "p384.pem").(*ecdsa.PrivateKey)
	rsa1024 := privateKey(t, "rsa1024.pem").(*rsa.PrivateKey)
	tests := []struct {
		name string
		opts []verifier.Option
		want error
	}{
		{"no keys", nil, nil},
		{"URL and keys", []verifier.Option{verifier.WithJWKSURL("https://x.test/jwks.json"), verifier.WithKeys(edPub)}, nil},
		{"http URL", []verifier.Option{verifier.WithJWKSURL("http://login.example.test/jwks.json")}, nil},
		{"http private address", []verifier.Option{verifier.WithJWKSURL("http://10.0.0.1/jwks.json")}, nil},
		{"ftp URL", []verifier.Option{verifier.WithJWKSURL("ftp://x.test/jwks.json")}, nil},
		{"relative URL", []verifier.Option{verifier.WithJWKSURL("/auth/.well-known/jwks.json")}, nil},
		{"URL with credentials", []verifier.Option{verifier.WithJWKSURL("https://u:p@x.test/jwks.json")}, nil},
		{"leeway over a minute", []verifier.Option{verifier.WithKeys(edPub), verifier.WithLeeway(2 * time.Minute)}, nil},
		{"refetch interval zero", []verifier.Option{verifier.WithKeys(edPub), verifier.WithRefetchInterval(0)}, nil},
		{"nil client", []verifier.Option{verifier.WithKeys(edPub), verifier.WithHTTPClient(nil)}, nil},
		{"nil clock", []verifier.Option{verifier.WithKeys(edPub), verifier.WithClock(nil)}, nil},
		{"private PEM", []verifier.Option{verifier.WithKeys(verifier.PEMKey("ed", readPEM(t, "ed25519.pem")))}, verifier.ErrInvalidKey},
		{"P-384", []verifier.Option{verifier.WithKeys(verifier.ES256Key("ec", &p384.PublicKey))}, verifier.ErrInvalidKey},
		{"1024-bit RSA", []verifier.Option{verifier.WithKeys(verifier.RS256Key("rs", &rsa1024.PublicKey))}, verifier.ErrInvalidKey},
		{"short Ed25519", []verifier.Option{verifier.WithKeys(verifier.EdDSAKey("ed", make([]byte, 31)))}, verifier.ErrInvalidKey},
		{"empty kid", []verifier.Option{verifier.WithKeys(verifier.PEMKey("", readPEM(t, "ed25519.pub.pem")))}, verifier.ErrInvalidKey},
		{"duplicate kid", []verifier.Option{verifier.WithKeys(edPub, verifier.PEMKey("ed", readPEM(t, "p256.pub.pem")))}, verifier.ErrInvalidKey},
		{"zero Key", []verifier.Option{verifier.WithKeys(verifier.Key{})}, verifier.ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := verifier.New(tc.opts...)
			if err == nil || v != nil {
				t.Fatal("New succeeded, want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("New error = %v, want %v", err, tc.want)
			}
		})
	}
	for _, u := range []string{"https://login.example.test/auth/.well-known/jwks.json", "http://127.0.0.1:8080/jwks.json", "http://localhost/jwks.json", "http://[::1]/jwks.json"} {
		if _, err := verifier.New(verifier.WithJWKSURL(u)); err != nil {
			t.Errorf("New(%s): %v", u, err)
		}
	}
}

// signers are Gatehouse keys for each asymmetric algorithm, with the public
// keys a verifier gets.
func signers(t testing.TB) []struct {
	alg      string
	key      auth.Key
	verifier verifier.Key
} {
	ed := privateKey(t, "ed25519.pem").(ed25519.PrivateKey)
	ec := privateKey(t, "p256.pem").(*ecdsa.PrivateKey)
	rs := privateKey(t, "rsa2048.pem").(*rsa.PrivateKey)
	return []struct {
		alg      string
		key      auth.Key
		verifier verifier.Key
	}{
		{"EdDSA", auth.EdDSAKey("ed-1", ed), verifier.EdDSAKey("ed-1", ed.Public().(ed25519.PublicKey))},
		{"ES256", auth.ES256Key("ec-1", ec), verifier.ES256Key("ec-1", &ec.PublicKey)},
		{"RS256", auth.RS256Key("rs-1", rs), verifier.PEMKey("rs-1", readPEM(t, "rsa2048.pub.pem"))},
	}
}

func TestVerifyStaticKeys(t *testing.T) {
	for _, s := range signers(t) {
		t.Run(s.alg, func(t *testing.T) {
			clock := newClock()
			g := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(s.key))
			v, err := verifier.New(verifier.WithKeys(s.verifier), verifier.WithIssuer(issuer),
				verifier.WithAudience(audience), verifier.WithClock(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			pair := g.login(t)
			c, err := v.Verify(ctx, pair.AccessToken)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			now := clock.Now()
			if c.Subject != g.user.ID || c.TokenVersion != 1 || c.ID == "" || c.Issuer != issuer ||
				len(c.Audience) != 1 || c.Audience[0] != audience ||
				!c.IssuedAt.Equal(now.Truncate(time.Second)) || !c.ExpiresAt.Equal(now.Add(30*time.Minute).Truncate(time.Second)) {
				t.Fatalf("claims = %+v", c)
			}
			if _, err := v.Verify(ctx, pair.RefreshToken); !errors.Is(err, verifier.ErrInvalidToken) {
				t.Errorf("refresh token: %v", err)
			}
			clock.Advance(31 * time.Minute)
			if _, err := v.Verify(ctx, pair.AccessToken); !errors.Is(err, verifier.ErrInvalidToken) || !errors.Is(err, verifier.ErrTokenExpired) {
				t.Errorf("expired token: %v", err)
			}
		})
	}
}

func TestVerifyChecksIssuerAudienceAndLeeway(t *testing.T) {
	s := signers(t)[0]
	clock := newClock()
	g := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(s.key), auth.WithAccessTTL(time.Minute))
	token := g.login(t).AccessToken
	ctx := context.Background()
	tests := []struct {
		name string
		opts []verifier.Option
		ok   bool
	}{
		{"no issuer or audience required", nil, true},
		{"matching issuer and audience", []verifier.Option{verifier.WithIssuer(issuer), verifier.WithAudience(audience)}, true},
		{"other issuer", []verifier.Option{verifier.WithIssuer("https://evil.test")}, false},
		{"other audience", []verifier.Option{verifier.WithAudience("billing")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := verifier.New(append(tc.opts, verifier.WithKeys(s.verifier), verifier.WithClock(clock.Now))...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(ctx, token)
			if tc.ok != (err == nil) {
				t.Fatalf("Verify = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	// Expired by 3 seconds: accepted with the default 5-second leeway,
	// refused with none.
	clock.Advance(time.Minute + 3*time.Second)
	lenient, _ := verifier.New(verifier.WithKeys(s.verifier), verifier.WithClock(clock.Now))
	strict, _ := verifier.New(verifier.WithKeys(s.verifier), verifier.WithClock(clock.Now), verifier.WithLeeway(0))
	if _, err := lenient.Verify(ctx, token); err != nil {
		t.Errorf("within leeway: %v", err)
	}
	if _, err := strict.Verify(ctx, token); !errors.Is(err, verifier.ErrTokenExpired) {
		t.Errorf("without leeway: %v", err)
	}
}

func TestVerifyRefusesOtherKeys(t *testing.T) {
	ss := signers(t)
	clock := newClock()
	store := memstore.New()
	ctx := context.Background()
	v, err := verifier.New(verifier.WithKeys(ss[0].verifier, ss[1].verifier), verifier.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{
		"HS256 token":           newGatehouse(t, clock, store, auth.WithSecret(testSecret)).login(t).AccessToken,
		"HS256 token, same kid": newGatehouse(t, clock, store, auth.WithSigningKey(auth.HS256Key("ed-1", testSecret))).login(t).AccessToken,
		"key not in the set":    newGatehouse(t, clock, store, auth.WithSigningKey(ss[2].key)).login(t).AccessToken,
		"other key, same kid":   newGatehouse(t, clock, store, auth.WithSigningKey(auth.PEMKey("ed-1", readPEM(t, "ed25519-b.pem")))).login(t).AccessToken,
		"ES256 key, EdDSA kid":  newGatehouse(t, clock, store, auth.WithSigningKey(auth.PEMKey("ed-1", readPEM(t, "p256.pem")))).login(t).AccessToken,
	}
	for name, tok := range tokens {
		t.Run(name, func(t *testing.T) {
			if _, err := v.Verify(ctx, tok); !errors.Is(err, verifier.ErrInvalidToken) {
				t.Fatalf("Verify = %v, want ErrInvalidToken", err)
			}
		})
	}
}

func whoami() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := verifier.ClaimsFromContext(r.Context())
		if !ok {
			fmt.Fprint(w, "anonymous")
			return
		}
		fmt.Fprintf(w, "user %s v%d", c.Subject, c.TokenVersion)
	})
}

func serve(h http.Handler, authorization ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/orders", nil)
	for _, a := range authorization {
		req.Header.Add("Authorization", a)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestMiddleware(t *testing.T) {
	s := signers(t)[0]
	clock := newClock()
	g := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(s.key))
	token := g.login(t).AccessToken
	v, err := verifier.New(verifier.WithKeys(s.verifier), verifier.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	h := v.Middleware(whoami())
	if rec := serve(h, "Bearer "+token); rec.Code != http.StatusOK || rec.Body.String() != "user "+g.user.ID+" v1" {
		t.Fatalf("valid token: %d %q", rec.Code, rec.Body)
	}
	const (
		notAuthenticated = `{"detail":"Not authenticated","error":"invalid_request"}` + "\n"
		invalid          = `{"detail":"Could not validate credentials","error":"invalid_token"}` + "\n"
	)
	tests := []struct {
		name      string
		authz     []string
		body      string
		challenge string
	}{
		{"no header", nil, notAuthenticated, "Bearer"},
		{"basic scheme", []string{"Basic dTpw"}, notAuthenticated, "Bearer"},
		{"garbage", []string{"Bearer x.y.z"}, invalid, `Bearer error="invalid_token"`},
		{"empty token", []string{"Bearer "}, invalid, `Bearer error="invalid_token"`},
		{"two headers", []string{"Bearer " + token, "Bearer " + token}, invalid, `Bearer error="invalid_token"`},
		{"refresh token", []string{"Bearer " + g.login(t).RefreshToken}, invalid, `Bearer error="invalid_token"`},
		{"too long", []string{"Bearer " + strings.Repeat("a", 5000)}, invalid, `Bearer error="invalid_token"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, tc.authz...)
			if rec.Code != http.StatusUnauthorized || rec.Body.String() != tc.body {
				t.Fatalf("got %d %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}

	opt := v.OptionalMiddleware(whoami())
	if rec := serve(opt); rec.Code != http.StatusOK || rec.Body.String() != "anonymous" {
		t.Errorf("optional, no token: %d %q", rec.Code, rec.Body)
	}
	if rec := serve(opt, "Bearer "+token); rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "user ") {
		t.Errorf("optional, token: %d %q", rec.Code, rec.Body)
	}
	if rec := serve(opt, "Bearer bad"); rec.Code != http.StatusUnauthorized {
		t.Errorf("optional, bad token: %d", rec.Code)
	}

	var seen error
	custom, _ := verifier.New(verifier.WithKeys(s.verifier), verifier.WithClock(clock.Now),
		verifier.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			seen = err
			verifier.WriteError(w, r, err)
		}))
	if rec := serve(custom.Middleware(whoami()), "Bearer bad"); rec.Code != http.StatusUnauthorized || !errors.Is(seen, verifier.ErrInvalidToken) {
		t.Errorf("custom error handler: %d, saw %v", rec.Code, seen)
	}
}

func TestClaimsFromContextEmpty(t *testing.T) {
	if c, ok := verifier.ClaimsFromContext(context.Background()); ok || c != nil {
		t.Fatal("ClaimsFromContext on an empty context reported claims")
	}
}

func TestKeysFromJWKS(t *testing.T) {
	ss := signers(t)
	clock := newClock()
	store := memstore.New()
	g := newGatehouse(t, clock, store, auth.WithSigningKey(ss[0].key), auth.WithVerificationKeys(ss[1].key, ss[2].key))
	keys, err := verifier.KeysFromJWKS(jwksOf(t, g.a))
	if err != nil || len(keys) != 3 {
		t.Fatalf("KeysFromJWKS = %d keys, %v", len(keys), err)
	}
	for i, want := range []string{"EdDSA", "ES256", "RS256"} {
		if keys[i].Algorithm() != want || keys[i].KID() != ss[i].key.KID() {
			t.Errorf("key %d: %s %s", i, keys[i].KID(), keys[i].Algorithm())
		}
	}
	v, err := verifier.New(verifier.WithKeys(keys...), verifier.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		tok := newGatehouse(t, clock, store, auth.WithSigningKey(s.key)).login(t).AccessToken
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("%s token: %v", s.alg, err)
		}
	}

	var set map[string][]map[string]any
	_ = json.Unmarshal(jwksOf(t, g.a), &set)
	ed, ec, rs := set["keys"][0], set["keys"][1], set["keys"][2]
	with := func(base map[string]any, kv ...any) []byte {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		b, _ := json.Marshal(map[string]any{"keys": []any{m}})
		return b
	}
	tests := []struct {
		name  string
		doc   []byte
		count int // -1: error
	}{
		{"not JSON", []byte("nope"), -1},
		{"no keys member", []byte(`{"kid":"x"}`), -1},
		{"keys not an array", []byte(`{"keys":{}}`), -1},
		{"empty set", []byte(`{"keys":[]}`), 0},
		{"encryption key skipped", with(ed, "use", "enc"), 0},
		{"no alg skipped", with(ed, "alg", nil), 0},
		{"other alg skipped", with(rs, "alg", "PS256"), 0},
		{"symmetric key skipped", []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h","alg":"HS256"}]}`), 0},
		{"private member ignored", with(ed, "d", "AAAA"), 1},
		{"EdDSA alg on an EC key", with(ec, "alg", "EdDSA"), -1},
		{"ES256 alg on a P-384 key", with(ec, "crv", "P-384"), -1},
		{"RS256 alg on an OKP key", with(ed, "alg", "RS256"), -1},
		{"EC point off the curve", with(ec, "y", ec["x"]), -1},
		{"short x", with(ed, "x", "AAAA"), -1},
		{"padded base64", with(ed, "x", ed["x"].(string)+"="), -1},
		{"small RSA modulus", with(rs, "n", "AQAB"), -1},
		{"even RSA exponent", with(rs, "e", "AQAA"), -1},
		{"empty kid", with(ed, "kid", ""), -1},
		{"duplicate kid", []byte(fmt.Sprintf(`{"keys":[%s,%s]}`, mustJSON(ed), mustJSON(ed))), -1},
		{"too many keys", []byte(`{"keys":[` + strings.Repeat(`{"kty":"oct"},`, 100) + `{"kty":"oct"}]}`), -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := verifier.KeysFromJWKS(tc.doc)
			if tc.count < 0 {
				if !errors.Is(err, verifier.ErrInvalidKey) {
					t.Fatalf("KeysFromJWKS = %d keys, %v; want ErrInvalidKey", len(keys), err)
				}
				return
			}
			if err != nil || len(keys) != tc.count {
				t.Fatalf("KeysFromJWKS = %d keys, %v; want %d", len(keys), err, tc.count)
			}
		})
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestConcurrentVerifyStatic(t *testing.T) {
	s := signers(t)[1]
	clock := newClock()
	token := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(s.key)).login(t).AccessToken
	v, _ := verifier.New(verifier.WithKeys(s.verifier), verifier.WithClock(clock.Now))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), token); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// signEd25519 signs payload as it is with the "ed-1" key of signers, so
// that a test can hand the verifier a correctly signed token holding what
// Gatehouse would never write.
func signEd25519(t testing.TB, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"EdDSA","kid":"ed-1","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload))
	priv := privateKey(t, "ed25519.pem").(ed25519.PrivateKey)
	return input + "." + enc.EncodeToString(ed25519.Sign(priv, []byte(input)))
}

// accessPayload returns the claims of a valid access token for user "u1"
// and audience aud, issued at now, with "exp" and "iat" as JSON text when
// given, followed by extra members (each starting with a comma).
func accessPayload(now time.Time, aud, exp, iat, extra string) string {
	if exp == "" {
		exp = fmt.Sprint(now.Add(30 * time.Minute).Unix())
	}
	if iat == "" {
		iat = fmt.Sprint(now.Unix())
	}
	return fmt.Sprintf(`{"iss":%q,"sub":"u1","aud":[%q],"exp":%s,"iat":%s,"jti":"j1","type":"access","ver":1%s}`,
		issuer, aud, exp, iat, extra)
}

// payloadCase is a token payload and whether the verifier must accept it.
type payloadCase struct {
	name    string
	payload string
	ok      bool
}

// payloadCases are payloads signed correctly, for a verifier of issuer and
// audience at now: a few good ones, and ones that encoding/json could read
// two ways (a claim repeated, or again in another case, which overrides
// it) or whose dates are not JSON numbers.
func payloadCases(now time.Time) []payloadCase {
	far := fmt.Sprint(now.Add(100 * 365 * 24 * time.Hour).Unix())
	return []payloadCase{
		{"plain", accessPayload(now, audience, "", "", ""), true},
		{"application claims", accessPayload(now, audience, "", "", `,"roles":["admin"],"subject":"x","app":{"SUB":"u2","sub":"u3"}`), true},
		{"fractional exp", accessPayload(now, audience, far+".25", "", ""), true},

		{"SUB with another user", accessPayload(now, audience, "", "", `,"SUB":"u2"`), false},
		{"Sub with another user", accessPayload(now, audience, "", "", `,"Sub":"u2"`), false},
		{"long s folds onto sub", accessPayload(now, audience, "", "", `,"ſub":"u2"`), false},
		{"Exp far in the future", accessPayload(now, audience, "", "", `,"Exp":`+far), false},
		{"Type access on a refresh token", strings.Replace(accessPayload(now, audience, "", "", `,"Type":"access"`), `"type":"access"`, `"type":"refresh"`, 1), false},
		{"Aud for this service on another's token", accessPayload(now, "billing", "", "", `,"Aud":"`+audience+`"`), false},
		{"AUD for this service on another's token", accessPayload(now, "billing", "", "", `,"AUD":["`+audience+`"]`), false},
		{"VER", accessPayload(now, audience, "", "", `,"VER":7`), false},
		{"Iss", accessPayload(now, audience, "", "", `,"Iss":"`+issuer+`"`), false},
		{"duplicate sub", accessPayload(now, audience, "", "", `,"sub":"u2"`), false},
		{"duplicate aud", accessPayload(now, "billing", "", "", `,"aud":"`+audience+`"`), false},
		{"duplicate application claim", accessPayload(now, audience, "", "", `,"roles":[],"roles":["admin"]`), false},
		{"exp as a string", accessPayload(now, audience, `"9999999999"`, "", ""), false},
		{"iat as a string", accessPayload(now, audience, "", `"`+fmt.Sprint(now.Unix())+`"`, ""), false},
		{"nbf as a string", accessPayload(now, audience, "", "", `,"nbf":"`+fmt.Sprint(now.Unix())+`"`), false},
		{"iat null", accessPayload(now, audience, "", "null", ""), false},
	}
}

// TestVerifyRefusesAmbiguousPayloads: a correctly signed token whose
// payload could be read two ways, or whose dates are not JSON numbers, is
// invalid.
func TestVerifyRefusesAmbiguousPayloads(t *testing.T) {
	s := signers(t)[0]
	clock := newClock()
	v, err := verifier.New(verifier.WithKeys(s.verifier), verifier.WithIssuer(issuer),
		verifier.WithAudience(audience), verifier.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range payloadCases(clock.Now()) {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), signEd25519(t, tc.payload))
			if tc.ok {
				if err != nil || c.Subject != "u1" {
					t.Fatalf("Verify(%s) = %+v, %v; want success", tc.payload, c, err)
				}
				return
			}
			if !errors.Is(err, verifier.ErrInvalidToken) {
				t.Fatalf("Verify(%s) = %+v, %v; want ErrInvalidToken", tc.payload, c, err)
			}
		})
	}
}
