// Package redislimit is an [auth.Limiter] that keeps its budgets (of failed
// logins, registrations, device tokens) in Redis, so that every instance of
// an application shares them: an attacker gets the same five guesses at a
// username however many instances sit behind the load balancer.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	perName, err := redislimit.New(rdb, "myapp:login:", auth.RateLimit{Burst: 5, Every: time.Minute})
//	...
//	perAddr, err := redislimit.New(rdb, "myapp:login:", auth.RateLimit{Burst: 20, Every: 6 * time.Second})
//	...
//	a, err := auth.New(store, auth.WithSecret(secret), auth.WithLoginLimiters(perName, perAddr))
//
// Each key is one Redis string holding a timestamp (GCRA, the "generic cell
// rate algorithm"), with an expiry at the moment its budget is full again,
// so Redis holds only keys that carry information. Every operation is one
// Lua script, which Redis runs atomically. Time is Redis's own (the TIME
// command), so instances with skewed clocks still agree.
//
// The Authenticator fails closed: when Redis cannot be reached, logins are
// answered 503 rather than let through unthrottled.
//
// The package also holds [ReplayCache], the DPoP replay cache that several
// instances share (auth.WithDPoPReplayCache).
package redislimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse/auth"
	"github.com/redis/go-redis/v9"
)

// script runs one operation on one key. Times are in microseconds.
//
//	KEYS[1]  the key
//	ARGV[1]  "check", "take", "charge" or "reset"
//	ARGV[2]  the interval between attempts
//	ARGV[3]  burst × interval
//	ARGV[4]  the current time, or "" for Redis's clock
//
// It returns 0, or for a check or take that finds the budget spent the time
// until one more attempt will be allowed. Only an allowed take and a charge
// (allowed or not) write.
var script = redis.NewScript(`
local op = ARGV[1]
if op == 'reset' then
  redis.call('DEL', KEYS[1])
  return 0
end
local interval = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local now
if ARGV[4] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[4])
end
local full = tonumber(redis.call('GET', KEYS[1])) or now
if full < now then
  full = now
end
local nxt = full + interval
local over = nxt - now - window
if op == 'check' or (op == 'take' and over > 0) then
  if over > 0 then
    return over
  end
  return 0
end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.ceil((nxt - now) / 1000))
return 0
`)

// Limiter is an [auth.Limiter] on Redis. It is safe for concurrent use.
type Limiter struct {
	client redis.Scripter
	prefix string
	limit  auth.RateLimit
	now    func() time.Time
}

// Option configures a [Limiter].
type Option func(*Limiter)

// WithClock makes the Limiter read the time from now rather than from the
// Redis server. It is meant for tests, which move a fake clock instead of
// sleeping; in production, Redis's clock keeps instances in agreement.
func WithClock(now func() time.Time) Option { return func(l *Limiter) { l.now = now } }

// New returns a Limiter that allows limit per key and stores key k as
// prefix+k in client (a *redis.Client, *redis.ClusterClient or any
// redis.Scripter). Limiters with different limits may share a prefix: the
// Authenticator's keys for usernames and for addresses never collide. New
// fails for a limit that [auth.RateLimit.Validate] rejects or one finer
// than a microsecond.
func New(client redis.Scripter, prefix string, limit auth.RateLimit, opts ...Option) (*Limiter, error) {
	if client == nil {
		return nil, fmt.Errorf("redislimit: client is nil")
	}
	if err := limit.Validate(); err != nil {
		return nil, err
	}
	if limit.Every < time.Microsecond {
		return nil, fmt.Errorf("redislimit: the interval must be at least a microsecond")
	}
	l := &Limiter{client: client, prefix: prefix, limit: limit}
	for _, opt := range opts {
		opt(l)
	}
	return l, nil
}

// Check implements [auth.Limiter].
func (l *Limiter) Check(ctx context.Context, key string) (time.Duration, error) {
	wait, err := l.run(ctx, "check", key)
	return time.Duration(wait) * time.Microsecond, err
}

// Take implements [auth.Limiter].
func (l *Limiter) Take(ctx context.Context, key string) (time.Duration, error) {
	wait, err := l.run(ctx, "take", key)
	return time.Duration(wait) * time.Microsecond, err
}

// Charge implements [auth.Limiter].
func (l *Limiter) Charge(ctx context.Context, key string) error {
	_, err := l.run(ctx, "charge", key)
	return err
}

// Reset implements [auth.Limiter].
func (l *Limiter) Reset(ctx context.Context, key string) error {
	_, err := l.run(ctx, "reset", key)
	return err
}

func (l *Limiter) run(ctx context.Context, op, key string) (int64, error) {
	now := ""
	if l.now != nil {
		now = strconv.FormatInt(l.now().UnixMicro(), 10)
	}
	every := l.limit.Every.Microseconds()
	n, err := script.Run(ctx, l.client, []string{l.prefix + key},
		op, every, every*int64(l.limit.Burst), now).Int64()
	if err != nil {
		return 0, fmt.Errorf("redislimit: %s: %w", op, err)
	}
	return n, nil
}
