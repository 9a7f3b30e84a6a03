package auth

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Limiter keeps a budget of login attempts per key. The Authenticator takes
// one attempt from the budget of the username and one from the budget of
// the client's address before it checks a password, and gives the attempt
// back when the login succeeds, so that in effect only failures are counted.
// Taking first keeps parallel guesses from slipping past the limit.
//
// Keys are opaque ASCII strings of at most 64 bytes (a keyed hash of the
// username or address, with a prefix), so a Limiter never sees a username or
// an address and can use keys as they are, for example in Redis.
//
// Implementations must be safe for concurrent use, and Take must be atomic:
// when one attempt is left, exactly one of many concurrent Takes gets it.
// Errors are for system failures only (a store that cannot be reached); on
// an error from Take the Authenticator checks no password and answers 503,
// so a broken Limiter fails closed. [memLimiter] is the default; the
// redislimit module shares the budget between instances through Redis.
type Limiter interface {
	// Take spends one attempt from key's budget and returns 0. When the
	// budget is spent it spends nothing and returns how long until one
	// more attempt will be allowed, which is always positive. An unknown
	// key has a full budget.
	Take(ctx context.Context, key string) (retryAfter time.Duration, err error)

	// Refund gives back one attempt that Take spent, for an attempt that
	// succeeded or never got to check a password. A budget never grows
	// past full: refunding a full or unknown key does nothing.
	Refund(ctx context.Context, key string) error

	// Reset makes key's budget full again. Resetting an unknown key does
	// nothing.
	Reset(ctx context.Context, key string) error
}

// RateLimit is a budget of attempts: Burst of them at once, then one more
// every Every. A key that is left alone for Burst × Every has its full budget
// back, so no limit ever locks a key for good.
type RateLimit struct {
	// Burst is how many attempts a fresh key has.
	Burst int
	// Every is how long it takes to earn one attempt back.
	Every time.Duration
}

// Validate reports whether l can be enforced: a burst of at least 1, a
// positive interval, and a full refill within a year.
func (l RateLimit) Validate() error {
	if l.Burst < 1 || l.Every <= 0 {
		return configErr(ErrInvalidConfig, "auth: a rate limit needs a burst of at least 1 and a positive interval")
	}
	if int64(l.Burst) > int64(365*24*time.Hour)/int64(l.Every) {
		return configErr(ErrInvalidConfig, "auth: a rate limit takes over a year to refill")
	}
	return nil
}

// memLimiter is a [Limiter] that keeps its budgets in memory, for one
// process. It is what [New] uses unless told otherwise ([WithLoginLimits],
// [WithLoginLimiters]).
//
// Each key costs one timestamp (GCRA, the "generic cell rate algorithm": the
// time at which its budget will be full again), and a key whose budget is
// full again carries no information. Memory is bounded: at most maxKeys
// keys are kept, about 200 bytes each. When a new key arrives, keys at the
// least recently used end whose budget is full are dropped; if there is
// still no room, the least recently used key goes even though its budget is
// not full. An attacker who can make maxKeys distinct failed attempts within
// one refill period can thus make the limiter forget a key, which the
// per-address budget makes costly. memLimiter starts no goroutines.
type memLimiter struct {
	limit   RateLimit
	maxKeys int
	now     func() time.Time

	mu    sync.Mutex
	keys  map[string]*list.Element
	order list.List // of *memoryKey, least recently used first
}

type memoryKey struct {
	key string
	// full is when the budget will be full again (GCRA's theoretical
	// arrival time).
	full time.Time
}

// newMemLimiter returns a memLimiter that allows limit per key and
// keeps at most maxKeys keys. now is the clock; nil means [time.Now].
func newMemLimiter(limit RateLimit, maxKeys int, now func() time.Time) (*memLimiter, error) {
	if err := limit.Validate(); err != nil {
		return nil, err
	}
	if maxKeys < 1 {
		return nil, configErr(ErrInvalidConfig, "auth: a memory limiter needs room for at least one key")
	}
	if now == nil {
		now = time.Now
	}
	return &memLimiter{limit: limit, maxKeys: maxKeys, now: now, keys: map[string]*list.Element{}}, nil
}

// Take implements [Limiter].
func (m *memLimiter) Take(_ context.Context, key string) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	full := now
	e := m.keys[key]
	if e != nil && e.Value.(*memoryKey).full.After(now) {
		full = e.Value.(*memoryKey).full
	}
	next := full.Add(m.limit.Every)
	if over := next.Sub(now) - time.Duration(m.limit.Burst)*m.limit.Every; over > 0 {
		return over, nil
	}
	if e != nil {
		e.Value.(*memoryKey).full = next
		m.order.MoveToBack(e)
		return 0, nil
	}
	m.makeRoom(now)
	m.keys[key] = m.order.PushBack(&memoryKey{key: key, full: next})
	return 0, nil
}

// makeRoom drops keys until one more fits: first those at the front whose
// budget is full, then, if still needed, the least recently used.
func (m *memLimiter) makeRoom(now time.Time) {
	for e := m.order.Front(); e != nil; e = m.order.Front() {
		if len(m.keys) < m.maxKeys && e.Value.(*memoryKey).full.After(now) {
			return
		}
		m.remove(e)
	}
}

func (m *memLimiter) remove(e *list.Element) {
	delete(m.keys, e.Value.(*memoryKey).key)
	m.order.Remove(e)
}

// Refund implements [Limiter].
func (m *memLimiter) Refund(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.keys[key]
	if e == nil {
		return nil
	}
	k := e.Value.(*memoryKey)
	k.full = k.full.Add(-m.limit.Every)
	if !k.full.After(m.now()) {
		m.remove(e)
	}
	return nil
}

// Reset implements [Limiter].
func (m *memLimiter) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.keys[key]; e != nil {
		m.remove(e)
	}
	return nil
}

// memoryLimiter returns an in-memory limiter for l, or nil (no limit) for
// the zero RateLimit.
func memoryLimiter(l RateLimit, c *config) (Limiter, error) {
	if l == (RateLimit{}) {
		return nil, nil
	}
	m, err := newMemLimiter(l, c.limiterKeys, c.clock)
	if err != nil {
		return nil, err
	}
	return m, nil
}
