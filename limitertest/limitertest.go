// Package limitertest checks that an [auth.Limiter] keeps the contract that
// the Authenticator relies on. Implementations call [Run] from their own
// tests, as auth's in-memory limiter and the redislimit module do.
package limitertest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// NewFunc returns an empty Limiter that allows limit per key and reads the
// time from now. Each call must return a limiter that shares no keys with
// earlier ones (for a shared store, use a fresh key prefix).
type NewFunc func(t *testing.T, limit auth.RateLimit, now func() time.Time) auth.Limiter

// Run tests the Limiter that newLimiter makes. It moves the clock it passes
// in and never sleeps.
func Run(t *testing.T, newLimiter NewFunc) {
	t.Helper()
	limit := auth.RateLimit{Burst: 3, Every: time.Minute}
	setup := func(t *testing.T) (auth.Limiter, *clock) {
		c := &clock{now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
		return newLimiter(t, limit, c.Now), c
	}
	ctx := context.Background()

	t.Run("Burst then one per interval", func(t *testing.T) {
		l, c := setup(t)
		spend(t, l, "k", limit.Burst)
		mustTake(t, l, "k", limit.Every, "take past the burst")
		c.Advance(limit.Every / 2)
		mustTake(t, l, "k", limit.Every/2, "take half an interval later")
		c.Advance(limit.Every / 2)
		mustTake(t, l, "k", 0, "take one interval later")
		mustTake(t, l, "k", limit.Every, "take again at once")
	})

	t.Run("A denied Take takes nothing", func(t *testing.T) {
		l, c := setup(t)
		spend(t, l, "k", limit.Burst)
		for range 10 {
			mustTake(t, l, "k", limit.Every, "denied take")
		}
		c.Advance(limit.Every)
		mustTake(t, l, "k", 0, "take one interval after ten denied ones")
	})

	t.Run("Budget refills fully and no further", func(t *testing.T) {
		l, c := setup(t)
		spend(t, l, "k", limit.Burst)
		c.Advance(100 * limit.Every)
		spend(t, l, "k", limit.Burst)
		mustTake(t, l, "k", limit.Every, "take past the refilled burst")
	})

	t.Run("Refund gives back one attempt", func(t *testing.T) {
		l, _ := setup(t)
		spend(t, l, "k", limit.Burst)
		mustDo(t, l.Refund(ctx, "k"), "Refund")
		mustTake(t, l, "k", 0, "take after a refund")
		mustTake(t, l, "k", limit.Every, "second take after one refund")
	})

	t.Run("Refund never fills past the burst", func(t *testing.T) {
		l, _ := setup(t)
		for range 5 {
			mustDo(t, l.Refund(ctx, "unknown"), "Refund of an unknown key")
		}
		mustTake(t, l, "k", 0, "take")
		for range 5 {
			mustDo(t, l.Refund(ctx, "k"), "Refund")
		}
		spend(t, l, "k", limit.Burst)
		mustTake(t, l, "k", limit.Every, "take past the burst after extra refunds")
		spend(t, l, "unknown", limit.Burst)
		mustTake(t, l, "unknown", limit.Every, "take past that burst")
	})

	t.Run("Reset restores the full budget", func(t *testing.T) {
		l, _ := setup(t)
		spend(t, l, "k", limit.Burst)
		mustDo(t, l.Reset(ctx, "k"), "Reset")
		mustDo(t, l.Reset(ctx, "never-seen"), "Reset of an unknown key")
		spend(t, l, "k", limit.Burst)
		mustTake(t, l, "k", limit.Every, "take past the burst after Reset")
	})

	t.Run("Keys are independent", func(t *testing.T) {
		l, _ := setup(t)
		spend(t, l, "user:a", limit.Burst)
		mustTake(t, l, "user:a", limit.Every, "a past the burst")
		mustTake(t, l, "user:b", 0, "b")
		mustTake(t, l, "addr:a", 0, "same name, other prefix")
	})

	t.Run("Concurrent takes are atomic", func(t *testing.T) {
		l, _ := setup(t)
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				wait, err := l.Take(ctx, "k")
				if err != nil {
					t.Errorf("Take: %v", err)
				}
				if wait == 0 {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		if n := allowed.Load(); n != int32(limit.Burst) {
			t.Errorf("%d of 50 concurrent takes were allowed, want exactly %d", n, limit.Burst)
		}
	})
}

// spend takes n attempts from key, each of which must be allowed.
func spend(t *testing.T, l auth.Limiter, key string, n int) {
	t.Helper()
	for i := range n {
		mustTake(t, l, key, 0, fmt.Sprintf("take %d of %d from %q", i+1, n, key))
	}
}

func mustTake(t *testing.T, l auth.Limiter, key string, wantWait time.Duration, what string) {
	t.Helper()
	wait, err := l.Take(context.Background(), key)
	if err != nil {
		t.Fatalf("%s: Take: %v", what, err)
	}
	// Stores may keep time in microseconds or milliseconds.
	if d := wait - wantWait; d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("%s: Take = %v, want %v", what, wait, wantWait)
	}
}

func mustDo(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// clock is a fake clock, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
