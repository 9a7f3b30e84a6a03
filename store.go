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

	// Email (issue 13): kept only by a store that is an [EmailStore], and
	// written after creation only through [EmailStore.SetUserEmail].

	// Email is the address as the user gave it, used to send mail; empty
	// for none. Stores compare it in its canonical form ([CanonicalEmail]).
	Email string
	// EmailVerified is true once the user proved they receive mail at
	// Email, and EmailVerifiedAt says when (the zero time before that).
	EmailVerified   bool
	EmailVerifiedAt time.Time
}

// UserStore persists users. Implementations must be safe for concurrent use
// and must hand out copies: a *User returned by a store is owned by the
// caller, and a *User passed in is not retained.
//
// Errors are for outcomes named below and for system failures. A store that
// cannot reach its backend should wrap [ErrUnavailable] so that the handlers
// answer 503 instead of 500. Run [github.com/gatehouse/auth/storetest.Run]
// against an implementation to check it against this contract.
//
// IDs and usernames come from clients (a URL path, a token claim, a form),
// so a store must expect any bytes. An ID that is not valid UTF-8, holds a
// NUL byte or is longer than 255 bytes, or such a username longer than
// 1020 bytes, is malformed: no store can hold it, so lookups, updates and
// deletes answer it with ErrUserNotFound (never a backend error), and
// CreateUser refuses it with an error.
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

	// DeleteUser removes the user with the given ID, and the user's sessions
	// when the store is also a SessionStore. It returns an error wrapping
	// ErrUserNotFound when there is no such user.
	DeleteUser(ctx context.Context, id string) error
}

// Session is one login: a family of refresh tokens, each replacing the one
// before it. Stores keep token identifiers (jti values), never a token.
type Session struct {
	// ID identifies the session (the token family). It is random and is
	// carried in the "sid" claim of both tokens.
	ID string
	// UserID is the ID of the session's user.
	UserID string
	// TokenVersion is the user's token version at login. A session whose
	// version differs from the user's (after a password change, disabling
	// or logout-all) is dead.
	TokenVersion int64
	// CurrentJTI is the jti of the newest refresh token, the only one that
	// may be exchanged.
	CurrentJTI string
	// PreviousJTI is the jti that CurrentJTI replaced, kept for the grace
	// window; empty before the first rotation.
	PreviousJTI string
	// CreatedAt is the login time; ExpiresAt is CreatedAt plus the refresh
	// TTL and never moves.
	CreatedAt time.Time
	ExpiresAt time.Time
	// RotatedAt is when CurrentJTI was issued; LastUsedAt is the last
	// successful refresh (both equal CreatedAt until then).
	RotatedAt  time.Time
	LastUsedAt time.Time
	// RevokedAt is when the session was ended; zero while it is live.
	RevokedAt time.Time
	// UserAgent and IP describe the client at login, as the handler saw it.
	UserAgent string
	IP        string
	// RotatedUserAgent and RotatedIP describe the client that made the last
	// rotation, as the handler saw it; both are empty before the first.
	RotatedUserAgent string
	RotatedIP        string
	// GraceUses counts how many times PreviousJTI was answered from the
	// grace window since the last rotation (see [SessionStore.UseGrace]).
	GraceUses int
}

// SessionStore is an optional ability of a [UserStore], found by type
// assertion. With it, every login starts a [Session]: refresh tokens rotate
// on each use, a replayed refresh token revokes its whole family, and users
// can log out, list their sessions and end any of them.
//
// Without it the Authenticator is stateless: refresh tokens stay valid until
// they expire or the user's token version changes (password change,
// disabling), logout cannot revoke anything, and there is no session list.
//
// Times are stored in UTC with microsecond precision. Errors are for the
// outcomes named below and for system failures; wrap [ErrUnavailable] when
// the backend cannot be reached. A session ID, user ID or jti that no store
// could hold (see [UserStore]) is never found: the methods below answer it
// as they answer any ID that does not exist.
type SessionStore interface {
	// CreateSession stores a new session. It returns an error wrapping
	// ErrUserExists if the ID is taken; an error wrapping ErrUserNotFound
	// if s.UserID is malformed (see [UserStore]) or, in a store that checks
	// references, names no user; and an error for a malformed s.ID or
	// CurrentJTI.
	CreateSession(ctx context.Context, s *Session) error

	// Session returns the session with the given ID, revoked or not, or an
	// error wrapping ErrSessionNotFound.
	Session(ctx context.Context, id string) (*Session, error)

	// RotateSession atomically replaces the session's CurrentJTI fromJTI by
	// toJTI, sets PreviousJTI to fromJTI, RotatedAt and LastUsedAt to at,
	// RotatedUserAgent and RotatedIP to userAgent and ip, and GraceUses to
	// 0, all in one write, but only while CurrentJTI == fromJTI and the
	// session is not revoked; otherwise it changes nothing and returns an
	// error wrapping ErrConflict. Of many concurrent rotations from one jti,
	// exactly one succeeds. It returns ErrSessionNotFound when there is no
	// such session.
	RotateSession(ctx context.Context, id, fromJTI, toJTI string, at time.Time, userAgent, ip string) error

	// UseGrace atomically increments the session's GraceUses, but only while
	// PreviousJTI == previousJTI, GraceUses < max and the session is not
	// revoked; otherwise it changes nothing and returns an error wrapping
	// ErrConflict. An empty previousJTI never matches: before the first
	// rotation there is no previous token. Of many concurrent calls with
	// the same max, at most max succeed between two rotations. It returns ErrSessionNotFound when
	// there is no such session.
	UseGrace(ctx context.Context, id, previousJTI string, max int) error

	// RevokeSession sets RevokedAt to at unless the session is revoked
	// already. Revoking twice, or a missing session, is not an error.
	RevokeSession(ctx context.Context, id string, at time.Time) error

	// RevokeUserSessions revokes every live session of the user.
	RevokeUserSessions(ctx context.Context, userID string, at time.Time) error

	// UserSessions returns the user's sessions that are not revoked and
	// expire after now, oldest first.
	UserSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)

	// DeleteSessions removes sessions that expired or were revoked before
	// now, and returns how many it removed.
	DeleteSessions(ctx context.Context, before time.Time) (int, error)
}

