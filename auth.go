package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/auth/internal/jose"
)

// Length limits, in characters (Unicode code points), as in the origin design.
const (
	minUsernameLength = 3
	maxUsernameLength = 255
	minPasswordLength = 8
	maxPasswordLength = 128
)

// userCacheSize bounds the user-state cache: beyond it, entries are evicted
// and read from the store again.
const userCacheSize = 10000

// maxUpdateAttempts bounds the read-modify-write retries of SetDisabled and
// ChangePassword when a concurrent update wins the race.
const maxUpdateAttempts = 5

// Authenticator registers and authenticates users, issues and verifies
// tokens, and serves the HTTP endpoints. Create one with [New]; it is safe
// for concurrent use.
type Authenticator struct {
	store     UserStore
	sessions  SessionStore // nil when the store does not keep sessions
	cfg       config
	signer    jose.Key
	keys      *jose.Set
	parser    *jose.Parser
	jwks      []byte // nil without asymmetric keys
	dummyHash string

	// Caches hold pointers to entries that are never modified after
	// insertion, so a hit copies nothing but what the request keeps.
	tokens *boundedCache[*tokenEntry] // verified access tokens; nil when disabled
	users  *boundedCache[*cachedUser] // user state by ID; nil when disabled

	hashSlots *hashSlots
	throttle  *loginThrottle
	// kdf runs argon2id. It is a field so that tests can count derivations
	// (export_test.go); it is never changed after New.
	kdf kdf
}

// tokenEntry is what a verified access token says, remembered until it
// expires.
type tokenEntry struct {
	userID    string
	sessionID string
	version   int64
	expires   time.Time
	claims    []byte // application claims as a JSON object; read-only
}

// cachedUser is a user as read from the store at fetched.
type cachedUser struct {
	user    User
	fetched time.Time
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

// New returns an Authenticator that keeps users in store. A signing key is
// required, from [WithSecret] or [WithSigningKey]; every other option has a
// safe default. New returns an error, never panics, for a configuration it
// cannot run safely with.
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
	a := &Authenticator{store: store, cfg: cfg}
	if err := a.setKeys(); err != nil {
		return nil, err
	}
	dummy, err := dummyHash(cfg.passwordParams)
	if err != nil {
		return nil, err
	}
	a.dummyHash = dummy
	a.parser = newParser(&cfg, a.keys.Algorithms())
	a.tokens = newBoundedCache[*tokenEntry](cfg.tokenCacheSize)
	if cfg.userCacheTTL > 0 {
		a.users = newBoundedCache[*cachedUser](userCacheSize)
	}
	a.sessions, _ = store.(SessionStore)
	a.hashSlots = newHashSlots(cfg.hashConcurrency, cfg.hashWait)
	a.kdf = argon2id
	if a.throttle, err = newLoginThrottle(&cfg, a.signer); err != nil {
		return nil, err
	}
	return a, nil
}

