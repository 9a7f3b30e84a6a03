package auth

import (
	"log/slog"
	"time"

	"github.com/gatehouse/auth/internal/cache"
	"github.com/gatehouse/auth/internal/jose"
)

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
	logKey    []byte // keys the hashes of attempted usernames in logs

	// Caches hold pointers to entries that are never modified after
	// insertion, so a hit copies nothing but what the request keeps.
	tokens *cache.Bounded[*tokenEntry] // verified access tokens; nil when disabled
	users  *cache.Bounded[*cachedUser] // user state by ID; nil when disabled
	// ended holds sessions by ID: ended ones for good, live ones for the
	// user-cache TTL. nil when the store keeps no sessions or the TTL is 0.
	ended *cache.Bounded[*sessionState]

	dpop *dpopState // nil when DPoP is off

	hashSlots *hashSlots
	throttle  *loginThrottle
	// kdf runs argon2id. It is a field so that tests can count derivations
	// (export_test.go); it is never changed after New.
	kdf kdf

	// Second factors and passkeys (issue 14).
	creds        CredentialStore // nil when the store keeps no credentials
	box          *secretBox
	mfa          *mfaThrottle
	stateKey     []byte // signs plug-ins' state tokens
	pluginRoutes []Route
	adm          adminState // admin API, API keys, audit trail (admin.go)
	// Email flows (issue 13): the store's abilities, nil without them, and
	// the mailer, queue and budgets, nil without a mailer.
	emails  EmailStore
	onetime OneTimeTokenStore
	mail    *mailFlows

	passkeyBudgets *passkeyBudgets // passkey logins per address (passkeylimit.go)
}

// New returns an Authenticator that keeps users in store. A signing key is
// required, from [WithSecret] or [WithSigningKey]; every other option has a
// safe default. New returns an error, never panics, for a configuration it
// cannot run safely with.
func New(store UserStore, opts ...Option) (*Authenticator, error) {
	if store == nil {
		return nil, configErr(ErrInvalidConfig, "auth: store is nil")
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	a := &Authenticator{store: timedUsers{store, cfg.storeTimeout}, cfg: cfg}
	if err := a.setKeys(); err != nil {
		return nil, err
	}
	dummy, err := dummyHash(cfg.passwordParams)
	if err != nil {
		return nil, err
	}
	a.dummyHash = dummy
	a.logKey = a.signer.Derive("gatehouse log username hashes")
	a.parser = newParser(&cfg, a.keys.Algorithms())
	a.tokens = cache.New[*tokenEntry](cfg.tokenCacheSize)
	if cfg.userCacheTTL > 0 {
		a.users = cache.New[*cachedUser](userCacheSize)
	}
	if s, ok := store.(SessionStore); ok {
		a.sessions = timedSessions{s, cfg.storeTimeout}
		if cfg.userCacheTTL > 0 {
			a.ended = cache.New[*sessionState](userCacheSize)
		}
	}
	a.dpop = a.newDPoP()
	a.hashSlots = newHashSlots(cfg.hashConcurrency, cfg.hashWait)
	a.kdf = argon2id
	if a.throttle, err = newLoginThrottle(&cfg, a.signer); err != nil {
		return nil, err
	}
	if err := a.setupMFA(store); err != nil {
		return nil, err
	}
	if err := a.initAdmin(store); err != nil {
		return nil, err
	}
	if err := a.setupEmail(store); err != nil {
		return nil, err
	}
	return a, nil
}

// now returns the current time in UTC, truncated to the microsecond that
// every store can keep.
func (a *Authenticator) now() time.Time {
	return a.cfg.clock().UTC().Truncate(time.Microsecond)
}

// failureLog is where failures go: the configured logger, or else
// slog.Default(), so that a server error is never silent.
func (a *Authenticator) failureLog() *slog.Logger {
	if a.cfg.logger != nil {
		return a.cfg.logger
	}
	return slog.Default()
}

// eventLog is where warnings that are not failures of a request go: the
// configured logger, or nowhere.
func (a *Authenticator) eventLog() *slog.Logger {
	if a.cfg.logger != nil {
		return a.cfg.logger
	}
	return discardLogger
}

// discardLogger logs nothing. It holds no state, so sharing it is safe.
var discardLogger = slog.New(slog.DiscardHandler)
