package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/auth/internal/phc"
)

// Sentinel errors. Every error returned by this package, and by conforming
// stores, wraps one of these; test for them with [errors.Is]. The text of an
// error is for logs written by the application; the HTTP handlers never send it
// to a client.
var (
	// ErrUserExists is returned when a username (compared in its canonical
	// form) or a user ID is already taken.
	ErrUserExists = errors.New("auth: user already exists")

	// ErrUserNotFound is returned by stores, and by look-ups on the
	// Authenticator, when no user matches.
	ErrUserNotFound = errors.New("auth: user not found")

	// ErrConflict is returned by [UserStore.UpdateUser] when the stored user
	// changed since it was read. The Authenticator retries or gives up.
	ErrConflict = errors.New("auth: concurrent update")

	// ErrUnavailable is returned when the store cannot be reached or timed
	// out (database down, SQLite busy). The handlers answer 503.
	ErrUnavailable = errors.New("auth: store unavailable")

	// ErrSessionNotFound is returned by a [SessionStore], and by
	// RevokeSession, when no session matches (for RevokeSession: none of the
	// caller's own live sessions).
	ErrSessionNotFound = errors.New("auth: session not found")

	// ErrSessionsUnsupported is returned by the session operations when the
	// store does not implement [SessionStore].
	ErrSessionsUnsupported = errors.New("auth: the store does not keep sessions")

	// ErrTokenReused is returned when a refresh token that was already
	// exchanged is presented again and the grace window does not answer it
	// (after the window, from another client, or once too often; see
	// [WithRefreshGraceUses]). Its whole session is revoked. It matches [ErrTokenInvalidated] and
	// [ErrInvalidToken].
	ErrTokenReused error = &kindError{kind: ErrTokenInvalidated, msg: "auth: refresh token reused; its session is revoked"}

	// ErrInvalidCredentials is returned for an unknown username and for a
	// wrong password alike, so callers cannot tell the two apart.
	ErrInvalidCredentials = errors.New("auth: invalid username or password")

	// ErrUserDisabled is returned when a disabled user presents a correct
	// password. It is only ever returned after the password checked out.
	ErrUserDisabled = errors.New("auth: user account is disabled")

	// ErrUserInactive is returned by Refresh when the user has been disabled
	// or deleted since the token was issued. It is joined with
	// [ErrUserDisabled] or [ErrUserNotFound].
	ErrUserInactive = errors.New("auth: user no longer active")

	// ErrNoToken is returned when a request carries no bearer token. It
	// matches [ErrInvalidToken].
	ErrNoToken error = &kindError{kind: ErrInvalidToken, msg: "auth: no bearer token"}

	// ErrInvalidToken is matched by every token rejection: a token that is
	// missing ([ErrNoToken]), malformed, forged, of the wrong type, issued in
	// the future, for another issuer or audience, expired
	// ([ErrTokenExpired]), invalidated ([ErrTokenInvalidated]) or reused
	// ([ErrTokenReused]). Test for the precise cause with its own sentinel.
	// A disabled user is [ErrUserDisabled] instead.
	ErrInvalidToken = errors.New("auth: invalid token")

	// ErrTokenExpired is returned when the only problem with a token is that
	// it has expired. It matches [ErrInvalidToken].
	ErrTokenExpired error = &kindError{kind: ErrInvalidToken, msg: "auth: token expired"}

	// ErrTokenInvalidated is returned for a well-formed token that was
	// revoked: the password was changed, the user was disabled or logged out
	// everywhere, or its session was ended. It matches [ErrInvalidToken].
	ErrTokenInvalidated error = &kindError{kind: ErrInvalidToken, msg: "auth: token has been invalidated"}

	// ErrIncorrectPassword is returned by ChangePassword when the current
	// password is wrong.
	ErrIncorrectPassword = errors.New("auth: current password is incorrect")

	// ErrSamePassword is returned by ChangePassword when the new password
	// equals the current one.
	ErrSamePassword = errors.New("auth: new password must differ from current password")

	// ErrValidation is wrapped by [*ValidationError], returned for input that
	// breaks a rule (length, characters, missing field).
	ErrValidation = errors.New("auth: validation failed")

	// ErrInvalidHash is returned for a stored password hash that is not a
	// well-formed argon2id PHC string within sane bounds.
	ErrInvalidHash = phc.ErrInvalid

	// ErrReservedClaim is returned when [WithClaims] tries to set a claim
	// that Gatehouse reserves.
	ErrReservedClaim = errors.New("auth: claim name is reserved")

	// ErrBusy is returned when every password-hashing slot stayed taken
	// for the longest wait allowed (see [WithHashConcurrency] and
	// [WithHashWait]). The handlers answer 503 with Retry-After.
	ErrBusy = errors.New("auth: too many password hashes in progress")

	// ErrThrottled is matched by [*ThrottledError], returned when a
	// budget is spent: a username's, a device token's or a client
	// address's login attempts, or an address's registrations.
	ErrThrottled = errors.New("auth: too many failed login attempts")

	// ErrWeakSecret is returned by New when no signing key is configured,
	// and for an HMAC secret that is shorter than 32 bytes, a well-known
	// placeholder or too predictable. It matches [ErrInvalidConfig].
	ErrWeakSecret error = &kindError{kind: ErrInvalidConfig, msg: "auth: signing secret is missing or weak"}

	// ErrInvalidKey is returned by New for a key it cannot use safely: an
	// empty, malformed or repeated key ID, an ECDSA key not on P-256, an RSA
	// key under 2048 bits, inconsistent key material, a verification-only
	// key given as the signing key, or two signing keys. It matches
	// [ErrInvalidConfig].
	ErrInvalidKey error = &kindError{kind: ErrInvalidConfig, msg: "auth: invalid key"}

	// ErrInvalidConfig is matched by every error that [New] returns: an
	// option out of range, a missing or weak key, a store that is nil.
	ErrInvalidConfig = errors.New("auth: invalid configuration")

	// ErrInvalidDPoPProof is matched by every refused DPoP proof (RFC
	// 9449): malformed, not of an asymmetric algorithm, with a private or
	// oversized key, a bad signature, for another method or URI, too old or
	// from the future, replayed, without the access token's hash, or made
	// with another key than the token's. Token endpoints answer it 400
	// "invalid_dpop_proof", protected resources 401 with a DPoP challenge.
	ErrInvalidDPoPProof = errors.New("auth: invalid DPoP proof")

	// ErrUseDPoPNonce is returned when server nonces are on (see
	// [WithDPoPNonces]) and a proof carries none, or a stale one. The
	// answer, "use_dpop_nonce", carries the current nonce in a DPoP-Nonce
	// header. It matches [ErrInvalidDPoPProof].
	ErrUseDPoPNonce error = &kindError{kind: ErrInvalidDPoPProof, msg: "auth: DPoP proof lacks the server's current nonce"}

	// ErrDPoPRequired is returned under [DPoPRequired] for a token request
	// without a proof and a bearer token at a protected resource. It
	// matches [ErrInvalidDPoPProof].
	ErrDPoPRequired error = &kindError{kind: ErrInvalidDPoPProof, msg: "auth: a DPoP proof is required"}

	// ErrDPoPBoundToken is returned for a DPoP-bound access token sent in
	// the Bearer scheme, without its proof. It matches [ErrInvalidToken].
	ErrDPoPBoundToken error = &kindError{kind: ErrInvalidToken, msg: "auth: DPoP-bound token used as a bearer token"}

	// ErrDPoPKeyMismatch is returned by Refresh for a session bound to a
	// DPoP key when the request's proof is missing or of another key. With
	// a session store it is joined with [ErrTokenReused]: the session is
	// revoked. It matches [ErrInvalidToken].
	ErrDPoPKeyMismatch error = &kindError{kind: ErrInvalidToken, msg: "auth: refresh without a proof of the session's DPoP key"}
	// Second factors and passkeys (issue 14).

	// ErrMFARequired is matched by [*MFARequiredError], returned by Login
	// when the password was right and the user has a second factor, and
	// returned by [Authenticator.StepUp] and [RequireMFA] when a request
	// must show one. The handlers answer 403 with the error code
	// "mfa_required".
	ErrMFARequired = errors.New("auth: multi-factor authentication required")

	// ErrReauthenticationRequired is returned by [RequireRecentAuth] when
	// the token's login is older than allowed. The handlers answer 403 with
	// the error code "reauthentication_required".
	ErrReauthenticationRequired = errors.New("auth: recent authentication required")

	// ErrInvalidCode is returned for a TOTP or recovery code that is
	// wrong, used already, or for a second factor that does not check
	// out. The handlers answer 401 "invalid_code".
	ErrInvalidCode = errors.New("auth: invalid code")

	// ErrCredentialNotFound is returned by a [CredentialStore], and by the
	// second-factor operations, when no TOTP, recovery code or passkey
	// matches (also one of another user).
	ErrCredentialNotFound = errors.New("auth: credential not found")

	// ErrCredentialExists is returned by a [CredentialStore] when a
	// passkey's ID or credential ID is taken, and by TOTP enrolment when
	// TOTP is on already.
	ErrCredentialExists = errors.New("auth: credential already exists")

	// ErrInvalidPasskey is returned when a passkey ceremony does not check
	// out: a bad signature, origin, RP ID, challenge or user handle, a
	// sign counter that went back (a cloned authenticator), or a spent or
	// expired ceremony. It matches [ErrInvalidCode], so that it counts
	// against the second-factor budgets. The handlers answer 401
	// "invalid_passkey".
	ErrInvalidPasskey error = &kindError{kind: ErrInvalidCode, msg: "auth: passkey not accepted"}

	// ErrMFAUnsupported is returned by the second-factor operations when
	// the store does not implement [CredentialStore]. The handlers answer
	// 501.
	ErrMFAUnsupported = errors.New("auth: the store does not keep second factors")
	// Administration and API keys (admin.go, roles.go, apikeys.go).

	// ErrInsufficientRole is returned when the user lacks a role that
	// [Authenticator.RequireRole] or the admin API requires (403).
	ErrInsufficientRole = errors.New("auth: insufficient role")

	// ErrInsufficientScope is returned when an API key lacks a scope that
	// [Authenticator.RequireScope] requires (403).
	ErrInsufficientScope = errors.New("auth: insufficient scope")

	// ErrAPIKeyNotAllowed is returned when an API key is presented where
	// only a user's own access token may act: managing keys, changing the
	// password, sessions, the admin API (403).
	ErrAPIKeyNotAllowed = errors.New("auth: API keys cannot be used here")

	// ErrAPIKeyNotFound is returned by an [APIKeyStore], and by
	// RevokeAPIKey, when no key matches (for RevokeAPIKey: none of the
	// caller's own).
	ErrAPIKeyNotFound = errors.New("auth: API key not found")

	// ErrAPIKeysUnsupported is returned by the API key operations when
	// [WithAPIKeys] is off or the store does not implement [APIKeyStore].
	ErrAPIKeysUnsupported = errors.New("auth: API keys are not enabled")

	// ErrInvalidCursor is returned for a page cursor that this server did
	// not issue for the same query (400).
	ErrInvalidCursor = errors.New("auth: invalid cursor")

	// ErrLastAdmin is returned when a change would leave no enabled user
	// holding the admin role (409).
	ErrLastAdmin = errors.New("auth: the last admin cannot be removed")

	// ErrSelfLockout is returned when admins try to disable or delete
	// themselves or drop their own admin role through the admin API (409).
	ErrSelfLockout = errors.New("auth: admins cannot lock themselves out")

	// ErrAdminUnsupported is returned when the store lacks the ability an
	// admin operation needs ([UserLister] or [AuditStore]) (501).
	ErrAdminUnsupported = errors.New("auth: the store does not support this admin operation")
	// Email flows (issue 13).

	// ErrEmailTaken is returned when an email address, compared in its
	// canonical form ([CanonicalEmail]), is another user's. It matches
	// [ErrUserExists].
	ErrEmailTaken error = &kindError{kind: ErrUserExists, msg: "auth: email address already taken"}

	// ErrEmailUnsupported is returned by the email features when the store
	// keeps no email addresses ([EmailStore], [OneTimeTokenStore]), when no
	// mailer is configured ([WithMailer]), or, for magic links, when they
	// are off ([WithMagicLinks]). The handlers answer 501.
	ErrEmailUnsupported = errors.New("auth: email features are not configured on this server")

	// ErrOneTimeTokenNotFound is returned by a [OneTimeTokenStore] when no
	// token has the given hash.
	ErrOneTimeTokenNotFound = errors.New("auth: one-time token not found")

	// ErrOneTimeTokenInvalid is returned when a mailed token cannot be
	// redeemed: it is malformed, unknown, used, expired, of another
	// purpose, or void since the user's password, email or token version
	// changed. The answer never says which.
	ErrOneTimeTokenInvalid = errors.New("auth: one-time token is invalid, used or expired")

	// ErrAlreadyVerified is returned by VerifyEmail for a verification
	// token of an address that was verified meanwhile.
	ErrAlreadyVerified = errors.New("auth: email address already verified")
)

