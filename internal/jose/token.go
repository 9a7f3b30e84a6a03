package jose

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types, carried in the "type" claim so that a refresh token is never
// accepted where an access token is expected, and the other way round.
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

// MaxTokenLength bounds what the parser will look at. Real tokens are a few
// hundred bytes; anything longer is refused before any decoding.
const MaxTokenLength = 4096

// Errors of [Parser.Parse]. Every rejected token gives an error wrapping
// ErrInvalid; an expired one wraps ErrExpired too, and one whose "kid" is not
// in the set wraps ErrUnknownKey.
var (
	ErrInvalid = errors.New("invalid token")
	ErrExpired = errors.New("token expired")
)

// Claims is the payload of both token kinds.
type Claims struct {
	jwt.RegisteredClaims
	Type string `json:"type"`
	// Version is the user's TokenVersion when the token was issued. A pointer
	// so that a token without it is rejected instead of read as zero.
	Version *int64 `json:"ver"`
	// Session is the session (token family) ID, when the issuer keeps
	// sessions.
	Session string `json:"sid,omitempty"`
	// Confirmation binds the token to a key (RFC 7800, RFC 9449 section
	// 6): nil for a bearer token.
	Confirmation *Confirmation `json:"cnf,omitempty"`
	// AMR lists the authentication methods of the login (RFC 8176), such
	// as "pwd", "otp", "hwk", "swk" and "mfa".
	AMR []string `json:"amr,omitempty"`
	// AuthTime is when the user last authenticated (OpenID Connect Core
	// section 2): the login, not a refresh.
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
	// Extra holds application claims, written after the others. Parse
	// leaves it empty.
	Extra map[string]any `json:"-"`
}

// Confirmation is the "cnf" claim of a DPoP-bound token.
type Confirmation struct {
	// JKT is the RFC 7638 thumbprint of the key the token is bound to.
	JKT string `json:"jkt"`
}

// JKT returns the thumbprint the token is bound to, "" for a bearer token.
func (c *Claims) JKT() string {
	if c.Confirmation == nil {
		return ""
	}
	return c.Confirmation.JKT
}

// MarshalJSON writes the registered and Gatehouse claims, then Extra, in
// sorted order, so that equal claims always encode equally.
func (c Claims) MarshalJSON() ([]byte, error) {
	type plain Claims // without this method
	b, err := json.Marshal(plain(c))
	if err != nil || len(c.Extra) == 0 {
		return b, err
	}
	x, err := json.Marshal(c.Extra)
	if err != nil {
		return nil, err
	}
	b = append(b[:len(b)-1], ',')
	return append(b, x[1:]...), nil
}

// NumericDate converts a time to the JWT form, for building Claims.
func NumericDate(t time.Time) *jwt.NumericDate { return jwt.NewNumericDate(t) }

// Audience converts an audience to the JWT form, for building Claims.
func Audience(aud ...string) jwt.ClaimStrings { return aud }

// Rules are the checks a Parser makes besides the signature.
type Rules struct {
	// Algorithms is a first filter on the "alg" header; the binding that
	// counts is the one between a key and its algorithm, checked per token.
	Algorithms []string
	Issuer     string // required when set
	Audience   string // required when set
	Leeway     time.Duration
	Clock      func() time.Time
}

// Parser verifies tokens. Build it once; it is safe for concurrent use.
type Parser struct {
	p *jwt.Parser
}

// NewParser returns a parser with strict base64 decoding, "exp" required,
// "iat" not in the future, and the issuer and audience of r when set.
func NewParser(r Rules) *Parser {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(r.Algorithms),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
		jwt.WithLeeway(r.Leeway),
		jwt.WithTimeFunc(r.Clock),
	}
	if r.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(r.Issuer))
	}
	if r.Audience != "" {
		opts = append(opts, jwt.WithAudience(r.Audience))
	}
	return &Parser{p: jwt.NewParser(opts...)}
}

// Lookup finds the key a token's "kid" header names. It returns an error
// wrapping [ErrUnknownKey] when there is none; any other error (keys could
// not be fetched) is passed through by Parse as it is.
type Lookup func(kid string) (Key, error)

// Parse verifies token and returns its claims. The key is the one its "kid"
// header names, found by lookup and nowhere else, and the token's "alg" must
// be that key's algorithm: a token never chooses its own algorithm or key.
// Headers such as "jku", "x5u" and "jwk" are never read; a "crit" header
// fails the token, since no extension is understood. The token must be
// of type wantType and carry "sub", "jti" and "ver", and its payload must
// read only one way: no repeated key, no case variant of a reserved claim
// (see [IsReservedClaim]), and "exp", "iat" and "nbf" as JSON numbers.
func (p *Parser) Parse(token, wantType string, lookup Lookup) (*Claims, error) {
	// encoding/base64 skips CR and LF even in strict mode: refuse them, so
	// that a token has one spelling.
	if token == "" || len(token) > MaxTokenLength || strings.ContainsAny(token, "\r\n") {
		return nil, ErrInvalid
	}
	var lookupErr error
	keyFunc := func(t *jwt.Token) (any, error) {
		// RFC 7515 section 4.1.11: extensions listed in "crit" must be
		// understood, and we understand none (such as "b64": false).
		if _, ok := t.Header["crit"]; ok {
			return nil, ErrInvalid
		}
		kid, ok := t.Header["kid"].(string)
		if !ok || kid == "" {
			return nil, ErrInvalid
		}
		k, err := lookup(kid)
		if err != nil {
			lookupErr = err
			return nil, err
		}
		if t.Method == nil || t.Method.Alg() != k.alg {
			return nil, ErrInvalid
		}
		return k.verify(), nil
	}
	var c Claims
	if _, err := p.p.ParseWithClaims(token, &c, keyFunc); err != nil {
		switch {
		case lookupErr != nil && !errors.Is(lookupErr, ErrUnknownKey):
			return nil, lookupErr
		case lookupErr != nil:
			return nil, errors.Join(ErrInvalid, ErrUnknownKey)
		case errors.Is(err, jwt.ErrTokenExpired):
			return nil, errors.Join(ErrInvalid, ErrExpired)
		}
		return nil, ErrInvalid
	}
	if !checkPayload(token) || c.Type != wantType || c.Subject == "" || c.ID == "" || c.Version == nil {
		return nil, ErrInvalid
	}
	return &c, nil
}

// Sign returns c signed with k, with k's ID in the "kid" header.
func Sign(k Key, c *Claims) (string, error) {
	if k.sign() == nil {
		return "", fmt.Errorf("key %q cannot sign", k.kid)
	}
	t := jwt.NewWithClaims(k.method(), c)
	t.Header["kid"] = k.kid
	return t.SignedString(k.sign())
}
