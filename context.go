package auth

import (
	"context"
	"net/netip"
)

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

// clientAddrKey is the context key for the client's address.
type clientAddrKey struct{}

// ContextWithClientAddr returns a copy of ctx that carries addr as the
// address of the client making the request. [Authenticator.Authenticate],
// [Authenticator.Login] and [Authenticator.ChangePassword] charge failed
// attempts to it as well as to the username (see [WithLoginLimits]); without
// one, only the username is charged.
//
// The handlers of [Authenticator.Handler] set it from the request (see
// [WithTrustedProxy]) unless the context already carries one, so an
// application that works out client addresses itself can set it first in a
// middleware. Call it yourself when you call the methods directly.
func ContextWithClientAddr(ctx context.Context, addr netip.Addr) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// ClientAddrFromContext returns the address set by [ContextWithClientAddr].
// ok is false when there is none. It never panics.
func ClientAddrFromContext(ctx context.Context) (addr netip.Addr, ok bool) {
	addr, ok = ctx.Value(clientAddrKey{}).(netip.Addr)
	return addr, ok && addr.IsValid()
}
