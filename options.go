package auth

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Option configures an [Authenticator]. Options are applied by [New] in order,
// after the defaults; New then validates the result as a whole.
type Option func(*config)

// config holds everything options can set. Its defaults live in
// defaultConfig and nowhere else.
type config struct {
	signingKeys    []Key // exactly one is valid; more is a mistake New reports
	verifyKeys     []Key
	accessTTL      time.Duration
	refreshTTL     time.Duration
	refreshGrace   time.Duration
	hooks          Hooks
	claims         func(ctx context.Context, u *User) (map[string]any, error)
	cookie         CookieOptions
	issuer         string
	audience       string
	leeway         time.Duration
	tokenCacheSize int
	userCacheTTL   time.Duration
	passwordParams PasswordParams
	insecureHash   bool
	clock          func() time.Time
	logger         *slog.Logger // nil: events nowhere, failures to slog.Default()
	loggerSet      bool
	storeTimeout   time.Duration
	graceUses      int
	errorHandler   func(http.ResponseWriter, *http.Request, error)

	hashConcurrency int
	hashWait        time.Duration

	// Login throttling: the in-memory budgets, unless limiters are given.
	nameLimit, addrLimit     RateLimit
	limiterKeys              int
	customLimiters           bool
	nameLimiter, addrLimiter Limiter
	trustedProxy             *trustedProxy

	passwordPolicy PasswordPolicy

	budgets budgetConfig // device tokens and registration: see the end of this file
	// DPoP (RFC 9449): see dpop.go.
	dpopMode             DPoPMode
	dpopExternal         string
	dpopPast, dpopFuture time.Duration
	dpopNonceEvery       time.Duration
	dpopReplay           DPoPReplayCache

	mfa mfaConfig // second factors and passkeys: see the end of this file

	admin adminConfig // admin API, API keys: see the end of this file

	mail mailConfig // email, one-time tokens and mail (issue 13): see the end of this file
}

func defaultConfig() config {
	return config{
		accessTTL:      30 * time.Minute,
		refreshTTL:     7 * 24 * time.Hour,
		refreshGrace:   10 * time.Second,
		leeway:         5 * time.Second,
		tokenCacheSize: 10000,
		userCacheTTL:   2 * time.Second,
		passwordParams: DefaultPasswordParams(),
		clock:          time.Now,
		storeTimeout:   5 * time.Second,
		graceUses:      2,
		errorHandler:   WriteError,

		hashConcurrency: runtime.GOMAXPROCS(0),
		hashWait:        5 * time.Second,

		nameLimit:   RateLimit{Burst: 5, Every: time.Minute},
		addrLimit:   RateLimit{Burst: 20, Every: 6 * time.Second},
		limiterKeys: 100_000,

		passwordPolicy: DefaultPasswordPolicy,

		budgets:    defaultBudgets(),
		dpopPast:   time.Minute,
		dpopFuture: 5 * time.Second,
		mfa:        defaultMFA(),
		admin:      defaultAdmin(),
		mail:       defaultMailConfig(),
	}
}

// WithSecret sets an HMAC-SHA256 secret as the key that signs and verifies
// tokens. It is shorthand for WithSigningKey([HS256Key]("", secret)): the key ID
// is derived from the secret, so instances sharing the secret agree on it.
// New fails with [ErrWeakSecret] if the secret is shorter than 32 bytes, a
// well-known placeholder or too predictable (see [HS256Key]). Generate one
// with `openssl rand -hex 32`. The slice is copied.
func WithSecret(secret []byte) Option {
	return WithSigningKey(HS256Key("", secret))
}

// WithSigningKey sets the active key, which signs every new token and
// verifies them. It is required, as this or as [WithSecret]; New fails with
// [ErrWeakSecret] when neither is given and with an error when both are, or
// when the key is verification-only. Defaults to none.
//
// To rotate keys without logging anyone out, see [WithVerificationKeys].
func WithSigningKey(k Key) Option {
	return func(c *config) { c.signingKeys = append(c.signingKeys, k) }
}

// WithVerificationKeys adds keys that verify tokens but sign none: retired
// keys whose tokens are still accepted, and keys about to become active.
// Their IDs must differ from each other and from the signing key's.
// Asymmetric ones are published in the JWKS. Removing a key makes every
// token it signed fail verification. Defaults to none.
//
// Rotating from key A to key B with several instances takes three deploys:
// add B here; then make B the signing key and move A here; then, once the
// refresh TTL has passed, remove A.
func WithVerificationKeys(keys ...Key) Option {
	return func(c *config) { c.verifyKeys = append(c.verifyKeys, keys...) }
}

// WithAccessTTL sets how long access tokens are valid. Defaults to 30 minutes.
func WithAccessTTL(d time.Duration) Option { return func(c *config) { c.accessTTL = d } }

// WithRefreshTTL sets how long refresh tokens are valid. Defaults to 7 days.
func WithRefreshTTL(d time.Duration) Option { return func(c *config) { c.refreshTTL = d } }

// WithRefreshGracePeriod sets how long after a refresh token was exchanged
// it may be presented again, for clients such as browsers with several tabs
// that refresh at once. Inside the window the exchange is answered with the
// same child refresh token the first exchange produced (and a new access
// token), so one parent never has two live children; and only to the
// client that made the exchange, at most [WithRefreshGraceUses] times. After the window, a
// second use counts as reuse of a stolen token and revokes the whole
// session. Only applies when the store keeps sessions ([SessionStore]).
// Defaults to 10 seconds; 0 makes every second use a reuse; New rejects more
// than 5 minutes.
func WithRefreshGracePeriod(d time.Duration) Option { return func(c *config) { c.refreshGrace = d } }

