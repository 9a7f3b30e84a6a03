package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// lockOut spends the username's budget with failures from an attacker's
// address.
func lockOut(t *testing.T, a *auth.Authenticator, name string) {
	t.Helper()
	for range 5 {
		_, err := a.Login(from("203.0.113.66"), name, "wrong-password")
		if !errors.Is(err, auth.ErrInvalidCredentials) && !errors.Is(err, auth.ErrThrottled) {
			t.Fatalf("attacker: %v", err)
		}
	}
	if _, err := a.Login(from("203.0.113.67"), name, "password-1"); !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("%s is not locked out: %v", name, err)
	}
}

// withDevice is a client at the victim's address that sends tok.
func withDevice(tok string) context.Context {
	return auth.ContextWithDeviceToken(from("198.51.100.10"), tok)
}

// A client that has logged in as a user before is not locked out by
// failures from elsewhere, and its login leaves the attacker's lock alone.
func TestDeviceTokenLiftsTheUsernameBudget(t *testing.T) {
	f := newFixture(t)
	f.register(t, "vic", "password-1")
	first, err := f.a.Login(from("198.51.100.10"), "vic", "password-1")
	if err != nil || first.DeviceToken == "" {
		t.Fatalf("first login: device token %q, %v", first.DeviceToken, err)
	}
	lockOut(t, f.a, "vic")
	if _, err := f.a.Login(from("198.51.100.10"), "vic", "password-1"); !errors.Is(err, auth.ErrThrottled) {
		t.Errorf("without the device token: %v, want throttled", err)
	}
	again, err := f.a.Login(withDevice(first.DeviceToken), "VIC", "password-1")
	if err != nil {
		t.Fatalf("with the device token: %v", err)
	}
	if again.DeviceToken == "" || again.DeviceToken == first.DeviceToken {
		t.Errorf("a login with a device token returns a new one, got %q", again.DeviceToken)
	}
	// Both tokens hold, for this user only.
	if _, err := f.a.Login(withDevice(first.DeviceToken), "vic", "password-1"); err != nil {
		t.Errorf("the first token again: %v", err)
	}
	if _, err := f.a.Login(from("203.0.113.67"), "vic", "password-1"); !errors.Is(err, auth.ErrThrottled) {
		t.Errorf("the device's success lifted the lock for everyone: %v", err)
	}
}

