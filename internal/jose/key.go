// Package jose holds what the root package and the verifier share about
// signed tokens: keys bound to one algorithm and one key ID, key sets looked
// up by "kid", their public JWK form, and the token parser. It is internal so
// that golang-jwt types never reach either public API.
package jose

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithms, as they appear in a token's "alg" header and a JWK's "alg".
const (
	HS256 = "HS256"
	EdDSA = "EdDSA"
	ES256 = "ES256"
	RS256 = "RS256"
)

// Bounds on key material.
const (
	minRSABits = 2048
	// maxRSABits keeps a hostile key set from costing seconds per verify.
	maxRSABits = 8192
	// maxKIDLength keeps key IDs to the size of an identifier.
	maxKIDLength = 128
)

// ErrUnknownKey is returned by [Set.Lookup] for a key ID that is not in the set.
var ErrUnknownKey = errors.New("unknown key ID")

// Key is one key: its ID, the algorithm bound to it, the material that
// verifies and, for a key that may sign, the material that signs. Build it
// with the constructors, which validate; the zero Key is unusable.
type Key struct {
	kid string
	alg string
	// m is sealed in a func so that fmt, whatever the verb and however
	// deep the Key sits in what is printed, shows an address and never
	// the secret bytes. (A pointer is not enough: fmt prints through it at
	// the top level and after a bad verb.)
	m func() *material
}

func seal(m *material) func() *material { return func() *material { return m } }

type material struct {
	verify any // []byte (HMAC), ed25519.PublicKey, *ecdsa.PublicKey, *rsa.PublicKey
	sign   any // nil for a public-only key; else []byte, ed25519.PrivateKey, *ecdsa.PrivateKey, *rsa.PrivateKey
}

// verify returns the material that verifies, nil for the zero Key.
func (k Key) verify() any {
	if k.m == nil {
		return nil
	}
	return k.m().verify
}

// sign returns the material that signs, nil for a public-only key.
func (k Key) sign() any {
	if k.m == nil {
		return nil
	}
	return k.m().sign
}

// KID returns the key ID.
func (k Key) KID() string { return k.kid }

// Alg returns the algorithm bound to the key.
func (k Key) Alg() string { return k.alg }

// CanSign reports whether the key holds private (or, for HMAC, secret) material.
func (k Key) CanSign() bool { return k.sign() != nil }

// Symmetric reports whether the key is an HMAC secret, which must never be
// published.
func (k Key) Symmetric() bool { return k.alg == HS256 }

// method returns the golang-jwt signing method of the key's algorithm.
func (k Key) method() jwt.SigningMethod {
	switch k.alg {
	case HS256:
		return jwt.SigningMethodHS256
	case EdDSA:
		return jwt.SigningMethodEdDSA
	case ES256:
		return jwt.SigningMethodES256
	case RS256:
		return jwt.SigningMethodRS256
	}
	return nil
}

func checkKID(kid string) error {
	switch {
	case kid == "":
		return errors.New("key ID is empty")
	case len(kid) > maxKIDLength:
		return fmt.Errorf("key ID is longer than %d bytes", maxKIDLength)
	}
	for _, r := range kid {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("key ID %q must be printable ASCII without spaces", kid)
		}
	}
	return nil
}

// NewHMAC returns an HS256 key. Judging the secret's strength is the
// caller's business; here it only has to be there. The secret is copied.
func NewHMAC(kid string, secret []byte) (Key, error) {
	if err := checkKID(kid); err != nil {
		return Key{}, err
	}
	if len(secret) == 0 {
		return Key{}, fmt.Errorf("key %q: HMAC secret is empty", kid)
	}
	s := bytes.Clone(secret)
	return Key{kid: kid, alg: HS256, m: seal(&material{verify: s, sign: s})}, nil
}

// NewEdDSAPrivate returns an EdDSA key that signs. The key is copied.
func NewEdDSAPrivate(kid string, priv ed25519.PrivateKey) (Key, error) {
	if err := checkKID(kid); err != nil {
		return Key{}, err
	}
	if len(priv) != ed25519.PrivateKeySize {
		return Key{}, fmt.Errorf("key %q: Ed25519 private key is %d bytes, want %d", kid, len(priv), ed25519.PrivateKeySize)
	}
	// An Ed25519 private key carries its public half; a mismatched one
	// would sign tokens that nobody can verify.
	p := ed25519.NewKeyFromSeed(priv.Seed())
	if !bytes.Equal(p[32:], priv[32:]) {
		return Key{}, fmt.Errorf("key %q: Ed25519 private key does not match its public half", kid)
	}
	return Key{kid: kid, alg: EdDSA, m: seal(&material{verify: p.Public().(ed25519.PublicKey), sign: p})}, nil
}

// NewEdDSAPublic returns an EdDSA key that only verifies. The key is copied.
func NewEdDSAPublic(kid string, pub ed25519.PublicKey) (Key, error) {
	if err := checkKID(kid); err != nil {
		return Key{}, err
	}
	if len(pub) != ed25519.PublicKeySize {
		return Key{}, fmt.Errorf("key %q: Ed25519 public key is %d bytes, want %d", kid, len(pub), ed25519.PublicKeySize)
	}
	return Key{kid: kid, alg: EdDSA, m: seal(&material{verify: ed25519.PublicKey(bytes.Clone(pub))})}, nil
}

