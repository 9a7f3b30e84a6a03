package dpop

import (
	"net/http"
	"net/url"
	"strings"
)

// RequestURI returns the target URI of r as the client addressed it,
// without query and fragment (RFC 9449 section 4.3): the scheme and host of
// external when it is set (a server behind a proxy), else https when the
// connection is TLS and http otherwise with the Host header; and the path as
// the client sent it (the request line, so that a prefix stripped by
// http.StripPrefix still counts).
func RequestURI(r *http.Request, external *url.URL) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if external != nil {
		scheme, host = external.Scheme, external.Host
	}
	path := r.URL.EscapedPath()
	if r.RequestURI != "" {
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
			path = u.EscapedPath()
		}
	}
	return scheme + "://" + host + path
}

// MatchURI reports whether a proof's "htu" names the request's target URI
// (from [RequestURI]), compared as RFC 9449 section 4.3 says, after
// syntax-based normalization (RFC 3986 section 6.2.2): scheme and host in
// any case, a default port or none, percent-encodings in either case, and
// unreserved characters encoded or not. The path must otherwise be the
// same: a trailing slash or a letter's case makes another URI. An "htu"
// with a query or a fragment is refused: section 4.2 defines it without
// them.
func MatchURI(htu, uri string) bool {
	if strings.ContainsAny(htu, "?#") {
		return false
	}
	a, ok := normalize(htu)
	if !ok {
		return false
	}
	b, ok := normalize(uri)
	return ok && a == b
}

// normalize returns the normal form of an absolute http(s) URI without
// query, fragment or user information.
func normalize(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.User != nil || u.Opaque != "" || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if port := u.Port(); port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host = u.Host[:len(u.Host)-len(port)-1]
		host = strings.ToLower(host) + ":" + port
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 without its port
	}
	path, ok := normalPath(u.EscapedPath())
	if !ok {
		return "", false
	}
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, true
}

// normalPath upper-cases percent-encodings and decodes those of unreserved
// characters (RFC 3986 section 6.2.2.2).
func normalPath(p string) (string, bool) {
	if !strings.Contains(p, "%") {
		return p, true
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", false
		}
		c := unhex(p[i+1])<<4 | unhex(p[i+2])
		if unreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteString(strings.ToUpper(p[i : i+3]))
		}
		i += 2
	}
	return b.String(), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// ProofHeader returns the request's one DPoP header: "" when there is
// none, ok false when there are several (RFC 9449 section 4.3, check 1).
func ProofHeader(r *http.Request) (proof string, ok bool) {
	v := r.Header["Dpop"] // the canonical key: Values would canonicalize "DPoP" on every request
	switch len(v) {
	case 0:
		return "", true
	case 1:
		return v[0], v[0] != ""
	}
	return "", false
}
