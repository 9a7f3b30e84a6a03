package auth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gatehouse/auth/internal/jose"
)

// isReservedClaim reports whether name is a claim Gatehouse reads, in any
// case that encoding/json would match ("SUB", "Exp", even "ſub"): such a
// name next to the real claim could otherwise be read in its place.
func isReservedClaim(name string) bool { return jose.IsReservedClaim(name) }

// checkClaims refuses application claims that use a reserved name in any
// case.
func checkClaims(extra map[string]any) error {
	for k := range extra {
		if isReservedClaim(k) {
			return fmt.Errorf("%w: %q (claim names are compared ignoring case)", ErrReservedClaim, k)
		}
	}
	return nil
}

// appClaims returns the application claims of a verified token, every
// claim that is not reserved, as a JSON object; nil when there are none.
// Kept as JSON, each reader decodes its own copy, nested values included.
func appClaims(token string) []byte {
	parts := strings.SplitN(token, ".", 3)
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return nil
	}
	for k := range m {
		if isReservedClaim(k) {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}