// EmailStore is an optional ability of a [UserStore], found by type
// assertion, that keeps an email address per user (see [User.Email]). With
// it, users can register with an address, verify it, log in with it, reset
// a forgotten password and change it; without it those features answer
// [ErrEmailUnsupported].
//
// A store that is an EmailStore also stores Email, EmailVerified and
// EmailVerifiedAt on [UserStore.CreateUser], and CreateUser returns an
// error wrapping [ErrEmailTaken] when the canonical form of a non-empty
// Email is another user's. [UserStore.UpdateUser] leaves the three fields
// alone. An empty Email is no address: any number of users may have none.
type EmailStore interface {
	// UserByEmail returns the user whose Email has the canonical form
	// canonical (see [CanonicalEmail]), byte for byte, or an error
	// wrapping ErrUserNotFound.
	UserByEmail(ctx context.Context, canonical string) (*User, error)

	// SetUserEmail writes u.Email, u.EmailVerified, u.EmailVerifiedAt and
	// u.UpdatedAt together, in one atomic write, to the user with ID u.ID,
	// but only if the stored Email still equals prevEmail byte for byte.
	// It returns an error wrapping ErrUserNotFound when there is no such
	// user, ErrConflict when the condition does not hold, and ErrEmailTaken
	// when the canonical form of u.Email belongs to another user; in each
	// case nothing is written. Of many concurrent calls that set the same
	// canonical address on different users, at most one succeeds.
	SetUserEmail(ctx context.Context, u *User, prevEmail string) error
}

// OneTimeToken is what a store keeps of a token mailed for one purpose:
// its hash, never the token. See [OneTimeTokenStore].
type OneTimeToken struct {
	// Hash is the lower-case hex SHA-256 of the token and its purpose
	// (64 characters). It identifies the token.
	Hash string
	// UserID is the user the token was issued to.
	UserID string
	// Purpose is what the token is for, such as "reset_password". A user
	// has at most one token per purpose.
	Purpose string
	// Email is the address the token was mailed to.
	Email string
	// Binding is an opaque digest of the user's state at issue (token
	// version and email): a token whose binding no longer matches the user
	// is void.
	Binding string
	// CreatedAt is the time of issue; the token is void from ExpiresAt on.
	CreatedAt time.Time
	ExpiresAt time.Time
}

// OneTimeTokenStore is an optional ability of a [UserStore], found by type
// assertion, that keeps the tokens mailed for email verification, password
// reset, email change and magic links. The email features need it as well
// as [EmailStore].
//
// Errors are for the outcomes named below and for system failures. Times
// are stored in UTC with microsecond precision.
type OneTimeTokenStore interface {
	// SaveOneTimeToken stores t and, in the same atomic step, deletes every
	// other token of t.UserID with t.Purpose: of many concurrent saves for
	// one user and purpose, exactly one token is left. It returns an error
	// wrapping ErrUserNotFound when t.UserID names no user (in a store that
	// checks references) or is malformed.
	SaveOneTimeToken(ctx context.Context, t *OneTimeToken) error

	// OneTimeToken returns the token with the given hash, expired or not,
	// or an error wrapping ErrOneTimeTokenNotFound. It changes nothing.
	OneTimeToken(ctx context.Context, hash string) (*OneTimeToken, error)

	// ConsumeOneTimeToken deletes the token with the given hash and returns
	// it, expired or not, or an error wrapping ErrOneTimeTokenNotFound. Of
	// many concurrent calls with one hash, exactly one gets the token.
	ConsumeOneTimeToken(ctx context.Context, hash string) (*OneTimeToken, error)

	// DeleteOneTimeTokens deletes the user's tokens with the given purpose,
	// or all of the user's tokens when purpose is "". Deleting none is not
	// an error.
	DeleteOneTimeTokens(ctx context.Context, userID, purpose string) error

	// DeleteExpiredOneTimeTokens deletes the tokens that expire at or
	// before before, and returns how many it deleted.
	DeleteExpiredOneTimeTokens(ctx context.Context, before time.Time) (int, error)
}
