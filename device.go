package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/auth/internal/jose"
)

// Device tokens are OWASP's "device cookies": proof that a client has
// logged in as a user before. A client with a valid one is not subject to
// the username's failure budget, which anyone can spend, but to a small
// budget of its own; so failures from elsewhere cannot lock a user out of
// the devices they already use.
//
// A device token is base64url(body) "." base64url(mac), where body is
//
//	nonce (16 random bytes) | expiry (Unix seconds, 8 bytes) | token version (8 bytes) | user ID
//
// and mac is HMAC-SHA256, under a key derived from the signing key, of the
// body, a zero byte and the canonical username. It holds for that username
// only, until it expires, and only while the user's token version is the
// one it names: a password change, logout-all or disabling voids every
// device token the user has.

// deviceCookieName is the cookie that carries the device token in cookie
// mode. The __Host- prefix makes browsers accept it only Secure, with
// Path=/ and no Domain, so that no other host, a subdomain included, can
// set or replace it.
const deviceCookieName = "__Host-gatehouse_device"

// maxDeviceToken bounds what is parsed at all: a real token is about 110
// bytes with a UUID user ID.
const maxDeviceToken = 512

const deviceBodyLen = 32 // before the user ID

// deviceTokens issues and checks device tokens.
type deviceTokens struct {
	mac   []byte
	ttl   time.Duration
	clock func() time.Time
}

func newDeviceTokens(signer jose.Key, ttl time.Duration, clock func() time.Time) (*deviceTokens, error) {
	if ttl < time.Hour || ttl > 5*365*24*time.Hour {
		return nil, configErr(ErrInvalidConfig, "auth: device token TTL is %v; it must be between an hour and five years", ttl)
	}
	return &deviceTokens{mac: signer.Derive("gatehouse device tokens"), ttl: ttl, clock: clock}, nil
}

// deviceClaims is what a valid device token says.
type deviceClaims struct {
	nonce   string
	version int64
	userID  string
}

// id identifies the token, for its budget.
func (c *deviceClaims) id() string { return c.nonce }

// issuedTo reports whether the token holds for u as u is now.
func (c *deviceClaims) issuedTo(u *User) bool {
	return u.ID == c.userID && u.TokenVersion == c.version
}

func (d *deviceTokens) sign(body []byte, name string) []byte {
	m := hmac.New(sha256.New, d.mac)
	m.Write(body)
	m.Write([]byte{0})
	m.Write([]byte(name))
	return m.Sum(nil)
}

// issue returns a new device token for u.
func (d *deviceTokens) issue(u *User) (string, error) {
	body := make([]byte, deviceBodyLen, deviceBodyLen+len(u.ID))
	if _, err := rand.Read(body[:16]); err != nil {
		return "", fmt.Errorf("auth: read random bytes: %w", err)
	}
	binary.BigEndian.PutUint64(body[16:], uint64(d.clock().Add(d.ttl).Unix()))
	binary.BigEndian.PutUint64(body[24:], uint64(u.TokenVersion))
	body = append(body, u.ID...)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(body) + "." + enc.EncodeToString(d.sign(body, u.Username)), nil
}

// parse returns the claims of tok when it is a well-formed, unexpired
// token for the canonical username name, signed with this key; nil
// otherwise, for whatever reason, since a bad device token is not an error
// but merely no help. Whether it still holds for the user is for
// [deviceClaims.issuedTo] to say, once the user is known. A nil d parses
// nothing.
func (d *deviceTokens) parse(tok, name string) *deviceClaims {
	if d == nil || tok == "" || len(tok) > maxDeviceToken {
		return nil
	}
	b64, m64, ok := strings.Cut(tok, ".")
	if !ok {
		return nil
	}
	body, err := decodeSegment(b64)
	if err != nil || len(body) <= deviceBodyLen {
		return nil
	}
	mac, err := decodeSegment(m64)
	if err != nil || !hmac.Equal(mac, d.sign(body, name)) {
		return nil
	}
	if d.clock().Unix() >= int64(binary.BigEndian.Uint64(body[16:])) {
		return nil
	}
	return &deviceClaims{
		nonce:   string(body[:16]),
		version: int64(binary.BigEndian.Uint64(body[24:])),
		userID:  string(body[deviceBodyLen:]),
	}
}

// issueDevice returns a new device token for u, or "" when device tokens
// are off.
func (t *loginThrottle) issueDevice(u *User) (string, error) {
	if t.devices == nil {
		return "", nil
	}
	return t.devices.issue(u)
}

type deviceTokenKey struct{}

// ContextWithDeviceToken returns a copy of ctx that carries the device
// token a client sent with its login, for [Authenticator.Login] and
// [Authenticator.Authenticate]. The handlers do this themselves, from the
// device_token field or, in cookie mode, the device cookie.
//
// A device token is what [TokenPair.DeviceToken] returned on an earlier
// successful login as the same user. With a valid one, the username's
// failure budget, which failures from anywhere spend, does not apply;
// failures are counted against the token's own budget instead (see
// [WithDeviceTokenLimit]). Another user's token, an expired, forged or
// revoked one (by a password change, logout-all or disabling) lifts
// nothing and is otherwise ignored.
func ContextWithDeviceToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, deviceTokenKey{}, token)
}

// deviceTokenFrom returns the device token in ctx, or "".
func deviceTokenFrom(ctx context.Context) string {
	tok, _ := ctx.Value(deviceTokenKey{}).(string)
	return tok
}