// isTransient reports whether err means "not now" rather than "no": the
// server was busy, a store could not be reached, or the request ended.
func isTransient(err error) bool {
	return errors.Is(err, ErrBusy) || errors.Is(err, ErrUnavailable) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// FieldError describes one problem with one input field, in the shape FastAPI
// uses for its 422 responses.
type FieldError struct {
	// Loc is the path to the field, such as ["body", "password"].
	Loc []string `json:"loc"`
	// Msg is a human-readable description of the problem.
	Msg string `json:"msg"`
	// Type is a stable machine-readable code such as "string_too_short".
	Type string `json:"type"`
}

// ValidationError lists every problem found in one input. It matches
// [ErrValidation] with [errors.Is].
type ValidationError struct {
	Problems []FieldError
}

// Error implements error. It names the fields and problem types, never the
// offending values.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrValidation.Error())
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(strings.Join(p.Loc, "."))
		b.WriteString(" ")
		b.WriteString(p.Type)
	}
	return b.String()
}

// Is reports whether target is ErrValidation.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// add records a problem; it is a no-op helper that keeps call sites short.
func (e *ValidationError) add(field, typ, msg string) {
	e.Problems = append(e.Problems, FieldError{Loc: []string{"body", field}, Msg: msg, Type: typ})
}

