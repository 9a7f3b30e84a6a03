package auth

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// PasswordPolicy decides whether a new password is acceptable. [Authenticator.Register]
// and [Authenticator.ChangePassword] call it after the built-in checks (a valid
// username, a password of 8 to 128 characters) have passed, and before any
// hashing. username is the canonical username (see [CanonicalUsername]).
//
// A non-nil error rejects the password: the call returns a [*ValidationError]
// with one problem of type "password_policy" on the password field, whose
// message is the error's text. The handlers send that text to the client
// as it is (it is the one error text that is meant for the client), so write it
// for the user and keep anything secret out of it. An error that wraps
// [ErrUnavailable], [context.Canceled] or [context.DeadlineExceeded] is a
// system failure instead, for example a breach-list service that did not
// answer; it is returned as it is and the handlers answer 503.
type PasswordPolicy func(ctx context.Context, username, password string) error

// policyError is a policy rejection whose text is written for the user.
type policyError string

func (e policyError) Error() string { return string(e) }

const (
	errPasswordIsUsername policyError = "Password must not be the username"
	errPasswordTooCommon  policyError = "Password is too common, choose a less guessable one"
)

// DefaultPasswordPolicy rejects a password that is the username, ignoring case
// and width ("ALICE-SMITH" for "alice-smith"), and the 3,000 most common
// passwords of 8 characters or more, ignoring case. The list comes from
// SecLists; commonpasswords.txt in the module says how it was made.
//
// It is the default for [WithPasswordPolicy]. A policy of your own can call it
// first and then add rules.
func DefaultPasswordPolicy(_ context.Context, username, password string) error {
	if strings.EqualFold(password, username) {
		return errPasswordIsUsername
	}
	if name, err := CanonicalUsername(password); err == nil && name == username {
		return errPasswordIsUsername
	}
	if _, common := commonPasswords()[strings.ToLower(password)]; common {
		return errPasswordTooCommon
	}
	return nil
}

//go:embed commonpasswords.txt
var commonPasswordsText string

// commonPasswords is the embedded list as a set, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 3000)
	for line := range strings.Lines(commonPasswordsText) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[line] = struct{}{}
	}
	return set
})

// validateNewPassword records the problems of a new password: its length
// and then, if everything else in v passed (username included), the
// password policy. A system failure of the policy is returned as an error.
func (a *Authenticator) validateNewPassword(ctx context.Context, v *ValidationError, field, username, password string) error {
	validatePassword(v, field, password)
	if len(v.Problems) > 0 || a.cfg.passwordPolicy == nil {
		return nil
	}
	err := a.cfg.passwordPolicy(ctx, username, password)
	switch {
	case err == nil:
		return nil
	case isTransient(err):
		return err
	}
	v.add(field, "password_policy", err.Error())
	return nil
}

// validatePassword records a problem when password is not 8 to 128
// characters.
func validatePassword(v *ValidationError, field, password string) {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minPasswordLength:
		v.add(field, "string_too_short", fmt.Sprintf("String should have at least %d characters", minPasswordLength))
	case n > maxPasswordLength:
		v.add(field, "string_too_long", fmt.Sprintf("String should have at most %d characters", maxPasswordLength))
	}
}

// Password length limits, in characters (Unicode code points), as FastAPI
// clients expect them.
const (
	minPasswordLength = 8
	maxPasswordLength = 128
)
