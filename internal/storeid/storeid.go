// Package storeid holds what memstore and sqlstore share about the IDs and
// usernames they accept: the limits of the SQL columns, and the check that
// answers a malformed one as not found rather than as a backend error.
package storeid

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// The longest ID (user, session, jti) and username a store holds, in
// bytes: MySQL's VARBINARY(255) and VARBINARY(1020). memstore keeps to
// them too, so that an application behaves the same on every store.
const (
	MaxIDLen   = 255
	MaxNameLen = 1020
)

// WellFormed reports whether s could be stored in a column of at most n
// bytes on every dialect: valid UTF-8 without NUL (PostgreSQL's text
// refuses both, with an error rather than no match). IDs and usernames
// arrive from URL paths and token claims, so a malformed one is answered
// as not found, without a query.
func WellFormed(s string, n int) bool {
	return len(s) <= n && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// Errors for creating a user or session whose ID or username is malformed.
var (
	ErrMalformedID   = errors.New("malformed id: want at most 255 bytes of UTF-8 without NUL")
	ErrMalformedName = errors.New("malformed username: want at most 1020 bytes of UTF-8 without NUL")
)
