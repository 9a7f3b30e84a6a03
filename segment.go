package auth

import (
	"encoding/base64"
	"errors"
)

// errBadSegment is a token segment that is not unpadded base64url.
var errBadSegment = errors.New("auth: malformed token segment")

// decodeSegment decodes one segment of the tokens Gatehouse signs itself
// (device tokens, mfa_tokens, plug-ins' state tokens): unpadded base64url
// in its one canonical spelling. encoding/base64 skips CR and LF even in
// strict mode, so they are refused here first: a token must have one
// spelling, or a "new" token could be minted from a seen one.
func decodeSegment(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, errBadSegment
		}
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}
