package verifier

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/auth/internal/jose"
)

// Verifier checks Gatehouse access tokens. Create one with [New]; it is safe
// for concurrent use.
type Verifier struct {
	cfg    config
	parser *jose.Parser
	keys   keySource
	dpop   *dpopState    // nil without WithDPoP
	intro  *introspector // nil without WithIntrospection
}

// keySource finds the key a token names: a static set or the JWKS cache.
type keySource interface {
	lookup(ctx context.Context, kid string) (jose.Key, error)
	refresh(ctx context.Context) error
}

// Claims are the verified claims of an access token.
type Claims struct {
	// Subject is the user ID ("sub").
	Subject string
	// TokenVersion is the user's token version when the token was issued
	// ("ver"). Gatehouse increments it to revoke tokens; see the package
	// documentation on revocation.
	TokenVersion int64
	// ID is the token's unique ID ("jti").
	ID string
	// Issuer is "iss", empty when Gatehouse sets none.
	Issuer string
	// Audience is "aud", empty when Gatehouse sets none.
	Audience []string
	// IssuedAt is "iat".
	IssuedAt time.Time
	// ExpiresAt is "exp".
	ExpiresAt time.Time
	// DPoPThumbprint is the RFC 7638 thumbprint of the DPoP key the token
	// is bound to ("cnf": {"jkt": ...}), "" for a bearer token. A caller of
	// [Verifier.Verify] must refuse a bound token unless the request came
	// with a valid proof of that key; the middleware does so.
	DPoPThumbprint string
}

// New returns a Verifier. A key source is required: [WithJWKSURL] or
// [WithKeys]. New makes no request; keys are fetched on first use, or by
// [Verifier.Refresh]. It returns an error, never panics, for a
// configuration it cannot run safely with.
func New(opts ...Option) (*Verifier, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg}
	v.intro = newIntrospector(&v.cfg)
	algs := []string{jose.EdDSA, jose.ES256, jose.RS256}
	if cfg.jwksURL != "" {
		v.keys = newRemoteKeys(&v.cfg)
	} else {
		keys := make([]jose.Key, len(cfg.keys))
		for i, k := range cfg.keys {
			if k.err != nil {
				return nil, k.err
			}
			keys[i] = k.k
		}
		set, err := jose.NewSet(keys...)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
		v.keys = staticKeys{set}
		algs = set.Algorithms()
	}
	v.parser = jose.NewParser(jose.Rules{
		Algorithms: algs,
		Issuer:     cfg.issuer,
		Audience:   cfg.audience,
		Leeway:     cfg.leeway,
		Clock:      cfg.clock,
	})
	v.dpop = newDPoP(&v.cfg)
	return v, nil
}

func (c *config) validate() error {
	switch {
	case c.jwksURL == "" && len(c.keys) == 0:
		return errors.New("verifier: no keys: use WithJWKSURL or WithKeys")
	case c.jwksURL != "" && len(c.keys) > 0:
		return errors.New("verifier: WithJWKSURL and WithKeys exclude each other")
	case c.leeway < 0 || c.leeway > time.Minute:
		return errors.New("verifier: leeway must be between 0 and 60 seconds")
	case c.refetchEvery < time.Second || c.refetchEvery > time.Hour:
		return errors.New("verifier: refetch interval must be between 1 second and 1 hour")
	case c.clock == nil:
		return errors.New("verifier: clock is nil")
	case c.client == nil:
		return errors.New("verifier: HTTP client is nil")
	case c.logger == nil:
		return errors.New("verifier: logger is nil")
	case c.errorHandler == nil:
		return errors.New("verifier: error handler is nil")
	}
	if err := c.validateDPoP(); err != nil {
		return err
	}
	if err := c.introspect.validate(); err != nil {
		return err
	}
	if c.jwksURL != "" {
		return checkURL(c.jwksURL)
	}
	return nil
}

// checkURL accepts https URLs, and http ones only on a loopback host.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return errors.New("verifier: JWKS URL must be an absolute http(s) URL without credentials")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return errors.New("verifier: JWKS URL must use https (http only on a loopback host)")
}

// checkRedirect keeps the default client's redirects to URLs that
// WithJWKSURL would accept, so that a redirect cannot downgrade to http.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return errors.New("verifier: too many redirects")
	}
	return checkURL(req.URL.String())
}

// Verify checks an access token and returns its claims. It returns an
// error wrapping [ErrInvalidToken] for a token that fails any check (and
// [ErrTokenExpired] too when it merely expired), [ErrKeysUnavailable] when
// no keys could be had, or ctx's error. It may fetch the JWKS, with ctx.
// With [WithIntrospection] it also returns [ErrTokenInactive] and
// [ErrIntrospectionUnavailable].
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	c, err := v.parser.Parse(token, jose.TypeAccess, func(kid string) (jose.Key, error) {
		return v.keys.lookup(ctx, kid)
	})
	switch {
	case err == nil:
	case errors.Is(err, jose.ErrExpired):
		return nil, ErrTokenExpired
	case errors.Is(err, jose.ErrInvalid):
		return nil, ErrInvalidToken
	default:
		return nil, err
	}
	out := &Claims{
		Subject:        c.Subject,
		TokenVersion:   *c.Version,
		ID:             c.ID,
		Issuer:         c.Issuer,
		Audience:       append([]string(nil), c.Audience...),
		ExpiresAt:      c.ExpiresAt.Time,
		DPoPThumbprint: c.JKT(),
	}
	if c.IssuedAt != nil {
		out.IssuedAt = c.IssuedAt.Time
	}
	if v.intro != nil {
		if err := v.intro.confirm(ctx, token, out.Subject, out.ExpiresAt); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Refresh fetches the JWKS now, whatever the cache holds, and returns an
// error wrapping [ErrKeysUnavailable] when that fails. Call it at startup to
// fail fast on a wrong URL; it is never needed otherwise. With a static key
// set it does nothing.
func (v *Verifier) Refresh(ctx context.Context) error {
	return v.keys.refresh(ctx)
}

// staticKeys is the key source of [WithKeys].
type staticKeys struct{ set *jose.Set }

func (s staticKeys) lookup(_ context.Context, kid string) (jose.Key, error) {
	return s.set.Lookup(kid)
}

func (staticKeys) refresh(context.Context) error { return nil }
