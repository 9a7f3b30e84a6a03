package auth

import (
	"context"
	"errors"
	"log/slog"
)

// Authenticate checks a username and password. It returns
// [ErrInvalidCredentials] for an unknown user and a wrong password alike, at
// the same cost (one argon2id verification either way), and
// [ErrUserDisabled] only when the password was right. A hash made with
// parameters other than the current ones is rewritten on success.
//
// Failed attempts are counted per username and per client address (see
// [WithLoginLimits] and [ContextWithClient]), or, for a client with a valid
// device token ([ContextWithDeviceToken]), per device token instead of per
// username. When a budget has none left it returns a [*ThrottledError]
// without checking the password, so the answer is the same whether the
// password was right or not; an attempt refused for the username's (or
// device token's) budget is charged to the address's. Only failures are
// counted: logins in flight spend nothing. It returns [ErrBusy] when no
// hashing slot came free in time.
func (a *Authenticator) Authenticate(ctx context.Context, username, password string) (*User, error) {
	u, err := a.checkPassword(ctx, username, password)
	if errors.Is(err, ErrInvalidCredentials) || errors.Is(err, ErrUserDisabled) {
		e := event(ctx, u)
		if u == nil {
			e.Username, _ = CanonicalUsername(username)
		}
		e.Err = err
		a.report(ctx, slog.LevelInfo, "auth: login failed", a.cfg.hooks.LoginFailed, e)
	}
	if err != nil {
		return nil, err
	}
	if err := before(ctx, a.cfg.hooks.BeforeLogin, event(ctx, u)); err != nil {
		return nil, err
	}
	return u, nil
}

// checkPassword checks the password under the login throttle. On
// ErrUserDisabled, and on ErrInvalidCredentials for a user that exists, it
// also returns the user, for the failed-login event (logged by ID, never by
// the name that was typed).
func (a *Authenticator) checkPassword(ctx context.Context, username, password string) (*User, error) {
	name, nameErr := CanonicalUsername(username)
	if nameErr != nil {
		name = ""
	}
	// A first check, before the store is asked or a slot awaited, turns
	// a throttled client away cheaply; verifyAttempt checks again.
	at, err := a.throttle.admit(ctx, name)
	if err != nil {
		return nil, err
	}
	u, err := a.authenticate(ctx, at, name, password)
	switch {
	case err == nil:
		at.succeeded(ctx)
	case errors.Is(err, ErrUserDisabled):
		// Right password, but a failure all the same.
		at.failed(ctx)
	}
	return u, err
}

// authenticate checks the password of the user with the canonical name
// (empty for a name that cannot exist), at the cost of exactly one argon2id
// verification whatever the outcome. A wrong password is charged to at.
func (a *Authenticator) authenticate(ctx context.Context, at *attempt, name, password string) (*User, error) {
	var u *User
	if name != "" {
		var err error
		u, err = a.store.UserByUsername(ctx, name)
		if errors.Is(err, ErrUserNotFound) {
			u, err = a.userByLoginEmail(ctx, name)
		}
		if err != nil && !errors.Is(err, ErrUserNotFound) {
			return nil, a.storeErr("look up user", err)
		}
	}
	at.bind(u)
	if u == nil {
		// Spend the same time as a real check, then fail.
		if _, _, err := a.verifyAttempt(ctx, at, password, a.dummyHash); err != nil {
			return nil, err
		}
		return nil, ErrInvalidCredentials
	}
	ok, rehash, err := a.verifyAttempt(ctx, at, password, u.PasswordHash)
	if errors.Is(err, ErrInvalidHash) {
		a.failureLog().LogAttrs(ctx, slog.LevelError, "auth: stored password hash is unusable",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return u, ErrInvalidCredentials // the user only for the failure's event
	}
	if u.Disabled {
		return u, ErrUserDisabled
	}
	if _, cached := a.users.Get(u.ID); cached {
		// The user was just read from the store: what this instance
		// remembers may be older (disabled here, re-enabled elsewhere),
		// and must not refuse the tokens this login issues.
		a.remember(u, a.cfg.clock())
	}
	if rehash {
		a.rehash(ctx, u, password)
	}
	return u, nil
}

// rehash rewrites u's hash with the current parameters. The write is
// conditional on the old hash and version, so it can never undo a concurrent
// password change; failures are logged and otherwise ignored, since the old
// hash still works. It runs only if a hashing slot is free at once: a busy
// server does it on a later login instead of making this one wait.
func (a *Authenticator) rehash(ctx context.Context, u *User, password string) {
	if !a.hashSlots.tryAcquire() {
		return
	}
	hash, err := hashPassword(password, a.cfg.passwordParams, a.kdf)
	a.hashSlots.release()
	if err != nil {
		return
	}
	next := *u
	next.PasswordHash = hash
	next.UpdatedAt = a.now()
	switch err := a.store.UpdateUser(ctx, &next, u.PasswordHash, u.TokenVersion); {
	case err == nil:
		*u = next
		a.remember(u, a.cfg.clock())
	case errors.Is(err, ErrConflict), errors.Is(err, ErrUserNotFound):
	default:
		a.eventLog().LogAttrs(ctx, slog.LevelWarn, "auth: rehash failed",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
	}
}

// Login authenticates like [Authenticator.Authenticate] and issues a token
// pair. When the store keeps sessions it starts one, recording the client
// described by [ContextWithClient] on ctx. The pair carries a new device
// token for this client (see [ContextWithDeviceToken]) unless device tokens
// are off. When the user has a second factor, the right password returns a
// [*MFARequiredError] instead, whose token [Authenticator.VerifyMFA] takes.
func (a *Authenticator) Login(ctx context.Context, username, password string) (TokenPair, error) {
	u, err := a.Authenticate(ctx, username, password)
	if err != nil {
		return TokenPair{}, err
	}
	if err := a.secondFactorStep(ctx, u, AMRPassword); err != nil {
		return TokenPair{}, err
	}
	return a.startSession(ctx, u, []string{AMRPassword})
}

// startSession issues the token pair of a login by the methods amr, and
// starts its session when the store keeps them.
func (a *Authenticator) startSession(ctx context.Context, u *User, amr []string) (TokenPair, error) {
	// Sign first, store second: a login that fails to sign (an error from
	// WithClaims, say) leaves no session behind.
	g, s := a.newSession(ctx, u)
	g.amr, g.authTime = amr, g.issuedAt
	pair, err := a.issuePair(ctx, u, g)
	if err != nil {
		return TokenPair{}, err
	}
	if pair.DeviceToken, err = a.throttle.issueDevice(u); err != nil {
		return TokenPair{}, err
	}
	if s != nil {
		if err := a.sessions.CreateSession(ctx, s); err != nil {
			return TokenPair{}, a.storeErr("create session", err)
		}
	}
	e := event(ctx, u)
	e.SessionID = g.session
	a.report(ctx, slog.LevelInfo, "auth: login succeeded", a.cfg.hooks.AfterLogin, e)
	return pair, nil
}
