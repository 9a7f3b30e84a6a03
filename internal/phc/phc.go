// Package phc encodes and decodes argon2id hashes as PHC strings:
//
//	$argon2id$v=19$m=65536,t=3,p=4$<salt>$<key>
//
// with unpadded standard base64. Decoding bounds every parameter, so a
// corrupted or planted hash cannot make one verification allocate gigabytes
// or spin for minutes.
package phc

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrInvalid is wrapped by every decoding error. The root package exports
// it as auth.ErrInvalidHash.
var ErrInvalid = errors.New("auth: invalid password hash")

// Params are argon2id parameters. The type has the same fields as
// auth.PasswordParams, so the two convert into each other.
type Params struct {
	Memory     uint32
	Time       uint32
	Threads    uint8
	SaltLength uint32
	KeyLength  uint32
}

// Bounds for parameters, both configured and decoded from stored hashes.
const (
	MaxMemoryKiB  = 1 << 20 // 1 GiB
	maxTime       = 64
	minSaltLength = 8
	maxSaltLength = 1024
	minKeyLength  = 16
	maxKeyLength  = 1024
	maxLength     = 4096
)

var b64 = base64.RawStdEncoding.Strict()

// CheckBounds applies the limits that protect verification from hostile
// stored hashes.
func (p Params) CheckBounds() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: t out of range", ErrInvalid)
	case p.Threads < 1:
		return fmt.Errorf("%w: p out of range", ErrInvalid)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > MaxMemoryKiB:
		return fmt.Errorf("%w: m out of range", ErrInvalid)
	case p.SaltLength < minSaltLength || p.SaltLength > maxSaltLength:
		return fmt.Errorf("%w: salt length out of range", ErrInvalid)
	case p.KeyLength < minKeyLength || p.KeyLength > maxKeyLength:
		return fmt.Errorf("%w: key length out of range", ErrInvalid)
	}
	return nil
}

// Encode returns the PHC string of an argon2id key.
func Encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Decode parses an argon2id PHC string. Anything else, or parameters
// outside the bounds, is an error wrapping ErrInvalid. A string it accepts
// has one spelling: Encode gives it back.
func Decode(encoded string) (p Params, salt, key []byte, err error) {
	bad := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrInvalid, why)
	}
	if len(encoded) > maxLength {
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
	p = Params{
		Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]),
		SaltLength: uint32(len(salt)), KeyLength: uint32(len(key)),
	}
	if err := p.CheckBounds(); err != nil {
		return Params{}, nil, nil, err
	}
	return p, salt, key, nil
}
