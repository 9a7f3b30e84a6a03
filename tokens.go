package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/auth/internal/jose"
	"github.com/google/uuid"
)

// TokenPair is what a successful login or refresh returns. Its JSON form is
// the OAuth2 token response (RFC 6749 section 5.1).
type TokenPair struct {
	// AccessToken authenticates requests as "Authorization: Bearer <token>".
	AccessToken string `json:"access_token"`
	// RefreshToken obtains a new pair from Refresh.
	RefreshToken string `json:"refresh_token"`
	// TokenType is always "bearer".
	TokenType string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`
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

// issuePair signs a new access and refresh token for u.
func (a *Authenticator) issuePair(u *User) (TokenPair, error) {
	now := a.now()
	access, err := a.sign(u, jose.TypeAccess, now, a.cfg.accessTTL)
	if err != nil {
		return TokenPair{}, err
	}
	refresh, err := a.sign(u, jose.TypeRefresh, now, a.cfg.refreshTTL)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{
		AccessToken:  access,
		RefreshToken: refresh,
		TokenType:    "bearer",
		ExpiresIn:    int64(a.cfg.accessTTL / time.Second),
	}, nil
}

// sign signs a token with the active key, whose ID goes in the header.
func (a *Authenticator) sign(u *User, typ string, now time.Time, ttl time.Duration) (string, error) {
	version := u.TokenVersion
	c := &jose.Claims{Type: typ, Version: &version}
	c.Issuer = a.cfg.issuer
	c.Subject = u.ID
	c.ExpiresAt = jose.NumericDate(now.Add(ttl))
	c.IssuedAt = jose.NumericDate(now)
	c.ID = uuid.NewString()
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
