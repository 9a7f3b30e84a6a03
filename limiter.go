package auth

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Limiter keeps a budget of failed attempts per key.
//
// For a login the Authenticator checks the budgets of the username and of
// the client's address before it checks the password (Check, which spends
// nothing), and charges a failure to them afterwards (Charge). A login in
// flight therefore never uses up a budget, and only failures count. Checks
// and charges are not one atomic step, so concurrent guesses can overshoot
// a burst: by at most the hashing concurrency ([WithHashConcurrency]),
// since the Authenticator checks again inside its hashing slot and charges
// before it frees the slot. Charge always spends, even past the budget, so
// such an overshoot is paid back by a longer wait and the long-run rate
// holds. Take is for budgets where every attempt counts, such as
// registration ([WithRegisterLimit]).
//
// Keys are opaque ASCII strings of at most 64 bytes (a keyed hash of the
// username, address or device token, with a prefix), so a Limiter never
// sees a username or an address and can use keys as they are, for example
// in Redis.
//
// Implementations must be safe for concurrent use, and each method must be
// atomic: when one attempt is left, exactly one of many concurrent Takes
// gets it, and n concurrent Charges spend n attempts. Errors are for system
// failures only (a store that cannot be reached); on an error from Check or
// Take the Authenticator checks no password and answers 503, so a broken
// Limiter fails closed. [memLimiter] is the default; the redislimit module
// shares the budget between instances through Redis. Check an
// implementation with limitertest.Run.
type Limiter interface {
	// Check returns 0 when key's budget has an attempt left, and otherwise
	// how long until it will have one, which is always positive. It spends
	// nothing. An unknown key has a full budget.
	Check(ctx context.Context, key string) (retryAfter time.Duration, err error)

	// Take spends one attempt from key's budget and returns 0. When the
	// budget is spent it spends nothing and returns what Check would.
	Take(ctx context.Context, key string) (retryAfter time.Duration, err error)

	// Charge spends one attempt from key's budget, whether or not one is
	// left: a budget can go into debt, which makes the wait longer by one
	// interval per attempt owed.
	Charge(ctx context.Context, key string) error

	// Reset makes key's budget full again. Resetting an unknown key does
	// nothing.
	Reset(ctx context.Context, key string) error
}

// RateLimit is a budget of attempts: Burst of them at once, then one more
// every Every. A key that is left alone for Burst × Every (plus one Every
// per attempt it owes, see [Limiter]) has its full budget back, so no limit
// ever locks a key for good.
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

// Check implements [Limiter].
func (m *memLimiter) Check(_ context.Context, key string) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, wait := m.next(key, m.now())
	return wait, nil
}

// Take implements [Limiter].
func (m *memLimiter) Take(_ context.Context, key string) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	next, wait := m.next(key, now)
	if wait > 0 {
		return wait, nil
	}
	m.store(key, next, now)
	return 0, nil
}

// Charge implements [Limiter].
func (m *memLimiter) Charge(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	next, _ := m.next(key, now)
	m.store(key, next, now)
	return nil
}

// next returns when key's budget will be full again after one more
// attempt, and how long until that attempt is allowed (0: now).
func (m *memLimiter) next(key string, now time.Time) (next time.Time, wait time.Duration) {
	full := now
	if e := m.keys[key]; e != nil && e.Value.(*memoryKey).full.After(now) {
		full = e.Value.(*memoryKey).full
	}
	next = full.Add(m.limit.Every)
	return next, max(0, next.Sub(now)-time.Duration(m.limit.Burst)*m.limit.Every)
}

// store records that key's budget will be full again at full.
func (m *memLimiter) store(key string, full, now time.Time) {
	if e := m.keys[key]; e != nil {
		e.Value.(*memoryKey).full = full
		m.order.MoveToBack(e)
		return
	}
	m.makeRoom(now)
	m.keys[key] = m.order.PushBack(&memoryKey{key: key, full: full})
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
