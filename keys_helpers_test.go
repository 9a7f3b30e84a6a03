package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse/auth"
)

// Test keys live in testdata/keys, made with the openssl commands of the
// README, so that no test spends time generating RSA keys.
func readPEM(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// privateKey returns the parsed private key of a testdata PEM file.
func privateKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	block, _ := pem.Decode(readPEM(t, name))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer)
}

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
