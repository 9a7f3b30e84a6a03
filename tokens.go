package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/auth/internal/jose"
	"github.com/google/uuid"
)

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

// reservedClaims are the claims WithClaims may not set.
var reservedClaims = map[string]bool{
	"sub": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"iss": true, "aud": true, "type": true, "ver": true, "sid": true,
}

// refreshGrant describes the refresh token of a pair: its session, jti and
// validity. Signing the same grant twice gives a token with the same claims,
// which is how a refresh inside the grace window returns the current child
// again.
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

// newParser builds the one parser used for every token: the algorithms of
// the key set only (each token is further held to its own key's), "exp"
// required, "iat" not in the future, issuer and audience when configured.
func newParser(c *config, algs []string) *jose.Parser {
	return jose.NewParser(jose.Rules{
		Algorithms: algs,
		Issuer:     c.issuer,
		Audience:   c.audience,
		Leeway:     c.leeway,
		Clock:      c.clock,
	})
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
	access, err := a.sign(u, jose.TypeAccess, g.session, uuid.NewString(), now, now.Add(a.cfg.accessTTL), extra)
	if err != nil {
		return TokenPair{}, err
	}
	refresh, err := a.sign(u, jose.TypeRefresh, g.session, g.jti, g.issuedAt, g.expires, nil)
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

// sign signs a token with the active key, whose ID goes in the header.
func (a *Authenticator) sign(u *User, typ, session, jti string, iat, exp time.Time, extra map[string]any) (string, error) {
	version := u.TokenVersion
	c := &jose.Claims{Type: typ, Version: &version, Session: session, Extra: extra}
	c.Issuer = a.cfg.issuer
	c.Subject = u.ID
	c.ExpiresAt = jose.NumericDate(exp)
	c.IssuedAt = jose.NumericDate(iat)
	c.ID = jti
	if a.cfg.audience != "" {
		c.Audience = jose.Audience(a.cfg.audience)
	}
	s, err := jose.Sign(a.signer, c)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// parse verifies a token's signature, with the key its "kid" names, and its
// claims, and checks that it is of the wanted type. It says nothing yet
// about the user: see VerifyAccessToken.
func (a *Authenticator) parse(token, wantType string) (*jose.Claims, error) {
	c, err := a.parser.Parse(token, wantType, a.keys.Lookup)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, jose.ErrExpired):
		return nil, errors.Join(ErrInvalidToken, ErrTokenExpired)
	default:
		return nil, ErrInvalidToken
	}
}

// appClaims returns the application claims of a verified token, every
// claim that is not reserved, as a JSON object; nil when there are none.
// Kept as JSON, each reader decodes its own copy, nested values included.
func appClaims(token string) []byte {
	parts := strings.SplitN(token, ".", 3)
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
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
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}
