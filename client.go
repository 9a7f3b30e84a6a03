package auth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// trustedProxy says which header carries the client's address, and which
// peers may set it (see WithTrustedProxy).
type trustedProxy struct {
	header  string // canonical form
	list    bool   // X-Forwarded-For: a list, one address appended per hop
	proxies []netip.Prefix
}

func (p *trustedProxy) validate() error {
	if p == nil {
		return nil
	}
	if p.header == "" || strings.ContainsAny(p.header, " \t\r\n:") {
		return errors.New("auth: trusted proxy header name is not valid")
	}
	if len(p.proxies) == 0 {
		return errors.New("auth: trusted proxy needs at least one address prefix")
	}
	for _, pr := range p.proxies {
		if !pr.IsValid() {
			return errors.New("auth: trusted proxy prefix is not valid")
		}
	}
	return nil
}

func (p *trustedProxy) trusts(addr netip.Addr) bool {
	for _, pr := range p.proxies {
		if pr.Contains(addr) {
			return true
		}
	}
	return false
}

// clientAddr returns the address of the client that sent r: the peer
// address, or, when the peer is a trusted proxy, the address the proxy
// reports. ok is false when there is no usable address (a Unix socket).
func (p *trustedProxy) clientAddr(r *http.Request) (addr netip.Addr, ok bool) {
	peer, ok := parseHop(r.RemoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if p == nil || !p.trusts(peer) {
		return peer, true
	}
	values := r.Header.Values(p.header)
	if !p.list {
		// A single-address header is set by the proxy; if a client's own
		// copy came through as well, the proxy's is the last one.
		if len(values) > 0 {
			if a, ok := parseHop(values[len(values)-1]); ok {
				return a, true
			}
		}
		return peer, true
	}
	// X-Forwarded-For: each proxy appends the address it got the request
	// from, so walk from the right and stop at the first address that is
	// not one of ours. Entries to its left were written by the client and
	// prove nothing. An entry that is not an address ends the walk at the
	// last proxy seen.
	addr = peer
	for i := len(values) - 1; i >= 0; i-- {
		rest := values[i]
		for rest != "" {
			var entry string
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				rest, entry = rest[:j], rest[j+1:]
			} else {
				rest, entry = "", rest
			}
			a, ok := parseHop(entry)
			if !ok {
				return addr, true
			}
			addr = a
			if !p.trusts(a) {
				return addr, true
			}
		}
	}
	return addr, true
}

// parseHop parses an address as peers and proxies write it: "192.0.2.1",
// "192.0.2.1:1234", "2001:db8::1", "[2001:db8::1]:1234", with spaces around
// it. Zones are dropped and IPv4-mapped IPv6 addresses unmapped.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// clientKey is the context key for the client description recorded with a
// new session.
type clientKey struct{}

type clientInfo struct{ userAgent, ip string }

// Limits on what a session records about its client.
const (
	maxUserAgentLength = 256
	maxIPLength        = 64
)

// WithClientInfo returns a context that tells [Authenticator.Login] which
// client is logging in, to be shown in the session list. The HTTP handler
// sets it from the request; call it yourself when calling Login directly.
// Overlong or invalid UTF-8 values are trimmed.
func WithClientInfo(ctx context.Context, userAgent, ip string) context.Context {
	return context.WithValue(ctx, clientKey{}, clientInfo{
		userAgent: clip(userAgent, maxUserAgentLength),
		ip:        clip(ip, maxIPLength),
	})
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	return strings.ToValidUTF8(s, "") // drop a rune cut in half
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