// WithRefreshGraceUses sets how many times a refresh token that was just
// exchanged may be answered from the grace window ([WithRefreshGracePeriod]):
// enough for a few tabs of one browser refreshing at once. Only the client
// that made the exchange (the same address and user agent, as the server
// sees them) is answered; a replay from any other client, or one more than
// n, counts as reuse and revokes the session. The handlers know the
// client; when you call [Authenticator.Refresh] yourself, pass it with
// [ContextWithClient], or there is no grace window at all. Defaults to 2;
// New rejects less than 1.
func WithRefreshGraceUses(n int) Option { return func(c *config) { c.graceUses = n } }

// WithHooks sets functions called at moments in a user's life: after
// registration and login, on failed logins, refreshes, refresh-token reuse,
// password changes, logouts and disabling; and before registration and
// login, where they may abort. See [Hooks]. Defaults to none. The same
// moments are logged to [WithLogger] at info level (warning for reuse).
func WithHooks(h Hooks) Option { return func(c *config) { c.hooks = h } }

// WithClaims adds application claims to every access token, such as roles
// or a tenant. f runs at each login and refresh; an error from it fails
// the login or refresh. Reserved claims ("sub", "exp", "iat", "nbf",
// "jti", "iss", "aud", "type", "ver", "sid", "cnf", "amr", "auth_time") cannot be set: trying is an
// error wrapping [ErrReservedClaim], not a silent drop. Handlers read the
// claims with [ClaimsFromContext]. Defaults to none.
func WithClaims(f func(ctx context.Context, u *User) (map[string]any, error)) Option {
	return func(c *config) { c.claims = f }
}

// WithIssuer sets the "iss" claim of issued tokens and requires it on
// verification. Defaults to none (neither issued nor checked).
func WithIssuer(iss string) Option { return func(c *config) { c.issuer = iss } }

// WithAudience sets the "aud" claim of issued tokens and requires it on
// verification. Defaults to none (neither issued nor checked).
func WithAudience(aud string) Option { return func(c *config) { c.audience = aud } }

// WithLeeway sets the clock-skew tolerance applied to "exp" and "iat" on
// verification. Defaults to 5 seconds; New rejects more than 60 seconds.
func WithLeeway(d time.Duration) Option { return func(c *config) { c.leeway = d } }

// WithTokenCacheSize sets how many verified access tokens are remembered,
// so that a token presented again skips signature and claim checks until it
// expires. Only tokens that passed every check are cached, keyed by the whole
// token. Memory stays bounded: past the size, old entries are evicted.
// Defaults to 10000 (a few MiB at most); 0 disables the cache.
func WithTokenCacheSize(n int) Option { return func(c *config) { c.tokenCacheSize = n } }

// WithUserCacheTTL sets how long the middleware trusts a user's state
// (disabled flag, token version) read from the store before reading it again.
// Changes made through this Authenticator (disabling, password changes,
// logout-all) take effect at once regardless; changes made by another
// instance sharing the store take effect on this one within this bound.
// Defaults to 2 seconds; 0 reads the store on every request; New rejects
// more than a minute.
func WithUserCacheTTL(d time.Duration) Option { return func(c *config) { c.userCacheTTL = d } }

// WithPasswordParams sets the argon2id parameters for new hashes. Defaults to
// [DefaultPasswordParams]. New rejects parameters below the OWASP minimum.
// Stored hashes made with other parameters still verify and are rewritten
// with these on the user's next successful login.
func WithPasswordParams(p PasswordParams) Option {
	return func(c *config) { c.passwordParams = p; c.insecureHash = false }
}

// WithInsecureFastHashingForTests makes password hashing nearly free
// (argon2id with m=64 KiB, t=1, p=1) so that test suites stay fast, also
// under -race. The hashes it makes are trivially brute-forced. New refuses
// this option outside a test binary (see [testing.Testing]), so it cannot
// weaken a production build by accident.
func WithInsecureFastHashingForTests() Option {
	return func(c *config) {
		c.passwordParams = PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}
		c.insecureHash = true
	}
}

// WithClock sets the source of the current time, for tests. Defaults to
// [time.Now].
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithLogger sets the logger for what happens: logins, refreshes, reuse,
// password changes at info and warning level, and failures that answer
// 500 or 503 at error level. Passwords, hashes, tokens and attempted
// usernames are never logged. Defaults to none for events, and to
// [slog.Default] (read when logging) for failures, so that a server error
// is never silent; pass slog.New(slog.DiscardHandler) to silence both on
// purpose.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger, c.loggerSet = l, true } }

// WithStoreTimeout sets the deadline of every call to the store (and to the
// session store). A store that does not answer in time, such as a database
// that stopped responding, fails the request with [ErrUnavailable], which
// the handlers answer 503 with Retry-After, instead of holding it for as
// long as the database is silent. The request's own context ends the wait
// sooner. Defaults to 5 seconds.
func WithStoreTimeout(d time.Duration) Option { return func(c *config) { c.storeTimeout = d } }

// WithErrorHandler replaces the function that writes error responses, both
// for the endpoints of [Authenticator.Handler] and for rejected requests in
// [Authenticator.Middleware]. Defaults to [WriteError], which a replacement
// may call for the cases it does not handle itself.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, err error)) Option {
	return func(c *config) { c.errorHandler = h }
}

// WithHashConcurrency sets how many argon2id hashes may run at once, for
// every purpose together: registration, login, the dummy check for unknown
// users, password changes and rehashing. Each holds the memory cost of
// [PasswordParams] (64 MiB at the defaults) while it runs, so this bounds
// the memory that hashing can take: n × 64 MiB. Defaults to
// [runtime.GOMAXPROCS], since more would not finish sooner.
func WithHashConcurrency(n int) Option { return func(c *config) { c.hashConcurrency = n } }

