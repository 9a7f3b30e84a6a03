package auth

import (
	"container/list"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
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
// so a broken Limiter fails closed. [MemoryLimiter] is the default; the
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
		return errors.New("auth: a rate limit needs a burst of at least 1 and a positive interval")
	}
	if int64(l.Burst) > int64(365*24*time.Hour)/int64(l.Every) {
		return errors.New("auth: a rate limit takes over a year to refill")
	}
	return nil
}

// ThrottledError is returned by [Authenticator.Authenticate],
// [Authenticator.Login] and [Authenticator.ChangePassword] when the
// username or the client's address has no attempts left. No password was
// checked: the answer is the same whether the password was right or not. It
// matches [ErrThrottled] with [errors.Is]; the handlers answer 429 with a
// Retry-After header.
type ThrottledError struct {
	// RetryAfter is how long until one more attempt will be allowed.
	RetryAfter time.Duration
}

// Error implements error.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v; retry after %v", ErrThrottled, e.RetryAfter)
}

// Is reports whether target is ErrThrottled.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// MemoryLimiter is a [Limiter] that keeps its budgets in memory, for one
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
// per-address budget makes costly. MemoryLimiter starts no goroutines.
type MemoryLimiter struct {
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

// NewMemoryLimiter returns a MemoryLimiter that allows limit per key and
// keeps at most maxKeys keys. now is the clock; nil means [time.Now].
func NewMemoryLimiter(limit RateLimit, maxKeys int, now func() time.Time) (*MemoryLimiter, error) {
	if err := limit.Validate(); err != nil {
		return nil, err
	}
	if maxKeys < 1 {
		return nil, errors.New("auth: a memory limiter needs room for at least one key")
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryLimiter{limit: limit, maxKeys: maxKeys, now: now, keys: map[string]*list.Element{}}, nil
}

// Take implements [Limiter].
func (m *MemoryLimiter) Take(_ context.Context, key string) (time.Duration, error) {
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
func (m *MemoryLimiter) makeRoom(now time.Time) {
	for e := m.order.Front(); e != nil; e = m.order.Front() {
		if len(m.keys) < m.maxKeys && e.Value.(*memoryKey).full.After(now) {
			return
		}
		m.remove(e)
	}
}

func (m *MemoryLimiter) remove(e *list.Element) {
	delete(m.keys, e.Value.(*memoryKey).key)
	m.order.Remove(e)
}

// Refund implements [Limiter].
func (m *MemoryLimiter) Refund(_ context.Context, key string) error {
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
func (m *MemoryLimiter) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.keys[key]; e != nil {
		m.remove(e)
	}
	return nil
}

// loginThrottle charges login attempts to the username's and the client
// address's budgets.
type loginThrottle struct {
	byName, byAddr Limiter // nil when that side is off
	keyMAC         []byte
	logger         *slog.Logger
}

// attempt is one admitted login attempt; its end method must be called when
// the outcome is known.
type attempt struct {
	t                *loginThrottle
	nameKey, addrKey string // "" when not charged
}

// key derives the opaque key of a username or address: a keyed hash, so
// that a limiter's store holds neither, and every key has the same short
// length whatever the input.
func (t *loginThrottle) key(kind, value string) string {
	mac := hmac.New(sha256.New, t.keyMAC)
	mac.Write([]byte(kind))
	mac.Write([]byte{0})
	mac.Write([]byte(value))
	return kind + ":" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// admit takes one attempt from the budget of name (a canonical username, or
// "" for a name that cannot exist) and of the client address in ctx, if
// any. It returns a *ThrottledError when either budget is spent, having
// taken nothing, and a store error wrapping ErrUnavailable.
func (t *loginThrottle) admit(ctx context.Context, name string) (attempt, error) {
	at := attempt{t: t}
	if t.byName != nil && name != "" {
		key := t.key("user", name)
		if err := t.take(ctx, t.byName, key); err != nil {
			return attempt{}, err
		}
		at.nameKey = key
	}
	if addr, ok := ClientAddrFromContext(ctx); ok && t.byAddr != nil {
		key := t.key("addr", addrKey(addr))
		if err := t.take(ctx, t.byAddr, key); err != nil {
			at.abandoned(ctx)
			return attempt{}, err
		}
		at.addrKey = key
	}
	return at, nil
}

func (t *loginThrottle) take(ctx context.Context, l Limiter, key string) error {
	wait, err := l.Take(ctx, key)
	switch {
	case err != nil:
		return fmt.Errorf("auth: login limiter: %w: %w", ErrUnavailable, err)
	case wait > 0:
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}

// addrKey is the part of an address that identifies a client: the whole
// IPv4 address, but only the /64 prefix of an IPv6 one, since a single
// client commonly holds a whole /64.
func addrKey(addr netip.Addr) string {
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		addr = netip.PrefixFrom(addr, 64).Masked().Addr()
	}
	return addr.String()
}

// succeeded clears the username's failures and gives the address its
// attempt back.
func (at attempt) succeeded(ctx context.Context) {
	at.settle(ctx, at.t.byName, at.nameKey, Limiter.Reset)
	at.settle(ctx, at.t.byAddr, at.addrKey, Limiter.Refund)
}

// abandoned gives both attempts back: no password was checked (the server
// was busy, or the store down), so the client is not charged.
func (at attempt) abandoned(ctx context.Context) {
	at.settle(ctx, at.t.byName, at.nameKey, Limiter.Refund)
	at.settle(ctx, at.t.byAddr, at.addrKey, Limiter.Refund)
}

// settle applies op to key. The login's outcome stands either way, so a
// failure is only logged.
func (at attempt) settle(ctx context.Context, l Limiter, key string, op func(Limiter, context.Context, string) error) {
	if key == "" || l == nil {
		return
	}
	if err := op(l, context.WithoutCancel(ctx), key); err != nil {
		at.t.logger.LogAttrs(ctx, slog.LevelWarn, "auth: login limiter update failed", slog.String("error", err.Error()))
	}
}

// end settles at according to the outcome err of the attempt.
func (at attempt) end(ctx context.Context, err error) {
	switch {
	case err == nil, errors.Is(err, ErrSamePassword):
		at.succeeded(ctx)
	case errors.Is(err, ErrInvalidCredentials), errors.Is(err, ErrUserDisabled), errors.Is(err, ErrIncorrectPassword):
		// A failure keeps the attempts it took: failures are what the
		// budgets count.
	default:
		at.abandoned(ctx)
	}
}
