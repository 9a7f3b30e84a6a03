package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/gatehouse/auth/internal/jose"
)

// Key is a key that signs or verifies tokens. It is bound to one algorithm
// and one key ID ("kid"), which every token it signs carries in its header;
// verification finds the key by that ID and only accepts the key's own
// algorithm, so a token never chooses its algorithm or key.
//
// Build a Key with [HS256Key], [EdDSAKey], [ES256Key], [RS256Key] or
// [PEMKey], or a verification-only Key with [EdDSAPublicKey],
// [ES256PublicKey] or [RS256PublicKey]. Pass it to [WithSigningKey] or
// [WithVerificationKeys]. A constructor never fails or panics: a key it
// cannot use safely (a short secret, a wrong curve, a small RSA key, an
// empty ID) makes [New] return an error wrapping [ErrInvalidKey] or
// [ErrWeakSecret]. The zero Key is invalid.
//
// Key IDs are short printable ASCII strings without spaces, such as
// "2026-07" or "ed-1". They are public: they appear in every token and in
// the JWKS.
type Key struct {
	k   jose.Key
	err error
}

// KID returns the key ID.
func (k Key) KID() string { return k.k.KID() }

// Algorithm returns the JWS algorithm bound to the key: "HS256", "EdDSA",
// "ES256" or "RS256". It is empty for an invalid key.
func (k Key) Algorithm() string { return k.k.Alg() }

func wrapKey(k jose.Key, err error) Key {
	if err != nil {
		return Key{err: fmt.Errorf("%w: %v", ErrInvalidKey, err)}
	}
	return Key{k: k}
}

// HS256Key returns an HMAC-SHA256 key with the given ID. The secret must be
// at least 32 bytes and not a well-known placeholder, or New fails with
// [ErrWeakSecret]; generate one with `openssl rand -hex 32`. The secret is
// copied. It signs and verifies, never appears in the JWKS, and every party
// that verifies with it can also sign: prefer an asymmetric key when other
// services verify tokens.
func HS256Key(kid string, secret []byte) Key {
	if err := checkSecret(secret); err != nil {
		return Key{err: fmt.Errorf("key %q: %w", kid, err)}
	}
	return wrapKey(jose.NewHMAC(kid, secret))
}

// SecretKey returns the HS256 key that [WithSecret] uses: the secret with a
// key ID derived from it, so that every instance sharing the secret agrees
// on the ID without configuration. Use it to keep accepting tokens signed
// under WithSecret after rotating to another key:
//
//	auth.WithSigningKey(newKey), auth.WithVerificationKeys(auth.SecretKey(oldSecret))
func SecretKey(secret []byte) Key {
	return HS256Key(secretKID(secret), secret)
}

