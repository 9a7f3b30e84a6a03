package auth

import (
	"context"
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
		return configErr(ErrInvalidConfig, "auth: trusted proxy header name is not valid")
	}
	if len(p.proxies) == 0 {
		return configErr(ErrInvalidConfig, "auth: trusted proxy needs at least one address prefix")
	}
	for _, pr := range p.proxies {
		if !pr.IsValid() {
			return configErr(ErrInvalidConfig, "auth: trusted proxy prefix is not valid")
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

// Client describes the client making a request, for the login throttle,
// the session list and hooks.
type Client struct {
	// Addr is the client's address. Failed logins are charged to it as well
	// as to the username (see [WithLoginLimits]); the zero Addr charges
	// only the username.
	Addr netip.Addr
	// UserAgent is the client's User-Agent header, shown in the session
	// list and passed to hooks. Overlong or invalid UTF-8 values are
	// trimmed.
	UserAgent string
}

// clientKey is the context key for the client.
type clientKey struct{}

// clientInfo is what ContextWithClient stores: the client, and its address
// as text for sessions and hooks (which may name a peer that is not an IP
// address, such as a Unix socket).
type clientInfo struct {
	addr      netip.Addr
	userAgent string
	ip        string
}

// Limits on what a session records about its client.
const (
	maxUserAgentLength = 256
	maxIPLength        = 64
)

// ContextWithClient returns a copy of ctx that carries c as the client
// making the request. [Authenticator.Login], [Authenticator.Authenticate]
// and [Authenticator.ChangePassword] read it: for the throttle, the new
// session and the hooks.
//
// The handlers of [Authenticator.Handler] set it from the request (the
// peer's address, or what a trusted proxy reports: see [WithTrustedProxy])
// unless the context carries one already, so an application that works out
// client addresses itself can set it first in a middleware. Call it
// yourself when you call the methods directly.
func ContextWithClient(ctx context.Context, c Client) context.Context {
	ip := ""
	if c.Addr.IsValid() {
		ip = c.Addr.String()
	}
	return withClientInfo(ctx, c.Addr, c.UserAgent, ip)
}

func withClientInfo(ctx context.Context, addr netip.Addr, userAgent, ip string) context.Context {
	return context.WithValue(ctx, clientKey{}, clientInfo{
		addr:      addr,
		userAgent: clip(userAgent, maxUserAgentLength),
		ip:        clip(ip, maxIPLength),
	})
}

// ClientFromContext returns the client set by [ContextWithClient] or by
// the handlers. ok is false when there is none. It never panics.
func ClientFromContext(ctx context.Context) (c Client, ok bool) {
	ci, ok := ctx.Value(clientKey{}).(clientInfo)
	return Client{Addr: ci.addr, UserAgent: ci.userAgent}, ok
}

// clientOf returns the client of ctx, or the zero clientInfo.
func clientOf(ctx context.Context) clientInfo {
	ci, _ := ctx.Value(clientKey{}).(clientInfo)
	return ci
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	return strings.ToValidUTF8(s, "") // drop a rune cut in half
}
