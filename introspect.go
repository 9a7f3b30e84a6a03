package auth

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse/auth/internal/jose"
)

// introspection is the RFC 7662 answer for an active token. An inactive
// one is {"active": false} and nothing more.
type introspection struct {
	Active    bool     `json:"active"`
	Sub       string   `json:"sub,omitempty"`
	Username  string   `json:"username,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Scope     string   `json:"scope,omitempty"`
	Sid       string   `json:"sid,omitempty"`
	Jti       string   `json:"jti,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Aud       string   `json:"aud,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	// Cnf names the DPoP key a bound token is bound to (RFC 9449 section
	// 6.2), so that a service relying on introspection alone can hold the
	// token to its key.
	Cnf *confirmation `json:"cnf,omitempty"`
}

// confirmation is the "cnf" member of an introspection answer.
type confirmation struct {
	JKT string `json:"jkt"`
}

// Token types in introspection answers.
const (
	tokenTypeAccess  = "access_token"
	tokenTypeRefresh = "refresh_token"
	tokenTypeAPIKey  = "api_key"
)

// Introspect says whether token, an access token, refresh token or API key
// of this Authenticator, is active right now, with what RFC 7662 section
// 2.2 lists about it. Anything revoked, expired, malformed or unknown is
// inactive, with no more detail; an error is for store failures only.
func (a *Authenticator) Introspect(ctx context.Context, token string) (active bool, info map[string]any, err error) {
	in, err := a.introspect(ctx, token)
	if err != nil || !in.Active {
		return false, nil, err
	}
	info = map[string]any{"sub": in.Sub, "username": in.Username, "token_type": in.TokenType}
	if in.Exp != 0 {
		info["exp"] = in.Exp
	}
	if in.Iat != 0 {
		info["iat"] = in.Iat
	}
	if in.Scope != "" {
		info["scope"] = in.Scope
	}
	if in.Sid != "" {
		info["sid"] = in.Sid
	}
	if in.Jti != "" {
		info["jti"] = in.Jti
	}
	if in.Cnf != nil {
		info["cnf"] = map[string]any{"jkt": in.Cnf.JKT}
	}
	if len(in.Roles) > 0 {
		info["roles"] = in.Roles
	}
	return true, info, nil
}

func (a *Authenticator) introspect(ctx context.Context, token string) (introspection, error) {
	inactive := introspection{}
	if isAPIKey(token) {
		if a.adm.keys == nil || !wellFormedKey(token) {
			return inactive, nil
		}
		k, err := a.adm.keys.APIKeyByHash(ctx, a.hashKey(token))
		if errors.Is(err, ErrAPIKeyNotFound) {
			return inactive, nil
		}
		if err != nil {
			return inactive, a.storeErr("look up API key", err)
		}
		if _, ended := a.adm.keyEnded.Get(k.ID); ended || !k.RevokedAt.IsZero() ||
			(!k.ExpiresAt.IsZero() && !a.cfg.clock().Before(k.ExpiresAt)) {
			return inactive, nil
		}
		u, err := a.liveUser(ctx, k.UserID, k.TokenVersion)
		if u == nil {
			return inactive, err
		}
		in := introspection{Active: true, Sub: u.ID, Username: u.Username, TokenType: tokenTypeAPIKey,
			Iat: k.CreatedAt.Unix(), Scope: strings.Join(k.Scopes, " "), Jti: k.ID, Roles: u.Roles}
		if !k.ExpiresAt.IsZero() {
			in.Exp = k.ExpiresAt.Unix()
		}
		return in, nil
	}
	if c, err := a.parse(token, jose.TypeAccess); err == nil {
		uc, err := a.verifyAccess(ctx, token)
		if err != nil {
			return inactive, inactiveErr(err)
		}
		return a.claimsInfo(c, uc.v.shared, tokenTypeAccess), nil
	}
	c, err := a.parse(token, jose.TypeRefresh)
	if err != nil {
		return inactive, nil
	}
	u, err := a.liveUser(ctx, c.Subject, *c.Version)
	if u == nil {
		return inactive, err
	}
	if a.sessions != nil {
		if c.Session == "" {
			return inactive, nil
		}
		s, err := a.sessions.Session(ctx, c.Session)
		switch {
		case errors.Is(err, ErrSessionNotFound):
			return inactive, nil
		case err != nil:
			return inactive, a.storeErr("look up session", err)
		case s.UserID != u.ID || !a.live(s, u, a.now()) || s.CurrentJTI != c.ID:
			return inactive, nil
		}
	}
	return a.claimsInfo(c, u, tokenTypeRefresh), nil
}

// inactiveErr keeps the errors that mean "not now" (a store outage) and
// drops those that mean the token is not active.
func inactiveErr(err error) error {
	if isTransient(err) || problemFor(err).status >= 500 {
		return err
	}
	return nil
}

// liveUser returns the user with the given ID when it is enabled and at
// the given token version, or nil (and an error only for a store failure).
func (a *Authenticator) liveUser(ctx context.Context, id string, version int64) (*User, error) {
	u, err := a.store.UserByID(ctx, id)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return nil, nil
	case err != nil:
		return nil, a.storeErr("look up user", err)
	case u.Disabled || u.TokenVersion != version:
		return nil, nil
	}
	return u, nil
}

func (a *Authenticator) claimsInfo(c *jose.Claims, u *User, typ string) introspection {
	in := introspection{Active: true, Sub: u.ID, Username: u.Username, TokenType: typ, Sid: c.Session, Jti: c.ID,
		Iss: c.Issuer, Aud: a.cfg.audience}
	if c.ExpiresAt != nil {
		in.Exp = c.ExpiresAt.Unix()
	}
	if c.IssuedAt != nil {
		in.Iat = c.IssuedAt.Unix()
	}
	if typ == tokenTypeAccess {
		in.Roles = slices.Clone(u.Roles) // u may be the user cache's
	}
	if jkt := c.JKT(); jkt != "" {
		in.Cnf = &confirmation{JKT: jkt}
	}
	return in
}

// introspect serves POST /auth/introspect (RFC 7662). The caller
// authenticates with an API key that holds the "introspect" scope.
func (h *handler) introspect(w http.ResponseWriter, r *http.Request) error {
	tok, err := bearerToken(r)
	if err != nil {
		return err
	}
	if !isAPIKey(tok) {
		return ErrInsufficientScope
	}
	uc, err := h.a.verifyAPIKey(r.Context(), r, tok)
	if err != nil {
		return err
	}
	if !hasScopes(uc.v.key.key.Scopes, []string{ScopeIntrospect}) {
		return ErrInsufficientScope
	}
	f, err := readForm(w, r, "token", "token_type_hint")
	if err != nil {
		return err
	}
	if err := f.require("token"); err != nil {
		return err
	}
	in, err := h.a.introspect(r.Context(), f["token"])
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, in)
	return nil
}