// NewES256Private returns an ES256 key that signs. Only P-256 is accepted.
func NewES256Private(kid string, priv *ecdsa.PrivateKey) (Key, error) {
	if priv == nil {
		return Key{}, fmt.Errorf("key %q: ECDSA private key is nil", kid)
	}
	k, err := NewES256Public(kid, &priv.PublicKey)
	if err != nil {
		return Key{}, err
	}
	// The private scalar must be valid and match the public point, or the
	// key would sign tokens that nobody can verify.
	ek, err := priv.ECDH()
	if err != nil {
		return Key{}, fmt.Errorf("key %q: invalid P-256 private key", kid)
	}
	pb, err := priv.PublicKey.Bytes()
	if err != nil || !bytes.Equal(ek.PublicKey().Bytes(), pb) {
		return Key{}, fmt.Errorf("key %q: P-256 private key does not match its public half", kid)
	}
	k.m = seal(&material{verify: k.verify(), sign: priv})
	return k, nil
}

// NewES256Public returns an ES256 key that only verifies. Only P-256 is
// accepted, and the point must be on the curve.
func NewES256Public(kid string, pub *ecdsa.PublicKey) (Key, error) {
	if err := checkKID(kid); err != nil {
		return Key{}, err
	}
	if pub == nil || pub.Curve == nil {
		return Key{}, fmt.Errorf("key %q: ECDSA public key is nil", kid)
	}
	if pub.Curve != elliptic.P256() {
		return Key{}, fmt.Errorf("key %q: ES256 needs a P-256 key, not %s", kid, pub.Curve.Params().Name)
	}
	if _, err := pub.ECDH(); err != nil {
		return Key{}, fmt.Errorf("key %q: invalid P-256 public key", kid)
	}
	return Key{kid: kid, alg: ES256, m: seal(&material{verify: pub})}, nil
}

// NewRS256Private returns an RS256 key that signs: at least 2048 bits, and
// consistent (see [rsa.PrivateKey.Validate]).
func NewRS256Private(kid string, priv *rsa.PrivateKey) (Key, error) {
	if priv == nil {
		return Key{}, fmt.Errorf("key %q: RSA private key is nil", kid)
	}
	k, err := NewRS256Public(kid, &priv.PublicKey)
	if err != nil {
		return Key{}, err
	}
	if err := priv.Validate(); err != nil {
		return Key{}, fmt.Errorf("key %q: invalid RSA private key", kid)
	}
	k.m = seal(&material{verify: k.verify(), sign: priv})
	return k, nil
}

// NewRS256Public returns an RS256 key that only verifies: 2048 to 8192 bits
// with an odd public exponent of at least 3.
func NewRS256Public(kid string, pub *rsa.PublicKey) (Key, error) {
	if err := checkKID(kid); err != nil {
		return Key{}, err
	}
	if pub == nil || pub.N == nil {
		return Key{}, fmt.Errorf("key %q: RSA public key is nil", kid)
	}
	if n := pub.N.BitLen(); n < minRSABits || n > maxRSABits {
		return Key{}, fmt.Errorf("key %q: RSA key is %d bits, want %d to %d", kid, n, minRSABits, maxRSABits)
	}
	if pub.E < 3 || pub.E%2 == 0 || pub.E > 1<<31-1 {
		return Key{}, fmt.Errorf("key %q: RSA public exponent %d is not usable", kid, pub.E)
	}
	return Key{kid: kid, alg: RS256, m: seal(&material{verify: pub})}, nil
}

// Set is an immutable set of keys with distinct IDs. Tokens are verified
// only against the key their "kid" names, with that key's algorithm.
type Set struct {
	byKID map[string]Key
	order []Key // as given, for a stable JWKS
	algs  []string
}

// NewSet builds a set. It fails on an invalid or duplicate key ID.
func NewSet(keys ...Key) (*Set, error) {
	s := &Set{byKID: make(map[string]Key, len(keys))}
	seen := map[string]bool{}
	for _, k := range keys {
		if err := checkKID(k.kid); err != nil {
			return nil, err
		}
		if k.method() == nil || k.verify() == nil {
			return nil, fmt.Errorf("key %q is not initialised", k.kid)
		}
		if _, dup := s.byKID[k.kid]; dup {
			return nil, fmt.Errorf("key ID %q appears twice", k.kid)
		}
		s.byKID[k.kid] = k
		s.order = append(s.order, k)
		if !seen[k.alg] {
			seen[k.alg] = true
			s.algs = append(s.algs, k.alg)
		}
	}
	return s, nil
}

// Lookup returns the key with the given ID, or an error wrapping
// [ErrUnknownKey].
func (s *Set) Lookup(kid string) (Key, error) {
	k, ok := s.byKID[kid]
	if !ok {
		return Key{}, ErrUnknownKey
	}
	return k, nil
}

// Algorithms returns the algorithms of the set's keys, each once.
func (s *Set) Algorithms() []string { return append([]string(nil), s.algs...) }

// Derive returns a 32-byte secret for another purpose, named by label,
// derived from the key's signing material: HMAC-SHA256 under the HMAC
// secret, the Ed25519 seed, or the ECDSA or RSA private scalar. Instances
// that share a signing key derive the same secret; nobody else can. It
// returns nil for a key that cannot sign.
func (k Key) Derive(label string) []byte {
	var material []byte
	switch s := k.sign().(type) {
	case []byte:
		material = s
	case ed25519.PrivateKey:
		material = s.Seed()
	case *ecdsa.PrivateKey:
		b, err := s.Bytes()
		if err != nil {
			return nil
		}
		material = b
	case *rsa.PrivateKey:
		material = s.D.Bytes()
	default:
		return nil
	}
	m := hmac.New(sha256.New, material)
	m.Write([]byte(label))
	return m.Sum(nil)
}
