package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/gatehouse/auth/internal/jose"
)

// loginThrottle holds the budgets that stand against guessing and
// flooding: failed logins per username, per client address and per device
// token, and the per-address budget of registration.
type loginThrottle struct {
	byName, byAddr Limiter // nil when that side is off
	// byDevice is the budget of each device token; nil when device tokens
	// are off, and devices is then nil too.
	byDevice Limiter
	devices  *deviceTokens
	register *addrBudget // nil when registration is not limited
	keys     keyer
	logger   *slog.Logger
}

// keyer derives the opaque keys of limiters: a keyed hash, so that a
// limiter's store holds no usernames or addresses, and every key has the
// same short length whatever the input.
type keyer []byte

func (k keyer) key(kind, value string) string {
	mac := hmac.New(sha256.New, k)
	mac.Write([]byte(kind))
	mac.Write([]byte{0})
	mac.Write([]byte(value))
	return kind + ":" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// attempt is one login (or password change) admitted by the throttle. Its
// owner charges a failure with failed and ends a success with succeeded.
type attempt struct {
	t                *loginThrottle
	nameKey, addrKey string // "" when that side is off
	// device is the client's device token while it holds for the
	// username; its budget then stands in for the username's.
	device    *deviceClaims
	deviceKey string
}

// admit checks, without spending anything, that the budgets of name (a
// canonical username, or "" for a name that cannot exist), of the client
// address in ctx and of the device token in ctx allow one more failure. It
// returns a *ThrottledError when one does not, and an error wrapping
// ErrUnavailable when a limiter fails.
func (t *loginThrottle) admit(ctx context.Context, name string) (*attempt, error) {
	at := &attempt{t: t}
	if t.byName != nil && name != "" {
		at.nameKey = t.keys.key("user", name)
	}
	if addr := clientOf(ctx).addr; addr.IsValid() && t.byAddr != nil {
		at.addrKey = t.keys.key("addr", addrKey(addr))
	}
	if name != "" {
		if c := t.devices.parse(deviceTokenFrom(ctx), name); c != nil {
			at.device, at.deviceKey = c, t.keys.key("device", c.id())
		}
	}
	if err := at.check(ctx); err != nil {
		return nil, err
	}
	return at, nil
}

// bind drops the device token unless it was issued to u (nil for no such
// user) at u's current token version: a password change, logout-all or
// disabling voids it. The user's own budget is then the username's again,
// for the check in the hashing slot.
func (at *attempt) bind(u *User) {
	if at.device != nil && (u == nil || !at.device.issuedTo(u)) {
		at.device, at.deviceKey = nil, ""
	}
}

// own is the budget that stands for the user: the device token's when the
// client has a valid one, the username's otherwise.
func (at *attempt) own() (Limiter, string) {
	if at.device != nil {
		return at.t.byDevice, at.deviceKey
	}
	return at.t.byName, at.nameKey
}

// check reports whether the budgets allow one more failure. An attempt
// refused for the user's budget alone is charged to the address: hammering
// a throttled account costs the client its own budget.
func (at *attempt) check(ctx context.Context) error {
	addrWait, err := check(ctx, at.t.byAddr, at.addrKey)
	if err != nil {
		return err
	}
	l, key := at.own()
	ownWait, err := check(ctx, l, key)
	if err != nil {
		return err
	}
	switch {
	case addrWait > 0:
		return &ThrottledError{RetryAfter: max(addrWait, ownWait)}
	case ownWait > 0:
		at.settle(ctx, at.t.byAddr, at.addrKey, Limiter.Charge)
		return &ThrottledError{RetryAfter: ownWait}
	}
	return nil
}

func check(ctx context.Context, l Limiter, key string) (time.Duration, error) {
	if l == nil || key == "" {
		return 0, nil
	}
	wait, err := l.Check(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("auth: login limiter: %w: %w", ErrUnavailable, err)
	}
	return wait, nil
}

// failed charges a failure to the user's budget and the address's.
func (at *attempt) failed(ctx context.Context) {
	l, key := at.own()
	at.settle(ctx, l, key, Limiter.Charge)
	at.settle(ctx, at.t.byAddr, at.addrKey, Limiter.Charge)
}

// succeeded clears the failures of the budget the attempt was checked
// against: the username's, or with a device token only the token's, so
// that a login from a trusted device gives no fresh guesses to whoever is
// failing at the username elsewhere.
func (at *attempt) succeeded(ctx context.Context) {
	l, key := at.own()
	at.settle(ctx, l, key, Limiter.Reset)
}

// settle applies op to key. The outcome stands either way, so a failure is
// only logged.
func (at *attempt) settle(ctx context.Context, l Limiter, key string, op func(Limiter, context.Context, string) error) {
	if key == "" || l == nil {
		return
	}
	if err := op(l, context.WithoutCancel(ctx), key); err != nil {
		at.t.logger.LogAttrs(ctx, slog.LevelWarn, "auth: login limiter update failed", slog.String("error", err.Error()))
	}
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

// addrBudget is a budget per client address for one endpoint that anyone
// may call and that is costly to serve: it hashes a password, or sends
// mail. With take every attempt counts, success or not, since each one
// creates state or spends work; with check and charge only failures do.
// Registration has one ([WithRegisterLimit]), and passkey logins have two
// ([WithPasskeyLimits]); an endpoint that mails a reset link would get its
// own, under its own kind.
type addrBudget struct {
	kind string // the key prefix, unique per endpoint
	l    Limiter
	keys keyer
}

// take spends one attempt of the client address in ctx. It returns a
// *ThrottledError when none is left, and an error wrapping ErrUnavailable
// when the limiter fails. A nil budget, or a request without an address
// (a Unix socket), is not limited.
func (b *addrBudget) take(ctx context.Context) error {
	key := b.keyOf(ctx)
	if key == "" {
		return nil
	}
	return b.verdict(b.l.Take(ctx, key))
}

// check is take for a budget of failures: it spends nothing, and the
// caller charges each failure afterwards.
func (b *addrBudget) check(ctx context.Context) error {
	key := b.keyOf(ctx)
	if key == "" {
		return nil
	}
	return b.verdict(b.l.Check(ctx, key))
}

// charge spends one attempt of the client address in ctx, a failure,
// even past the budget. The outcome stands either way, so a limiter
// failure is only logged.
func (b *addrBudget) charge(ctx context.Context, logger *slog.Logger) {
	key := b.keyOf(ctx)
	if key == "" {
		return
	}
	if err := b.l.Charge(context.WithoutCancel(ctx), key); err != nil {
		logger.LogAttrs(ctx, slog.LevelWarn, "auth: "+b.kind+" limiter update failed", slog.String("error", err.Error()))
	}
}

// keyOf returns the limiter key of the client address in ctx: "" for a
// nil budget or a request without an address.
func (b *addrBudget) keyOf(ctx context.Context) string {
	addr := clientOf(ctx).addr
	if b == nil || !addr.IsValid() {
		return ""
	}
	return b.keys.key(b.kind, addrKey(addr))
}

// verdict turns a limiter's answer into the budget's error.
func (b *addrBudget) verdict(wait time.Duration, err error) error {
	switch {
	case err != nil:
		return fmt.Errorf("auth: %s limiter: %w: %w", b.kind, ErrUnavailable, err)
	case wait > 0:
		return &ThrottledError{RetryAfter: wait, Budget: b.kind}
	}
	return nil
}

// newLoginThrottle builds the throttle that c describes: the given limiters,
// or in-memory ones on c's clock.
func newLoginThrottle(c *config, signer jose.Key) (*loginThrottle, error) {
	t := &loginThrottle{byName: c.nameLimiter, byAddr: c.addrLimiter, logger: c.logger}
	if t.logger == nil {
		t.logger = slog.Default()
	}
	var err error
	if !c.customLimiters {
		if t.byName, err = memoryLimiter(c.nameLimit, c); err != nil {
			return nil, err
		}
		if t.byAddr, err = memoryLimiter(c.addrLimit, c); err != nil {
			return nil, err
		}
	}
	b := &c.budgets
	// Keys are a MAC under a key derived from the signing key, so that a
	// shared limiter store holds no usernames or addresses, and instances
	// sharing the key share the budgets.
	t.keys = signer.Derive("gatehouse login throttle keys")

	t.byDevice = b.deviceLimiter
	if !b.customDevice {
		if t.byDevice, err = memoryLimiter(b.deviceLimit, c); err != nil {
			return nil, err
		}
	}
	// Without a username budget there is nothing for a device token to
	// lift, and its own budget would only be stricter.
	if t.byName != nil && t.byDevice != nil {
		if t.devices, err = newDeviceTokens(signer, b.deviceTTL, c.clock); err != nil {
			return nil, err
		}
	} else {
		t.byDevice = nil
	}

	reg := b.registerLimiter
	if !b.customRegister {
		if reg, err = memoryLimiter(b.registerLimit, c); err != nil {
			return nil, err
		}
	}
	if reg != nil {
		t.register = &addrBudget{kind: "register", l: reg, keys: t.keys}
	}
	return t, nil
}
