package auth

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientAddr(t *testing.T) {
	lan := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	xff := &trustedProxy{header: "X-Forwarded-For", list: true, proxies: lan}
	realIP := &trustedProxy{header: "X-Real-Ip", proxies: lan}
	tests := []struct {
		name   string
		proxy  *trustedProxy
		remote string
		header []string // values of the proxy's header, in order
		want   string   // "" for none
	}{
		{"no proxy configured", nil, "203.0.113.1:5000", []string{"1.1.1.1"}, "203.0.113.1"},
		{"IPv6 peer", nil, "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"IPv4-mapped peer", nil, "[::ffff:203.0.113.1]:443", nil, "203.0.113.1"},
		{"peer with a zone", nil, "[fe80::1%eth0]:443", nil, "fe80::1"},
		{"no peer address", nil, "@", nil, ""},
		{"untrusted peer's header is ignored", xff, "203.0.113.1:5000", []string{"1.1.1.1"}, "203.0.113.1"},
		{"trusted peer, no header", xff, "10.0.0.1:5000", nil, "10.0.0.1"},
		{"one hop", xff, "10.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"right-most untrusted entry", xff, "10.0.0.1:5000", []string{"1.1.1.1, 203.0.113.9, 10.0.0.2"}, "203.0.113.9"},
		{"several headers are one list", xff, "10.0.0.1:5000", []string{"1.1.1.1, 203.0.113.9", "10.0.0.2"}, "203.0.113.9"},
		{"entries with ports and brackets", xff, "10.0.0.1:5000", []string{"[2001:db8::7]:1234, 10.0.0.3:80"}, "2001:db8::7"},
		{"all trusted: the left-most", xff, "10.0.0.1:5000", []string{"10.0.0.9, 10.0.0.2"}, "10.0.0.9"},
		{"garbage stops at the last proxy", xff, "10.0.0.1:5000", []string{"203.0.113.9, unknown, 10.0.0.2"}, "10.0.0.2"},
		{"garbage right away", xff, "10.0.0.1:5000", []string{"nonsense"}, "10.0.0.1"},
		{"empty entries", xff, "10.0.0.1:5000", []string{",,"}, "10.0.0.1"},
		{"IPv6 proxy", xff, "[2001:db8:ffff::1]:443", []string{"2001:db8:1::5"}, "2001:db8:1::5"},
		{"single-address header", realIP, "10.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"single-address header, last wins", realIP, "10.0.0.1:5000", []string{"1.1.1.1", "203.0.113.9"}, "203.0.113.9"},
		{"single-address header, garbage", realIP, "10.0.0.1:5000", []string{"x"}, "10.0.0.1"},
		{"single-address header, untrusted peer", realIP, "203.0.113.1:5000", []string{"1.1.1.1"}, "203.0.113.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/auth/login", nil)
			r.RemoteAddr = tc.remote
			h := "X-Forwarded-For"
			if tc.proxy != nil {
				h = tc.proxy.header
			}
			for _, v := range tc.header {
				r.Header.Add(h, v)
			}
			got, ok := tc.proxy.clientAddr(r)
			if tc.want == "" {
				if ok {
					t.Fatalf("clientAddr = %v, want none", got)
				}
				return
			}
			if !ok || got != netip.MustParseAddr(tc.want) {
				t.Fatalf("clientAddr = %v, %v, want %s", got, ok, tc.want)
			}
		})
	}
}

// FuzzClientAddr: no panic, and the address is the peer's or one that
// appears in the header, never a made-up one.
func FuzzClientAddr(f *testing.F) {
	f.Add("10.0.0.1:5000", "1.1.1.1, 203.0.113.9, 10.0.0.2")
	f.Add("10.0.0.1:5000", "[2001:db8::7]:1234,10.0.0.3:80")
	f.Add("203.0.113.1:1", "10.0.0.1")
	f.Add("[::ffff:10.0.0.1]:1", ",,, ,unknown")
	proxy := &trustedProxy{header: "X-Forwarded-For", list: true, proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	f.Fuzz(func(t *testing.T, remote, header string) {
		r := httptest.NewRequest("POST", "/auth/login", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", header)
		got, ok := proxy.clientAddr(r)
		peer, peerOK := parseHop(remote)
		if ok != peerOK {
			t.Fatalf("ok = %v for peer %q", ok, remote)
		}
		if !ok {
			return
		}
		if !got.IsValid() || got.Zone() != "" || got.Is4In6() {
			t.Fatalf("address %v is not in canonical form", got)
		}
		if got != peer && !proxy.trusts(peer) {
			t.Fatalf("untrusted peer %v charged as %v", peer, got)
		}
		if got != peer && !inHeader(header, got) {
			t.Fatalf("address %v appears nowhere in %q", got, header)
		}
	})
}

func inHeader(header string, a netip.Addr) bool {
	for _, e := range strings.Split(header, ",") {
		if b, ok := parseHop(e); ok && b == a {
			return true
		}
	}
	return false
}