// A device token that does not hold for this login lifts nothing, and is
// not an error either.
func TestDeviceTokenThatDoesNotHoldLiftsNothing(t *testing.T) {
	f := newFixture(t, auth.WithDeviceTokenTTL(2*time.Hour))
	ctx := context.Background()
	vic := f.register(t, "vic", "password-1")
	f.register(t, "mal", "password-1")
	tok := f.login(t, "vic", "password-1").DeviceToken
	mals := f.login(t, "mal", "password-1").DeviceToken

	lockOut(t, f.a, "vic")
	body, mac, _ := strings.Cut(tok, ".")
	flip := func(s string) string {
		if s[0] == 'A' {
			return "B" + s[1:]
		}
		return "A" + s[1:]
	}
	for name, bad := range map[string]string{
		"another user's": mals,
		"forged body":    flip(body) + "." + mac,
		"forged MAC":     body + "." + flip(mac),
		"no MAC":         body,
		"garbage":        "%%%.%%%",
		"too long":       strings.Repeat("A", 4096) + "." + mac,
	} {
		if _, err := f.a.Login(withDevice(bad), "vic", "password-1"); !errors.Is(err, auth.ErrThrottled) {
			t.Errorf("%s device token: %v, want throttled", name, err)
		}
	}
	if _, err := f.a.Login(withDevice(tok), "vic", "password-1"); err != nil {
		t.Fatalf("the right token: %v", err)
	}

	// Revoked by a password change, logout-all, disabling.
	f.clock.Advance(5 * time.Minute)
	for name, revoke := range map[string]func() error{
		"password change": func() error {
			u, _ := f.a.UserByID(ctx, vic.ID)
			if err := f.a.ChangePassword(ctx, u, "password-1", "password-2"); err != nil {
				return err
			}
			return f.a.ChangePassword(ctx, u, "password-2", "password-1")
		},
		"logout-all": func() error { return f.a.LogoutAll(ctx, vic.ID) },
		"disabling": func() error {
			if err := f.a.SetDisabled(ctx, vic.ID, true); err != nil {
				return err
			}
			return f.a.SetDisabled(ctx, vic.ID, false)
		},
	} {
		tok := f.login(t, "vic", "password-1").DeviceToken
		if err := revoke(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lockOut(t, f.a, "vic")
		if _, err := f.a.Login(withDevice(tok), "vic", "password-1"); !errors.Is(err, auth.ErrThrottled) {
			t.Errorf("device token after %s: %v, want throttled", name, err)
		}
		f.clock.Advance(5 * time.Minute)
	}

	// Expired.
	tok = f.login(t, "vic", "password-1").DeviceToken
	f.clock.Advance(2 * time.Hour)
	lockOut(t, f.a, "vic")
	if _, err := f.a.Login(withDevice(tok), "vic", "password-1"); !errors.Is(err, auth.ErrThrottled) {
		t.Errorf("expired device token: %v, want throttled", err)
	}
}

// A device token has a failure budget of its own, 10 by default, and its
// failures are not charged to the username.
func TestDeviceTokenHasItsOwnBudget(t *testing.T) {
	f := newFixture(t)
	f.register(t, "vic", "password-1")
	tok := f.login(t, "vic", "password-1").DeviceToken
	for i := range 10 {
		if _, err := f.a.Login(withDevice(tok), "vic", "wrong-password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d with the device token: %v", i+1, err)
		}
	}
	_, err := f.a.Login(withDevice(tok), "vic", "password-1")
	wantThrottled(t, err, time.Hour)
	// The username's budget is untouched.
	if _, err := f.a.Login(from("198.51.100.11"), "vic", "password-1"); err != nil {
		t.Errorf("without the device token: %v", err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.a.Login(withDevice(tok), "vic", "password-1"); err != nil {
		t.Errorf("an hour later: %v", err)
	}
}

func TestDeviceTokensCanBeTurnedOff(t *testing.T) {
	for name, opt := range map[string]auth.Option{
		"zero device limit":   auth.WithDeviceTokenLimit(auth.RateLimit{}),
		"nil device limiter":  auth.WithDeviceTokenLimiter(nil),
		"no username budget":  auth.WithLoginLimits(auth.RateLimit{}, auth.RateLimit{Burst: 20, Every: time.Second}),
		"no username limiter": auth.WithLoginLimiters(nil, nil),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, opt)
			f.register(t, "vic", "password-1")
			if tok := f.login(t, "vic", "password-1").DeviceToken; tok != "" {
				t.Errorf("device token %q issued", tok)
			}
		})
	}
	for _, ttl := range []time.Duration{time.Minute, 10 * 365 * 24 * time.Hour} {
		if _, err := auth.New(newFixture(t).store, auth.WithSecret(testSecret), auth.WithDeviceTokenTTL(ttl)); !errors.Is(err, auth.ErrInvalidConfig) {
			t.Errorf("device token TTL %v: %v, want ErrInvalidConfig", ttl, err)
		}
	}
}

// The handlers take the device token from the device_token field, form or
// JSON, and return it beside the token pair.
func TestLoginEndpointDeviceToken(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	f.register(t, "vic", "password-1")
	r := doFrom(h, "198.51.100.10:1", http.MethodPost, "/auth/login", ctForm, "username=vic&password=password-1")
	tok, _ := r.json(t)["device_token"].(string)
	if tok == "" {
		t.Fatalf("no device_token in %s", r.body)
	}
	lockOut(t, f.a, "vic")
	if r := doFrom(h, "198.51.100.10:1", http.MethodPost, "/auth/login", ctForm, "username=vic&password=password-1"); r.status != http.StatusTooManyRequests {
		t.Errorf("without the device token: %d", r.status)
	}
	form := url.Values{"username": {"vic"}, "password": {"password-1"}, "device_token": {tok}}.Encode()
	if r := doFrom(h, "198.51.100.10:1", http.MethodPost, "/auth/login", ctForm, form); r.status != http.StatusOK {
		t.Errorf("form with the device token: %d %s", r.status, r.body)
	}
	if r := doFrom(h, "198.51.100.10:1", http.MethodPost, "/auth/login", ctJSON, `{"username":"vic","password":"password-1","device_token":"`+tok+`"}`); r.status != http.StatusOK {
		t.Errorf("JSON with the device token: %d %s", r.status, r.body)
	}
	// A refresh returns none.
	refresh, _ := r.json(t)["refresh_token"].(string)
	if r := postJSON(h, "/auth/refresh", `{"refresh_token":"`+refresh+`"}`); r.status != http.StatusOK || strings.Contains(string(r.body), "device_token") {
		t.Errorf("refresh: %d %s", r.status, r.body)
	}
}

