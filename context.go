package auth

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"time"
)

// userKey is the context key for the authenticated user. Unexported, so only
// this package can set it.
type userKey struct{}

// authenticated is what the middleware stores under userKey: the user, and
// the session of its token.
//
// The user is kept as the user cache (or the store) gave it, shared and
// never written, and copied for the request only when something asks for
// it (UserFromContext, the account endpoints): a protected request whose
// handler never looks at the user allocates no copy of it. Read the shared
// one (shared) for what is only read; take the request's copy (user) for
// what may be handed out or changed. Another context with the same user
// is made with into, not by copying the struct: it holds an atomic.
type authenticated struct {
	shared    *User
	own       atomic.Pointer[User] // the request's copy, once made
	sessionID string
	claims    []byte   // JSON object, shared and read-only: ClaimsFromContext decodes a copy
	jkt       string   // the DPoP key the token is bound to, "" for a bearer token
	amr       []string // shared and read-only: AuthenticationFromContext copies it
	authTime  time.Time
	key       *apiKeyAuth // the API key, when one authenticated the request (apikeys.go)
}

// user returns the request's own copy of the user, made on first use; every
// later call returns the same copy, so that a change made through one
// UserFromContext is seen by the next, as in any request-scoped value.
// Safe for concurrent use.
func (v *authenticated) user() *User {
	if u := v.own.Load(); u != nil {
		return u
	}
	c := *v.shared
	c.Roles = slices.Clone(c.Roles) // nil stays nil
	if v.own.CompareAndSwap(nil, &c) {
		return &c
	}
	return v.own.Load()
}

// into returns a context derived from ctx that carries what v carries.
func (v *authenticated) into(ctx context.Context) *userContext {
	uc := &userContext{Context: ctx, v: authenticated{shared: v.shared, sessionID: v.sessionID, claims: v.claims,
		jkt: v.jkt, amr: v.amr, authTime: v.authTime, key: v.key}}
	uc.v.own.Store(v.own.Load())
	return uc
}

// userContext is a request context that carries the authenticated user.
// It is one allocation for the context and the value together, which
// context.WithValue around a separate struct would make two: this sits on
// the path of every protected request.
type userContext struct {
	context.Context
	v authenticated
}

// Value returns the authenticated user for userKey and defers to the parent
// for every other key.
func (c *userContext) Value(key any) any {
	if _, ok := key.(userKey); ok {
		return &c.v
	}
	return c.Context.Value(key)
}

// UserFromContext returns the user that [Authenticator.Middleware] or
// [Authenticator.OptionalMiddleware] authenticated for this request. ok is
// false when there is none. It never panics.
func UserFromContext(ctx context.Context) (u *User, ok bool) {
	v, ok := ctx.Value(userKey{}).(*authenticated)
	if !ok || v == nil {
		return nil, false
	}
	return v.user(), true
}

// SessionIDFromContext returns the ID of the session the request's access
// token belongs to, as listed by [Authenticator.Sessions]. ok is false
// without an authenticated user or when the store keeps no sessions.
func SessionIDFromContext(ctx context.Context) (id string, ok bool) {
	v, ok := ctx.Value(userKey{}).(*authenticated)
	if !ok || v == nil {
		return "", false
	}
	return v.sessionID, v.sessionID != ""
}

// ClaimsFromContext returns the application claims ([WithClaims]) of the
// request's access token: the caller's own copy. ok is false without an
// authenticated user or when the token carries none. JSON numbers arrive as
// float64, as encoding/json decodes them.
func ClaimsFromContext(ctx context.Context) (claims map[string]any, ok bool) {
	v, _ := ctx.Value(userKey{}).(*authenticated)
	if v == nil || len(v.claims) == 0 {
		return nil, false
	}
	if json.Unmarshal(v.claims, &claims) != nil {
		return nil, false
	}
	return claims, true
}
