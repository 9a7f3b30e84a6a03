package jose

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// ParsePEM reads one PEM block holding an Ed25519, P-256 or RSA key, private
// ("PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY") or public ("PUBLIC
// KEY"), as openssl writes them. The algorithm follows from the key type:
// Ed25519 is EdDSA, P-256 is ES256, RSA is RS256. Trailing data is an error,
// so that a file holding two keys is not read as its first.
func ParsePEM(kid string, data []byte) (Key, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return Key{}, fmt.Errorf("key %q: no PEM block found", kid)
	}
	if len(rest) > 0 {
		if b, _ := pem.Decode(rest); b != nil {
			return Key{}, fmt.Errorf("key %q: more than one PEM block", kid)
		}
	}
	var parsed any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PUBLIC KEY":
		parsed, err = x509.ParsePKIXPublicKey(block.Bytes)
	default:
		return Key{}, fmt.Errorf("key %q: unsupported PEM block %q", kid, block.Type)
	}
	if err != nil {
		return Key{}, fmt.Errorf("key %q: cannot parse %s", kid, block.Type)
	}
	switch k := parsed.(type) {
	case ed25519.PrivateKey:
		return NewEdDSAPrivate(kid, k)
	case ed25519.PublicKey:
		return NewEdDSAPublic(kid, k)
	case *ecdsa.PrivateKey:
		return NewES256Private(kid, k)
	case *ecdsa.PublicKey:
		return NewES256Public(kid, k)
	case *rsa.PrivateKey:
		return NewRS256Private(kid, k)
	case *rsa.PublicKey:
		return NewRS256Public(kid, k)
	}
	return Key{}, fmt.Errorf("key %q: unsupported key type %T", kid, parsed)
}