// WithHashWait sets how long a request waits for a free hashing slot (see
// [WithHashConcurrency]) before it gives up with [ErrBusy], which the
// handlers answer with 503 and Retry-After. The request's context ends the
// wait sooner. Zero means no waiting. Defaults to 5 seconds.
func WithHashWait(d time.Duration) Option { return func(c *config) { c.hashWait = d } }

// WithLoginLimits sets the budgets of login attempts kept in memory: per
// username (in its canonical form, whether the user exists or not) and per
// client address (see [ContextWithClient] and [WithTrustedProxy]; IPv6
// addresses count per /64). Only failures use up a budget: the budgets are
// checked before the password and charged after a failure, and a success
// clears the username's failures. Concurrent guesses can overshoot a burst
// by at most the hashing concurrency ([WithHashConcurrency]), and the
// overshoot is paid back as a longer wait. A throttled attempt is answered
// 429 without checking the password, and is charged to the address. A
// client with a valid device token (see [ContextWithDeviceToken]) is held
// to that token's budget instead of the username's. No budget ever locks
// an account for good: it refills at the given rate.
//
// Defaults to a burst of 5 then 1 a minute per username, and a burst of 20
// then 1 every 6 seconds (10 a minute) per address. A zero RateLimit turns
// that side off. Each side keeps at most 100,000 keys, about 200 bytes
// each; past that the least recently used keys whose budget is full are
// dropped first.
func WithLoginLimits(perUsername, perAddress RateLimit) Option {
	return func(c *config) {
		c.nameLimit, c.addrLimit = perUsername, perAddress
		c.customLimiters, c.nameLimiter, c.addrLimiter = false, nil, nil
	}
}

// WithLoginLimiters replaces the in-memory budgets of [WithLoginLimits] with
// limiters of your own, such as the Redis one in the redislimit module,
// which several instances can share. A nil Limiter turns that side off.
// The two may be the same Limiter: their keys never collide.
func WithLoginLimiters(perUsername, perAddress Limiter) Option {
	return func(c *config) {
		c.customLimiters, c.nameLimiter, c.addrLimiter = true, perUsername, perAddress
	}
}

// WithTrustedProxy says that requests from peers in proxies come through a
// reverse proxy that reports the client's address in header. Requests from
// any other peer are charged to the peer's own address, and their header is
// ignored, so that a client cannot choose the address it is charged to.
//
// For "X-Forwarded-For" the header is read as a list that each proxy
// appends to: the client is the right-most entry that is not itself in
// proxies. All X-Forwarded-For headers of a request count, as one list in
// order. Any other header (such as "X-Real-IP" or "CF-Connecting-IP") holds
// one address set by the proxy; if it appears more than once, the last
// counts. An entry that is not an address, with or without a port, is
// skipped over to the nearest proxy's address. The "Forwarded" header of
// RFC 7239 is not supported.
//
// Defaults to none: the client is the peer (the host of
// [http.Request.RemoteAddr]). New rejects an empty list of proxies; to trust
// every peer, as behind some platforms' load balancers, pass 0.0.0.0/0 and
// ::/0 explicitly.
func WithTrustedProxy(header string, proxies ...netip.Prefix) Option {
	p := &trustedProxy{header: http.CanonicalHeaderKey(header), proxies: append([]netip.Prefix(nil), proxies...)}
	p.list = p.header == "X-Forwarded-For"
	for i, pr := range p.proxies {
		p.proxies[i] = pr.Masked()
	}
	return func(c *config) { c.trustedProxy = p }
}

// WithPasswordPolicy sets the check that new passwords must pass on
// registration and on password change, after the length check. Its error
// text is sent to the client (see [PasswordPolicy]). Defaults to
// [DefaultPasswordPolicy]; nil turns the check off.
func WithPasswordPolicy(p PasswordPolicy) Option { return func(c *config) { c.passwordPolicy = p } }

// validate checks the configuration as a whole. Every error it returns
// matches ErrInvalidConfig and says what to change.
func (c *config) validate() error {
	bad := func(format string, args ...any) error { return configErr(ErrInvalidConfig, "auth: "+format, args...) }
	switch {
	case c.accessTTL < time.Second:
		return bad("access TTL is %v; it must be at least a second (did you mean %v * time.Minute?)", c.accessTTL, int64(c.accessTTL))
	case c.refreshTTL < c.accessTTL:
		return bad("refresh TTL (%v) is shorter than the access TTL (%v); a refresh token must outlive the access token it renews", c.refreshTTL, c.accessTTL)
	case c.refreshGrace < 0 || c.refreshGrace > 5*time.Minute:
		return bad("refresh grace period is %v; it must be between 0 and 5 minutes", c.refreshGrace)
	case c.graceUses < 1:
		return bad("refresh grace uses is %d; it must be at least 1 (turn the window off with WithRefreshGracePeriod(0))", c.graceUses)
	case c.tokenCacheSize < 0:
		return bad("token cache size is %d; it must not be negative (0 turns the cache off)", c.tokenCacheSize)
	case c.userCacheTTL < 0 || c.userCacheTTL > time.Minute:
		return bad("user cache TTL is %v; it must be between 0 and 60 seconds", c.userCacheTTL)
	case c.leeway < 0 || c.leeway > time.Minute:
		return bad("leeway is %v; it must be between 0 and 60 seconds", c.leeway)
	case c.storeTimeout <= 0:
		return bad("store timeout is %v; it must be positive", c.storeTimeout)
	case c.clock == nil:
		return bad("clock is nil")
	case c.logger == nil && c.loggerSet:
		return bad("logger is nil; to silence it, pass slog.New(slog.DiscardHandler)")
	case c.errorHandler == nil:
		return bad("error handler is nil")
	case c.hashConcurrency < 1:
		return bad("hash concurrency is %d; it must be at least 1", c.hashConcurrency)
	case c.hashWait < 0:
		return bad("hash wait is %v; it must not be negative", c.hashWait)
	}
	if err := c.validateDPoP(); err != nil {
		return err
	}
	if err := c.trustedProxy.validate(); err != nil {
		return err
	}
	if err := c.cookie.validate(); err != nil {
		return err
	}
	if err := c.mail.validate(); err != nil {
		return err
	}
	if err := c.mfa.validate(); err != nil {
		return err
	}
	if err := c.admin.validate(); err != nil {
		return err
	}
	if c.insecureHash {
		if !testing.Testing() {
			return bad("WithInsecureFastHashingForTests used outside a test binary")
		}
		return nil
	}
	return c.passwordParams.validate()
}

