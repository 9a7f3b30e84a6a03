package auth

import (
	"context"
	"log/slog"
	"net/http"
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
	logger         *slog.Logger
	errorHandler   func(http.ResponseWriter, *http.Request, error)
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
		logger:         slog.New(slog.DiscardHandler),
		errorHandler:   WriteError,
	}
}

// WithSecret sets an HMAC-SHA256 secret as the key that signs and verifies
// tokens. It is shorthand for WithSigningKey([SecretKey](secret)): the key ID
// is derived from the secret, so instances sharing the secret agree on it.
// New fails with [ErrWeakSecret] if the secret is shorter than 32 bytes or a
// well-known placeholder. Generate one with `openssl rand -hex 32`. The
// slice is copied.
func WithSecret(secret []byte) Option {
	return WithSigningKey(SecretKey(secret))
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
// token), so one parent never has two live children. After the window, a
// second use counts as reuse of a stolen token and revokes the whole
// session. Only applies when the store keeps sessions ([SessionStore]).
// Defaults to 10 seconds; 0 makes every second use a reuse; New rejects more
// than 5 minutes.
func WithRefreshGracePeriod(d time.Duration) Option { return func(c *config) { c.refreshGrace = d } }

// WithHooks sets functions called at moments in a user's life: after
// registration and login, on failed logins, refreshes, refresh-token reuse,
// password changes, logouts and disabling; and before registration and
// login, where they may abort. See [Hooks]. Defaults to none. The same
// moments are logged to [WithLogger] at info level (warning for reuse).
func WithHooks(h Hooks) Option { return func(c *config) { c.hooks = h } }

// WithClaims adds application claims to every access token, such as roles
// or a tenant. f runs at each login and refresh; an error from it fails
// the login or refresh. Reserved claims ("sub", "exp", "iat", "nbf",
// "jti", "iss", "aud", "type", "ver", "sid") cannot be set: trying is an
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
