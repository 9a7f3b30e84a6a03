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
	"math"

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

// HS256Key returns an HMAC-SHA256 key with the given ID. An empty kid
// derives the ID from the secret, as [WithSecret] does, so that every
// instance sharing the secret agrees on it without configuration; use that
// to keep accepting tokens signed under WithSecret after rotating to
// another key:
//
//	auth.WithSigningKey(newKey), auth.WithVerificationKeys(auth.HS256Key("", oldSecret))
//
// The secret must be at least 32 bytes, varied enough and not a well-known
// placeholder, or New fails with [ErrWeakSecret]; generate one with
// `openssl rand -hex 32`. The secret is copied. It signs and verifies,
// never appears in the JWKS, and every party that verifies with it can also
// sign: prefer an asymmetric key when other services verify tokens.
func HS256Key(kid string, secret []byte) Key {
	if err := checkSecret(secret); err != nil {
		return Key{err: err}
	}
	if kid == "" {
		kid = secretKID(secret)
	}
	return wrapKey(jose.NewHMAC(kid, secret))
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
	if len(signer.Derive("gatehouse key check")) == 0 {
		// Throttle keys, device tokens and log hashes are derived from
		// the signing key: an empty derivation would make them forgeable.
		return configErr(ErrInvalidKey, "auth: signing key %q yields no secret to derive keys from", signer.KID())
	}
	a.signer, a.keys, a.jwks = signer, set, jwks
	return nil
}

// minSecretBits is the least estimated entropy an HMAC secret may have.
// The estimate (see secretBits) is deliberately low for random text: 32
// random bytes from `openssl rand -hex 32` score about 180 bits, 32 random
// letters and digits about 150; a repeated word (with or without a suffix),
// a run of digits, the alphabet or a keyboard row score under 50. A long
// English passphrase can still pass: it is not a good secret either.
const minSecretBits = 80

// generateHint tells the reader how to make a good secret.
const generateHint = "generate one with `openssl rand -hex 32`"

// checkSecret refuses HMAC secrets that are empty, short, well-known
// placeholders or too predictable.
func checkSecret(secret []byte) error {
	switch {
	case len(secret) == 0:
		return configErr(ErrWeakSecret, "auth: signing secret is empty; %s", generateHint)
	case len(secret) < 32:
		return configErr(ErrWeakSecret, "auth: signing secret is too short: got %d bytes, need at least 32; %s", len(secret), generateHint)
	}
	for _, p := range placeholderSecrets {
		if bytes.EqualFold(bytes.TrimSpace(secret), []byte(p)) {
			return configErr(ErrWeakSecret, "auth: signing secret is a well-known placeholder; %s", generateHint)
		}
	}
	if bits := secretBits(secret); bits < minSecretBits {
		return configErr(ErrWeakSecret, "auth: signing secret is too predictable: about %d bits of entropy, need at least %d (a repeated word, a run of digits or one repeated character is not a secret); %s",
			int(bits), minSecretBits, generateHint)
	}
	return nil
}

// secretBits estimates the entropy of a secret in bits, from below, the
// way a guesser would attack it: a stretch that repeats an earlier one
// (three bytes or more), or that runs along a well-known sequence (the
// alphabet, the digits, hex digits, keyboard rows), costs 8 bits however
// long it is; what remains is counted by the Shannon entropy of its bytes.
// Only the first 512 bytes are read, which bounds the work.
func secretBits(s []byte) float64 {
	s = s[:min(len(s), 512)]
	var literals []byte
	runs := 0
	for i := 0; i < len(s); {
		if n := repeatAt(s, i); n > 0 {
			runs++
			i += n
			continue
		}
		j := i + 1
		for j < len(s) && inSequence(s[j-1], s[j]) {
			j++
		}
		literals = append(literals, s[i])
		if j-i >= 3 {
			runs++
			i = j
			continue
		}
		i++
	}
	return shannonBits(literals) + 8*float64(runs)
}

// repeatAt returns the length of the longest stretch of at least 3 bytes
// (and at most 64) that starts at i and occurs earlier in s, or 0.
func repeatAt(s []byte, i int) int {
	for n := min(len(s)-i, 64); n >= 3; n-- {
		if j := bytes.Index(s[:i+n-1], s[i:i+n]); j >= 0 && j < i {
			return n
		}
	}
	return 0
}

// sequences are runs a person types instead of a secret.
var sequences = [...]string{
	"abcdefghijklmnopqrstuvwxyz", "0123456789abcdef", "01234567890",
	"qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
}

// inSequence reports whether a and b are neighbours, either way round and
// ignoring case, in one of the sequences.
func inSequence(a, b byte) bool {
	lower := func(c byte) byte {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	a, b = lower(a), lower(b)
	for _, seq := range sequences {
		for i := 0; i+1 < len(seq); i++ {
			if (seq[i] == a && seq[i+1] == b) || (seq[i] == b && seq[i+1] == a) {
				return true
			}
		}
	}
	return false
}

// shannonBits is the Shannon entropy of b's byte frequencies times its
// length.
func shannonBits(b []byte) float64 {
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	n := float64(len(b))
	h := 0.0
	for _, k := range counts {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h * n
}