// CookieOptions configure cookie mode, served by
// [Authenticator.CookieHandler]: the refresh token travels in a cookie that
// page scripts cannot read, instead of in JSON bodies, and the access token
// lives only in the page's memory.
//
// Why this resists CSRF: the cookie is HttpOnly, Secure and
// SameSite=Strict, so browsers send it only with requests that start on
// the same site, never from another site's link, form or script. It is
// scoped to the refresh and logout endpoints alone, so it never rides along
// with other requests. Every endpoint of the cookie handler, login
// included, accepts only application/json bodies, which a cross-site HTML
// form cannot send and cross-site scripts can only send after a CORS
// preflight the server does not grant; and it refuses browser requests
// that announce another origin (Sec-Fetch-Site, Origin; see
// [http.CrossOriginProtection]) with 403. That also stops login CSRF, where
// another site would log the browser in to the attacker's account. What
// refresh returns, a new access token, is readable only by same-origin
// scripts. The application must still protect its own cookie-authenticated
// endpoints, if it has any; Gatehouse's access tokens travel in the
// Authorization header, which browsers never add on their own.
type CookieOptions struct {
	// Name is the cookie's name. Defaults to "gatehouse_refresh".
	Name string
	// Path is the path under which the cookie handler is mounted, as the
	// browser sees it: the cookie is set for Path+"/refresh" and
	// Path+"/logout" only. Defaults to "/auth"; set it to "/api/auth" when
	// mounting with http.StripPrefix("/api", a.CookieHandler()).
	Path string
	// Domain is the cookie's Domain attribute. Defaults to none: the cookie
	// goes to the host that set it only, which is what you want unless
	// several subdomains share the API.
	Domain string
}

// WithRefreshCookie configures cookie mode for [Authenticator.CookieHandler].
// Defaults to CookieOptions{} (name "gatehouse_refresh", path "/auth").
// New rejects a name or path that is not valid in a cookie.
func WithRefreshCookie(o CookieOptions) Option { return func(c *config) { c.cookie = o } }

const defaultCookieName = "gatehouse_refresh"

func (o *CookieOptions) validate() error {
	if o.Name == "" {
		o.Name = defaultCookieName
	}
	if o.Path == "" {
		o.Path = "/auth"
	}
	o.Path = strings.TrimSuffix(o.Path, "/")
	probe := http.Cookie{Name: o.Name, Value: "x", Path: o.Path + "/refresh", Domain: o.Domain}
	if !strings.HasPrefix(o.Path, "/") || probe.Valid() != nil {
		return configErr(ErrInvalidConfig, "auth: invalid refresh cookie name, path or domain")
	}
	return nil
}

// cookiePaths are the only paths the refresh cookie is sent to.
func (o *CookieOptions) cookiePaths() [2]string {
	return [2]string{o.Path + "/refresh", o.Path + "/logout"}
}

// budgetConfig holds the options of device tokens and of the registration
// budget.
type budgetConfig struct {
	deviceLimit     RateLimit
	deviceLimiter   Limiter
	customDevice    bool
	deviceTTL       time.Duration
	registerLimit   RateLimit
	registerLimiter Limiter
	customRegister  bool
}

func defaultBudgets() budgetConfig {
	return budgetConfig{
		deviceLimit:   RateLimit{Burst: 10, Every: time.Hour},
		deviceTTL:     365 * 24 * time.Hour,
		registerLimit: RateLimit{Burst: 10, Every: 6 * time.Minute},
	}
}

// WithDeviceTokenLimit sets the budget of failed logins of each device
// token kept in memory. A successful login returns a device token
// ([TokenPair.DeviceToken]; the device cookie in cookie mode), and a
// client that sends it back with a later login as the same user is
// counted against this budget instead of the username's, so that failures
// from elsewhere cannot lock that user out of a device they have used
// (see [ContextWithDeviceToken]).
//
// Defaults to a burst of 10 then 1 an hour. A zero RateLimit turns device
// tokens off: none are issued and none are honoured. They are off, too,
// when the username's budget is.
func WithDeviceTokenLimit(l RateLimit) Option {
	return func(c *config) {
		c.budgets.deviceLimit, c.budgets.customDevice, c.budgets.deviceLimiter = l, false, nil
	}
}

// WithDeviceTokenLimiter replaces the in-memory budget of
// [WithDeviceTokenLimit] with a limiter of your own, such as the Redis one
// in the redislimit module, so that instances share it. It may be the
// same Limiter as the login ones only if it allows the same rate; its keys
// never collide with theirs. A nil Limiter turns device tokens off.
func WithDeviceTokenLimiter(l Limiter) Option {
	return func(c *config) {
		c.budgets.deviceLimiter, c.budgets.customDevice = l, true
	}
}

