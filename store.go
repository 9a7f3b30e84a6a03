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

	// Administration (roles.go). Roles is the user's set of roles: short
	// names, sorted, without repeats; nil when there are none. Stores keep
	// it as given and write it with the other fields of UpdateUser.
	Roles []string

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

	// UpdateUser writes u.PasswordHash, u.TokenVersion, u.Disabled,
	// u.Roles and u.UpdatedAt together, in one atomic write, to the user with ID u.ID,
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
	// DPoPJKT is the RFC 7638 thumbprint of the DPoP key the session is
	// bound to (see [WithDPoP]), "" for an unbound session. It is set at
	// CreateSession and never changes: every refresh of the session needs
	// a proof made with that key. Stores keep it as given, up to 255 bytes.
	DPoPJKT string
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

// TOTP is a user's time-based one-time password credential (RFC 6238), as
// a [CredentialStore] keeps it. Part of second factors (issue 14).
type TOTP struct {
	// Secret is the shared secret, sealed (AES-GCM) by the Authenticator:
	// the store never sees it in the clear.
	Secret []byte
	// Confirmed is false between enrolment and the first valid code; only
	// a confirmed TOTP is a second factor.
	Confirmed bool
	// LastStep is the last time step whose code was accepted (0: none).
	// A code of that step or an earlier one is never accepted again.
	LastStep int64
	// CreatedAt is when the secret was made.
	CreatedAt time.Time
}

// Passkey is a WebAuthn credential registered to a user, as a
// [CredentialStore] keeps it. Its fields are what the WebAuthn
// specification calls the credential record.
type Passkey struct {
	// ID is the public, store-independent name of the passkey in the API:
	// random, set by the Authenticator.
	ID string
	// UserID is the ID of its user.
	UserID string
	// CredentialID is the authenticator's credential ID (at most 1023
	// bytes), unique across users.
	CredentialID []byte
	// UserHandle is the WebAuthn user handle the credential was created
	// for: random bytes, the same for every passkey of one user.
	UserHandle []byte
	// PublicKey is the COSE-encoded public key.
	PublicKey []byte
	// Name is the user's label for it.
	Name string
	// SignCount is the last signature counter the authenticator reported.
	SignCount uint32
	// BackupEligible never changes after registration; BackupState is the
	// last reported backup state.
	BackupEligible, BackupState bool
	// AAGUID identifies the authenticator model (16 bytes, or empty).
	AAGUID []byte
	// Transports are the hints the client gave at registration ("usb",
	// "internal", ...).
	Transports []string
	// CreatedAt is the registration time; LastUsedAt the last login with it
	// (equal to CreatedAt until then).
	CreatedAt, LastUsedAt time.Time
}

