package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Token types, carried in the "type" claim so that a refresh token is never
// accepted where an access token is expected, and the other way round.
const (
	tokenTypeAccess  = "access"
	tokenTypeRefresh = "refresh"
)

// maxTokenLength bounds what the verifier will look at. Real tokens are a few
// hundred bytes; anything longer is refused before any decoding.
const maxTokenLength = 4096

// TokenPair is what a successful login or refresh returns. Its JSON form is
// the OAuth2 token response (RFC 6749 section 5.1).
type TokenPair struct {
	// AccessToken authenticates requests as "Authorization: Bearer <token>".
	AccessToken string `json:"access_token"`
	// RefreshToken obtains a new pair from Refresh. It is left out of the
	// JSON in cookie mode, where it travels in a cookie instead.
	RefreshToken string `json:"refresh_token,omitempty"`
	// TokenType is always "bearer".
	TokenType string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`

	// refreshExpires is when the refresh token expires, for cookie mode.
	refreshExpires time.Time
}

// claims is the JWT payload of both token kinds.
type claims struct {
	jwt.RegisteredClaims
	Type string `json:"type"`
	// Version is the user's TokenVersion when the token was issued. A pointer
	// so that a token without it is rejected instead of read as zero.
	Version *int64 `json:"ver"`
	// Session is the session (token family) ID, when the store keeps
	// sessions.
	Session string `json:"sid,omitempty"`

	// extra holds application claims from WithClaims, access tokens only.
	extra map[string]any
}

// reservedClaims are the claims WithClaims may not set.
var reservedClaims = map[string]bool{
	"sub": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"iss": true, "aud": true, "type": true, "ver": true, "sid": true,
}

// MarshalJSON writes the registered and Gatehouse claims, then the
// application's, in sorted order so that equal claims sign equally.
func (c claims) MarshalJSON() ([]byte, error) {
	type plain claims // without this method
	b, err := json.Marshal(plain(c))
	if err != nil || len(c.extra) == 0 {
		return b, err
	}
	x, err := json.Marshal(c.extra)
	if err != nil {
		return nil, err
	}
	b = append(b[:len(b)-1], ',')
	return append(b, x[1:]...), nil
}

// refreshGrant describes the refresh token of a pair: its session, jti and
// validity. Signing the same grant twice gives the same token, which is how
// a refresh inside the grace window returns the current child again.
type refreshGrant struct {
	session  string
	jti      string
	issuedAt time.Time
	expires  time.Time
}

// statelessGrant is the refresh grant when there is no session store.
func (a *Authenticator) statelessGrant(now time.Time) refreshGrant {
	return refreshGrant{jti: uuid.NewString(), issuedAt: now, expires: now.Add(a.cfg.refreshTTL)}
}

// newParser builds the one parser used for every token: HS256 only, "exp"
// required, "iat" not in the future, issuer and audience when configured.
func newParser(c *config) *jwt.Parser {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
		jwt.WithLeeway(c.leeway),
		jwt.WithTimeFunc(c.clock),
	}
	if c.issuer != "" {
		opts = append(opts, jwt.WithIssuer(c.issuer))
	}
	if c.audience != "" {
		opts = append(opts, jwt.WithAudience(c.audience))
	}
	return jwt.NewParser(opts...)
}

// issuePair signs a new access token for u, with the application's claims,
// and the refresh token g.
func (a *Authenticator) issuePair(ctx context.Context, u *User, g refreshGrant) (TokenPair, error) {
	var extra map[string]any
	if a.cfg.claims != nil {
		var err error
		if extra, err = a.cfg.claims(ctx, u); err != nil {
			return TokenPair{}, fmt.Errorf("auth: claims: %w", err)
		}
		for k := range extra {
			if reservedClaims[k] {
				return TokenPair{}, fmt.Errorf("%w: %q", ErrReservedClaim, k)
			}
		}
	}
	now := a.now()
	access, err := a.sign(u, tokenTypeAccess, g.session, uuid.NewString(), now, now.Add(a.cfg.accessTTL), extra)
	if err != nil {
		return TokenPair{}, err
	}
	refresh, err := a.sign(u, tokenTypeRefresh, g.session, g.jti, g.issuedAt, g.expires, nil)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{
		AccessToken:    access,
		RefreshToken:   refresh,
		TokenType:      "bearer",
		ExpiresIn:      int64(a.cfg.accessTTL / time.Second),
		refreshExpires: g.expires,
	}, nil
}

func (a *Authenticator) sign(u *User, typ, session, jti string, iat, exp time.Time, extra map[string]any) (string, error) {
	version := u.TokenVersion
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    a.cfg.issuer,
			Subject:   u.ID,
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(iat),
			ID:        jti,
		},
		Type:    typ,
		Version: &version,
		Session: session,
		extra:   extra,
	}
	if a.cfg.audience != "" {
		c.Audience = jwt.ClaimStrings{a.cfg.audience}
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(a.cfg.secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// parse verifies a token's signature and claims and checks that it is of the
// wanted type. It says nothing yet about the user: see verifyUser.
func (a *Authenticator) parse(token, wantType string) (*claims, error) {
	if token == "" || len(token) > maxTokenLength {
		return nil, ErrInvalidToken
	}
	var c claims
	_, err := a.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.cfg.secret, nil })
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, errors.Join(ErrInvalidToken, ErrTokenExpired)
		}
		return nil, ErrInvalidToken
	}
	if c.Type != wantType || c.Subject == "" || c.ID == "" || c.Version == nil {
		return nil, ErrInvalidToken
	}
	return &c, nil
}

// appClaims returns the application claims of a verified token: every
// claim that is not reserved, or nil when there are none.
func appClaims(token string) map[string]any {
	parts := strings.SplitN(token, ".", 3)
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(payload, &m) != nil {
		return nil
	}
	for k := range m {
		if reservedClaims[k] {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