// In cookie mode the device token travels as a __Host- cookie.
func TestCookieModeDeviceCookie(t *testing.T) {
	f := newFixture(t)
	h := f.a.CookieHandler()
	f.register(t, "vic", "password-1")
	r := doFrom(h, "198.51.100.10:1", http.MethodPost, "/auth/login", ctJSON, `{"username":"vic","password":"password-1"}`)
	if r.status != http.StatusOK || strings.Contains(string(r.body), "device_token") {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	cs := cookiesNamed(r, "__Host-gatehouse_device")
	if len(cs) != 1 {
		t.Fatalf("device cookies: %v", r.header.Values("Set-Cookie"))
	}
	c := cs[0]
	if c.Path != "/" || c.Domain != "" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.MaxAge != 365*24*3600 || c.Value == "" {
		t.Errorf("device cookie %s", c)
	}
	lockOut(t, f.a, "vic")
	login := func(cookie string) int {
		return doFrom(h, "198.51.100.10:1", http.MethodPost, "/auth/login", ctJSON, `{"username":"vic","password":"password-1"}`, "Cookie", cookie).status
	}
	if s := login("__Host-gatehouse_device=forged"); s != http.StatusTooManyRequests {
		t.Errorf("with a forged cookie: %d", s)
	}
	if s := login(c.Name + "=" + c.Value); s != http.StatusOK {
		t.Errorf("with the device cookie: %d", s)
	}
	// The plain handler does not read the cookie.
	if s := doFrom(f.a.Handler(), "198.51.100.10:1", http.MethodPost, "/auth/login", ctJSON, `{"username":"vic","password":"password-1"}`, "Cookie", c.Name+"="+c.Value).status; s != http.StatusTooManyRequests {
		t.Errorf("the plain handler with the device cookie: %d", s)
	}
}

// No string but an issued token lifts the lock, and none is an error.
func FuzzDeviceToken(f *testing.F) {
	fx := newFixture(f)
	fx.register(f, "vic", "password-1")
	good := fx.login(f, "vic", "password-1").DeviceToken
	for _, s := range []string{"", ".", "a.b", good, good + "=", strings.ToUpper(good), good[:len(good)-1], good + "." + good} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		lockOut(t, fx.a, "vic")
		// No address: refusals charged to it would throttle the next input.
		_, err := fx.a.Login(auth.ContextWithDeviceToken(context.Background(), tok), "vic", "password-1")
		switch {
		case tok == good && err != nil:
			t.Errorf("the issued token: %v", err)
		case tok != good && !errors.Is(err, auth.ErrThrottled):
			t.Errorf("device token %q: %v, want throttled", tok, err)
		}
	})
}

func ExampleContextWithDeviceToken() {
	a, err := auth.New(memstore.New(), auth.WithSecret(secret),
		auth.WithLoginLimits(auth.RateLimit{Burst: 2, Every: time.Minute}, auth.RateLimit{Burst: 20, Every: 6 * time.Second}))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if _, err := a.Register(ctx, "dana", "correct horse battery"); err != nil {
		panic(err)
	}
	// A first login returns a device token: keep it on the device.
	pair, err := a.Login(ctx, "dana", "correct horse battery")
	if err != nil {
		panic(err)
	}
	device := pair.DeviceToken
	// Someone else fails twice: the username is throttled...
	for range 2 {
		_, _ = a.Login(ctx, "dana", "guess")
	}
	_, err = a.Login(ctx, "dana", "correct horse battery")
	fmt.Println(errors.Is(err, auth.ErrThrottled))
	// ...but not for the device that has logged in before.
	_, err = a.Login(auth.ContextWithDeviceToken(ctx, device), "dana", "correct horse battery")
	fmt.Println(err)
	// Output:
	// true
	// <nil>
}