// CredentialStore is an optional ability of a [UserStore], found by type
// assertion, that keeps second factors: a TOTP secret, recovery codes and
// passkeys per user, and the record of used one-time tokens. Without it
// TOTP, recovery codes and passkeys are off, and their endpoints answer
// 501.
//
// Times are UTC with microsecond precision. Errors are for the outcomes
// named below and for system failures; wrap [ErrUnavailable] when the
// backend cannot be reached. A user ID that no store could hold (see
// [UserStore]) is never found. Deleting a user deletes its credentials.
type CredentialStore interface {
	// UserTOTP returns the user's TOTP, or an error wrapping
	// ErrCredentialNotFound.
	UserTOTP(ctx context.Context, userID string) (*TOTP, error)

	// SetTOTP stores t as the user's TOTP, replacing any. It returns an
	// error wrapping ErrUserNotFound when a store that checks references
	// has no such user.
	SetTOTP(ctx context.Context, userID string, t *TOTP) error

	// ConfirmTOTP atomically sets Confirmed and LastStep to step, but only
	// while the stored TOTP is unconfirmed and its Secret equals secret;
	// otherwise it changes nothing and returns an error wrapping
	// ErrConflict (ErrCredentialNotFound when there is none).
	ConfirmTOTP(ctx context.Context, userID string, secret []byte, step int64) error

	// UseTOTPStep atomically raises LastStep to step, but only while the
	// TOTP is confirmed and LastStep < step; otherwise it changes nothing
	// and returns an error wrapping ErrConflict (ErrCredentialNotFound when
	// there is none). Of concurrent calls with one step, exactly one wins.
	UseTOTPStep(ctx context.Context, userID string, step int64) error

	// DeleteTOTP removes the user's TOTP. Removing none is not an error.
	DeleteTOTP(ctx context.Context, userID string) error

	// SetRecoveryCodes replaces the user's recovery codes by hashes (none:
	// removes them all).
	SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error

	// RecoveryCodeCount returns how many unused recovery codes the user has.
	RecoveryCodeCount(ctx context.Context, userID string) (int, error)

	// UseRecoveryCode atomically removes the user's code with the given
	// hash. It returns an error wrapping ErrCredentialNotFound when the user
	// has no such code; of concurrent uses of one code, exactly one wins.
	UseRecoveryCode(ctx context.Context, userID, hash string) error

	// CreatePasskey stores a new passkey. It returns an error wrapping
	// ErrCredentialExists when its ID or CredentialID is taken.
	CreatePasskey(ctx context.Context, p *Passkey) error

	// UserPasskeys returns the user's passkeys, oldest first.
	UserPasskeys(ctx context.Context, userID string) ([]*Passkey, error)

	// PasskeyByCredentialID returns the passkey with the given credential
	// ID, or an error wrapping ErrCredentialNotFound.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error)

	// UpdatePasskeyUse atomically sets SignCount, BackupState and
	// LastUsedAt of the user's passkey id, but only while the stored
	// SignCount equals prevCount; otherwise it changes nothing and returns
	// an error wrapping ErrConflict. It returns ErrCredentialNotFound when
	// the user has no such passkey.
	UpdatePasskeyUse(ctx context.Context, userID, id string, prevCount, signCount uint32, backupState bool, at time.Time) error

	// RenamePasskey sets the Name of the user's passkey id, or returns an
	// error wrapping ErrCredentialNotFound (also for another user's).
	RenamePasskey(ctx context.Context, userID, id, name string) error

	// DeletePasskey removes the user's passkey id, or returns an error
	// wrapping ErrCredentialNotFound (also for another user's).
	DeletePasskey(ctx context.Context, userID, id string) error

	// DeleteUserCredentials removes the user's TOTP, recovery codes and
	// passkeys. Removing none is not an error.
	DeleteUserCredentials(ctx context.Context, userID string) error

	// UseNonce records the one-time token id as used until expires. It
	// returns an error wrapping ErrConflict when id is recorded already; of
	// concurrent uses, exactly one wins. Records past expires may be
	// forgotten (see DeleteNonces).
	UseNonce(ctx context.Context, id string, expires time.Time) error

	// DeleteNonces forgets the records that expired before now, and
	// returns how many.
	DeleteNonces(ctx context.Context, before time.Time) (int, error)
}

// UserQuery selects a page of users for [UserLister.ListUsers]. Users come
// in byte order of their canonical Username, which never changes, so a
// page boundary stays put while users are created and deleted around it.
type UserQuery struct {
	// After, when not empty, is the Username of the last user of the
	// previous page: the page starts with the first user after it.
	After string
	// Prefix, when not empty, keeps the users whose Username starts with
	// it, byte for byte; a Prefix holding "@" keeps instead the users whose
	// email, in its canonical form ([CanonicalEmail]), starts with it (in
	// a store that keeps emails; none in one that does not).
	Prefix string
	// Disabled, when not nil, keeps the users whose Disabled flag equals it.
	Disabled *bool
	// Role, when not empty, keeps the users holding that role.
	Role string
	// Limit is the most users to return; at least 1.
	Limit int
}

// UserLister is an optional ability of a [UserStore], found by type
// assertion: it lists users a page at a time, for the admin API. Without
// it, GET /auth/admin/users answers 501.
//
// A page must cost the same whatever the number of users (an index on
// the username, and on (disabled, username) for the filter; no OFFSET).
// A Role filter may scan; the Authenticator uses it only with a small
// Limit, for the last-admin check.
type UserLister interface {
	// ListUsers returns at most q.Limit users that match q, in byte
	// order of Username, starting after q.After. An empty result is not
	// an error. Malformed strings in q match nothing.
	ListUsers(ctx context.Context, q UserQuery) ([]*User, error)
}

