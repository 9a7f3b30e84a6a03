package auth

import (
	"log/slog"
	"net/http"
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
