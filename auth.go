package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Length limits, in characters (Unicode code points), as in the origin design.
const (
	minUsernameLength = 3
	maxUsernameLength = 255
	minPasswordLength = 8
	maxPasswordLength = 128
)

// maxUpdateAttempts bounds the read-modify-write retries of SetDisabled and
// ChangePassword when a concurrent update wins the race.
const maxUpdateAttempts = 5

// Authenticator registers and authenticates users, issues and verifies
// tokens, and serves the HTTP endpoints. Create one with [New]; it is safe
// for concurrent use.
type Authenticator struct {
	store     UserStore
	cfg       config
	parser    *jwt.Parser
	dummyHash string
	hashSlots *hashSlots
	throttle  *loginThrottle
	// kdf runs argon2id. It is a field so that tests can count derivations
	// (export_test.go); it is never changed after New.
	kdf kdf
}

// placeholderSecrets are secrets copied from documentation often enough that
// accepting them would be negligent.
var placeholderSecrets = []string{
	"change-me-in-production-please-use-a-secure-secret-key",
	"your-256-bit-secret",
	"secret",
	"changeme",
	"change-me",
	"your-secret-key",
	"supersecret",
}

// New returns an Authenticator that keeps users in store. [WithSecret] is
// required; every other option has a safe default. New returns an error,
// never panics, for a configuration it cannot run safely with.
func New(store UserStore, opts ...Option) (*Authenticator, error) {
	if store == nil {
		return nil, errors.New("auth: store is nil")
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dummy, err := dummyHash(cfg.passwordParams)
	if err != nil {
		return nil, err
	}
	throttle, err := newLoginThrottle(&cfg)
	if err != nil {
		return nil, err
	}
	return &Authenticator{
		store:     store,
		cfg:       cfg,
		parser:    newParser(&cfg),
		dummyHash: dummy,
		hashSlots: newHashSlots(cfg.hashConcurrency, cfg.hashWait),
		throttle:  throttle,
		kdf:       argon2id,
	}, nil
}

// newLoginThrottle builds the throttle that c describes: the given limiters,
// or in-memory ones on c's clock.
func newLoginThrottle(c *config) (*loginThrottle, error) {
	t := &loginThrottle{byName: c.nameLimiter, byAddr: c.addrLimiter, logger: c.logger}
	if !c.customLimiters {
		var err error
		if t.byName, err = memoryLimiter(c.nameLimit, c); err != nil {
			return nil, err
		}
		if t.byAddr, err = memoryLimiter(c.addrLimit, c); err != nil {
			return nil, err
		}
	}
	// Keys are a MAC under a key derived from the secret, so that a shared
	// limiter store holds no usernames or addresses.
	mac := hmac.New(sha256.New, c.secret)
	mac.Write([]byte("gatehouse login throttle keys"))
	t.keyMAC = mac.Sum(nil)
	return t, nil
}

// memoryLimiter returns an in-memory limiter for l, or nil (no limit) for
// the zero RateLimit.
func memoryLimiter(l RateLimit, c *config) (Limiter, error) {
	if l == (RateLimit{}) {
		return nil, nil
	}
	m, err := NewMemoryLimiter(l, c.limiterKeys, c.clock)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (c *config) validate() error {
	if len(c.secret) < 32 {
		return fmt.Errorf("%w: it must be at least 32 bytes", ErrWeakSecret)
	}
	for _, p := range placeholderSecrets {
		if bytes.EqualFold(bytes.TrimSpace(c.secret), []byte(p)) {
			return fmt.Errorf("%w: it is a well-known placeholder", ErrWeakSecret)
		}
	}
	if allSame(c.secret) {
		return fmt.Errorf("%w: it repeats one byte", ErrWeakSecret)
	}
	switch {
	case c.accessTTL <= 0:
		return errors.New("auth: access TTL must be positive")
	case c.refreshTTL <= 0:
		return errors.New("auth: refresh TTL must be positive")
	case c.leeway < 0 || c.leeway > time.Minute:
		return errors.New("auth: leeway must be between 0 and 60 seconds")
	case c.clock == nil:
		return errors.New("auth: clock is nil")
	case c.logger == nil:
		return errors.New("auth: logger is nil")
	case c.errorHandler == nil:
		return errors.New("auth: error handler is nil")
	case c.hashConcurrency < 1:
		return errors.New("auth: hash concurrency must be at least 1")
	case c.hashWait < 0:
		return errors.New("auth: hash wait must not be negative")
	}
	if err := c.trustedProxy.validate(); err != nil {
		return err
	}
	if c.insecureHash {
		if !testing.Testing() {
			return errors.New("auth: WithInsecureFastHashingForTests used outside a test binary")
		}
		return nil
	}
	return c.passwordParams.validate()
}

func allSame(b []byte) bool {
	for _, c := range b {
		if c != b[0] {
			return false
		}
	}
	return true
}

// now returns the current time in UTC, truncated to the microsecond that
// every store can keep.
func (a *Authenticator) now() time.Time {
	return a.cfg.clock().UTC().Truncate(time.Microsecond)
}

// Register creates a user. The username is stored in its canonical form (see
// [CanonicalUsername]); the password must be 8 to 128 characters and pass the
// password policy ([WithPasswordPolicy]). It returns a [*ValidationError] for
// bad input, an error wrapping [ErrUserExists] when the name is taken, and
// [ErrBusy] when no hashing slot came free in time. The password is hashed
// before the store is asked, so a taken name costs the same time as a free
// one.
func (a *Authenticator) Register(ctx context.Context, username, password string) (*User, error) {
	var verr ValidationError
	name := validateUsername(&verr, username)
	if err := a.validateNewPassword(ctx, &verr, "password", name, password); err != nil {
		return nil, err
	}
	if err := verr.err(); err != nil {
		return nil, err
	}
	hash, err := a.hash(ctx, password)
	if err != nil {
		return nil, err
	}
	now := a.now()
	u := &User{Username: name, PasswordHash: hash, TokenVersion: 1, CreatedAt: now, UpdatedAt: now}
	if err := a.store.CreateUser(ctx, u); err != nil {
		return nil, a.storeErr("create user", err)
	}
	return u, nil
}

// Authenticate checks a username and password. It returns
// [ErrInvalidCredentials] for an unknown user and a wrong password alike, at
// the same cost (one argon2id verification either way), and
// [ErrUserDisabled] only when the password was right. A hash made with
// parameters other than the current ones is rewritten on success.
//
// Failed attempts are counted per username and per client address (see
// [WithLoginLimits] and [ContextWithClientAddr]). When either has none left
// it returns a [*ThrottledError] without checking the password, so the
// answer is the same whether the password was right or not. It returns
// [ErrBusy] when no hashing slot came free in time.
func (a *Authenticator) Authenticate(ctx context.Context, username, password string) (*User, error) {
	name, nameErr := CanonicalUsername(username)
	if nameErr != nil {
		name = ""
	}
	at, err := a.throttle.admit(ctx, name)
	if err != nil {
		return nil, err
	}
	u, err := a.authenticate(ctx, name, password)
	at.end(ctx, err)
	return u, err
}

func (a *Authenticator) authenticate(ctx context.Context, name, password string) (*User, error) {
	var u *User
	if name != "" {
		var err error
		u, err = a.store.UserByUsername(ctx, name)
		if err != nil && !errors.Is(err, ErrUserNotFound) {
			return nil, a.storeErr("look up user", err)
		}
	}
	if u == nil {
		// Spend the same time as a real check, then fail.
		if _, _, err := a.verify(ctx, password, a.dummyHash); err != nil {
			return nil, err
		}
		return nil, ErrInvalidCredentials
	}
	ok, rehash, err := a.verify(ctx, password, u.PasswordHash)
	if errors.Is(err, ErrInvalidHash) {
		a.cfg.logger.LogAttrs(ctx, slog.LevelError, "auth: stored password hash is unusable",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrInvalidCredentials
	}
	if u.Disabled {
		return nil, ErrUserDisabled
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
	case errors.Is(err, ErrConflict), errors.Is(err, ErrUserNotFound):
	default:
		a.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "auth: rehash failed",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
	}
}

// Login authenticates like [Authenticator.Authenticate] and issues a token
// pair.
func (a *Authenticator) Login(ctx context.Context, username, password string) (TokenPair, error) {
	u, err := a.Authenticate(ctx, username, password)
	if err != nil {
		return TokenPair{}, err
	}
	return a.issuePair(u)
}

// Refresh exchanges a valid refresh token for a new pair. It returns an error
// wrapping [ErrInvalidToken] for a token that is malformed, forged, expired or
// not a refresh token; [ErrTokenInvalidated] when the password was changed
// since; and [ErrUserInactive] when the user was disabled or deleted.
func (a *Authenticator) Refresh(ctx context.Context, refreshToken string) (TokenPair, error) {
	c, err := a.parse(refreshToken, tokenTypeRefresh)
	if err != nil {
		return TokenPair{}, err
	}
	u, err := a.store.UserByID(ctx, c.Subject)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return TokenPair{}, errors.Join(ErrUserInactive, ErrUserNotFound)
	case err != nil:
		return TokenPair{}, a.storeErr("look up user", err)
	case u.Disabled:
		return TokenPair{}, errors.Join(ErrUserInactive, ErrUserDisabled)
	case u.TokenVersion != *c.Version:
		return TokenPair{}, ErrTokenInvalidated
	}
	return a.issuePair(u)
}

// VerifyAccessToken checks an access token and returns its user, freshly
// loaded from the store. It returns an error wrapping [ErrInvalidToken] for a
// bad token or a deleted user, [ErrUserDisabled] for a disabled user, and
// [ErrTokenInvalidated] for a token issued before the user's last password
// change or disabling.
func (a *Authenticator) VerifyAccessToken(ctx context.Context, token string) (*User, error) {
	c, err := a.parse(token, tokenTypeAccess)
	if err != nil {
		return nil, err
	}
	u, err := a.store.UserByID(ctx, c.Subject)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return nil, errors.Join(ErrInvalidToken, ErrUserNotFound)
	case err != nil:
		return nil, a.storeErr("look up user", err)
	case u.Disabled:
		return nil, ErrUserDisabled
	case u.TokenVersion != *c.Version:
		return nil, ErrTokenInvalidated
	}
	return u, nil
}

// ChangePassword replaces the password of user after checking current. It
// increments the token version in the same write, so every token issued
// before stops working, while tokens issued afterwards work at once. It
// returns a [*ValidationError] for a new password outside 8 to 128
// characters or one the password policy rejects, [ErrIncorrectPassword] and
// [ErrSamePassword]. Wrong current passwords count against the user's
// login budget like failed logins, and a [*ThrottledError] is returned
// when it is spent (see [Authenticator.Authenticate]).
func (a *Authenticator) ChangePassword(ctx context.Context, user *User, current, newPassword string) error {
	var verr ValidationError
	if err := a.validateNewPassword(ctx, &verr, "new_password", user.Username, newPassword); err != nil {
		return err
	}
	if err := verr.err(); err != nil {
		return err
	}
	at, err := a.throttle.admit(ctx, user.Username)
	if err != nil {
		return err
	}
	err = a.changePassword(ctx, user, current, newPassword)
	at.end(ctx, err)
	return err
}

func (a *Authenticator) changePassword(ctx context.Context, user *User, current, newPassword string) error {
	verifiedHash := ""
	for range maxUpdateAttempts {
		u, err := a.store.UserByID(ctx, user.ID)
		if err != nil {
			return a.storeErr("look up user", err)
		}
		if u.PasswordHash != verifiedHash {
			ok, _, err := a.verify(ctx, current, u.PasswordHash)
			switch {
			case isTransient(err):
				return err
			case err != nil || !ok:
				return ErrIncorrectPassword
			}
			verifiedHash = u.PasswordHash
		}
		if current == newPassword {
			return ErrSamePassword
		}
		hash, err := a.hash(ctx, newPassword)
		if err != nil {
			return err
		}
		next := *u
		next.PasswordHash = hash
		next.TokenVersion++
		next.UpdatedAt = a.now()
		err = a.store.UpdateUser(ctx, &next, u.PasswordHash, u.TokenVersion)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return a.storeErr("update user", err)
		}
		*user = next
		return nil
	}
	return fmt.Errorf("auth: change password: %w", ErrConflict)
}

