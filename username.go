package auth

import (
	"errors"
	"fmt"
	"strings"
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
// One step goes beyond RFC 8265: the Greek final sigma "ς" becomes "σ".
// Lower-casing maps "Σ" to "σ" wherever it stands, so without this step
// "Σίσυφος" and "ΣΊΣΥΦΟΣ" would be two accounts; Unicode case folding makes
// the same choice.
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
	return strings.ReplaceAll(name, "ς", "σ"), nil
}

// maxUsernameInputBytes bounds the raw input before any Unicode work; the
// character limits apply to the canonical form.
const maxUsernameInputBytes = 4096

// validateUsername records problems with username and returns its canonical
// form when it has none.
func validateUsername(v *ValidationError, username string) string {
	tooShort := func() string {
		v.add("username", "string_too_short", fmt.Sprintf("String should have at least %d characters", minUsernameLength))
		return ""
	}
	tooLong := func() string {
		v.add("username", "string_too_long", fmt.Sprintf("String should have at most %d characters", maxUsernameLength))
		return ""
	}
	if len(username) > maxUsernameInputBytes {
		return tooLong()
	}
	if utf8.RuneCountInString(username) < minUsernameLength {
		return tooShort()
	}
	name, err := CanonicalUsername(username)
	if err != nil {
		v.add("username", "username_invalid", "Username must not contain spaces, control or formatting characters, and must be valid UTF-8")
		return ""
	}
	// The limits hold for what is stored. Normalization can shorten a name
	// (composition) or lengthen it (some characters decompose under NFC).
	switch n := utf8.RuneCountInString(name); {
	case n < minUsernameLength:
		return tooShort()
	case n > maxUsernameLength:
		return tooLong()
	}
	return name
}

// Username length limits, in characters (Unicode code points), as FastAPI
// clients expect them.
const (
	minUsernameLength = 3
	maxUsernameLength = 255
)