// WithDeviceTokenTTL sets how long a device token is valid. A password
// change, logout-all or disabling the user voids it sooner. Defaults to a
// year; New rejects less than an hour or more than five years.
func WithDeviceTokenTTL(d time.Duration) Option {
	return func(c *config) { c.budgets.deviceTTL = d }
}

// WithRegisterLimit sets the budget of registrations per client address
// kept in memory (see [WithTrustedProxy]; IPv6 addresses count per /64).
// Every registration that gets as far as [Authenticator.Register] counts,
// whether it succeeds or not, since each one hashes a password and may
// create a user. A client over its budget gets 429 with Retry-After from
// the handler; [Authenticator.Register] itself is not limited.
//
// Defaults to a burst of 10 then 1 every 6 minutes. A zero RateLimit
// turns the limit off.
func WithRegisterLimit(l RateLimit) Option {
	return func(c *config) {
		c.budgets.registerLimit, c.budgets.customRegister, c.budgets.registerLimiter = l, false, nil
	}
}

// WithRegisterLimiter replaces the in-memory budget of [WithRegisterLimit]
// with a limiter of your own, such as the Redis one in the redislimit
// module, so that instances share it. A nil Limiter turns the limit off.
func WithRegisterLimiter(l Limiter) Option {
	return func(c *config) {
		c.budgets.registerLimiter, c.budgets.customRegister = l, true
	}
}

// WithDPoP turns on sender-constrained tokens (DPoP, RFC 9449). A client
// that sends a DPoP proof with its login gets an access token bound to the
// proof's key ("cnf": {"jkt": ...}, "token_type": "DPoP"), and a session
// that only a proof of the same key can refresh: a refresh without one, or
// with another key, counts as reuse and revokes the session. A bound token
// is accepted only in the DPoP scheme with a fresh proof, so a token copied
// out of a log or a browser's storage is useless without the key.
//
// Under [DPoPAllowed] clients without proofs keep getting bearer tokens;
// under [DPoPRequired] they are refused. Sessions bound while DPoP was on
// stay bound if it is turned off, and can then no longer be refreshed.
// See docs/dpop.md. Defaults to [DPoPOff].
func WithDPoP(mode DPoPMode) Option { return func(c *config) { c.dpopMode = mode } }

// WithDPoPExternalURL sets the scheme and host that clients address, such
// as "https://api.example.com", for a server behind a reverse proxy or a
// TLS-terminating load balancer (see also [WithTrustedProxy]): a proof's
// "htu" is compared with this origin and the request's path. Without it the
// origin is the request's own: https when the connection is TLS, and the
// Host header. Defaults to none.
func WithDPoPExternalURL(origin string) Option { return func(c *config) { c.dpopExternal = origin } }

// WithDPoPProofWindow sets how old a DPoP proof's "iat" may be, and how far
// ahead of the server's clock ([WithClock]) it may be. The replay cache
// remembers each proof for past. Defaults to 60 seconds and 5 seconds; New
// accepts 1 second to 5 minutes, and 0 to 60 seconds.
func WithDPoPProofWindow(past, future time.Duration) Option {
	return func(c *config) { c.dpopPast, c.dpopFuture = past, future }
}

// WithDPoPNonces turns on server nonces (RFC 9449 section 8): every proof
// must carry a nonce the server gave out, within the last lifetime to twice
// that, which limits proofs made in advance by a client whose key was
// briefly in an attacker's hands. A proof without it is answered
// "use_dpop_nonce" with the nonce in a DPoP-Nonce header, and the client
// retries once (the dpop package does). Nonces are derived from the signing
// key and need no storage: instances sharing the key accept each other's.
// Defaults to 0, off; New accepts 1 second to 1 hour.
func WithDPoPNonces(lifetime time.Duration) Option {
	return func(c *config) { c.dpopNonceEvery = lifetime }
}

// WithDPoPReplayCache sets where the DPoP proofs already seen are
// remembered. Defaults to memory, at most 100,000 proofs (the one closest
// to expiring makes room), which is right for a single instance; several
// instances must share one, such as redislimit.NewReplayCache.
func WithDPoPReplayCache(c DPoPReplayCache) Option { return func(cfg *config) { cfg.dpopReplay = c } }

// mfaConfig configures second factors and passkeys (issue 14).
type mfaConfig struct {
	encryptionKeys [][]byte // the first seals; all open. None: derived from the signing key
	totpIssuer     string
	stepUpWindow   time.Duration
	tokenLimit     RateLimit // wrong codes per mfa_token
	userLimit      RateLimit // wrong codes per user
	tokenLimiter   Limiter
	userLimiter    Limiter
	customLimiters bool
	plugins        []Plugin
	// Per-address budgets of passkey logins: begun (every login/begin)
	// and failed (each refused login/finish).
	passkeyBegun, passkeyFailed   RateLimit
	passkeyBegunL, passkeyFailedL Limiter
	customPasskeyLimiters         bool
}

func defaultMFA() mfaConfig {
	return mfaConfig{
		totpIssuer:    "Gatehouse",
		stepUpWindow:  10 * time.Minute,
		tokenLimit:    RateLimit{Burst: 10, Every: mfaTokenTTL},
		userLimit:     RateLimit{Burst: 10, Every: 3 * time.Minute},
		passkeyBegun:  RateLimit{Burst: 30, Every: 2 * time.Second},
		passkeyFailed: RateLimit{Burst: 20, Every: 6 * time.Second},
	}
}

