package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
)

// Event describes a moment that hooks and log lines report. It never holds
// a password, a hash or a token.
type Event struct {
	// UserID is the ID of the user concerned; empty for a failed login of
	// an unknown name and before a registration.
	UserID string
	// User is the user concerned, when it was loaded; nil otherwise.
	User *User
	// Username is the canonical username for registration and login
	// events, also when no such user exists.
	Username string
	// SessionID is the session concerned, when there is one.
	SessionID string
	// IP and UserAgent describe the client, as set by [ContextWithClient]. The
	// HTTP handlers set them from the request.
	IP, UserAgent string
	// Err says why a login failed: it matches [ErrInvalidCredentials] or
	// [ErrUserDisabled] with errors.Is.
	Err error
}

// Hooks are functions the Authenticator calls at moments in a user's life.
// Every field is optional. Before-hooks may abort the operation by
// returning an error; the others only observe. Hooks run synchronously on
// the request's goroutine: keep them quick, or hand work to a queue.
//
// An error from a before-hook is returned joined with [ErrRejected]. The
// HTTP handlers answer 403 "Forbidden", or what the error maps to if it
// wraps one of this package's sentinels: return a [*ValidationError] for a
// 422 with your own message.
type Hooks struct {
	// BeforeRegister runs after the input was validated and before
	// anything is stored. It may abort the registration.
	BeforeRegister func(ctx context.Context, e Event) error
	// BeforeLogin runs after the password checked out and before tokens
	// are issued, also for Authenticate. It may abort the login.
	BeforeLogin func(ctx context.Context, e Event) error

	// AfterRegister runs after a user was created.
	AfterRegister func(ctx context.Context, e Event)
	// AfterLogin runs after Login issued tokens.
	AfterLogin func(ctx context.Context, e Event)
	// LoginFailed runs after a wrong username or password, or a correct
	// password of a disabled user; e.Err says which.
	LoginFailed func(ctx context.Context, e Event)
	// Refreshed runs after a refresh token was exchanged.
	Refreshed func(ctx context.Context, e Event)
	// GraceRefresh runs when a refresh token that was just exchanged came
	// back from the same client within the grace window and was answered
	// with the current child (see [WithRefreshGracePeriod]).
	GraceRefresh func(ctx context.Context, e Event)
	// ReuseDetected runs when a used refresh token came back and the grace
	// window did not answer it (after the window, from another client, or
	// once too often), and its session was revoked: a sign of theft.
	ReuseDetected func(ctx context.Context, e Event)
	// PasswordChanged runs after a password change.
	PasswordChanged func(ctx context.Context, e Event)
	// LoggedOut runs after Logout (e.SessionID set) and LogoutAll (empty).
	LoggedOut func(ctx context.Context, e Event)
	// UserDisabled runs after a user was disabled.
	UserDisabled func(ctx context.Context, e Event)

	// Second factors and passkeys (issue 14).

	// MFAEnabled runs after TOTP was confirmed.
	MFAEnabled func(ctx context.Context, e Event)
	// MFADisabled runs after TOTP was turned off.
	MFADisabled func(ctx context.Context, e Event)
	// MFAFailed runs after a wrong second factor at login; e.Err matches
	// [ErrInvalidCode].
	MFAFailed func(ctx context.Context, e Event)
	// MFAReset runs after [Authenticator.ResetMFA] removed a user's
	// second factors.
	MFAReset func(ctx context.Context, e Event)
	// RecoveryCodeUsed runs after a recovery code completed a login.
	RecoveryCodeUsed func(ctx context.Context, e Event)
	// RecoveryCodesRegenerated runs after a user got new recovery codes.
	RecoveryCodesRegenerated func(ctx context.Context, e Event)
	// EmailVerified runs after a user's address was verified, by a
	// verification link or a magic link.
	EmailVerified func(ctx context.Context, e Event)
	// EmailChanged runs after a user's address changed, once the new one
	// was confirmed; e.User holds the new address.
	EmailChanged func(ctx context.Context, e Event)
}

// event builds an Event for u (which may be nil) with the client of ctx.
func event(ctx context.Context, u *User) Event {
	ci := clientOf(ctx)
	e := Event{User: u, IP: ci.ip, UserAgent: ci.userAgent}
	if u != nil {
		e.UserID, e.Username = u.ID, u.Username
	}
	return e
}

// before runs a before-hook, if set.
func before(ctx context.Context, hook func(context.Context, Event) error, e Event) error {
	if hook == nil {
		return nil
	}
	if err := hook(ctx, e); err != nil {
		return joinErr(ErrRejected, err)
	}
	return nil
}

// report logs e as msg and calls hook, if set.
func (a *Authenticator) report(ctx context.Context, level slog.Level, msg string, hook func(context.Context, Event), e Event) {
	if l := a.cfg.logger; l != nil && l.Enabled(ctx, level) {
		attrs := make([]slog.Attr, 0, 6)
		if e.UserID != "" {
			attrs = append(attrs, slog.String("user_id", e.UserID))
		}
		if e.UserID == "" && e.Username != "" {
			// An attempted name is never logged: it may be a password
			// typed into the wrong field. A keyed hash still lets the
			// log tell one attacked name from many.
			attrs = append(attrs, slog.String("username_hash", a.nameHash(e.Username)))
		}
		if e.SessionID != "" {
			attrs = append(attrs, slog.String("session_id", e.SessionID))
		}
		if e.IP != "" {
			attrs = append(attrs, slog.String("ip", e.IP))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.String("reason", reasonOf(e.Err)))
		}
		l.LogAttrs(ctx, level, msg, attrs...)
	}
	if hook != nil {
		hook(ctx, e)
	}
}

// reasonOf names why an event failed, for logs: the sentinel it matches,
// in words that do not depend on how HTTP answers it.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, ErrUserDisabled):
		return "user_disabled"
	case errors.Is(err, ErrInvalidCredentials):
		return "invalid_credentials"
	case errors.Is(err, ErrThrottled):
		return "throttled"
	case errors.Is(err, ErrInvalidToken):
		return "invalid_token"
	default:
		return "error"
	}
}

// nameHash is a keyed hash of an attempted username for logs: the first 16
// hex digits of HMAC-SHA256 under a key derived from the signing key, so
// equal names give equal hashes on every instance, and a log reader
// without the key cannot test guesses.
func (a *Authenticator) nameHash(name string) string {
	m := hmac.New(sha256.New, a.logKey)
	m.Write([]byte(name))
	return hex.EncodeToString(m.Sum(nil)[:8])
}
