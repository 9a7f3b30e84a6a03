package auth

import (
	"context"
	"time"
)

// User is an account as stored by a [UserStore].
type User struct {
	// ID is assigned by the store on CreateUser when empty. It is opaque to
	// the Authenticator.
	ID string
	// Username is the canonical form of the name the user registered with
	// (RFC 8265 UsernameCaseMapped: case-folded, width-folded, NFC). Stores
	// compare it byte for byte; the Authenticator canonicalizes every name
	// before it reaches a store.
	Username string
	// PasswordHash is an argon2id PHC string. It is never sent to clients.
	PasswordHash string
	// Disabled users cannot log in, refresh, or use earlier tokens.
	Disabled bool
	// TokenVersion is carried in every token issued for the user. Changing
	// the password or disabling the user increments it, which invalidates
	// every token issued before.
	TokenVersion int64
	// CreatedAt and UpdatedAt are set by the Authenticator, in UTC, truncated
	// to the microsecond so that every store round-trips them exactly.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UserStore persists users. Implementations must be safe for concurrent use
// and must hand out copies: a *User returned by a store is owned by the
// caller, and a *User passed in is not retained.
//
// Errors are for outcomes named below and for system failures. A store that
// cannot reach its backend should wrap [ErrUnavailable] so that the handlers
// answer 503 instead of 500. Run [github.com/gatehouse/auth/storetest.Run]
// against an implementation to check it against this contract.
type UserStore interface {
	// CreateUser stores a new user. When u.ID is empty the store assigns a
	// unique ID and writes it to u.ID; a non-empty ID (an import) is kept.
	// It returns an error wrapping ErrUserExists when the username or the ID
	// is taken. It is atomic: of many concurrent creates of one username,
	// exactly one succeeds and the others get ErrUserExists.
	CreateUser(ctx context.Context, u *User) error

	// UserByID returns the user with the given ID, or an error wrapping
	// ErrUserNotFound.
	UserByID(ctx context.Context, id string) (*User, error)

	// UserByUsername returns the user whose stored Username equals username
	// byte for byte, or an error wrapping ErrUserNotFound.
	UserByUsername(ctx context.Context, username string) (*User, error)

	// UpdateUser writes u.PasswordHash, u.TokenVersion, u.Disabled and
	// u.UpdatedAt together, in one atomic write, to the user with ID u.ID,
	// but only if the stored user still has PasswordHash == prevHash and
	// TokenVersion == prevVersion. It returns an error wrapping
	// ErrUserNotFound when there is no such user and ErrConflict when the
	// condition does not hold; in both cases nothing is written. Of many
	// concurrent updates with the same condition, at most one succeeds.
	// Username, ID and CreatedAt are never changed.
	UpdateUser(ctx context.Context, u *User, prevHash string, prevVersion int64) error

	// DeleteUser removes the user with the given ID. It returns an error
	// wrapping ErrUserNotFound when there is no such user.
	DeleteUser(ctx context.Context, id string) error
}
