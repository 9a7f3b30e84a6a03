package auth

import (
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"time"
)

// Option configures an [Authenticator]. Options are applied by [New] in order,
// after the defaults; New then validates the result as a whole.
type Option func(*config)

// config holds everything options can set. Its defaults live in
// defaultConfig and nowhere else.
type config struct {
	secret         []byte
	accessTTL      time.Duration
	refreshTTL     time.Duration
	issuer         string
	audience       string
	leeway         time.Duration
	passwordParams PasswordParams
	insecureHash   bool
	clock          func() time.Time
	logger         *slog.Logger
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
}

func defaultConfig() config {
	return config{
		accessTTL:      30 * time.Minute,
		refreshTTL:     7 * 24 * time.Hour,
		leeway:         5 * time.Second,
		passwordParams: DefaultPasswordParams(),
		clock:          time.Now,
		logger:         slog.New(slog.DiscardHandler),
		errorHandler:   WriteError,

		hashConcurrency: runtime.GOMAXPROCS(0),
		hashWait:        5 * time.Second,

		nameLimit:   RateLimit{Burst: 5, Every: time.Minute},
		addrLimit:   RateLimit{Burst: 20, Every: 6 * time.Second},
		limiterKeys: 100_000,

		passwordPolicy: DefaultPasswordPolicy,
	}
}

// WithSecret sets the HMAC-SHA256 key that signs and verifies tokens. It is
// required: New fails with [ErrWeakSecret] if it is missing, shorter than 32
// bytes, or a well-known placeholder. Generate one with
// `openssl rand -hex 32`. The slice is copied.
func WithSecret(secret []byte) Option {
	s := append([]byte(nil), secret...)
	return func(c *config) { c.secret = s }
}

// WithAccessTTL sets how long access tokens are valid. Defaults to 30 minutes.
func WithAccessTTL(d time.Duration) Option { return func(c *config) { c.accessTTL = d } }

// WithRefreshTTL sets how long refresh tokens are valid. Defaults to 7 days.
func WithRefreshTTL(d time.Duration) Option { return func(c *config) { c.refreshTTL = d } }

// WithIssuer sets the "iss" claim of issued tokens and requires it on
// verification. Defaults to none (neither issued nor checked).
func WithIssuer(iss string) Option { return func(c *config) { c.issuer = iss } }

// WithAudience sets the "aud" claim of issued tokens and requires it on
// verification. Defaults to none (neither issued nor checked).
func WithAudience(aud string) Option { return func(c *config) { c.audience = aud } }

// WithLeeway sets the clock-skew tolerance applied to "exp" and "iat" on
// verification. Defaults to 5 seconds; New rejects more than 60 seconds.
func WithLeeway(d time.Duration) Option { return func(c *config) { c.leeway = d } }

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

// WithLogger sets the logger for events such as failed store calls. Defaults
// to discarding everything. Passwords, hashes and tokens are never logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

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
// client address (see [ContextWithClientAddr] and [WithTrustedProxy]; IPv6
// addresses count per /64). Only failures use up a budget: a success gives
// its attempt back and clears the username's failures. A throttled attempt
// is answered 429 without checking the password. No budget ever locks an
// account for good: it refills at the given rate.
//
// Defaults to a burst of 5 then 1 a minute per username, and a burst of 20
// then 1 every 6 seconds (10 a minute) per address. A zero RateLimit turns
// that side off. Each side keeps at most 100,000 keys (see [MemoryLimiter]).
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
