package auth

import "context"

// userKey is the context key for the authenticated user. Unexported, so only
// this package can set it.
type userKey struct{}

func withUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFromContext returns the user that [Authenticator.Middleware] or
// [Authenticator.OptionalMiddleware] authenticated for this request. ok is
// false when there is none. It never panics.
func UserFromContext(ctx context.Context) (u *User, ok bool) {
	u, ok = ctx.Value(userKey{}).(*User)
	return u, ok && u != nil
}