func (m *mfaConfig) validate() error {
	bad := func(format string, args ...any) error { return configErr(ErrInvalidConfig, "auth: "+format, args...) }
	for i, k := range m.encryptionKeys {
		if len(k) != 32 {
			return bad("encryption key %d is %d bytes; it must be 32 (openssl rand -hex 16 is not enough: use 32 random bytes)", i, len(k))
		}
	}
	switch {
	case m.stepUpWindow < time.Minute || m.stepUpWindow > 24*time.Hour:
		return bad("step-up window is %v; it must be between a minute and a day", m.stepUpWindow)
	case m.totpIssuer == "" || strings.Contains(m.totpIssuer, ":"):
		return bad("TOTP issuer must be non-empty and hold no colon")
	case !m.customLimiters && (m.tokenLimit == RateLimit{} || m.userLimit == RateLimit{}):
		return bad("second-factor budgets cannot be turned off")
	case m.customLimiters && (m.tokenLimiter == nil || m.userLimiter == nil):
		return bad("second-factor limiters must not be nil")
	}
	for _, p := range m.plugins {
		if p == nil {
			return bad("plug-in is nil")
		}
	}
	return nil
}

// WithEncryptionKey sets the 32-byte AES-256 key that seals TOTP secrets
// at rest (AES-GCM) and keys the hashes of recovery codes, so that a
// database dump alone yields neither. previous keys still open what they
// sealed: to rotate, make the new key current and pass the old one as
// previous; secrets sealed by an old key are sealed again under the current
// one the next time they are used, and recovery codes under an old key keep
// working until they are regenerated. Defaults to a key derived from the
// signing key, which then must not change while TOTP secrets sealed under
// it are in use: set this explicitly before you plan to rotate signing
// keys. New rejects a key that is not 32 bytes.
func WithEncryptionKey(key []byte, previous ...[]byte) Option {
	return func(c *config) {
		c.mfa.encryptionKeys = append([][]byte{bytes.Clone(key)}, cloneAll(previous)...)
	}
}

func cloneAll(keys [][]byte) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = bytes.Clone(k)
	}
	return out
}

// WithTOTPIssuer sets the issuer shown by authenticator apps next to the
// account name. Defaults to "Gatehouse"; New rejects an empty name or one
// with a colon.
func WithTOTPIssuer(name string) Option { return func(c *config) { c.mfa.totpIssuer = name } }

// WithStepUpWindow sets for how long after a login with a second factor
// its access tokens count as having shown one for sensitive actions
// ([Authenticator.StepUp]): within it, changing the password, disabling
// TOTP, regenerating recovery codes or deleting a passkey needs no new
// code. Defaults to 10 minutes; New rejects less than a minute or more
// than a day.
func WithStepUpWindow(d time.Duration) Option { return func(c *config) { c.mfa.stepUpWindow = d } }

// WithMFALimits sets the budgets of wrong second-factor codes kept in
// memory: per mfa_token (defaults to 10, which is all one token gets in its
// 5 minutes) and per user, across tokens and step-up checks (defaults to a
// burst of 10 then 1 every 3 minutes). A spent budget answers 429 with
// Retry-After. Budgets cannot be turned off.
func WithMFALimits(perToken, perUser RateLimit) Option {
	return func(c *config) {
		c.mfa.tokenLimit, c.mfa.userLimit = perToken, perUser
		c.mfa.customLimiters, c.mfa.tokenLimiter, c.mfa.userLimiter = false, nil, nil
	}
}

// WithMFALimiters replaces the in-memory budgets of [WithMFALimits] with
// limiters of your own, such as the Redis one in the redislimit module, so
// that instances share them. Neither may be nil.
func WithMFALimiters(perToken, perUser Limiter) Option {
	return func(c *config) {
		c.mfa.tokenLimiter, c.mfa.userLimiter, c.mfa.customLimiters = perToken, perUser, true
	}
}

// WithPlugin adds a plug-in, such as passkeys (package passkey, whose
// WithWebAuthn option calls this), that serves endpoints of its own under
// /auth/ and can satisfy the second factor. Defaults to none.
func WithPlugin(p Plugin) Option {
	return func(c *config) { c.mfa.plugins = append(c.mfa.plugins, p) }
}

// adminConfig holds the options of the admin API and of API keys.
type adminConfig struct {
	role        string // "" turns the admin API off
	apiKeys     bool
	keyLimit    RateLimit
	keyLimiter  Limiter
	customLimit bool
	hashKey     []byte // nil: derived from the signing key
}

func defaultAdmin() adminConfig {
	return adminConfig{keyLimit: RateLimit{Burst: 20, Every: 6 * time.Second}}
}

func (c *adminConfig) validate() error {
	if c.role != "" && !validName(c.role) {
		return configErr(ErrInvalidConfig, "auth: admin role %q: want 1 to %d letters, digits and ':._-'", c.role, maxNameLen)
	}
	if c.hashKey != nil && len(c.hashKey) < 32 {
		return configErr(ErrWeakSecret, "auth: API key hash key is %d bytes; it must be at least 32", len(c.hashKey))
	}
	if !c.customLimit {
		return c.keyLimit.Validate()
	}
	return nil
}

// WithAdminRole turns on the admin API under /auth/admin/ (see
// [Authenticator.Handler]) for users holding role: listing and searching
// users, disabling, deleting and changing their roles, ending their
// sessions, and reading the audit trail. Defaults to "" (off).
func WithAdminRole(role string) Option { return func(c *config) { c.admin.role = role } }

