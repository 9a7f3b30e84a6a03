package verifier_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/verifier"
)

// FuzzKeysFromJWKS feeds arbitrary documents to the JWKS parser: no panic,
// and every key it returns is usable by New.
func FuzzKeysFromJWKS(f *testing.F) {
	ss := signers(f)
	g := newGatehouse(f, newClock(), memstore.New(), auth.WithSigningKey(ss[0].key), auth.WithVerificationKeys(ss[1].key, ss[2].key))
	f.Add(jwksOf(f, g.a))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":"","kid":"k","alg":"ES256"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"k","alg":"RS256"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		keys, err := verifier.KeysFromJWKS(doc)
		if err != nil {
			if !errors.Is(err, verifier.ErrInvalidKey) {
				t.Fatalf("error %v does not wrap ErrInvalidKey", err)
			}
			return
		}
		if len(keys) == 0 {
			return
		}
		if _, err := verifier.New(verifier.WithKeys(keys...)); err != nil {
			t.Fatalf("keys from KeysFromJWKS refused by New: %v", err)
		}
	})
}

// FuzzVerify feeds arbitrary tokens to a verifier: a token passes only if
// its Ed25519 signature checks out with the one key of the set, verified
// here independently, and its payload reads only one way (see
// unambiguous). (Fuzz workers each issue their own tokens, so "only the
// token issued in this process" would not hold.)
func FuzzVerify(f *testing.F) {
	ss := signers(f)
	clock := newClock()
	g := newGatehouse(f, clock, memstore.New(), auth.WithSigningKey(ss[0].key))
	pair := g.login(f)
	v, err := verifier.New(verifier.WithKeys(ss[0].verifier), verifier.WithClock(clock.Now))
	if err != nil {
		f.Fatal(err)
	}
	pub := privateKey(f, "ed25519.pem").Public().(ed25519.PublicKey)
	f.Add(pair.AccessToken)
	f.Add(pair.RefreshToken)
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("a.b.c")
	for _, c := range payloadCases(clock.Now()) {
		f.Add(signEd25519(f, c.payload))
	}
	f.Fuzz(func(t *testing.T, tok string) {
		_, err := v.Verify(context.Background(), tok)
		if err == nil && !signedBy(pub, tok) {
			t.Fatalf("accepted a token that the key never signed: %q", tok)
		}
		if err == nil && !unambiguous(tok) {
			t.Fatalf("accepted a token whose payload reads two ways: %q", tok)
		}
		if err != nil && !errors.Is(err, verifier.ErrInvalidToken) {
			t.Fatalf("unexpected error class: %v", err)
		}
	})
}

func signedBy(pub ed25519.PublicKey, tok string) bool {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	return err == nil && ed25519.Verify(pub, []byte(tok[:i]), sig)
}

// unambiguous reports whether tok's payload is a JSON object whose
// top-level keys are distinct and none a case variant of a claim the
// verifier reads (encoding/json would let it override the claim), and
// whose dates are JSON numbers. Written apart from the package's own check,
// with encoding/json's Decoder.
func unambiguous(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	d := json.NewDecoder(bytes.NewReader(p))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return false
		}
		key := t.(string)
		if seen[key] {
			return false
		}
		seen[key] = true
		for _, claim := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "type", "ver", "sid"} {
			if key != claim && strings.EqualFold(key, claim) {
				return false
			}
		}
		var v any
		if err := d.Decode(&v); err != nil {
			return false
		}
		if _, isNumber := v.(float64); !isNumber && (key == "exp" || key == "iat" || key == "nbf") {
			return false
		}
	}
	return true
}
