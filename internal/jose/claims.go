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
	return []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "type", "ver", "sid", "cnf", "amr", "auth_time"}
}

// reservedIndex returns the index of name in [ReservedClaims], matched
// exactly, or -1. A switch rather than a loop over the list, since the
// parser asks it for every claim of every token.
func reservedIndex[T string | []byte](name T) int {
	switch string(name) {
	case "iss":
		return 0
	case "sub":
		return 1
	case "aud":
		return 2
	case "exp":
		return 3
	case "nbf":
		return 4
	case "iat":
		return 5
	case "jti":
		return 6
	case "type":
		return 7
	case "ver":
		return 8
	case "sid":
		return 9
	case "cnf":
		return 10
	case "amr":
		return 11
	case "auth_time":
		return 12
	}
	return -1
}

// IsReservedClaim reports whether name is one of [ReservedClaims], ignoring
// case the way encoding/json matches object keys to struct fields (Unicode
// simple folding, so "SUB" and "ſub" are "sub"). A payload key that does so
// without being the exact name would override the claim when decoded, so
// the parser refuses it, and an issuer must not write one.
func IsReservedClaim(name string) bool { return reservedFold(name) }

// reservedFold is IsReservedClaim for keys still in the payload's bytes.
func reservedFold[T string | []byte](name T) bool {
	// A fold of a reserved name is three to nine runes.
	if len(name) < 3 || len(name) > 9*utf8.UTFMax {
		return false
	}
	var lower [9]byte
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
		return reservedIndex(lower[:len(name)]) >= 0
	}
	for _, r := range ReservedClaims() {
		if strings.EqualFold(string(name), r) {
			return true
		}
	}
	return false
}

// maxPairwise is how many application claims checkKeys compares pairwise
// before it turns to a map. Reserved claims take a bit each instead.
const maxPairwise = 16

// checkPayload reports whether the token's payload can be read only one
// way: its top-level keys are valid UTF-8 and distinct, none equals a
// reserved claim ignoring case without being it exactly (encoding/json
// would let a later "SUB" override "sub"), and "exp", "iat", "nbf" and
// "auth_time" are JSON numbers (RFC 7519 section 2; encoding/json would read the string
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
	var reserved uint16 // a bit per reserved name seen
	var others [maxPairwise][]byte
	nothers := 0
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
		if r := reservedIndex(key); r >= 0 {
			if reserved&(1<<r) != 0 {
				return false
			}
			reserved |= 1 << r
			switch r {
			case 3, 4, 5, 12: // exp, nbf, iat, auth_time
				if v != '-' && (v < '0' || v > '9') {
					return false
				}
			}
		} else if reservedFold(key) {
			return false
		} else if many == nil && nothers < maxPairwise {
			for _, k := range others[:nothers] {
				if string(k) == string(key) {
					return false
				}
			}
			// Not append: that would make the keys, and so the
			// payload, escape to the heap.
			others[nothers] = key
			nothers++
		} else {
			if many == nil {
				many = make(map[string]struct{}, 2*maxPairwise)
				for _, k := range others {
					many[string(k)] = struct{}{}
				}
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

// str skips a string and returns its raw contents.
func (s *scanner) str() (raw []byte, ok bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	for i := start; ; i++ {
		j := bytes.IndexByte(s.b[i:], '"')
		if j < 0 {
			return nil, false
		}
		i += j
		// The quote ends the string unless an odd number of
		// backslashes escapes it.
		n := 0
		for k := i - 1; k >= start && s.b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			s.i = i + 1
			return s.b[start:i], true
		}
	}
}

// key reads an object key and returns it as encoding/json decodes it. A
// key that is not valid UTF-8 fails: encoding/json would replace the bad
// bytes, so two different keys could decode to one. (An escaped lone
// surrogate is decoded, as encoding/json does, to U+FFFD.)
func (s *scanner) key() ([]byte, bool) {
	start := s.i
	raw, ok := s.str()
	if !ok {
		return nil, false
	}
	escaped, nonASCII := false, false
	for _, c := range raw {
		switch {
		case c == '\\':
			escaped = true
		case c >= utf8.RuneSelf:
			nonASCII = true
		}
	}
	if nonASCII && !utf8.Valid(raw) {
		return nil, false
	}
	if escaped {
		// Rare: let encoding/json unescape it, as it does when decoding.
		// (A copy, so that the payload buffer can stay on the stack.)
		var k string
		if json.Unmarshal(bytes.Clone(s.b[start:s.i]), &k) != nil {
			return nil, false
		}
		return []byte(k), true
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
		_, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, ok := s.str(); !ok {
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