// APIKey is a personal access token as a store keeps it: never the key
// itself, only its keyed hash (see [WithAPIKeys]).
type APIKey struct {
	// ID identifies the key; it is random and shown to its owner.
	ID string
	// UserID is the ID of the key's user.
	UserID string
	// Name is the owner's label for the key.
	Name string
	// Hash is the key's keyed hash, hex-encoded; unique.
	Hash string
	// Scopes are what the key may do: short names, sorted, no repeats.
	Scopes []string
	// TokenVersion is the user's token version when the key was made; a
	// key whose version differs from the user's (after a password change,
	// disabling, logout-all or losing a role) is dead.
	TokenVersion int64
	// CreatedAt is when the key was made; ExpiresAt when it stops working
	// (zero: never).
	CreatedAt time.Time
	ExpiresAt time.Time
	// LastUsedAt is when the key last authenticated a request, to the
	// minute (zero: never).
	LastUsedAt time.Time
	// RevokedAt is when the key was revoked; zero while it is live.
	RevokedAt time.Time
}

// APIKeyStore is an optional ability of a [UserStore], found by type
// assertion, that keeps API keys (see [WithAPIKeys]). Errors are for the
// outcomes named below and for system failures; times are UTC with
// microsecond precision; IDs and hashes no store could hold are never
// found (see [UserStore]).
type APIKeyStore interface {
	// CreateAPIKey stores a new key. It returns an error wrapping
	// ErrUserExists when the ID or the hash is taken, and ErrUserNotFound
	// when k.UserID is malformed or, in a store that checks references,
	// names no user.
	CreateAPIKey(ctx context.Context, k *APIKey) error

	// APIKey returns the key with the given ID, revoked or not, or an
	// error wrapping ErrAPIKeyNotFound.
	APIKey(ctx context.Context, id string) (*APIKey, error)

	// APIKeyByHash returns the key with the given hash, revoked or not, or
	// an error wrapping ErrAPIKeyNotFound.
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)

	// UserAPIKeys returns the user's keys that are not revoked, expired
	// ones included, oldest first.
	UserAPIKeys(ctx context.Context, userID string) ([]*APIKey, error)

	// RevokeAPIKey sets RevokedAt to at unless the key is revoked already.
	// Revoking twice, or a missing key, is not an error.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error

	// TouchAPIKey sets LastUsedAt to at when it is earlier than at.
	// A missing key is not an error.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	// DeleteAPIKeys removes keys that expired or were revoked before now
	// and returns how many it removed. DeleteUser removes a user's keys.
	DeleteAPIKeys(ctx context.Context, before time.Time) (int, error)
}

// AuditEntry is one record of the audit trail.
type AuditEntry struct {
	// ID is assigned by the Authenticator: a UUIDv7, so IDs sort in time
	// order.
	ID string
	// Time is when it happened.
	Time time.Time
	// Action says what happened, such as "user.updated" or
	// "reuse_detected" (see docs/admin.md for the list).
	Action string
	// ActorID is the user who did it; empty for the system or an
	// operator's own code.
	ActorID string
	// TargetID is the user it was done to.
	TargetID string
	// IP is the client's address, as the handler saw it.
	IP string
	// Detail says what changed, as a JSON object; "{}" when nothing more.
	Detail string
}

// AuditQuery selects a page of the audit trail, newest first.
type AuditQuery struct {
	// UserID, when not empty, keeps entries whose ActorID or TargetID is it.
	UserID string
	// Before, when not empty, is the ID of the last entry of the previous
	// page: the page starts with the next older entry.
	Before string
	// Limit is the most entries to return; at least 1.
	Limit int
}

// AuditStore is an optional ability of a [UserStore], found by type
// assertion, that keeps the audit trail. It is append-only: entries are
// never changed, and only [AuditStore.DeleteAudit] removes them, by age.
// Without it nothing is recorded and GET /auth/admin/audit answers 501.
type AuditStore interface {
	// AppendAudit stores e. It returns an error wrapping ErrUserExists
	// when e.ID is taken.
	AppendAudit(ctx context.Context, e *AuditEntry) error

	// AuditEntries returns at most q.Limit entries that match q, newest
	// (highest ID) first, starting after q.Before.
	AuditEntries(ctx context.Context, q AuditQuery) ([]*AuditEntry, error)

	// DeleteAudit removes entries older than before and returns how many
	// it removed.
	DeleteAudit(ctx context.Context, before time.Time) (int, error)
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
