package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id parameters. The defaults, from
// [DefaultPasswordParams], are RFC 9106's second recommended option: the same
// parameters argon2-cffi (from 21.2) and pwdlib produce, so hashes brought over
// from a FastAPI app verify without a rehash.
type PasswordParams struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLength is the length of the random salt in bytes.
	SaltLength uint32
	// KeyLength is the length of the derived key in bytes.
	KeyLength uint32
}

// DefaultPasswordParams returns m=65536 KiB, t=3, p=4, a 16-byte salt and a
// 32-byte key. Hashing at these costs 64 MiB of memory for the duration of the
// hash (about 100 ms on one core of a current server).
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLength: 16, KeyLength: 32}
}

// Bounds for parameters, both configured and decoded from stored hashes. A
// stored hash outside them is rejected with ErrInvalidHash, so a corrupted or
// planted row cannot make one login allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB  = 1 << 20 // 1 GiB
	maxTime       = 64
	minSaltLength = 8
	maxSaltLength = 1024
	minKeyLength  = 16
	maxKeyLength  = 1024
	maxPHCLength  = 4096
)

// validate checks p against OWASP's minimum for argon2id (m=19 MiB with t=2,
// or an equivalent memory-time trade-off down to m=7 MiB with t=5) and the
// decoding bounds.
func (p PasswordParams) validate() error {
	switch {
	case p.Threads < 1:
		return fmt.Errorf("auth: argon2id threads must be at least 1")
	case p.Memory < 7*1024 || uint64(p.Memory)*uint64(p.Time) < 5*7*1024:
		return fmt.Errorf("auth: argon2id memory %d KiB with t=%d is below the OWASP minimum (19456 KiB with t=2, or 7168 KiB with t=5)", p.Memory, p.Time)
	case p.SaltLength < 16:
		return fmt.Errorf("auth: argon2id salt length must be at least 16 bytes")
	case p.KeyLength < 32:
		return fmt.Errorf("auth: argon2id key length must be at least 32 bytes")
	}
	return p.checkBounds()
}

// checkBounds applies the limits that protect verification from hostile
// stored hashes.
func (p PasswordParams) checkBounds() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: t out of range", ErrInvalidHash)
	case p.Threads < 1:
		return fmt.Errorf("%w: p out of range", ErrInvalidHash)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("%w: m out of range", ErrInvalidHash)
	case p.SaltLength < minSaltLength || p.SaltLength > maxSaltLength:
		return fmt.Errorf("%w: salt length out of range", ErrInvalidHash)
	case p.KeyLength < minKeyLength || p.KeyLength > maxKeyLength:
		return fmt.Errorf("%w: key length out of range", ErrInvalidHash)
	}
	return nil
}

var b64 = base64.RawStdEncoding.Strict()

// kdf derives an argon2id key. The Authenticator runs every derivation
// through one, so that it can bound how many run at once (see hashing.go).
type kdf func(password string, salt []byte, p PasswordParams) ([]byte, error)

// argon2id is the kdf that does the work, unbounded.
func argon2id(password string, salt []byte, p PasswordParams) ([]byte, error) {
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLength), nil
}

// hashPassword derives a new argon2id hash of password with a fresh random
// salt and encodes it as a PHC string.
func hashPassword(password string, p PasswordParams, derive kdf) (string, error) {
	salt := make([]byte, p.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: read random salt: %w", err)
	}
	key, err := derive(password, salt, p)
	if err != nil {
		return "", err
	}
	return encodePHC(p, salt, key), nil
}

func encodePHC(p PasswordParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodePHC parses an argon2id PHC string:
//
//	$argon2id$v=19$m=65536,t=3,p=4$<salt>$<key>
//
// with unpadded standard base64. Anything else, or parameters outside the
// bounds, is ErrInvalidHash.
func decodePHC(encoded string) (p PasswordParams, salt, key []byte, err error) {
	bad := func(why string) (PasswordParams, []byte, []byte, error) {
		return PasswordParams{}, nil, nil, fmt.Errorf("%w: %s", ErrInvalidHash, why)
	}
	if len(encoded) > maxPHCLength {
		return bad("too long")
	}
	// encoding/base64 skips CR and LF even in strict mode; refuse them so
	// that a hash has one spelling only.
	if strings.ContainsAny(encoded, "\r\n") {
		return bad("line break")
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("not a PHC string")
	}
	if parts[1] != "argon2id" {
		return bad("not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version")
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return bad("malformed parameters")
	}
	var vals [3]uint64
	for i, name := range [3]string{"m=", "t=", "p="} {
		digits, ok := strings.CutPrefix(params[i], name)
		if !ok || digits == "" || len(digits) > 10 || (digits[0] == '0' && len(digits) > 1) {
			return bad("malformed parameters")
		}
		v, perr := strconv.ParseUint(digits, 10, 32)
		if perr != nil {
			return bad("malformed parameters")
		}
		vals[i] = v
	}
	if vals[2] > 255 {
		return bad("p out of range")
	}
	// Check the lengths before decoding so that a huge field costs nothing.
	if b64.DecodedLen(len(parts[4])) > maxSaltLength || b64.DecodedLen(len(parts[5])) > maxKeyLength {
		return bad("salt or key too long")
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return bad("salt is not unpadded base64")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return bad("key is not unpadded base64")
	}
	p = PasswordParams{
		Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]),
		SaltLength: uint32(len(salt)), KeyLength: uint32(len(key)),
	}
	if err := p.checkBounds(); err != nil {
		return PasswordParams{}, nil, nil, err
	}
	return p, salt, key, nil
}

// verifyPassword reports whether password matches the PHC string encoded.
// needsRehash is true when the match succeeded but the hash was made with
// parameters other than current. A malformed hash is an error wrapping
// ErrInvalidHash, never a panic; an error from derive is passed on.
func verifyPassword(password, encoded string, current PasswordParams, derive kdf) (ok, needsRehash bool, err error) {
	p, salt, key, err := decodePHC(encoded)
	if err != nil {
		return false, false, err
	}
	got, err := derive(password, salt, p)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	return true, p != current, nil
}

// dummyHash returns a well-formed hash with the given parameters that no
// password matches (its key is random, not derived). Verifying against it
// costs exactly what verifying against a real hash costs, which keeps the
// unknown-user path as slow as the wrong-password path.
func dummyHash(p PasswordParams) (string, error) {
	buf := make([]byte, p.SaltLength+p.KeyLength)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("auth: read random bytes: %w", err)
	}
	return encodePHC(p, buf[:p.SaltLength], buf[p.SaltLength:]), nil
}
