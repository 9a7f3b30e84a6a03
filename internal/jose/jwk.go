package jose

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// MaxJWKSKeys bounds how many keys a JWKS document may hold.
const MaxJWKSKeys = 100

// publicJWK is the public form of a key (RFC 7517, RFC 7518 section 6,
// RFC 8037). It has no member for private material at all, so none can be
// written by mistake.
type publicJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

type jwkSet struct {
	Keys []publicJWK `json:"keys"`
}

var b64 = base64.RawURLEncoding

// JWKS returns the JWK set (RFC 7517 section 5) of the set's asymmetric
// keys: public members only, each with "kid", "alg" and "use": "sig". HMAC
// keys never appear. ok is false when there is no asymmetric key.
func (s *Set) JWKS() (doc []byte, ok bool, err error) {
	var set jwkSet
	for _, k := range s.order {
		if k.Symmetric() {
			continue
		}
		j, err := toJWK(k)
		if err != nil {
			return nil, false, err
		}
		set.Keys = append(set.Keys, j)
	}
	if len(set.Keys) == 0 {
		return nil, false, nil
	}
	doc, err = json.Marshal(set)
	return doc, err == nil, err
}

func toJWK(k Key) (publicJWK, error) {
	j := publicJWK{Kid: k.kid, Alg: k.alg, Use: "sig"}
	switch pub := k.verify().(type) {
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64.EncodeToString(pub)
	case *ecdsa.PublicKey:
		// Uncompressed point: 0x04 || X || Y, each 32 bytes for P-256.
		p, err := pub.Bytes()
		if err != nil || len(p) != 65 {
			return publicJWK{}, fmt.Errorf("key %q: cannot encode P-256 point", k.kid)
		}
		j.Kty, j.Crv, j.X, j.Y = "EC", "P-256", b64.EncodeToString(p[1:33]), b64.EncodeToString(p[33:])
	case *rsa.PublicKey:
		j.Kty, j.N, j.E = "RSA", b64.EncodeToString(pub.N.Bytes()), b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	default:
		return publicJWK{}, fmt.Errorf("key %q has no public form", k.kid)
	}
	return j, nil
}

// ParseJWKS reads a JWK set and returns its usable keys: those whose "alg"
// is EdDSA, ES256 or RS256 with matching key material that passes the same
// checks as the constructors. Entries for other uses ("use" other than
// "sig") or other algorithms are skipped, since a set may serve more than
// one purpose; an entry without "alg" is skipped too, because a key's
// algorithm is never guessed. Private members, if any, are ignored. It fails
// on malformed JSON, on more than [MaxJWKSKeys] entries, on a bad entry for
// an algorithm it supports, and on a repeated "kid".
func ParseJWKS(doc []byte) ([]Key, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, errors.New("JWKS is not a JSON object")
	}
	if raw.Keys == nil {
		return nil, errors.New(`JWKS has no "keys" array`)
	}
	if len(raw.Keys) > MaxJWKSKeys {
		return nil, fmt.Errorf("JWKS has more than %d keys", MaxJWKSKeys)
	}
	var keys []Key
	seen := map[string]bool{}
	for i, msg := range raw.Keys {
		var j publicJWK
		if err := json.Unmarshal(msg, &j); err != nil {
			return nil, fmt.Errorf("JWKS key %d is malformed", i)
		}
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		k, err := fromJWK(j)
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("JWKS key %d: %w", i, err)
		}
		if seen[k.kid] {
			return nil, fmt.Errorf("JWKS key ID %q appears twice", k.kid)
		}
		seen[k.kid] = true
		keys = append(keys, k)
	}
	return keys, nil
}

var errSkip = errors.New("not a key for us")

func fromJWK(j publicJWK) (Key, error) {
	switch j.Alg {
	case EdDSA:
		if j.Kty != "OKP" || j.Crv != "Ed25519" {
			return Key{}, fmt.Errorf("key %q: alg EdDSA needs kty OKP and crv Ed25519", j.Kid)
		}
		x, err := decodeFixed(j.X, ed25519.PublicKeySize)
		if err != nil {
			return Key{}, fmt.Errorf("key %q: bad x", j.Kid)
		}
		return NewEdDSAPublic(j.Kid, x)
	case ES256:
		if j.Kty != "EC" || j.Crv != "P-256" {
			return Key{}, fmt.Errorf("key %q: alg ES256 needs kty EC and crv P-256", j.Kid)
		}
		x, errX := decodeFixed(j.X, 32)
		y, errY := decodeFixed(j.Y, 32)
		if errX != nil || errY != nil {
			return Key{}, fmt.Errorf("key %q: bad x or y", j.Kid)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return Key{}, fmt.Errorf("key %q: point is not on P-256", j.Kid)
		}
		return NewES256Public(j.Kid, pub)
	case RS256:
		if j.Kty != "RSA" {
			return Key{}, fmt.Errorf("key %q: alg RS256 needs kty RSA", j.Kid)
		}
		n, errN := b64.Strict().DecodeString(j.N)
		e, errE := b64.Strict().DecodeString(j.E)
		if errN != nil || errE != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 || len(n) > maxRSABits/8+1 {
			return Key{}, fmt.Errorf("key %q: bad n or e", j.Kid)
		}
		exp := 0
		for _, b := range e {
			exp = exp<<8 | int(b)
		}
		return NewRS256Public(j.Kid, &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp})
	}
	return Key{}, errSkip
}

func decodeFixed(s string, n int) ([]byte, error) {
	b, err := b64.Strict().DecodeString(s)
	if err != nil || len(b) != n {
		return nil, errors.New("bad length")
	}
	return b, nil
}
