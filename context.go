package auth

import "context"

// userKey is the context key for the authenticated user. Unexported, so only
// this package can set it.
type userKey struct{}

// authenticated is what the middleware stores under userKey: the request's
// own copy of the user, and the session of its token.
type authenticated struct {
	user      User
	sessionID string
}

func withUser(ctx context.Context, v *authenticated) context.Context {
	return context.WithValue(ctx, userKey{}, v)
}

// UserFromContext returns the user that [Authenticator.Middleware] or
// [Authenticator.OptionalMiddleware] authenticated for this request. ok is
// false when there is none. It never panics.
func UserFromContext(ctx context.Context) (u *User, ok bool) {
	v, ok := ctx.Value(userKey{}).(*authenticated)
	if !ok || v == nil {
		return nil, false
	}
	return &v.user, true
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
