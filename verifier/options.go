package verifier

import (
	"log/slog"
	"net/http"
	"time"
)

// Option configures a [Verifier]. Options are applied by [New] in order,
// after the defaults; New then validates the result as a whole.
type Option func(*config)

type config struct {
	jwksURL      string
	keys         []Key
	issuer       string
	audience     string
	leeway       time.Duration
	clock        func() time.Time
	client       *http.Client
	refetchEvery time.Duration
	logger       *slog.Logger
	errorHandler func(http.ResponseWriter, *http.Request, error)

	// DPoP: see dpop.go.
	dpopMode             int // 0 off, 1 allowed, 2 required
	dpopReplay           DPoPReplayCache
	dpopExternal         string
	dpopPast, dpopFuture time.Duration
	introspect           *introspectConfig // nil: off (introspect.go)
}

func defaultConfig() config {
	return config{
		leeway:       5 * time.Second,
		clock:        time.Now,
		client:       &http.Client{Timeout: 10 * time.Second, CheckRedirect: checkRedirect},
		refetchEvery: 30 * time.Second,
		logger:       slog.New(slog.DiscardHandler),
		errorHandler: WriteError,
		dpopPast:     time.Minute,
		dpopFuture:   5 * time.Second,
	}
}

// WithJWKSURL sets the URL of the JWK set to fetch keys from, usually
// Gatehouse's https://HOST/auth/.well-known/jwks.json. It must be https,
// except on a loopback host (localhost, 127.0.0.0/8, [::1]): keys fetched in
// clear text could be swapped by anyone on the path. Exactly one of
// WithJWKSURL and [WithKeys] is required. Defaults to none.
func WithJWKSURL(url string) Option { return func(c *config) { c.jwksURL = url } }

// WithKeys sets a static key set, for services that get the keys by
// configuration rather than by fetching them. Exactly one of [WithJWKSURL]
// and WithKeys is required. Defaults to none.
func WithKeys(keys ...Key) Option {
	return func(c *config) { c.keys = append(c.keys, keys...) }
}

// WithIssuer requires the "iss" claim to equal iss. Set it to the value of
// Gatehouse's [github.com/gatehouse/auth.WithIssuer]. Defaults to none (not checked).
func WithIssuer(iss string) Option { return func(c *config) { c.issuer = iss } }

// WithAudience requires the "aud" claim to contain aud. Set it to the value
// of Gatehouse's [github.com/gatehouse/auth.WithAudience]. Defaults to none (not checked).
func WithAudience(aud string) Option { return func(c *config) { c.audience = aud } }

// WithLeeway sets the clock-skew tolerance applied to "exp" and "iat".
// Defaults to 5 seconds; New rejects more than 60 seconds.
func WithLeeway(d time.Duration) Option { return func(c *config) { c.leeway = d } }

// WithClock sets the source of the current time, used for token times and
// for the key cache. Defaults to [time.Now].
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithHTTPClient sets the client that fetches the JWKS. Defaults to a client
// with a 10-second timeout that follows at most 3 redirects, and none that
// leaves https (see [WithJWKSURL]).
func WithHTTPClient(client *http.Client) Option { return func(c *config) { c.client = client } }

// WithRefetchInterval sets the least time between two fetches of the JWKS
// that were not due to the cache expiring: after an unknown key ID, or after
// a failed fetch. Defaults to 30 seconds; New accepts 1 second to 1 hour.
func WithRefetchInterval(d time.Duration) Option {
	return func(c *config) { c.refetchEvery = d }
}

// WithLogger sets the logger for failed JWKS fetches. Defaults to
// discarding everything. Tokens are never logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithErrorHandler replaces the function that answers rejected requests in
// [Verifier.Middleware]. Defaults to [WriteError], which a replacement may
// call for the cases it does not handle itself.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, err error)) Option {
	return func(c *config) { c.errorHandler = h }
}
