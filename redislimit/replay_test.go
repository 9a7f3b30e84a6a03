package redislimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/redislimit"
	"github.com/redis/go-redis/v9"
)

var _ auth.DPoPReplayCache = (*redislimit.ReplayCache)(nil)

func TestReplayCache(t *testing.T) {
	c := redisClient(t)
	rc, err := redislimit.NewReplayCache(c, testPrefix(t, c))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exp := time.Now().Add(300 * time.Millisecond)
	if fresh, err := rc.Use(ctx, "k1", exp); err != nil || !fresh {
		t.Fatalf("first use: %v %v", fresh, err)
	}
	if fresh, err := rc.Use(ctx, "k1", exp); err != nil || fresh {
		t.Fatalf("second use: %v %v, want not fresh", fresh, err)
	}
	if fresh, err := rc.Use(ctx, "k2", exp); err != nil || !fresh {
		t.Fatalf("other key: %v %v", fresh, err)
	}
	if fresh, err := rc.Use(ctx, "k3", time.Now().Add(-time.Second)); err != nil || !fresh {
		t.Fatalf("expired already: %v %v", fresh, err)
	}
	// Redis expires the key with the proof: its TTL is the proof's
	// remaining lifetime, rounded up to the millisecond.
	ttl, err := c.PTTL(ctx, rcKey(t, c, "k1")).Result()
	if err != nil || ttl <= 0 || ttl > 300*time.Millisecond {
		t.Errorf("TTL of a used proof = %v, %v; want (0, 300ms]", ttl, err)
	}
}

// rcKey finds the stored key for k under the test's prefix.
func rcKey(t *testing.T, c *redis.Client, k string) string {
	t.Helper()
	keys, err := c.Keys(context.Background(), "gatehouse-test:*:"+k).Result()
	if err != nil || len(keys) == 0 {
		return "none"
	}
	return keys[0]
}

func TestReplayCacheConcurrent(t *testing.T) {
	c := redisClient(t)
	rc, _ := redislimit.NewReplayCache(c, testPrefix(t, c))
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := rc.Use(context.Background(), "same", time.Now().Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				fresh.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := fresh.Load(); n != 1 {
		t.Errorf("%d of 16 concurrent uses were fresh, want 1", n)
	}
}

func TestReplayCacheDown(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer c.Close()
	rc, _ := redislimit.NewReplayCache(c, "x:")
	if _, err := rc.Use(context.Background(), "k", time.Now().Add(time.Minute)); err == nil {
		t.Error("no error from an unreachable Redis")
	}
	if _, err := redislimit.NewReplayCache(nil, "x:"); err == nil {
		t.Error("nil client accepted")
	}
}
