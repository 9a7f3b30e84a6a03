package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/testutil"
)

var (
	readPEM    = testutil.ReadPEM
	privateKey = testutil.PrivateKey
)

// testKey is one algorithm's key pair for table tests.
type testKey struct {
	alg     string
	private crypto.Signer // nil for HS256
	key     auth.Key      // signs
	public  auth.Key      // verifies only (the key itself for HS256)
}

func testKeys(t testing.TB) []testKey {
	t.Helper()
	ed := privateKey(t, "ed25519.pem").(ed25519.PrivateKey)
	ec := privateKey(t, "p256.pem").(*ecdsa.PrivateKey)
	rs := privateKey(t, "rsa2048.pem").(*rsa.PrivateKey)
	hs := auth.HS256Key("hs-1", testSecret)
	return []testKey{
		{"HS256", nil, hs, hs},
		{"EdDSA", ed, auth.EdDSAKey("ed-1", ed), auth.EdDSAPublicKey("ed-1", ed.Public().(ed25519.PublicKey))},
		{"ES256", ec, auth.ES256Key("ec-1", ec), auth.ES256PublicKey("ec-1", &ec.PublicKey)},
		{"RS256", rs, auth.RS256Key("rs-1", rs), auth.RS256PublicKey("rs-1", &rs.PublicKey)},
	}
}
