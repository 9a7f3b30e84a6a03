package verifier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse/auth/internal/dpop"
	"github.com/gatehouse/auth/internal/httpauth"
)

// DPoPReplayCache remembers the DPoP proofs already seen, so that each is
// accepted once. It has the method of Gatehouse's
// [github.com/gatehouse/auth.DPoPReplayCache], so the same implementations
// (such as the Redis one of the redislimit module) serve both; Use must be
// atomic, and its errors are for system failures only.
type DPoPReplayCache interface {
	// Use records key until expires and reports whether it was fresh.
	Use(ctx context.Context, key string, expires time.Time) (fresh bool, err error)
}

// WithDPoP makes the middleware accept DPoP-bound tokens (RFC 9449): in
// the "Authorization: DPoP" scheme, with a proof of the key the token is
// bound to, for the request's method and URI, carrying the token's hash,
// recent and never seen before. A bound token sent as a bearer token is
// refused. With required, bearer tokens are refused altogether. Without
// this option the middleware refuses every bound token. Defaults to off.
func WithDPoP(required bool) Option {
	return func(c *config) {
		c.dpopMode = 1
		if required {
			c.dpopMode = 2
		}
	}
}

// WithDPoPReplayCache sets where seen proofs are remembered. Defaults to
// memory (at most 100,000 proofs), right for a single instance; several
// instances must share one.
func WithDPoPReplayCache(rc DPoPReplayCache) Option {
	return func(c *config) { c.dpopReplay = rc }
}

// WithDPoPExternalURL sets the scheme and host that clients address, such
// as "https://api.example.com", for a service behind a reverse proxy: a
// proof's "htu" is compared with it and the request's path. Defaults to
// the request's own (https when the connection is TLS, and Host).
func WithDPoPExternalURL(origin string) Option {
	return func(c *config) { c.dpopExternal = origin }
}

// WithDPoPProofWindow sets how old a proof's "iat" may be and how far
// ahead of the clock. Defaults to 60 and 5 seconds; New accepts 1 second
// to 5 minutes, and 0 to 60 seconds.
func WithDPoPProofWindow(past, future time.Duration) Option {
	return func(c *config) { c.dpopPast, c.dpopFuture = past, future }
}

func (c *config) validateDPoP() error {
	switch {
	case c.dpopPast < time.Second || c.dpopPast > 5*time.Minute:
		return errors.New("verifier: DPoP proof age must be between 1 second and 5 minutes")
	case c.dpopFuture < 0 || c.dpopFuture > time.Minute:
		return errors.New("verifier: DPoP proof clock skew must be between 0 and 60 seconds")
	}
	if c.dpopExternal != "" {
		u, err := url.Parse(c.dpopExternal)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			return errors.New("verifier: DPoP external URL must be an origin such as https://api.example.com")
		}
	}
	return nil
}

type dpopState struct {
	required bool
	checker  *dpop.Checker
	external *url.URL
}

const dpopReplaySize = 100_000

func newDPoP(c *config) *dpopState {
	if c.dpopMode == 0 {
		return nil
	}
	replay := c.dpopReplay
	if replay == nil {
		replay = dpop.NewMemoryReplay(dpopReplaySize, c.clock)
	}
	st := &dpopState{required: c.dpopMode == 2, checker: &dpop.Checker{
		Past: c.dpopPast, Future: c.dpopFuture, Clock: c.clock, Replay: replay,
	}}
	if c.dpopExternal != "" {
		st.external, _ = url.Parse(c.dpopExternal)
	}
	return st
}

// dpopChallenge marks a middleware error whose 401 carries a DPoP
// challenge.
type dpopChallenge struct {
	err                error
	required, usedDPoP bool
}

func (e *dpopChallenge) Error() string { return e.err.Error() }
func (e *dpopChallenge) Unwrap() error { return e.err }

// verifyRequest is the middleware's check: the token in either scheme, and
// the proof that a bound token needs.
func (v *Verifier) verifyRequest(r *http.Request) (*Claims, error) {
	d := v.dpop
	if d == nil {
		token, err := httpauth.BearerToken(r)
		if err != nil {
			return nil, tokenErr(err)
		}
		c, err := v.Verify(r.Context(), token)
		if err == nil && c.DPoPThumbprint != "" {
			err = ErrDPoPBoundToken
		}
		return c, err
	}
	token, usedDPoP, err := httpauth.AccessToken(r)
	wrap := func(err error) error { return &dpopChallenge{err: err, required: d.required, usedDPoP: usedDPoP} }
	if err != nil {
		return nil, wrap(tokenErr(err))
	}
	c, err := v.Verify(r.Context(), token)
	switch {
	case err != nil:
		if errors.Is(err, ErrInvalidToken) {
			return nil, wrap(err)
		}
		return nil, err
	case !usedDPoP && c.DPoPThumbprint != "":
		return nil, wrap(ErrDPoPBoundToken)
	case !usedDPoP && d.required:
		return nil, wrap(fmt.Errorf("%w: a DPoP proof is required", ErrInvalidDPoPProof))
	case !usedDPoP:
		return c, nil
	case c.DPoPThumbprint == "":
		return nil, wrap(ErrInvalidToken)
	}
	proof, ok := dpop.ProofHeader(r)
	if !ok || proof == "" {
		return nil, wrap(ErrInvalidDPoPProof)
	}
	if _, err := d.checker.Check(r.Context(), proof, r.Method, dpop.RequestURI(r, d.external), token, c.DPoPThumbprint); err != nil {
		if errors.Is(err, dpop.ErrInvalid) {
			return nil, wrap(fmt.Errorf("%w: %w", ErrInvalidDPoPProof, err))
		}
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	return c, nil
}

func tokenErr(err error) error {
	if errors.Is(err, httpauth.ErrNoToken) {
		return ErrNoToken
	}
	return ErrInvalidToken
}

// challenge is the WWW-Authenticate value for a 401 with code, or "" to
// keep the bearer one.
func (e *dpopChallenge) challenge(code string) string {
	algs := `algs="` + dpop.AlgsParam + `"`
	switch {
	case errors.Is(e.err, ErrNoToken) && e.required:
		return "DPoP " + algs
	case errors.Is(e.err, ErrNoToken):
		return "Bearer, DPoP " + algs
	case e.required || e.usedDPoP || errors.Is(e.err, ErrDPoPBoundToken) || errors.Is(e.err, ErrInvalidDPoPProof):
		return `DPoP error="` + code + `", ` + algs
	}
	return ""
}
