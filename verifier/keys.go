package verifier

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"

	"github.com/gatehouse/auth/internal/jose"
)

// Key is a public key that verifies tokens, bound to one algorithm and one
// key ID ("kid"). Build it with [EdDSAKey], [ES256Key], [RS256Key],
// [PEMKey] or [KeysFromJWKS], and pass it to [WithKeys]. A constructor never
// fails or panics: a key it cannot use safely makes [New] return an error
// wrapping [ErrInvalidKey]. There is no constructor for private or HMAC
// keys, so a verifier can never sign.
type Key struct {
	k   jose.Key
	err error
}

// KID returns the key ID.
func (k Key) KID() string { return k.k.KID() }

// Algorithm returns the JWS algorithm bound to the key: "EdDSA", "ES256" or
// "RS256". It is empty for an invalid key.
func (k Key) Algorithm() string { return k.k.Alg() }

func wrapKey(k jose.Key, err error) Key {
	if err == nil && k.CanSign() {
		err = fmt.Errorf("key %q is private; give the verifier its public key", k.KID())
	}
	if err != nil {
		return Key{err: fmt.Errorf("%w: %v", ErrInvalidKey, err)}
	}
	return Key{k: k}
}

// EdDSAKey returns an Ed25519 public key for EdDSA tokens.
func EdDSAKey(kid string, pub ed25519.PublicKey) Key {
	return wrapKey(jose.NewEdDSAPublic(kid, pub))
}

// ES256Key returns a P-256 public key for ES256 tokens. Other curves are
// refused.
func ES256Key(kid string, pub *ecdsa.PublicKey) Key {
	return wrapKey(jose.NewES256Public(kid, pub))
}

// RS256Key returns an RSA public key of at least 2048 bits for RS256 tokens.
func RS256Key(kid string, pub *rsa.PublicKey) Key {
	return wrapKey(jose.NewRS256Public(kid, pub))
}

// PEMKey returns the public key in a PEM "PUBLIC KEY" block, as
// `openssl pkey -in key.pem -pubout` writes it. The algorithm follows from
// the key type: Ed25519 is EdDSA, P-256 is ES256, RSA is RS256. A private
// key is refused: copy only the public half to other services.
func PEMKey(kid string, pemData []byte) Key {
	return wrapKey(jose.ParsePEM(kid, pemData))
}

// KeysFromJWKS returns the keys of a JWK set (RFC 7517), such as a saved
// copy of Gatehouse's /auth/.well-known/jwks.json. Entries for other uses or
// algorithms are skipped; each key must name its "alg". It returns an error
// wrapping [ErrInvalidKey] for a malformed set, a repeated key ID, or a
// usable entry whose key fails the checks of the constructors.
func KeysFromJWKS(doc []byte) ([]Key, error) {
	keys, err := jose.ParseJWKS(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	out := make([]Key, len(keys))
	for i, k := range keys {
		out[i] = Key{k: k}
	}
	return out, nil
}
