package auth

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// maxEmailBytes is the longest address that SMTP can carry in a path
// (RFC 5321 section 4.5.3.1.3, less the angle brackets).
const maxEmailBytes = 254

var errBadEmail = errors.New("auth: not a valid email address")

// CanonicalEmail returns the form in which an email address is compared:
// Unicode case folding, then NFC, of the whole address. "Alice@Example.COM"
// and "alice@example.com" are one address. The local part is folded too:
// RFC 5321 lets a server tell "Alice" from "alice", but no mail service in
// common use does, and two accounts for one mailbox are the greater harm.
//
// The address must be a single bare address as [net/mail] reads it: no
// display name, no angle brackets, no comments, no quoted local part, and
// nothing around it; at most 254 octets; valid UTF-8 with no control
// characters (CR and LF included, so it can never inject a mail header).
// Anything else is an error. The address as given, not the canonical form,
// is what mail is sent to.
func CanonicalEmail(email string) (string, error) {
	if err := checkEmail(email); err != nil {
		return "", err
	}
	return canonicalEmail(email), nil
}

// checkEmail reports whether email is an address Gatehouse accepts.
func checkEmail(email string) error {
	if email == "" || len(email) > maxEmailBytes || !utf8.ValidString(email) {
		return errBadEmail
	}
	for _, r := range email {
		if unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return errBadEmail
		}
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email {
		return errBadEmail
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.HasPrefix(domain, "[") {
		return errBadEmail
	}
	return nil
}

// canonicalEmail folds and normalizes an address that checkEmail accepted.
func canonicalEmail(email string) string {
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(email)))
}

// validateEmail records a problem with email in v, under field, and
// returns its canonical form when it has none.
func validateEmail(v *ValidationError, field, email string) string {
	if err := checkEmail(email); err != nil {
		if len(email) > maxEmailBytes {
			v.add(field, "string_too_long", "String should have at most 254 bytes")
			return ""
		}
		v.add(field, "value_error", "value is not a valid email address: a single address without a display name is required")
		return ""
	}
	return canonicalEmail(email)
}

// userByLoginEmail finds the user whose verified email is login, for a
// login that named an email instead of a username. It answers
// ErrUserNotFound when email login is off, the store keeps no emails, login
// is no address, or the address is not verified.
func (a *Authenticator) userByLoginEmail(ctx context.Context, login string) (*User, error) {
	if a.emails == nil || !a.cfg.mail.emailLogin || checkEmail(login) != nil {
		return nil, ErrUserNotFound
	}
	u, err := a.emails.UserByEmail(ctx, canonicalEmail(login))
	if err != nil {
		return nil, err
	}
	if !u.EmailVerified {
		return nil, ErrUserNotFound
	}
	return u, nil
}