// newLoginThrottle builds the throttle that c describes: the given limiters,
// or in-memory ones on c's clock.
func newLoginThrottle(c *config, signer jose.Key) (*loginThrottle, error) {
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
	// Keys are a MAC under a key derived from the signing key, so that a
	// shared limiter store holds no usernames or addresses, and instances
	// sharing the key share the budgets.
	t.keyMAC = signer.Derive("gatehouse login throttle keys")
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

// setKeys checks the configured keys and builds the key set and the JWKS.
func (a *Authenticator) setKeys() error {
	c := &a.cfg
	switch len(c.signingKeys) {
	case 0:
		return fmt.Errorf("%w: no signing key: use WithSecret or WithSigningKey", ErrWeakSecret)
	case 1:
	default:
		return fmt.Errorf("%w: more than one signing key (WithSecret and WithSigningKey count alike); pass retired keys to WithVerificationKeys", ErrInvalidKey)
	}
	all := append([]Key{c.signingKeys[0]}, c.verifyKeys...)
	keys := make([]jose.Key, 0, len(all))
	for _, k := range all {
		if k.err != nil {
			return k.err
		}
		keys = append(keys, k.k)
	}
	signer := keys[0]
	if !signer.CanSign() {
		return fmt.Errorf("%w: signing key %q is public only; pass it to WithVerificationKeys", ErrInvalidKey, signer.KID())
	}
	set, err := jose.NewSet(keys...)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	jwks, _, err := set.JWKS()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	a.signer, a.keys, a.jwks = signer, set, jwks
	return nil
}

// checkSecret refuses HMAC secrets that are short, repeat one byte, or are
// well-known placeholders.
func checkSecret(secret []byte) error {
	if len(secret) < 32 {
		return fmt.Errorf("%w: it must be at least 32 bytes", ErrWeakSecret)
	}
	for _, p := range placeholderSecrets {
		if bytes.EqualFold(bytes.TrimSpace(secret), []byte(p)) {
			return fmt.Errorf("%w: it is a well-known placeholder", ErrWeakSecret)
		}
	}
	if allSame(secret) {
		return fmt.Errorf("%w: it repeats one byte", ErrWeakSecret)
	}
	return nil
}

func (c *config) validate() error {
	switch {
	case c.accessTTL <= 0:
		return errors.New("auth: access TTL must be positive")
	case c.refreshTTL <= 0:
		return errors.New("auth: refresh TTL must be positive")
	case c.refreshGrace < 0 || c.refreshGrace > 5*time.Minute:
		return errors.New("auth: refresh grace period must be between 0 and 5 minutes")
	case c.tokenCacheSize < 0:
		return errors.New("auth: token cache size must not be negative")
	case c.userCacheTTL < 0 || c.userCacheTTL > time.Minute:
		return errors.New("auth: user cache TTL must be between 0 and 60 seconds")
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
	if err := c.cookie.validate(); err != nil {
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
	e := event(ctx, nil)
	e.Username = name
	if err := before(ctx, a.cfg.hooks.BeforeRegister, e); err != nil {
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
	a.report(ctx, slog.LevelInfo, "auth: user registered", a.cfg.hooks.AfterRegister, event(ctx, u))
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
// ErrUserDisabled it also returns the user, for the failed-login event.
func (a *Authenticator) checkPassword(ctx context.Context, username, password string) (*User, error) {
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

// authenticate checks the password of the user with the canonical name
// (empty for a name that cannot exist), at the cost of exactly one argon2id
// verification whatever the outcome.
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
		return u, ErrUserDisabled
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
		a.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "auth: rehash failed",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
	}
}

// Login authenticates like [Authenticator.Authenticate] and issues a token
// pair. When the store keeps sessions it starts one, recording the client
// described by [WithClientInfo] on ctx.
func (a *Authenticator) Login(ctx context.Context, username, password string) (TokenPair, error) {
	u, err := a.Authenticate(ctx, username, password)
	if err != nil {
		return TokenPair{}, err
	}
	// Sign first, store second: a login that fails to sign (an error from
	// WithClaims, say) leaves no session behind.
	g, s := a.newSession(ctx, u)
	pair, err := a.issuePair(ctx, u, g)
	if err != nil {
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

// Refresh exchanges a valid refresh token for a new pair. It returns an error
// wrapping [ErrInvalidToken] for a token that is malformed, forged, expired or
// not a refresh token; [ErrTokenInvalidated] when the password was changed
// since, or the session was ended; and [ErrUserInactive] when the user was
// disabled or deleted.
//
// When the store keeps sessions, each refresh token can be exchanged once:
// see [SessionStore] and [WithRefreshGracePeriod] for rotation and reuse.
func (a *Authenticator) Refresh(ctx context.Context, refreshToken string) (TokenPair, error) {
	c, err := a.parse(refreshToken, jose.TypeRefresh)
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
	g := a.statelessGrant(a.now())
	if a.sessions != nil {
		if g, err = a.rotate(ctx, u, c); err != nil {
			return TokenPair{}, err
		}
	}
	pair, err := a.issuePair(ctx, u, g)
	if err != nil {
		return TokenPair{}, err
	}
	e := event(ctx, u)
	e.SessionID = g.session
	a.report(ctx, slog.LevelInfo, "auth: token refreshed", a.cfg.hooks.Refreshed, e)
	return pair, nil
}

// VerifyAccessToken checks an access token and returns its user. It returns
// an error wrapping [ErrInvalidToken] for a bad token or a deleted user,
// [ErrUserDisabled] for a disabled user, and [ErrTokenInvalidated] for a
// token issued before the user's last password change, disabling or
// logout-all.
//
// It is the check the middleware runs on every request, and it is fast for a
// token seen before: see [WithTokenCacheSize] and [WithUserCacheTTL].
func (a *Authenticator) VerifyAccessToken(ctx context.Context, token string) (*User, error) {
	uc, err := a.verifyAccess(ctx, token)
	if err != nil {
		return nil, err
	}
	return &uc.v.user, nil
}

// verifyAccess checks an access token and returns, in one allocation, a
// context derived from ctx that carries the caller's own copy of the user
// and the token's session ID.
func (a *Authenticator) verifyAccess(ctx context.Context, token string) (*userContext, error) {
	now := a.cfg.clock()
	e, ok := a.tokens.get(token)
	if !ok || !now.Before(e.expires) {
		c, err := a.parse(token, jose.TypeAccess)
		if err != nil {
			if ok {
				a.tokens.remove(token)
			}
			return nil, err
		}
		e = &tokenEntry{userID: c.Subject, sessionID: c.Session, version: *c.Version, expires: c.ExpiresAt.Time}
		if a.cfg.claims != nil {
			e.claims = appClaims(token)
		}
		a.tokens.put(token, e)
	}
	uc := &userContext{Context: ctx, v: authenticated{sessionID: e.sessionID, claims: e.claims}}
	cached, err := a.currentUser(ctx, e.userID, now, &uc.v.user)
	if err == nil && cached && uc.v.user.TokenVersion < e.version {
		// The token is newer than what this instance remembers: another
		// instance changed the user (a password change, logout-all) and
		// then issued it. Ask the store rather than refuse a fresh token.
		a.users.remove(e.userID)
		_, err = a.currentUser(ctx, e.userID, now, &uc.v.user)
	}
	switch {
	case errors.Is(err, ErrUserNotFound):
		return nil, errors.Join(ErrInvalidToken, ErrUserNotFound)
	case err != nil:
		return nil, a.storeErr("look up user", err)
	case uc.v.user.Disabled:
		return nil, ErrUserDisabled
	case uc.v.user.TokenVersion != e.version:
		return nil, ErrTokenInvalidated
	}
	return uc, nil
}

// currentUser reads the user with the given ID into dst: from the user
// cache when the entry is younger than the cache TTL (cached is then true),
// from the store otherwise.
func (a *Authenticator) currentUser(ctx context.Context, id string, now time.Time, dst *User) (cached bool, err error) {
	if cu, ok := a.users.get(id); ok && now.Sub(cu.fetched) < a.cfg.userCacheTTL {
		*dst = cu.user
		return true, nil
	}
	u, err := a.store.UserByID(ctx, id)
	if err != nil {
		if errors.Is(err, ErrUserNotFound) {
			a.users.remove(id)
		}
		return false, err
	}
	a.remember(u, now)
	*dst = *u
	return false, nil
}

// remember caches u as read or written at now. An entry with a higher token
// version stays: a read that raced with this instance's own write must not
// bring back the state from before it.
func (a *Authenticator) remember(u *User, now time.Time) {
	a.users.putUnless(u.ID, &cachedUser{user: *u, fetched: now}, func(old *cachedUser) bool {
		return old.user.TokenVersion > u.TokenVersion
	})
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
	next, err := a.modifyUser(ctx, user.ID, "change password", func(u *User) (bool, error) {
		// A retry after a conflict checks the password again only if the
		// hash it was checked against has changed meanwhile.
		if u.PasswordHash != verifiedHash {
			ok, _, err := a.verify(ctx, current, u.PasswordHash)
			switch {
			case isTransient(err):
				return false, err
			case err != nil || !ok:
				return false, ErrIncorrectPassword
			}
			verifiedHash = u.PasswordHash
		}
		if current == newPassword {
			return false, ErrSamePassword
		}
		hash, err := a.hash(ctx, newPassword)
		if err != nil {
			return false, err
		}
		u.PasswordHash = hash
		u.TokenVersion++
		return true, nil
	})
	if err != nil {
		return err
	}
	*user = *next
	a.report(ctx, slog.LevelInfo, "auth: password changed", a.cfg.hooks.PasswordChanged, event(ctx, user))
	return nil
}

// SetDisabled disables or re-enables a user. Disabling increments the token
// version in the same write, which revokes every token and session the user
// holds. Setting the flag to its current value changes nothing.
func (a *Authenticator) SetDisabled(ctx context.Context, userID string, disabled bool) error {
	u, err := a.modifyUser(ctx, userID, "set disabled", func(u *User) (bool, error) {
		if u.Disabled == disabled {
			return false, nil
		}
		u.Disabled = disabled
		if disabled {
			u.TokenVersion++
		}
		return true, nil
	})
	if err == nil && u != nil && disabled {
		a.report(ctx, slog.LevelInfo, "auth: user disabled", a.cfg.hooks.UserDisabled, event(ctx, u))
	}
	return err
}

// modifyUser applies change to a fresh copy of the user and writes it back,
// conditional on nothing having changed in between; on a conflict it reads
// again and retries. change returns false when there is nothing to write,
// and modifyUser then returns a nil user; an error from change ends it.
// After a write, the cache holds the new state and, when the token version
// went up, the user's sessions are ended.
func (a *Authenticator) modifyUser(ctx context.Context, userID, op string, change func(*User) (bool, error)) (*User, error) {
	for range maxUpdateAttempts {
		u, err := a.store.UserByID(ctx, userID)
		if err != nil {
			return nil, a.storeErr("look up user", err)
		}
		next := *u
		if write, err := change(&next); err != nil || !write {
			return nil, err
		}
		next.UpdatedAt = a.now()
		err = a.store.UpdateUser(ctx, &next, u.PasswordHash, u.TokenVersion)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, a.storeErr("update user", err)
		}
		a.remember(&next, a.cfg.clock())
		if next.TokenVersion != u.TokenVersion {
			a.endSessions(ctx, userID)
		}
		return &next, nil
	}
	return nil, fmt.Errorf("auth: %s: %w", op, ErrConflict)
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

// DeleteUser deletes a user and, when the store keeps them, the user's
// sessions. The user's tokens stop working at once on this Authenticator
// and, on others sharing the store, within [WithUserCacheTTL]. It returns an
// error wrapping [ErrUserNotFound] when there is no such user.
func (a *Authenticator) DeleteUser(ctx context.Context, id string) error {
	if err := a.store.DeleteUser(ctx, id); err != nil {
		return a.storeErr("delete user", err)
	}
	a.users.remove(id)
	return nil
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
	if errors.Is(err, ErrUserNotFound) || errors.Is(err, ErrUserExists) || errors.Is(err, ErrConflict) || errors.Is(err, ErrSessionNotFound) {
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
