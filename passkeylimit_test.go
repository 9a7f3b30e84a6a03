package auth_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// fromAddr is a context of a request from addr.
func fromAddr(addr string) context.Context {
	return auth.ContextWithClient(context.Background(), auth.Client{Addr: netip.MustParseAddr(addr)})
}

func TestPasskeyBeginBudget(t *testing.T) {
	f := newFixture(t, auth.WithPasskeyLimits(auth.RateLimit{Burst: 3, Every: time.Minute}, auth.RateLimit{Burst: 1, Every: time.Minute}))
	ctx := fromAddr("198.51.100.7")
	for i := range 3 {
		if err := f.a.ThrottlePasskeyBegin(ctx); err != nil {
			t.Fatalf("begin %d: %v", i+1, err)
		}
	}
	err := f.a.ThrottlePasskeyBegin(ctx)
	wantThrottled(t, err, time.Minute)
	var te *auth.ThrottledError
	if errors.As(err, &te); te.Budget != "passkey_begin" {
		t.Errorf("Budget = %q", te.Budget)
	}
	// Another address, the same /64 of IPv6 and no address at all.
	if err := f.a.ThrottlePasskeyBegin(fromAddr("198.51.100.8")); err != nil {
		t.Errorf("another address: %v", err)
	}
	for i := range 3 {
		if err := f.a.ThrottlePasskeyBegin(fromAddr("2001:db8::" + string(rune('1'+i)))); err != nil {
			t.Fatalf("IPv6 begin %d: %v", i+1, err)
		}
	}
	if err := f.a.ThrottlePasskeyBegin(fromAddr("2001:db8::ff")); !errors.Is(err, auth.ErrThrottled) {
		t.Errorf("same /64: %v", err)
	}
	for range 5 {
		if err := f.a.ThrottlePasskeyBegin(context.Background()); err != nil {
			t.Fatalf("no address: %v", err)
		}
	}
	f.clock.Advance(time.Minute)
	if err := f.a.ThrottlePasskeyBegin(ctx); err != nil {
		t.Errorf("after a minute: %v", err)
	}
}

func TestPasskeyLoginBudget(t *testing.T) {
	f := newFixture(t, auth.WithPasskeyLimits(auth.RateLimit{Burst: 1, Every: time.Minute}, auth.RateLimit{Burst: 2, Every: time.Minute}))
	u := f.register(t, "pia", "password-1")
	ctx := fromAddr("198.51.100.7")
	calls := 0
	refuse := func(context.Context) (auth.TokenPair, error) {
		calls++
		return auth.TokenPair{}, auth.ErrInvalidPasskey
	}
	accept := func(ctx context.Context) (auth.TokenPair, error) {
		calls++
		return f.a.LoginVerified(ctx, u.ID, auth.AMRHardwareKey, auth.AMRMultiFactor)
	}
	// Successes and other errors cost nothing.
	for range 3 {
		if _, err := f.a.ThrottlePasskeyLogin(ctx, accept); err != nil {
			t.Fatal(err)
		}
		if _, err := f.a.ThrottlePasskeyLogin(ctx, func(context.Context) (auth.TokenPair, error) {
			return auth.TokenPair{}, auth.ErrUnavailable
		}); !errors.Is(err, auth.ErrUnavailable) {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if _, err := f.a.ThrottlePasskeyLogin(ctx, refuse); !errors.Is(err, auth.ErrInvalidPasskey) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	calls = 0
	_, err := f.a.ThrottlePasskeyLogin(ctx, accept)
	wantThrottled(t, err, time.Minute)
	var te *auth.ThrottledError
	if errors.As(err, &te); te.Budget != "passkey_login" {
		t.Errorf("Budget = %q", te.Budget)
	}
	if calls != 0 {
		t.Error("finish ran while the budget was spent")
	}
	if _, err := f.a.ThrottlePasskeyLogin(fromAddr("198.51.100.8"), accept); err != nil {
		t.Errorf("another address: %v", err)
	}
	f.clock.Advance(time.Minute)
	if _, err := f.a.ThrottlePasskeyLogin(ctx, accept); err != nil {
		t.Errorf("after a minute: %v", err)
	}
}

func TestPasskeyLimitsOffAndShared(t *testing.T) {
	off := newFixture(t, auth.WithPasskeyLimits(auth.RateLimit{}, auth.RateLimit{}))
	ctx := fromAddr("198.51.100.7")
	for range 100 {
		if err := off.a.ThrottlePasskeyBegin(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := off.a.ThrottlePasskeyLogin(ctx, func(context.Context) (auth.TokenPair, error) {
			return auth.TokenPair{}, auth.ErrInvalidPasskey
		}); !errors.Is(err, auth.ErrInvalidPasskey) {
			t.Fatal(err)
		}
	}
	// A limiter that is down fails closed.
	down := newFixture(t, auth.WithPasskeyLimiters(failingLimiter{}, failingLimiter{}))
	if err := down.a.ThrottlePasskeyBegin(ctx); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("begin with the limiter down: %v", err)
	}
	if _, err := down.a.ThrottlePasskeyLogin(ctx, func(context.Context) (auth.TokenPair, error) {
		t.Error("finish ran with the limiter down")
		return auth.TokenPair{}, nil
	}); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("login with the limiter down: %v", err)
	}
	if _, err := auth.New(newFixture(t).store, auth.WithSecret(testSecret), auth.WithPasskeyLimits(auth.RateLimit{Burst: -1, Every: time.Second}, auth.RateLimit{})); !errors.Is(err, auth.ErrInvalidConfig) {
		t.Errorf("a bad limit: %v", err)
	}
}