// SetDisabled disables or re-enables a user. Disabling increments the token
// version in the same write, which revokes every token the user holds.
// Setting the flag to its current value changes nothing.
func (a *Authenticator) SetDisabled(ctx context.Context, userID string, disabled bool) error {
	for range maxUpdateAttempts {
		u, err := a.store.UserByID(ctx, userID)
		if err != nil {
			return a.storeErr("look up user", err)
		}
		if u.Disabled == disabled {
			return nil
		}
		next := *u
		next.Disabled = disabled
		if disabled {
			next.TokenVersion++
		}
		next.UpdatedAt = a.now()
		err = a.store.UpdateUser(ctx, &next, u.PasswordHash, u.TokenVersion)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return a.storeErr("update user", err)
		}
		return nil
	}
	return fmt.Errorf("auth: set disabled: %w", ErrConflict)
}

// UserByUsername looks a user up by any spelling of the name that has the
// same canonical form ("Alice", "ALICE" and "ａｌｉｃｅ" find "alice"). It
// returns an error wrapping [ErrUserNotFound] when there is none.
func (a *Authenticator) UserByUsername(ctx context.Context, username string) (*User, error) {
	name, err := CanonicalUsername(username)
	if err != nil {
		return nil, ErrUserNotFound
	}
	u, err := a.store.UserByUsername(ctx, name)
	if err != nil {
		return nil, a.storeErr("look up user", err)
	}
	return u, nil
}

// UserByID returns the user with the given ID, or an error wrapping
// [ErrUserNotFound].
func (a *Authenticator) UserByID(ctx context.Context, id string) (*User, error) {
	u, err := a.store.UserByID(ctx, id)
	if err != nil {
		return nil, a.storeErr("look up user", err)
	}
	return u, nil
}

// storeErr passes on the store's sentinel outcomes and context errors and
// wraps anything else so that it reads as a store failure in logs.
func (a *Authenticator) storeErr(op string, err error) error {
	if errors.Is(err, ErrUserNotFound) || errors.Is(err, ErrUserExists) || errors.Is(err, ErrConflict) {
		return err
	}
	return fmt.Errorf("auth: %s: %w", op, err)
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
