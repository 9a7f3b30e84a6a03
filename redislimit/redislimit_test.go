package redislimit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/limitertest"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/redislimit"
	"github.com/redis/go-redis/v9"
)

// redisClient connects to the Redis named by GATEHOUSE_TEST_REDIS_ADDR, or
// skips the test when it is not set.
func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	addr := os.Getenv("GATEHOUSE_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("GATEHOUSE_TEST_REDIS_ADDR is not set; skipping the tests that need Redis (e.g. GATEHOUSE_TEST_REDIS_ADDR=127.0.0.1:6379)")
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis at %s: %v", addr, err)
	}
	return c
}

// testPrefix returns a key prefix of its own for t, and deletes its keys
// when t ends.
func testPrefix(t *testing.T, c *redis.Client) string {
	t.Helper()
	prefix := "gatehouse-test:" + rand.Text() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := c.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return prefix
}

func TestConformance(t *testing.T) {
	c := redisClient(t)
	limitertest.Run(t, func(t *testing.T, limit auth.RateLimit, now func() time.Time) auth.Limiter {
		l, err := redislimit.New(c, testPrefix(t, c), limit, redislimit.WithClock(now))
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// With Redis's own clock: the burst, then a wait of about one interval, and
// keys that expire when their budget is full again.
func TestServerClock(t *testing.T) {
	c := redisClient(t)
	prefix := testPrefix(t, c)
	l, err := redislimit.New(c, prefix, auth.RateLimit{Burst: 2, Every: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 2 {
		if wait, err := l.Take(ctx, "k"); wait != 0 || err != nil {
			t.Fatalf("Take = %v, %v", wait, err)
		}
	}
	wait, err := l.Take(ctx, "k")
	if err != nil || wait <= 59*time.Minute || wait > time.Hour {
		t.Fatalf("Take past the burst = %v, %v, want about an hour", wait, err)
	}
	ttl, err := c.PTTL(ctx, prefix+"k").Result()
	if err != nil || ttl <= 119*time.Minute || ttl > 2*time.Hour {
		t.Errorf("key expires in %v (%v), want when its budget is full, in two hours", ttl, err)
	}
	// A charge past the budget is owed: the wait and the expiry grow.
	if err := l.Charge(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	wait, err = l.Check(ctx, "k")
	if err != nil || wait <= 119*time.Minute || wait > 2*time.Hour {
		t.Fatalf("Check after a charge in debt = %v, %v, want about two hours", wait, err)
	}
	ttl, err = c.PTTL(ctx, prefix+"k").Result()
	if err != nil || ttl <= 179*time.Minute || ttl > 3*time.Hour {
		t.Errorf("key expires in %v (%v), want in three hours", ttl, err)
	}
	// Checks write nothing.
	if _, err := l.Check(ctx, "fresh"); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(ctx, prefix+"fresh").Result(); n != 0 {
		t.Error("a check stored a key")
	}
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(ctx, prefix+"k").Result(); n != 0 {
		t.Error("a key with a full budget is still stored")
	}
}

// newInstance is one instance of an application: its own Redis
// connection and Authenticator, over a user store that all instances
// share.
func newInstance(t *testing.T, store auth.UserStore, prefix string, now func() time.Time) *auth.Authenticator {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: os.Getenv("GATEHOUSE_TEST_REDIS_ADDR")})
	t.Cleanup(func() { _ = c.Close() })
	perName, err := redislimit.New(c, prefix, auth.RateLimit{Burst: 5, Every: time.Minute}, redislimit.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	perAddr, err := redislimit.New(c, prefix, auth.RateLimit{Burst: 20, Every: 6 * time.Second}, redislimit.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(store, auth.WithSecret([]byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-test-only")),
		auth.WithInsecureFastHashingForTests(), auth.WithClock(now), auth.WithLoginLimiters(perName, perAddr))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestInstancesShareOneBudget(t *testing.T) {
	c := redisClient(t)
	prefix := testPrefix(t, c)
	var mu sync.Mutex
	clock := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	store := memstore.New()
	a1 := newInstance(t, store, prefix, now)
	a2 := newInstance(t, store, prefix, now)
	ctx := context.Background()
	if _, err := a1.Register(ctx, "Alice", "password-1"); err != nil {
		t.Fatal(err)
	}
	for i, a := range []*auth.Authenticator{a1, a2, a1, a2, a1} {
		if _, err := a.Login(ctx, "alice", "wrong-password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	for i, a := range []*auth.Authenticator{a1, a2} {
		_, err := a.Login(ctx, "ALICE", "password-1")
		var te *auth.ThrottledError
		if !errors.As(err, &te) || te.RetryAfter != time.Minute {
			t.Errorf("instance %d after five failures in all: %v, want throttled for a minute", i+1, err)
		}
	}
	mu.Lock()
	clock = clock.Add(time.Minute)
	mu.Unlock()
	if _, err := a2.Login(ctx, "alice", "password-1"); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
	// The success cleared the failures for both instances.
	for i := range 5 {
		if _, err := a1.Login(ctx, "alice", "wrong-password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d after the success: %v", i+1, err)
		}
	}
	// Redis holds opaque keys, not usernames.
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v, %v", keys, err)
	}
	for _, k := range keys {
		if strings.Contains(strings.ToLower(k), "alice") {
			t.Errorf("key %q names the user", k)
		}
	}
}

// With Redis unreachable, logins fail closed: 503, no password checked.
// This test needs no Redis.
func TestRedisDownFailsClosed(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	l, err := redislimit.New(c, "x:", auth.RateLimit{Burst: 5, Every: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Check(context.Background(), "k"); err == nil {
		t.Fatal("Check succeeded without Redis")
	}
	a, err := auth.New(memstore.New(), auth.WithSecret([]byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-test-only")),
		auth.WithInsecureFastHashingForTests(), auth.WithLoginLimiters(l, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(context.Background(), "alice", "password-1"); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("Login without Redis = %v, want ErrUnavailable", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = c.Close() })
	for _, tc := range []struct {
		client redis.Scripter
		limit  auth.RateLimit
	}{
		{nil, auth.RateLimit{Burst: 5, Every: time.Minute}},
		{c, auth.RateLimit{}},
		{c, auth.RateLimit{Burst: 5, Every: time.Nanosecond}},
	} {
		if _, err := redislimit.New(tc.client, "x:", tc.limit); err == nil {
			t.Errorf("New(%v, %+v) succeeded", tc.client, tc.limit)
		}
	}
}

func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	perName, err := redislimit.New(rdb, "myapp:login:", auth.RateLimit{Burst: 5, Every: time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	perAddr, err := redislimit.New(rdb, "myapp:login:", auth.RateLimit{Burst: 20, Every: 6 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	secret := []byte("4f1c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f10")
	a, err := auth.New(memstore.New(), auth.WithSecret(secret), auth.WithLoginLimiters(perName, perAddr))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a != nil)
	// Output: true
}

// Device-token budgets are shared through Redis as well: failures with one
// device token on one instance count on the other.
func TestInstancesShareDeviceTokenBudgets(t *testing.T) {
	c := redisClient(t)
	prefix := testPrefix(t, c)
	var mu sync.Mutex
	clock := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	store := memstore.New()
	device, err := redislimit.New(c, prefix, auth.RateLimit{Burst: 2, Every: time.Hour}, redislimit.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	newA := func() *auth.Authenticator {
		a, err := auth.New(store, auth.WithSecret([]byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-test-only")),
			auth.WithInsecureFastHashingForTests(), auth.WithClock(now), auth.WithDeviceTokenLimiter(device))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a1, a2 := newA(), newA()
	ctx := context.Background()
	if _, err := a1.Register(ctx, "alice", "password-1"); err != nil {
		t.Fatal(err)
	}
	pair, err := a1.Login(ctx, "alice", "password-1")
	if err != nil || pair.DeviceToken == "" {
		t.Fatalf("login: %q, %v", pair.DeviceToken, err)
	}
	dctx := auth.ContextWithDeviceToken(ctx, pair.DeviceToken)
	for i, a := range []*auth.Authenticator{a1, a2} {
		if _, err := a.Login(dctx, "alice", "wrong-password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	for i, a := range []*auth.Authenticator{a1, a2} {
		if _, err := a.Login(dctx, "alice", "password-1"); !errors.Is(err, auth.ErrThrottled) {
			t.Errorf("instance %d after two failures with the device token: %v, want throttled", i+1, err)
		}
	}
	// The device token's failures were not the username's.
	if _, err := a2.Login(ctx, "alice", "password-1"); err != nil {
		t.Errorf("without the device token: %v", err)
	}
}
