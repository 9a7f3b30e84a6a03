package verifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/auth/internal/jose"
)

// Bounds of the JWKS cache.
const (
	// minCacheTTL and maxCacheTTL clamp the server's max-age: a tiny one
	// would make every request a fetch, a huge one would keep a removed key
	// trusted for too long.
	minCacheTTL = time.Minute
	maxCacheTTL = 24 * time.Hour
	// defaultCacheTTL applies when the response says nothing.
	defaultCacheTTL = 10 * time.Minute
	// staleGrace is how long expired keys stay in use while refreshes fail,
	// so that a JWKS outage does not take every service down at once.
	staleGrace = time.Hour
	// maxJWKSBytes bounds the response read; real sets are a few KiB.
	maxJWKSBytes = 256 << 10
)

// remoteKeys is the key source of [WithJWKSURL]: a cache filled lazily,
// inside lookups, and never by a goroutine of its own.
type remoteKeys struct {
	url    string
	client *http.Client
	clock  func() time.Time
	every  time.Duration
	logger *slog.Logger

	// fetching holds a token while a fetch runs, so that there is at most
	// one at a time; waiters give up when their context ends.
	fetching chan struct{}

	mu    sync.Mutex
	state cacheState
}

type cacheState struct {
	set        *jose.Set // nil until the first successful fetch
	freshUntil time.Time
	staleUntil time.Time
	lastTry    time.Time
	tries      uint64 // fetches completed, successful or not
	lastErr    error
}

func newRemoteKeys(c *config) *remoteKeys {
	return &remoteKeys{
		url:      c.jwksURL,
		client:   c.client,
		clock:    c.clock,
		every:    c.refetchEvery,
		logger:   c.logger,
		fetching: make(chan struct{}, 1),
	}
}

func (r *remoteKeys) snapshot() cacheState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

func (s cacheState) find(kid string) (jose.Key, bool) {
	if s.set == nil {
		return jose.Key{}, false
	}
	k, err := s.set.Lookup(kid)
	return k, err == nil
}

// lookup returns the key named kid. It fetches the JWKS when the cache has
// expired or does not know kid, unless a fetch was tried less than the
// refetch interval ago.
func (r *remoteKeys) lookup(ctx context.Context, kid string) (jose.Key, error) {
	now := r.clock()
	st := r.snapshot()
	k, known := st.find(kid)
	if known && now.Before(st.freshUntil) {
		return k, nil
	}
	if st.tries == 0 || now.Sub(st.lastTry) >= r.every {
		if err := r.fetch(ctx, st.tries); err != nil && ctx.Err() != nil {
			return jose.Key{}, err
		}
		st = r.snapshot()
		k, known = st.find(kid)
	}
	switch {
	case st.set == nil || !now.Before(st.staleUntil):
		if st.lastErr == nil {
			return jose.Key{}, ErrKeysUnavailable
		}
		return jose.Key{}, fmt.Errorf("%w: %v", ErrKeysUnavailable, st.lastErr)
	case !known:
		return jose.Key{}, jose.ErrUnknownKey
	}
	return k, nil
}

func (r *remoteKeys) refresh(ctx context.Context) error {
	if err := r.fetch(ctx, r.snapshot().tries); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	return nil
}

// fetch gets the JWKS and updates the cache, unless another fetch completed
// since the caller looked at the state (seen is the tries it saw then). A
// failure caused by ctx ending is not counted as a try, so one impatient
// client cannot hold the refresh back for everyone else.
func (r *remoteKeys) fetch(ctx context.Context, seen uint64) error {
	select {
	case r.fetching <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.fetching }()
	r.mu.Lock()
	done := r.state.tries != seen
	r.mu.Unlock()
	if done {
		return nil
	}
	set, ttl, err := r.get(ctx)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	now := r.clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state.tries++
	r.state.lastTry = now
	if err != nil {
		r.state.lastErr = err
		r.logger.LogAttrs(ctx, slog.LevelWarn, "verifier: JWKS fetch failed",
			slog.String("url", r.url), slog.String("error", err.Error()))
		return err
	}
	r.state.set = set
	r.state.freshUntil = now.Add(ttl)
	r.state.staleUntil = r.state.freshUntil.Add(staleGrace)
	r.state.lastErr = nil
	return nil
}

// get requests the JWKS and parses it.
func (r *remoteKeys) get(ctx context.Context) (*jose.Set, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	res, err := r.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("fetch JWKS: status %d", res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("read JWKS: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, 0, errors.New("JWKS is larger than 256 KiB")
	}
	keys, err := jose.ParseJWKS(body)
	if err != nil {
		return nil, 0, err
	}
	if len(keys) == 0 {
		return nil, 0, errors.New("JWKS has no usable key")
	}
	set, err := jose.NewSet(keys...)
	if err != nil {
		return nil, 0, err
	}
	return set, cacheTTL(res.Header.Get("Cache-Control")), nil
}

// cacheTTL reads max-age from a Cache-Control value, clamped to
// [minCacheTTL, maxCacheTTL]. no-store and no-cache give the minimum; a
// missing or unreadable value the default.
func cacheTTL(cc string) time.Duration {
	ttl := defaultCacheTTL
	for _, d := range strings.Split(cc, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return minCacheTTL
		case "max-age":
			secs, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
			if err != nil || secs < 0 {
				continue
			}
			ttl = time.Duration(min(secs, int64(maxCacheTTL/time.Second))) * time.Second
		}
	}
	return max(minCacheTTL, min(ttl, maxCacheTTL))
}