// err returns e as an error, or nil when no problem was recorded.
func (e *ValidationError) err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// ErrRejected is joined with the error of a before-hook that aborted an
// operation.
var ErrRejected = errors.New("auth: rejected by a hook")

// ThrottledError is returned by [Authenticator.Authenticate],
// [Authenticator.Login] and [Authenticator.ChangePassword] when the
// username, the device token or the client's address has no attempts left,
// and by the handlers of endpoints with an address budget (registration)
// when it is spent. No password was checked: the answer is the same
// whether the password was right or not. It matches [ErrThrottled] with
// [errors.Is]; the handlers answer 429 with a Retry-After header.
type ThrottledError struct {
	// RetryAfter is how long until one more attempt will be allowed.
	RetryAfter time.Duration
	// Budget names the budget that is spent: "" for the login budgets,
	// "register" for registrations from one address, "mfa" for wrong
	// second-factor codes (of one mfa_token, or of one user),
	// "passkey_begin" for passkey logins begun from one address,
	// "passkey_login" for failed ones ([WithPasskeyLimits]), "mail" for
	// requests for mail from one address, "mail_recipient" for requests
	// for one kind of mail to one email address, and "redeem" for failed
	// one-time token redemptions from one address.
	Budget string
}

// Error implements error.
func (e *ThrottledError) Error() string {
	what := ErrThrottled.Error()
	if e.Budget != "" {
		what = "auth: too many " + e.Budget + " attempts from this address"
	}
	return fmt.Sprintf("%s; retry after %v", what, max(time.Second, e.RetryAfter.Round(time.Second)))
}

// Is reports whether target is ErrThrottled.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// kindError is an error with a message of its own that also matches a more
// general sentinel, its kind: ErrTokenExpired is an ErrInvalidToken, a
// short secret is an ErrWeakSecret and so an ErrInvalidConfig.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// configErr returns an error with the given one-line message that matches
// kind, for New to return.
func configErr(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// joinErr returns an error that matches both first and second, and reads
// as one line: "first: second".
func joinErr(first, second error) error {
	return fmt.Errorf("%w: %w", first, second)
}

// MFARequiredError is returned by [Authenticator.Login] when the password
// was right and the user has a second factor. It matches [ErrMFARequired].
// Token is the mfa_token that [Authenticator.VerifyMFA] takes with the
// code: it lives 5 minutes and works once.
type MFARequiredError struct {
	// Token is the mfa_token. It is a secret of the login in progress.
	Token string
}

// Error implements error. It never contains the token.
func (e *MFARequiredError) Error() string { return ErrMFARequired.Error() }

// Is reports whether target is ErrMFARequired.
func (e *MFARequiredError) Is(target error) bool { return target == ErrMFARequired }
