package auth

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

var errBadUsername = errors.New("auth: username has characters that are not allowed")

// CanonicalUsername returns the form in which a username is stored and
// compared: RFC 8265 UsernameCaseMapped, which maps width (fullwidth to
// halfwidth), folds case and applies NFC. "Alice", "ALICE" and "ＡＬＩＣＥ"
// are all "alice". Names with spaces, control or formatting characters (such
// as bidi overrides), or invalid UTF-8 are rejected.
//
// Gatehouse stores only the canonical form, so the name a user sees is the
// canonical one; there is no second "display" spelling to keep in sync.
func CanonicalUsername(username string) (string, error) {
	if !utf8.ValidString(username) {
		return "", errBadUsername
	}
	name, err := precis.UsernameCaseMapped.String(username)
	if err != nil || name == "" {
		return "", errBadUsername
	}
	return name, nil
}

// validateUsername records problems with username and returns its canonical
// form when it has none.
func validateUsername(v *ValidationError, username string) string {
	n := utf8.RuneCountInString(username)
	switch {
	case n < minUsernameLength:
		v.add("username", "string_too_short", fmt.Sprintf("String should have at least %d characters", minUsernameLength))
		return ""
	case n > maxUsernameLength:
		v.add("username", "string_too_long", fmt.Sprintf("String should have at most %d characters", maxUsernameLength))
		return ""
	}
	name, err := CanonicalUsername(username)
	if err != nil {
		v.add("username", "username_invalid", "Username must not contain spaces, control or formatting characters, and must be valid UTF-8")
		return ""
	}
	// Composition (NFC) can shorten a name below the minimum.
	if utf8.RuneCountInString(name) < minUsernameLength {
		v.add("username", "string_too_short", fmt.Sprintf("String should have at least %d characters", minUsernameLength))
		return ""
	}
	return name
}