// secretKID derives a key ID from an HMAC secret: the first 8 bytes of
// HMAC-SHA256 of a fixed label under the secret, in hex. It reveals nothing
// usable about the secret. Like a token's signature it is an HMAC output
// under that secret, so it lets an attacker test guesses of the secret no
// better than any issued token already does, and HMAC-SHA256 cannot be
// inverted. The label keeps it distinct from every token signature.
func secretKID(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("gatehouse/auth key ID v1"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// EdDSAKey returns an Ed25519 key that signs with EdDSA. The key is copied.
// Ed25519 verifies fast and its keys are small: the best choice when other
// services verify tokens.
func EdDSAKey(kid string, priv ed25519.PrivateKey) Key {
	return wrapKey(jose.NewEdDSAPrivate(kid, priv))
}

// EdDSAPublicKey returns an Ed25519 key that only verifies.
func EdDSAPublicKey(kid string, pub ed25519.PublicKey) Key {
	return wrapKey(jose.NewEdDSAPublic(kid, pub))
}

// ES256Key returns a P-256 key that signs with ECDSA (ES256). Other curves
// are refused. The key must not be modified afterwards.
func ES256Key(kid string, priv *ecdsa.PrivateKey) Key {
	return wrapKey(jose.NewES256Private(kid, priv))
}

// ES256PublicKey returns a P-256 key that only verifies.
func ES256PublicKey(kid string, pub *ecdsa.PublicKey) Key {
	return wrapKey(jose.NewES256Public(kid, pub))
}

// RS256Key returns an RSA key of at least 2048 bits that signs with RSA
// PKCS #1 v1.5 and SHA-256 (RS256). The key must not be modified
// afterwards. RS256 signing is slow; choose it only when a consumer needs
// RSA.
func RS256Key(kid string, priv *rsa.PrivateKey) Key {
	return wrapKey(jose.NewRS256Private(kid, priv))
}

// RS256PublicKey returns an RSA key of at least 2048 bits that only
// verifies.
func RS256PublicKey(kid string, pub *rsa.PublicKey) Key {
	return wrapKey(jose.NewRS256Public(kid, pub))
}

// PEMKey returns the key in a PEM file as openssl writes it: a private key
// ("PRIVATE KEY", "EC PRIVATE KEY" or "RSA PRIVATE KEY") signs, a public key
// ("PUBLIC KEY") only verifies. The algorithm follows from the key type:
// Ed25519 is EdDSA, P-256 is ES256, RSA is RS256. For example:
//
//	openssl genpkey -algorithm ed25519 -out gatehouse-2026-07.pem
//
//	pem, err := os.ReadFile("gatehouse-2026-07.pem")
//	...
//	auth.WithSigningKey(auth.PEMKey("2026-07", pem))
func PEMKey(kid string, pemData []byte) Key {
	return wrapKey(jose.ParsePEM(kid, pemData))
}

// placeholderSecrets are secrets copied from documentation often enough that
// accepting them would be negligent.
var placeholderSecrets = []string{
	"change-me-in-production-please-use-a-secure-secret-key",
	"your-256-bit-secret",
	"secret",
	"changeme",
	"change-me",
	"your-secret-key",
	"supersecret",
}

// setKeys checks the configured keys and builds the key set and the JWKS.
func (a *Authenticator) setKeys() error {
	c := &a.cfg
	switch len(c.signingKeys) {
	case 0:
		return fmt.Errorf("%w: no signing key: use WithSecret or WithSigningKey", ErrWeakSecret)
	case 1:
	default:
		return fmt.Errorf("%w: more than one signing key (WithSecret and WithSigningKey count alike); pass retired keys to WithVerificationKeys", ErrInvalidKey)
	}
	all := append([]Key{c.signingKeys[0]}, c.verifyKeys...)
	keys := make([]jose.Key, 0, len(all))
	for _, k := range all {
		if k.err != nil {
			return k.err
		}
		keys = append(keys, k.k)
	}
	signer := keys[0]
	if !signer.CanSign() {
		return fmt.Errorf("%w: signing key %q is public only; pass it to WithVerificationKeys", ErrInvalidKey, signer.KID())
	}
	set, err := jose.NewSet(keys...)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	jwks, _, err := set.JWKS()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	a.signer, a.keys, a.jwks = signer, set, jwks
	return nil
}

// checkSecret refuses HMAC secrets that are short, repeat one byte, or are
// well-known placeholders.
func checkSecret(secret []byte) error {
	if len(secret) < 32 {
		return fmt.Errorf("%w: it must be at least 32 bytes", ErrWeakSecret)
	}
	for _, p := range placeholderSecrets {
		if bytes.EqualFold(bytes.TrimSpace(secret), []byte(p)) {
			return fmt.Errorf("%w: it is a well-known placeholder", ErrWeakSecret)
		}
	}
	if allSame(secret) {
		return fmt.Errorf("%w: it repeats one byte", ErrWeakSecret)
	}
	return nil
}

func allSame(b []byte) bool {
	for _, c := range b {
		if c != b[0] {
			return false
		}
	}
	return true
}
