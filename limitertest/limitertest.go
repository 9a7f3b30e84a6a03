// Package limitertest checks that an [auth.Limiter] keeps the contract that
// the Authenticator relies on: Check spends nothing, Take spends only what
// is there, Charge always spends (a budget can go into debt), and each is
// atomic. Implementations call [Run] from their own
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

	t.Run("Check spends nothing", func(t *testing.T) {
		l, c := setup(t)
		for range 10 {
			mustCheck(t, l, "k", 0, "check of a fresh key")
		}
		spend(t, l, "k", limit.Burst-1)
		mustCheck(t, l, "k", 0, "check with one attempt left")
		mustTake(t, l, "k", 0, "the last attempt")
		for range 10 {
			mustCheck(t, l, "k", limit.Every, "check of a spent key")
		}
		c.Advance(limit.Every / 4)
		mustCheck(t, l, "k", limit.Every*3/4, "check a quarter interval later")
		mustTake(t, l, "k", limit.Every*3/4, "take agrees with check")
	})

	t.Run("Charge spends even past the budget", func(t *testing.T) {
		l, c := setup(t)
		for range limit.Burst {
			mustDo(t, l.Charge(ctx, "k"), "Charge")
		}
		mustCheck(t, l, "k", limit.Every, "check after a burst of charges")
		mustDo(t, l.Charge(ctx, "k"), "Charge past the budget")
		mustDo(t, l.Charge(ctx, "k"), "Charge past the budget")
		mustCheck(t, l, "k", 3*limit.Every, "check after two charges of debt")
		mustTake(t, l, "k", 3*limit.Every, "take in debt")
		c.Advance(3 * limit.Every)
		mustCheck(t, l, "k", 0, "check once the debt is paid")
		mustTake(t, l, "k", 0, "take once the debt is paid")
		mustTake(t, l, "k", limit.Every, "take again at once")
		c.Advance(100 * limit.Every)
		mustDo(t, l.Charge(ctx, "k"), "Charge of a full budget")
		spend(t, l, "k", limit.Burst-1)
		mustTake(t, l, "k", limit.Every, "take past the burst after a charge")
	})

	t.Run("Reset restores the full budget", func(t *testing.T) {
		l, _ := setup(t)
		spend(t, l, "k", limit.Burst)
		for range 5 {
			mustDo(t, l.Charge(ctx, "k"), "Charge")
		}
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
		mustDo(t, l.Charge(ctx, "device:a"), "Charge")
		mustCheck(t, l, "user:b", 0, "b after another key's charge")
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

	t.Run("Concurrent charges all count", func(t *testing.T) {
		l, _ := setup(t)
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if err := l.Charge(ctx, "k"); err != nil {
					t.Errorf("Charge: %v", err)
				}
			})
		}
		wg.Wait()
		mustCheck(t, l, "k", time.Duration(50-limit.Burst+1)*limit.Every, "check after 50 concurrent charges")
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

func mustCheck(t *testing.T, l auth.Limiter, key string, wantWait time.Duration, what string) {
	t.Helper()
	wait, err := l.Check(context.Background(), key)
	if err != nil {
		t.Fatalf("%s: Check: %v", what, err)
	}
	if d := wait - wantWait; d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("%s: Check = %v, want %v", what, wait, wantWait)
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
