package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/gatehouse/auth/internal/jose"
)

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
	if addr := clientOf(ctx).addr; addr.IsValid() && t.byAddr != nil {
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

// newLoginThrottle builds the throttle that c describes: the given limiters,
// or in-memory ones on c's clock.
func newLoginThrottle(c *config, signer jose.Key) (*loginThrottle, error) {
	t := &loginThrottle{byName: c.nameLimiter, byAddr: c.addrLimiter, logger: c.logger}
	if t.logger == nil {
		t.logger = slog.Default()
	}
	if !c.customLimiters {
		var err error
		if t.byName, err = memoryLimiter(c.nameLimit, c); err != nil {
			return nil, err
		}
		if t.byAddr, err = memoryLimiter(c.addrLimit, c); err != nil {
			return nil, err
		}
	}
	// Keys are a MAC under a key derived from the signing key, so that a
	// shared limiter store holds no usernames or addresses, and instances
	// sharing the key share the budgets.
	t.keyMAC = signer.Derive("gatehouse login throttle keys")
	return t, nil
}
