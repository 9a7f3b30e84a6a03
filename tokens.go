package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/gatehouse/auth/internal/jose"
	"github.com/google/uuid"
)

// TokenPair is what a successful login or refresh returns. Its JSON form is
// the OAuth2 token response (RFC 6749 section 5.1).
type TokenPair struct {
	// AccessToken authenticates requests as "Authorization: Bearer <token>",
	// or as "Authorization: DPoP <token>" with a proof when it is bound to
	// a DPoP key (see [WithDPoP]).
	AccessToken string `json:"access_token"`
	// RefreshToken obtains a new pair from Refresh. It is left out of the
	// JSON in cookie mode, where it travels in a cookie instead.
	RefreshToken string `json:"refresh_token,omitempty"`
	// TokenType is "bearer", or "DPoP" for an access token bound to a
	// DPoP key.
	TokenType string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`
	// DeviceToken, set by Login only, lets this client log in as this
	// user again even while failures from elsewhere throttle the
	// username: see [ContextWithDeviceToken]. It is left out of the JSON
	// in cookie mode, where it travels in a cookie instead.
	DeviceToken string `json:"device_token,omitempty"`

	// refreshExpires is when the refresh token expires, for cookie mode.
	refreshExpires time.Time
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
	// grace is set when the grant answers a replay of the previous token
	// from the grace window rather than a rotation.
	grace bool
	// bound is the thumbprint of the DPoP key the refresh token (and its
	// session) is bound to; accessJKT the one the access token is bound
	// to, the key of the request's proof. "" for none.
	bound, accessJKT string
	// amr and authTime describe the login (RFC 8176, OpenID Connect):
	// both tokens carry them, and a refresh passes them on.
	amr      []string
	authTime time.Time
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
		if err := checkClaims(extra); err != nil {
			return TokenPair{}, err
		}
	}
	extra = withRoles(u, extra)
	now := a.now()
	access, err := a.signBound(u, jose.TypeAccess, g.session, uuid.NewString(), now, now.Add(a.cfg.accessTTL), extra, &g, g.accessJKT)
	if err != nil {
		return TokenPair{}, err
	}
	refresh, err := a.signBound(u, jose.TypeRefresh, g.session, g.jti, g.issuedAt, g.expires, nil, &g, g.bound)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{
		AccessToken:    access,
		RefreshToken:   refresh,
		TokenType:      tokenType(g.accessJKT),
		ExpiresIn:      int64(a.cfg.accessTTL / time.Second),
		refreshExpires: g.expires,
	}, nil
}

// sign signs a token with the active key, whose ID goes in the header.
func (a *Authenticator) sign(u *User, typ, session, jti string, iat, exp time.Time, extra map[string]any, g *refreshGrant) (string, error) {
	return a.signBound(u, typ, session, jti, iat, exp, extra, g, "")
}

// signBound is sign for a token bound to the DPoP key with thumbprint
// jkt, or to none when jkt is "". g carries the login's amr and auth_time.
func (a *Authenticator) signBound(u *User, typ, session, jti string, iat, exp time.Time, extra map[string]any, g *refreshGrant, jkt string) (string, error) {
	version := u.TokenVersion
	c := &jose.Claims{Type: typ, Version: &version, Session: session, Extra: extra, AMR: g.amr}
	if !g.authTime.IsZero() {
		c.AuthTime = jose.NumericDate(g.authTime)
	}
	if jkt != "" {
		c.Confirmation = &jose.Confirmation{JKT: jkt}
	}
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
		return nil, ErrTokenExpired
	default:
		return nil, ErrInvalidToken
	}
}

// userCacheSize bounds the user-state cache: beyond it, entries are evicted
// and read from the store again.
const userCacheSize = 10000

// tokenEntry is what a verified access token says, remembered until it
// expires.
type tokenEntry struct {
	userID    string
	sessionID string
	version   int64
	expires   time.Time
	claims    []byte // application claims as a JSON object; read-only
	jkt       string // the DPoP key the token is bound to, "" for none
	amr       []string
	authTime  time.Time
}

// cachedUser is a user as read from the store at fetched.
type cachedUser struct {
	user    User
	fetched time.Time
}

// Refresh exchanges a valid refresh token for a new pair. It returns an error
// wrapping [ErrInvalidToken] for a token that is malformed, forged, expired or
// not a refresh token; [ErrTokenInvalidated] when the password was changed
// since, or the session was ended; and [ErrUserInactive] when the user was
// disabled or deleted.
//
// When the store keeps sessions, each refresh token can be exchanged once:
// see [SessionStore] and [WithRefreshGracePeriod] for rotation and reuse.
//
// A session bound to a DPoP key (see [WithDPoP]) is refreshed only with a
// proof of that key on ctx ([ContextWithDPoPThumbprint]); otherwise the
// error matches [ErrDPoPKeyMismatch] and, with sessions, [ErrTokenReused]:
// the session is revoked.
func (a *Authenticator) Refresh(ctx context.Context, refreshToken string) (TokenPair, error) {
	c, err := a.parse(refreshToken, jose.TypeRefresh)
	if err != nil {
		return TokenPair{}, err
	}
	u, err := a.store.UserByID(ctx, c.Subject)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return TokenPair{}, joinErr(ErrUserInactive, ErrUserNotFound)
	case err != nil:
		return TokenPair{}, a.storeErr("look up user", err)
	case u.Disabled:
		return TokenPair{}, joinErr(ErrUserInactive, ErrUserDisabled)
	case u.TokenVersion != *c.Version:
		return TokenPair{}, ErrTokenInvalidated
	}
	g := a.statelessGrant(a.now())
	if a.sessions != nil {
		if g, err = a.rotate(ctx, u, c); err != nil {
			return TokenPair{}, err
		}
	} else {
		if err := checkBinding(c.JKT(), dpopThumbprint(ctx)); err != nil {
			return TokenPair{}, err
		}
		g.bound = c.JKT()
	}
	g.accessJKT = dpopThumbprint(ctx)
	g.amr = c.AMR
	if c.AuthTime != nil {
		g.authTime = c.AuthTime.Time
	}
	pair, err := a.issuePair(ctx, u, g)
	if err != nil {
		return TokenPair{}, err
	}
	e := event(ctx, u)
	e.SessionID = g.session
	if g.grace {
		a.report(ctx, slog.LevelInfo, "auth: refresh answered from the grace window", a.cfg.hooks.GraceRefresh, e)
	} else {
		a.report(ctx, slog.LevelInfo, "auth: token refreshed", a.cfg.hooks.Refreshed, e)
	}
	return pair, nil
}

// VerifyAccessToken checks an access token and returns its user. It returns
// an error wrapping [ErrInvalidToken] for a bad token or a deleted user,
// [ErrUserDisabled] for a disabled user, and [ErrTokenInvalidated] for a
// token issued before the user's last password change, disabling or
// logout-all, or whose session was ended (logout, revocation, reuse).
//
// It is the check the middleware runs on every request, and it is fast for a
// token seen before: see [WithTokenCacheSize] and [WithUserCacheTTL].
func (a *Authenticator) VerifyAccessToken(ctx context.Context, token string) (*User, error) {
	uc, err := a.verifyAccess(ctx, token)
	if err != nil {
		return nil, err
	}
	return uc.v.user(), nil
}

// verifyAccess checks an access token and returns, in one allocation, a
// context derived from ctx that carries the user (see authenticated) and
// the token's session ID.
func (a *Authenticator) verifyAccess(ctx context.Context, token string) (*userContext, error) {
	now := a.cfg.clock()
	e, ok := a.tokens.Get(token)
	if !ok || !now.Before(e.expires) {
		c, err := a.parse(token, jose.TypeAccess)
		if err != nil {
			if ok {
				a.tokens.Remove(token)
			}
			return nil, err
		}
		e = &tokenEntry{userID: c.Subject, sessionID: c.Session, version: *c.Version, expires: c.ExpiresAt.Time, jkt: c.JKT(), amr: c.AMR}
		if c.AuthTime != nil {
			e.authTime = c.AuthTime.Time
		}
		if a.cfg.claims != nil {
			e.claims = appClaims(token)
		}
		a.tokens.Put(token, e)
	}
	u, err := a.activeUser(ctx, e.userID, e.version, now)
	if err != nil {
		return nil, err
	}
	if e.sessionID != "" && a.sessions != nil {
		switch live, err := a.sessionLive(ctx, e.sessionID, now); {
		case err != nil:
			return nil, a.storeErr("look up session", err)
		case !live:
			return nil, ErrTokenInvalidated
		}
	}
	return &userContext{Context: ctx, v: authenticated{shared: u, sessionID: e.sessionID, claims: e.claims, jkt: e.jkt, amr: e.amr, authTime: e.authTime}}, nil
}

// activeUser returns the user with the given ID, as currentUser does, after
// checking that a credential issued at token version version is still
// good: the user exists, is enabled, and is at that version. The user is
// shared: it must not be written.
func (a *Authenticator) activeUser(ctx context.Context, id string, version int64, now time.Time) (*User, error) {
	u, cached, err := a.currentUser(ctx, id, now)
	if err == nil && cached && u.TokenVersion < version {
		// The credential is newer than what this instance remembers:
		// another instance changed the user (a password change,
		// logout-all) and then issued it. Ask the store rather than
		// refuse a fresh credential.
		a.users.Remove(id)
		u, _, err = a.currentUser(ctx, id, now)
	}
	switch {
	case errors.Is(err, ErrUserNotFound):
		return nil, joinErr(ErrInvalidToken, ErrUserNotFound)
	case err != nil:
		return nil, a.storeErr("look up user", err)
	case u.Disabled:
		return nil, ErrUserDisabled
	case u.TokenVersion != version:
		return nil, ErrTokenInvalidated
	}
	return u, nil
}

// currentUser returns the user with the given ID: the user cache's entry
// when it is younger than the cache TTL (cached is then true), the store's
// answer otherwise. Either is shared, and must not be written: cache
// entries are never changed once in.
func (a *Authenticator) currentUser(ctx context.Context, id string, now time.Time) (u *User, cached bool, err error) {
	if cu, ok := a.users.Get(id); ok && now.Sub(cu.fetched) < a.cfg.userCacheTTL {
		return &cu.user, true, nil
	}
	u, err = a.store.UserByID(ctx, id)
	if err != nil {
		if errors.Is(err, ErrUserNotFound) {
			a.users.Remove(id)
		}
		return nil, false, err
	}
	a.remember(u, now)
	return u, false, nil
}

// remember caches u as read or written at now. An entry with a higher token
// version stays: a read that raced with this instance's own write must not
// bring back the state from before it.
func (a *Authenticator) remember(u *User, now time.Time) {
	c := &cachedUser{user: *u, fetched: now}
	c.user.Roles = slices.Clone(u.Roles) // the entry's own: u goes on to the caller
	a.users.PutUnless(u.ID, c, func(old *cachedUser) bool {
		return old.user.TokenVersion > u.TokenVersion
	})
}