// WithAPIKeys turns on personal access tokens: the /auth/api-keys
// endpoints, "Authorization: Bearer gh_..." in [Authenticator.Middleware],
// and RFC 7662 introspection for keys holding the "introspect" scope. The
// store must implement [APIKeyStore]. Defaults to off.
func WithAPIKeys() Option { return func(c *config) { c.admin.apiKeys = true } }

// WithAPIKeyLimit sets the budget, per client address, of requests with an
// API key that is not valid (unknown, revoked, expired or mistyped); a
// client over it gets 429 without a look-up. Defaults to a burst of 20,
// then 1 every 6 seconds. A zero RateLimit turns the budget off.
func WithAPIKeyLimit(l RateLimit) Option {
	return func(c *config) { c.admin.keyLimit, c.admin.keyLimiter, c.admin.customLimit = l, nil, false }
}

// WithAPIKeyLimiter replaces the in-memory budget of [WithAPIKeyLimit]
// with a limiter of your own, such as the Redis one in the redislimit
// module, so that instances share it. A nil Limiter turns it off.
func WithAPIKeyLimiter(l Limiter) Option {
	return func(c *config) { c.admin.keyLimiter, c.admin.customLimit = l, true }
}

// WithAPIKeyHashKey sets the secret (at least 32 bytes) under which API
// keys are hashed for the store. Defaults to a key derived from the
// signing key, which ties every API key to it: set this before you rotate
// signing keys, or the keys made before stop working. Changing it later
// has the same effect. The slice is copied.
func WithAPIKeyHashKey(secret []byte) Option {
	return func(c *config) { c.admin.hashKey = append([]byte{}, secret...) }
}

// mailConfig holds the options of email addresses, one-time tokens and
// mail (issue 13).
type mailConfig struct {
	mailer        Mailer
	publicURL     string
	templates     map[MailKind]MailTemplate
	emailRequired bool
	emailLogin    bool
	magicLinks    bool
	ttl           map[MailKind]time.Duration
	queue         MailQueue

	perEmail, perAddr             RateLimit
	perEmailLimiter, perAddrLimit Limiter
	customMail                    bool
	redeem                        RateLimit
	redeemLimiter                 Limiter
	customRedeem                  bool
}

func defaultMailConfig() mailConfig {
	return mailConfig{
		emailLogin: true,
		ttl: map[MailKind]time.Duration{
			MailVerifyEmail:   24 * time.Hour,
			MailResetPassword: 30 * time.Minute,
			MailChangeEmail:   time.Hour,
			MailMagicLink:     15 * time.Minute,
		},
		queue:    MailQueue{Size: 1000, Workers: 2, Attempts: 3, Backoff: 2 * time.Second},
		perEmail: RateLimit{Burst: 5, Every: 12 * time.Minute},
		perAddr:  RateLimit{Burst: 30, Every: 2 * time.Minute},
		redeem:   RateLimit{Burst: 10, Every: time.Minute},
	}
}

// WithMailer sets what sends mail: verification links on registration and
// on request, password reset links, email change confirmations and, with
// [WithMagicLinks], sign-in links. It requires [WithPublicURL] and a store
// that is an [EmailStore] and a [OneTimeTokenStore]. Mail goes through a
// bounded queue that [Authenticator.StartMail] starts and
// [Authenticator.Shutdown] drains (see [WithMailQueue]). The SMTP
// implementation is package smtpmail. Defaults to none: the endpoints that
// send mail answer 501.
func WithMailer(m Mailer) Option { return func(c *config) { c.mail.mailer = m } }

// WithPublicURL sets the address of the application that handles the links
// in mail, such as "https://app.example.com". Links are this URL with
// "/verify-email", "/reset-password" or "/magic-link" appended and the token
// as the "token" query parameter. New rejects a URL that is not absolute
// http or https, and one with a query or fragment. Defaults to none;
// required with [WithMailer].
func WithPublicURL(u string) Option { return func(c *config) { c.mail.publicURL = u } }

// WithMailTemplate replaces the subject and bodies of one kind of mail.
// The templates get a [MailData]. A nil HTML template sends text only.
// Defaults to short English messages.
func WithMailTemplate(kind MailKind, t MailTemplate) Option {
	return func(c *config) {
		if c.mail.templates == nil {
			c.mail.templates = map[MailKind]MailTemplate{}
		}
		c.mail.templates[kind] = t
	}
}

// WithEmailRequired makes an email address mandatory at registration.
// Defaults to optional. It requires a store that is an [EmailStore].
func WithEmailRequired() Option { return func(c *config) { c.mail.emailRequired = true } }

// WithEmailLogin sets whether a login may name a user by a verified email
// address in the username field. A username that equals the text wins over
// an address. The login budget is the text's, as for a username. Defaults
// to true.
func WithEmailLogin(on bool) Option { return func(c *config) { c.mail.emailLogin = on } }

// WithMagicLinks turns on sign-in by a link mailed to a user's address:
// POST /auth/magic-link and POST /auth/magic-link/verify. It requires
// [WithMailer]. Defaults to off.
func WithMagicLinks() Option { return func(c *config) { c.mail.magicLinks = true } }

// WithTokenTTL sets how long the one-time token mailed for kind stays
// valid. Defaults to 24 hours for [MailVerifyEmail], 30 minutes for
// [MailResetPassword], an hour for [MailChangeEmail] and 15 minutes for
// [MailMagicLink]. New rejects less than a minute or more than 30 days,
// and a kind that carries no token.
func WithTokenTTL(kind MailKind, d time.Duration) Option {
	return func(c *config) {
		ttl := make(map[MailKind]time.Duration, len(c.mail.ttl)+1)
		for k, v := range c.mail.ttl {
			ttl[k] = v
		}
		ttl[kind] = d
		c.mail.ttl = ttl
	}
}

