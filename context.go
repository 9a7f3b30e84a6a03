package auth

import "context"

// userKey is the context key for the authenticated user. Unexported, so only
// this package can set it.
type userKey struct{}

// authenticated is what the middleware stores under userKey.
type authenticated struct {
	user      *User
	sessionID string
}

func withUser(ctx context.Context, u *User, sessionID string) context.Context {
	return context.WithValue(ctx, userKey{}, authenticated{user: u, sessionID: sessionID})
}

// UserFromContext returns the user that [Authenticator.Middleware] or
// [Authenticator.OptionalMiddleware] authenticated for this request. ok is
// false when there is none. It never panics.
func UserFromContext(ctx context.Context) (u *User, ok bool) {
	v, ok := ctx.Value(userKey{}).(authenticated)
	return v.user, ok && v.user != nil
}

// SessionIDFromContext returns the ID of the session the request's access
// token belongs to, as listed by [Authenticator.Sessions]. ok is false
// without an authenticated user or when the store keeps no sessions.
func SessionIDFromContext(ctx context.Context) (id string, ok bool) {
	v, _ := ctx.Value(userKey{}).(authenticated)
	return v.sessionID, v.sessionID != ""
}
