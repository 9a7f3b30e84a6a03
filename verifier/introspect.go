package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/auth/internal/cache"
)

// Bounds of introspection.
const (
	maxIntrospectTTL   = time.Minute
	maxIntrospectBytes = 64 << 10
	activeCacheSize    = 10000
)

// WithIntrospection makes every verified token also confirmed with
// Gatehouse's RFC 7662 endpoint, usually https://HOST/auth/introspect, as
// the API key apiKey (which needs the "introspect" scope). A token that
// Gatehouse no longer considers active (revoked by a logout, logout-all, a
// password change, disabling, a role removed, or its session ended) is
// refused with [ErrTokenInactive] from the next request on, or within ttl
// of the last confirmation: an active answer is remembered for ttl (at
// most a minute; 0 asks on every request), never past the token's expiry.
// When Gatehouse cannot be reached the answer is [ErrIntrospectionUnavailable],
// which the middleware answers 503: the verifier fails closed.
//
// The trade-off against pure JWKS verification: without this option a
// token is checked by its signature alone, with no request to Gatehouse,
// and stays valid until it expires (the access TTL, 30 minutes by
// default) whatever happens to its user; with it, revocation reaches this
// service within ttl, at the price of one request to Gatehouse per token
// per ttl and a dependency on Gatehouse being up. The URL must be https,
// except on a loopback host. Defaults to off.
func WithIntrospection(endpoint, apiKey string, ttl time.Duration) Option {
	return func(c *config) {
		c.introspect = &introspectConfig{url: endpoint, key: apiKey, ttl: ttl}
	}
}

type introspectConfig struct {
	url, key string
	ttl      time.Duration
}

func (c *introspectConfig) validate() error {
	if c == nil {
		return nil
	}
	switch {
	case !strings.HasPrefix(c.key, "gh_"):
		return errors.New("verifier: introspection needs a Gatehouse API key (gh_...) with the introspect scope")
	case c.ttl < 0 || c.ttl > maxIntrospectTTL:
		return errors.New("verifier: introspection cache TTL must be between 0 and 60 seconds")
	}
	if err := checkURL(c.url); err != nil {
		return fmt.Errorf("verifier: introspection URL: %w", err)
	}
	return nil
}

// introspector asks Gatehouse and remembers active answers.
type introspector struct {
	cfg    *introspectConfig
	client *http.Client
	clock  func() time.Time
	active *cache.Bounded[time.Time] // token -> until when it counts as active
}

func newIntrospector(c *config) *introspector {
	if c.introspect == nil {
		return nil
	}
	return &introspector{cfg: c.introspect, client: c.client, clock: c.clock, active: cache.New[time.Time](activeCacheSize)}
}

// confirm returns nil when Gatehouse says the token of subject sub,
// expiring at exp, is an active access token.
func (in *introspector) confirm(ctx context.Context, token, sub string, exp time.Time) error {
	now := in.clock()
	if until, ok := in.active.Get(token); ok && now.Before(until) {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.cfg.url, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrIntrospectionUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+in.cfg.key)
	resp, err := in.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %v", ErrIntrospectionUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: status %d", ErrIntrospectionUnavailable, resp.StatusCode)
	}
	var ans struct {
		Active    bool   `json:"active"`
		Sub       string `json:"sub"`
		TokenType string `json:"token_type"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxIntrospectBytes)).Decode(&ans); err != nil {
		return fmt.Errorf("%w: %v", ErrIntrospectionUnavailable, err)
	}
	if !ans.Active || ans.Sub != sub || ans.TokenType != "access_token" {
		in.active.Remove(token)
		return ErrTokenInactive
	}
	if in.cfg.ttl > 0 {
		until := now.Add(in.cfg.ttl)
		if exp.Before(until) {
			until = exp
		}
		in.active.Put(token, until)
	}
	return nil
}
