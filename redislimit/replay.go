package redislimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ReplayCache is an [auth.DPoPReplayCache] (and a verifier.DPoPReplayCache)
// on Redis, so that every instance of an application refuses a DPoP proof
// that any of them has seen. Each proof is one key, set with SET NX and an
// expiry at the end of the proof's lifetime, so Redis holds only live
// proofs. It is safe for concurrent use.
type ReplayCache struct {
	client redis.Cmdable
	prefix string
	now    func() time.Time
}

// NewReplayCache returns a replay cache that stores key k as prefix+k in
// client (a *redis.Client, *redis.ClusterClient or any redis.Cmdable).
func NewReplayCache(client redis.Cmdable, prefix string) (*ReplayCache, error) {
	if client == nil {
		return nil, fmt.Errorf("redislimit: client is nil")
	}
	return &ReplayCache{client: client, prefix: prefix, now: time.Now}, nil
}

// Use implements [auth.DPoPReplayCache]: one SET NX PX, which Redis runs
// atomically, so of concurrent uses of one key exactly one is fresh. A key
// whose expiry has passed is fresh without a round trip.
func (c *ReplayCache) Use(ctx context.Context, key string, expires time.Time) (bool, error) {
	ttl := expires.Sub(c.now())
	if ttl <= 0 {
		return true, nil
	}
	// Round up: a key must never leave Redis before its proof expires.
	ttl = (ttl + time.Millisecond - 1).Truncate(time.Millisecond)
	ok, err := c.client.SetNX(ctx, c.prefix+key, "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redislimit: replay cache: %w", err)
	}
	return ok, nil
}
