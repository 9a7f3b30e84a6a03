package jose_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse/auth/internal/jose"
	"github.com/golang-jwt/jwt/v5"
)

var proofAlgs = []string{jose.ES256, jose.EdDSA, jose.RS256}

func validProof(t testing.TB) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := jose.PublicJWK(k.Public())
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"htm": "GET", "htu": "https://a.example/x", "iat": 1795780800, "jti": "j-1"})
	tok.Header = map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}
	s, err := tok.SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseProofRepeatedMembers(t *testing.T) {
	p := validProof(t)
	if _, err := jose.ParseProof(p, proofAlgs); err != nil {
		t.Fatalf("valid proof: %v", err)
	}
	parts := strings.Split(p, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]any
	_ = json.Unmarshal(hb, &h)
	// A header naming "typ" twice reads two ways; refused before the
	// signature is even looked at.
	dup := strings.Replace(string(hb), `"typ":"dpop+jwt"`, `"typ":"dpop+jwt","typ":"JWT"`, 1)
	bad := base64.RawURLEncoding.EncodeToString([]byte(dup)) + "." + parts[1] + "." + parts[2]
	if _, err := jose.ParseProof(bad, proofAlgs); err == nil {
		t.Error("a header with a repeated member was accepted")
	}
	if _, err := jose.ParseProof(p, []string{jose.EdDSA}); err == nil {
		t.Error("an ES256 proof was accepted where only EdDSA is")
	}
}

func TestParsePublicJWK(t *testing.T) {
	for name, raw := range map[string]string{
		"symmetric":    `{"kty":"oct","k":"c2VjcmV0"}`,
		"private EC":   `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}`,
		"P-384":        `{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}`,
		"off curve":    `{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`,
		"not object":   `"EC"`,
		"repeated kty": `{"kty":"EC","kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
	} {
		if _, err := jose.ParsePublicJWK([]byte(raw)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := jose.ParsePublicJWK([]byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`)); err != nil {
		t.Errorf("RFC 8037 public key: %v", err)
	}
}

// FuzzDPoPProof feeds the proof parser anything: it never panics, and a
// proof it accepts has every member the checks that follow rely on.
func FuzzDPoPProof(f *testing.F) {
	f.Add(validProof(f))
	f.Add("e30.e30.")
	f.Add("eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6Im5vbmUifQ.e30.")
	f.Add(strings.Repeat("a.", 3))
	f.Fuzz(func(t *testing.T, proof string) {
		p, err := jose.ParseProof(proof, proofAlgs)
		if err != nil {
			if p != nil {
				t.Fatal("a proof and an error")
			}
			return
		}
		if len(p.JKT) != 43 || p.HTM == "" || p.HTU == "" || p.JTI == "" || p.IssuedAt.IsZero() && p.IssuedAt.Unix() != 0 {
			t.Fatalf("accepted proof lacks members: %+v", p)
		}
		if p.Alg != jose.ES256 && p.Alg != jose.EdDSA && p.Alg != jose.RS256 {
			t.Fatalf("accepted alg %q", p.Alg)
		}
	})
}