// WithMailQueue sizes the queue that mail goes through. Defaults to
// MailQueue{Size: 1000, Workers: 2, Attempts: 3, Backoff: 2 * time.Second}.
// New rejects a size or worker count below 1, attempts below 1, and a
// negative backoff.
func WithMailQueue(q MailQueue) Option { return func(c *config) { c.mail.queue = q } }

// WithMailLimits sets the budgets, kept in memory, of the endpoints that
// send mail (request-verify-token, forgot-password, change-email,
// magic-link): per address and kind of mail, whether or not a user has the
// address, and per client address across those endpoints (see
// [WithTrustedProxy]; IPv6 addresses count per /64). Every request counts.
// A request over a budget is answered 429 with Retry-After, the same
// whether or not the address belongs to anyone. Defaults to a burst of 5
// then 1 every 12 minutes (5 an hour) per address and kind, and a burst of
// 30 then 1 every 2 minutes (30 an hour) per client. A zero RateLimit turns
// that side off.
func WithMailLimits(perEmail, perClient RateLimit) Option {
	return func(c *config) {
		c.mail.perEmail, c.mail.perAddr = perEmail, perClient
		c.mail.customMail, c.mail.perEmailLimiter, c.mail.perAddrLimit = false, nil, nil
	}
}

// WithMailLimiters replaces the in-memory budgets of [WithMailLimits] with
// limiters of your own, such as the Redis one in the redislimit module,
// so that instances share them. A nil Limiter turns that side off.
func WithMailLimiters(perEmail, perClient Limiter) Option {
	return func(c *config) {
		c.mail.customMail, c.mail.perEmailLimiter, c.mail.perAddrLimit = true, perEmail, perClient
	}
}

// WithTokenRedeemLimit sets the budget, kept in memory, of failed one-time
// token redemptions (POST /auth/verify, /auth/reset-password and
// /auth/magic-link/verify) per client address. Only failures count: a bad,
// used or expired token. A client over its budget gets 429 with
// Retry-After, and its token is not looked at. Defaults to a burst of 10
// then 1 a minute. A zero RateLimit turns it off.
func WithTokenRedeemLimit(l RateLimit) Option {
	return func(c *config) { c.mail.redeem, c.mail.customRedeem, c.mail.redeemLimiter = l, false, nil }
}

// WithTokenRedeemLimiter replaces the in-memory budget of
// [WithTokenRedeemLimit] with a limiter of your own. A nil Limiter turns
// it off.
func WithTokenRedeemLimiter(l Limiter) Option {
	return func(c *config) { c.mail.redeemLimiter, c.mail.customRedeem = l, true }
}

// validate checks the mail options as a whole.
func (m *mailConfig) validate() error {
	bad := func(format string, args ...any) error { return configErr(ErrInvalidConfig, "auth: "+format, args...) }
	for kind, d := range m.ttl {
		if !kind.hasToken() {
			return bad("WithTokenTTL(%q): that kind of mail carries no token", string(kind))
		}
		if d < time.Minute || d > 30*24*time.Hour {
			return bad("one-time token TTL of %q is %v; it must be between a minute and 30 days", string(kind), d)
		}
	}
	for kind, t := range m.templates {
		if !kind.known() {
			return bad("WithMailTemplate(%q): no such kind of mail", string(kind))
		}
		if t.Text == nil || t.Subject == "" {
			return bad("WithMailTemplate(%q): a subject and a text template are required", string(kind))
		}
	}
	q := m.queue
	if q.Size < 1 || q.Workers < 1 || q.Attempts < 1 || q.Backoff < 0 {
		return bad("mail queue %+v: size, workers and attempts must be at least 1, backoff not negative", q)
	}
	if m.magicLinks && m.mailer == nil {
		return bad("WithMagicLinks needs WithMailer")
	}
	if m.mailer == nil {
		return nil
	}
	if m.publicURL == "" {
		return bad("WithMailer needs WithPublicURL: the links in mail point there")
	}
	u, err := url.Parse(m.publicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return bad("public URL %q: want an absolute http or https URL without query, fragment or user info", m.publicURL)
	}
	return nil
}

// WithPasskeyLimits sets the budgets, per client address (see
// [WithTrustedProxy]; IPv6 addresses count per /64), of passkey logins
// kept in memory: begun, which every POST /auth/passkeys/login/begin
// spends, since anyone may call it and each call makes a ceremony; and
// failed, which each refused POST /auth/passkeys/login/finish spends. A
// client over either gets 429 with Retry-After. They apply only with the
// passkey plug-in (package passkey), through
// [Authenticator.ThrottlePasskeyBegin] and
// [Authenticator.ThrottlePasskeyLogin].
//
// Defaults to a burst of 30 then 1 every 2 seconds for begun, and a burst
// of 20 then 1 every 6 seconds for failed. A zero RateLimit turns that
// budget off.
func WithPasskeyLimits(begun, failed RateLimit) Option {
	return func(c *config) {
		c.mfa.passkeyBegun, c.mfa.passkeyFailed = begun, failed
		c.mfa.passkeyBegunL, c.mfa.passkeyFailedL, c.mfa.customPasskeyLimiters = nil, nil, false
	}
}

// WithPasskeyLimiters replaces the in-memory budgets of
// [WithPasskeyLimits] with limiters of your own, such as the Redis one in
// the redislimit module, so that instances share them. A nil Limiter turns
// that budget off.
func WithPasskeyLimiters(begun, failed Limiter) Option {
	return func(c *config) {
		c.mfa.passkeyBegunL, c.mfa.passkeyFailedL, c.mfa.customPasskeyLimiters = begun, failed, true
	}
}
