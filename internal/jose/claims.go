package jose

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// ReservedClaims returns the names of the claims the parser reads: the
// registered claims of RFC 7519 section 4.1 and Gatehouse's own. An
// application claim may not use any of them, in any case: see
// [IsReservedClaim].
func ReservedClaims() []string {
	return []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "type", "ver", "sid"}
}

// reservedExact reports whether name is one of [ReservedClaims], exactly.
// A switch rather than a loop over the list, since the parser asks it for
// every claim of every token.
func reservedExact(name string) bool {
	switch name {
	case "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "type", "ver", "sid":
		return true
	}
	return false
}

// IsReservedClaim reports whether name is one of [ReservedClaims], ignoring
// case the way encoding/json matches object keys to struct fields (Unicode
// simple folding, so "SUB" and "ſub" are "sub"). A payload key that does so
// without being the exact name would override the claim when decoded, so
// the parser refuses it, and an issuer must not write one.
func IsReservedClaim(name string) bool {
	if reservedExact(name) {
		return true
	}
	// Every fold of a reserved name is four runes at most.
	if len(name) < 3 || len(name) > 4*utf8.UTFMax {
		return false
	}
	var lower [4]byte
	ascii := len(name) <= len(lower)
	for i := 0; ascii && i < len(name); i++ {
		c := name[i]
		if c >= utf8.RuneSelf {
			ascii = false
		} else if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	if ascii {
		return reservedExact(string(lower[:len(name)]))
	}
	for _, r := range ReservedClaims() {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}

// maxSeen is how many keys checkPayload compares pairwise before it turns
// to a map. Gatehouse tokens hold about ten.
const maxSeen = 16

// checkPayload reports whether the token's payload can be read only one
// way: its top-level keys are valid UTF-8 and distinct, none equals a
// reserved claim ignoring case without being it exactly (encoding/json
// would let a later "SUB" override "sub"), and "exp", "iat" and "nbf" are
// JSON numbers (RFC 7519 section 2; encoding/json would read the string
// "9999999999" as a number).
//
// It is called only on tokens that encoding/json has already decoded, so it
// looks at keys and delimiters without validating the JSON again; it fails
// closed on anything it does not expect.
func checkPayload(token string) bool {
	first := strings.IndexByte(token, '.')
	last := strings.LastIndexByte(token, '.')
	if first < 0 || last <= first {
		return false
	}
	seg := token[first+1 : last]
	var arr [512]byte
	buf := arr[:]
	if n := base64.RawURLEncoding.DecodedLen(len(seg)); n > len(buf) {
		buf = make([]byte, n)
	}
	n, err := base64.RawURLEncoding.Decode(buf, []byte(seg))
	if err != nil {
		return false
	}
	return checkKeys(buf[:n])
}

// checkKeys is checkPayload on the decoded payload.
func checkKeys(p []byte) bool {
	s := scanner{b: p}
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return s.end()
	}
	// Not append: it would make the keys, and so the payload, escape.
	var seen [maxSeen][]byte
	nseen := 0
	var many map[string]struct{}
	for {
		s.space()
		key, ok := s.key()
		if !ok || !s.next(':') {
			return false
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		v := s.b[s.i]
		if !s.skipValue() {
			return false
		}
		switch string(key) {
		case "exp", "iat", "nbf":
			if v != '-' && (v < '0' || v > '9') {
				return false
			}
		default:
			if !reservedExact(string(key)) && IsReservedClaim(string(key)) {
				return false
			}
		}
		switch {
		case many != nil:
			if _, dup := many[string(key)]; dup {
				return false
			}
			many[string(key)] = struct{}{}
		case nseen < maxSeen:
			for _, k := range seen[:nseen] {
				if string(k) == string(key) {
					return false
				}
			}
			seen[nseen] = key
			nseen++
		default:
			many = make(map[string]struct{}, 2*maxSeen)
			for _, k := range seen {
				many[string(k)] = struct{}{}
			}
			if _, dup := many[string(key)]; dup {
				return false
			}
			many[string(key)] = struct{}{}
		}
		if s.next(',') {
			continue
		}
		return s.next('}') && s.end()
	}
}

// scanner walks a JSON text that is known to be valid.
type scanner struct {
	b []byte
	i int
}

// space skips white space.
func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and then c, and reports whether c was there.
func (s *scanner) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (s *scanner) end() bool {
	s.space()
	return s.i == len(s.b)
}

// str skips a string and returns its raw contents, whether they hold an
// escape, and whether they hold bytes outside ASCII.
func (s *scanner) str() (raw []byte, escaped, nonASCII, ok bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, false, false
	}
	start := s.i + 1
	for i := start; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], escaped, nonASCII, true
		case c == '\\':
			escaped = true
			i++ // the escaped byte, never the closing quote
		case c < 0x20:
			return nil, false, false, false
		case c >= utf8.RuneSelf:
			nonASCII = true
		}
	}
	return nil, false, false, false
}

// key reads an object key and returns it as encoding/json decodes it. A
// key that is not valid UTF-8 fails: encoding/json would replace the bad
// bytes, so two different keys could decode to one.
func (s *scanner) key() ([]byte, bool) {
	start := s.i
	raw, escaped, nonASCII, ok := s.str()
	switch {
	case !ok:
		return nil, false
	case escaped:
		// Rare: let encoding/json unescape it, as it does when decoding.
		// (A copy, so that the payload buffer can stay on the stack.)
		var k string
		if json.Unmarshal(bytes.Clone(s.b[start:s.i]), &k) != nil {
			return nil, false
		}
		return []byte(k), true
	case nonASCII && !utf8.Valid(raw):
		return nil, false
	}
	return raw, true
}

// skipValue skips one value. Brackets are only counted, not matched: the
// text is valid JSON.
func (s *scanner) skipValue() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		_, _, _, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, _, _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return s.i > start
		}
		s.i++
	}
	return false
}
