package auth_test

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/gatehouse/auth/internal/jose"
	"github.com/gatehouse/auth/internal/testutil"
	gojose "github.com/go-jose/go-jose/v4"
	gojosejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
)

// TestDPoPInteropGoJose: proofs made by go-jose, an independent JOSE
// implementation, bind tokens and are accepted at resources, for every
// algorithm; and the bound tokens verify in go-jose, which sees the same
// thumbprint in "cnf".
func TestDPoPInteropGoJose(t *testing.T) {
	for _, tc := range []struct {
		file string
		alg  gojose.SignatureAlgorithm
	}{{"p256.pem", gojose.ES256}, {"ed25519.pem", gojose.EdDSA}, {"rsa2048.pem", gojose.RS256}} {
		t.Run(string(tc.alg), func(t *testing.T) {
			f := newDPoPFixture(t)
			key := testutil.PrivateKey(t, tc.file)
			signer, err := gojose.NewSigner(gojose.SigningKey{Algorithm: tc.alg, Key: key},
				(&gojose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
			if err != nil {
				t.Fatal(err)
			}
			proof := func(method, u, ath string) string {
				claims := map[string]any{"htm": method, "htu": u, "iat": f.clock.Now().Unix(), "jti": uuid.NewString()}
				if ath != "" {
					claims["ath"] = ath
				}
				s, err := gojosejwt.Signed(signer).Claims(claims).Serialize()
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			req := loginRequest("alice", "password-1")
			req.Header.Set("DPoP", proof(http.MethodPost, loginURL, ""))
			res := serve(f.mux, req)
			if res.status != http.StatusOK {
				t.Fatalf("login with a go-jose proof: %d %s", res.status, res.body)
			}
			var p struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
			}
			if err := json.Unmarshal(res.body, &p); err != nil {
				t.Fatal(err)
			}
			jwk := gojose.JSONWebKey{Key: key.Public()}
			want, err := jwk.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if res := f.hello("DPoP", p.AccessToken, proof(http.MethodGet, helloURL, jose.TokenHash(p.AccessToken))); res.status != http.StatusOK {
				t.Fatalf("resource with a go-jose proof: %d %s", res.status, res.body)
			}

			// The token verifies in go-jose, with the thumbprint it computes.
			tok, err := gojosejwt.ParseSigned(p.AccessToken, []gojose.SignatureAlgorithm{gojose.HS256})
			if err != nil {
				t.Fatal(err)
			}
			var claims struct {
				Cnf struct {
					JKT string `json:"jkt"`
				} `json:"cnf"`
			}
			if err := tok.Claims(testSecret, &claims); err != nil {
				t.Fatalf("go-jose cannot verify the bound token: %v", err)
			}
			if claims.Cnf.JKT != base64.RawURLEncoding.EncodeToString(want) {
				t.Errorf("cnf.jkt = %q, go-jose's thumbprint %q", claims.Cnf.JKT, base64.RawURLEncoding.EncodeToString(want))
			}
		})
	}
}
