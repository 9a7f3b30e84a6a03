package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// wantThrottled checks for a *ThrottledError with the given wait.
func wantThrottled(t *testing.T, err error, wait time.Duration) {
	t.Helper()
	var te *auth.ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("err = %v, want a ThrottledError", err)
	}
	if te.RetryAfter != wait {
		t.Errorf("RetryAfter = %v, want %v", te.RetryAfter, wait)
	}
}

func TestLoginThrottlePerUsername(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.register(t, "tess", "password-1")
	for i := range 5 {
		if _, err := f.a.Login(ctx, "tess", "wrong-password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	// Throttled: the right password gets the same answer, and no argon2id
	// work is done for it.
	probe := auth.ProbeHashes(f.a)
	for _, spelling := range []string{"tess", "TESS", "ｔｅｓｓ"} {
		_, err := f.a.Login(ctx, spelling, "password-1")
		wantThrottled(t, err, time.Minute)
	}
	if _, err := f.a.Login(ctx, "tess", "wrong-password"); !errors.Is(err, auth.ErrThrottled) {
		t.Errorf("wrong password while throttled: %v", err)
	}
	if n := probe.Count(); n != 0 {
		t.Errorf("throttled attempts ran %d derivations", n)
	}
	// Other names are not affected.
	f.register(t, "tom", "password-1")
	f.login(t, "tom", "password-1")

	// One attempt a minute, and a success clears the failures.
	f.clock.Advance(30 * time.Second)
	_, err := f.a.Login(ctx, "tess", "password-1")
	wantThrottled(t, err, 30*time.Second)
	f.clock.Advance(30 * time.Second)
	f.login(t, "tess", "password-1")
	for i := range 5 {
		if _, err := f.a.Login(ctx, "tess", "wrong-password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d after a success: %v", i+1, err)
		}
	}
	// Never for good: left alone, the whole burst comes back.
	f.clock.Advance(5 * time.Minute)
	for i := range 5 {
		if _, err := f.a.Login(ctx, "tess", "wrong-password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d after five minutes: %v", i+1, err)
		}
	}
	f.clock.Advance(time.Minute)
	f.login(t, "tess", "password-1")
}

// Unknown names are throttled exactly like real ones, so the throttle is
// no way to find out which names exist.
func TestLoginThrottleUnknownUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for range 5 {
		if _, err := f.a.Login(ctx, "nobody", "password-1"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatal(err)
		}
	}
	_, err := f.a.Login(ctx, "nobody", "password-1")
	wantThrottled(t, err, time.Minute)
}

func TestLoginThrottlePerAddress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	from := func(addr string) context.Context {
		return auth.ContextWithClient(ctx, auth.Client{Addr: netip.MustParseAddr(addr)})
	}
	for i := range 30 {
		f.register(t, fmt.Sprint("user", i), "password-1")
	}
	// Successes cost nothing, from one address as from many.
	for i := range 50 {
		if _, err := f.a.Login(from("203.0.113.7"), fmt.Sprint("user", i%30), "password-1"); err != nil {
			t.Fatalf("success %d: %v", i, err)
		}
	}
	// Twenty failures spread over names, then the address is throttled
	// for every name.
	for i := range 20 {
		if _, err := f.a.Login(from("203.0.113.7"), fmt.Sprint("user", i), "wrong-password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	_, err := f.a.Login(from("203.0.113.7"), "user25", "password-1")
	wantThrottled(t, err, 6*time.Second)
	// The name's budget was given back, not spent, by the refused attempt.
	f.login(t, "user25", "password-1")
	// Another address is not affected; IPv4-mapped IPv6 is the same client.
	if _, err := f.a.Login(from("203.0.113.8"), "user26", "password-1"); err != nil {
		t.Errorf("another address: %v", err)
	}
	if _, err := f.a.Login(from("::ffff:203.0.113.7"), "user26", "password-1"); !errors.Is(err, auth.ErrThrottled) {
		t.Errorf("IPv4-mapped form of a throttled address: %v", err)
	}
	f.clock.Advance(6 * time.Second)
	if _, err := f.a.Login(from("203.0.113.7"), "user26", "password-1"); err != nil {
		t.Errorf("six seconds later: %v", err)
	}
}

// An IPv6 client is charged per /64, since it commonly holds all of one.
func TestLoginThrottleIPv6Prefix(t *testing.T) {
	f := newFixture(t, auth.WithLoginLimits(auth.RateLimit{}, auth.RateLimit{Burst: 2, Every: time.Minute}))
	ctx := context.Background()
	from := func(addr string) context.Context {
		return auth.ContextWithClient(ctx, auth.Client{Addr: netip.MustParseAddr(addr)})
	}
	_, _ = f.a.Login(from("2001:db8:1:2::1"), "nobody", "password-1")
	_, _ = f.a.Login(from("2001:db8:1:2:ffff::9"), "nobody", "password-1")
	if _, err := f.a.Login(from("2001:db8:1:2:aaaa::1%eth0"), "nobody", "password-1"); !errors.Is(err, auth.ErrThrottled) {
		t.Errorf("same /64: %v, want throttled", err)
	}
	if _, err := f.a.Login(from("2001:db8:1:3::1"), "nobody", "password-1"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("another /64: %v, want invalid credentials", err)
	}
}

func TestChangePasswordCountsAgainstTheLoginBudget(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "sven", "password-1")
	for range 5 {
		if err := f.a.ChangePassword(ctx, u, "password-x", "password-2"); !errors.Is(err, auth.ErrIncorrectPassword) {
			t.Fatal(err)
		}
	}
	wantThrottled(t, f.a.ChangePassword(ctx, u, "password-1", "password-2"), time.Minute)
	_, err := f.a.Login(ctx, "sven", "password-1")
	wantThrottled(t, err, time.Minute)
	f.clock.Advance(time.Minute)
	if err := f.a.ChangePassword(ctx, u, "password-1", "password-2"); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
}

// An attempt that never checked a password (store down, server busy) is not
// charged to anyone.
func TestThrottleChargesNothingForAttemptsThatDidNotHappen(t *testing.T) {
	f := newFixture(t)
	fs, a := f.withFlakyStore(t)
	ctx := auth.ContextWithClient(context.Background(), auth.Client{Addr: netip.MustParseAddr("198.51.100.1")})
	if _, err := a.Register(ctx, "rita", "password-1"); err != nil {
		t.Fatal(err)
	}
	fs.setErr(errDown)
	for range 30 {
		if _, err := a.Login(ctx, "rita", "wrong-password"); !errors.Is(err, auth.ErrUnavailable) {
			t.Fatalf("store down: %v", err)
		}
	}
	fs.setErr(nil)
	for i := range 5 {
		if _, err := a.Login(ctx, "rita", "wrong-password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d after the outage: %v", i+1, err)
		}
	}
}

// failingLimiter is a Limiter whose store is down.
type failingLimiter struct{}

var errLimiterDown = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

func (failingLimiter) Check(context.Context, string) (time.Duration, error) { return 0, errLimiterDown }
func (failingLimiter) Take(context.Context, string) (time.Duration, error)  { return 0, errLimiterDown }
func (failingLimiter) Charge(context.Context, string) error                 { return errLimiterDown }
func (failingLimiter) Reset(context.Context, string) error                  { return errLimiterDown }

func TestBrokenLimiterFailsClosed(t *testing.T) {
	f := newFixture(t, auth.WithLoginLimiters(failingLimiter{}, nil))
	f.register(t, "quin", "password-1")
	probe := auth.ProbeHashes(f.a)
	_, err := f.a.Login(context.Background(), "quin", "password-1")
	if !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("Login = %v, want ErrUnavailable", err)
	}
	if probe.Count() != 0 {
		t.Error("a password was checked without the limiter's consent")
	}
	r := loginForm(f.a.Handler(), "quin", "password-1")
	wantError(t, r, http.StatusServiceUnavailable, "Service temporarily unavailable, retry later", "temporarily_unavailable")
}

func TestThrottleCanBeTurnedOff(t *testing.T) {
	for name, opt := range map[string]auth.Option{
		"zero limits":  auth.WithLoginLimits(auth.RateLimit{}, auth.RateLimit{}),
		"nil limiters": auth.WithLoginLimiters(nil, nil),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, opt)
			ctx := auth.ContextWithClient(context.Background(), auth.Client{Addr: netip.MustParseAddr("192.0.2.9")})
			for range 30 {
				if _, err := f.a.Login(ctx, "nobody", "password-1"); !errors.Is(err, auth.ErrInvalidCredentials) {
					t.Fatal(err)
				}
			}
		})
	}
}

// The limiters are shared by all instances that get the same one, which
// is what the redislimit module relies on.
func TestSharedLimiterSharesTheBudget(t *testing.T) {
	clock := newClock()
	l, err := auth.NewMemoryLimiter(auth.RateLimit{Burst: 4, Every: time.Minute}, 100, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	a1 := newFixture(t, auth.WithLoginLimiters(l, l)).a
	a2 := newFixture(t, auth.WithLoginLimiters(l, l)).a
	ctx := context.Background()
	for _, a := range []*auth.Authenticator{a1, a2, a1, a2} {
		if _, err := a.Login(ctx, "nobody", "password-1"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatal(err)
		}
	}
	for _, a := range []*auth.Authenticator{a1, a2} {
		if _, err := a.Login(ctx, "nobody", "password-1"); !errors.Is(err, auth.ErrThrottled) {
			t.Errorf("fifth failure across instances: %v", err)
		}
	}
}

// Concurrent guesses can overshoot the burst by at most the hashing
// concurrency: the budget is checked again inside the hashing slot, and a
// failure is charged before the slot is freed. The first derivations are
// held until every slot is busy, so the overshoot is as large as it gets.
func TestConcurrentGuessesStayWithinTheBound(t *testing.T) {
	const slots, burst = 4, 5
	f := newFixture(t, auth.WithHashConcurrency(slots), auth.WithHashWait(time.Minute))
	f.register(t, "pia", "password-1")
	probe := auth.ProbeHashes(f.a)
	started := probe.Hold()
	var wg sync.WaitGroup
	var mu sync.Mutex
	checked := 0
	for range 40 {
		wg.Go(func() {
			_, err := f.a.Login(context.Background(), "pia", "wrong-password")
			if errors.Is(err, auth.ErrInvalidCredentials) {
				mu.Lock()
				checked++
				mu.Unlock()
			}
		})
	}
	// The first wave holds every slot, having passed the check, before
	// any guess is charged.
	for range slots {
		<-started
	}
	probe.Release()
	wg.Wait()
	if checked < burst || checked > burst+slots-1 {
		t.Errorf("%d of 40 concurrent guesses were checked, want %d to %d", checked, burst, burst+slots-1)
	}
	// The overshoot is owed: the next guess waits one interval per guess
	// past the burst.
	_, err := f.a.Login(context.Background(), "pia", "password-1")
	wantThrottled(t, err, time.Duration(checked-burst+1)*time.Minute)
}

func loginFrom(h http.Handler, remoteAddr, user, pass string, header ...string) response {
	return doFrom(h, remoteAddr, http.MethodPost, "/auth/login", ctForm, url.Values{"username": {user}, "password": {pass}}.Encode(), header...)
}

func TestThrottledLoginEndpoint(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	f.register(t, "olaf", "password-1")
	for range 5 {
		wantError(t, loginForm(h, "olaf", "password-2"), http.StatusUnauthorized, "Invalid username or password", "invalid_grant")
	}
	right := loginForm(h, "olaf", "password-1")
	wrong := loginForm(h, "olaf", "password-2")
	wantError(t, right, http.StatusTooManyRequests, "Too many failed login attempts, retry later", "too_many_attempts")
	if string(right.body) != string(wrong.body) || right.header.Get("Retry-After") != "60" || wrong.header.Get("Retry-After") != "60" {
		t.Errorf("throttled answers differ or lack Retry-After: %q %q, %q %q",
			right.body, right.header.Get("Retry-After"), wrong.body, wrong.header.Get("Retry-After"))
	}
	f.clock.Advance(59500 * time.Millisecond)
	if r := loginForm(h, "olaf", "password-1"); r.header.Get("Retry-After") != "1" {
		t.Errorf("half a second left: Retry-After %q, want it rounded up to 1", r.header.Get("Retry-After"))
	}
	f.clock.Advance(500 * time.Millisecond)
	p := tokensOf(t, loginForm(h, "olaf", "password-1"))

	for range 5 {
		wantError(t, postJSON(h, "/auth/change-password", `{"current_password":"password-x","new_password":"password-2"}`, bearer(p.AccessToken)...),
			http.StatusBadRequest, "Current password is incorrect", "incorrect_password")
	}
	wantError(t, postJSON(h, "/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`, bearer(p.AccessToken)...),
		http.StatusTooManyRequests, "Too many failed login attempts, retry later", "too_many_attempts")
}

// The handler charges the peer address, and believes a forwarding header
// only from a trusted proxy.
func TestHandlerChargesTheClientAddress(t *testing.T) {
	proxies := auth.WithTrustedProxy("x-forwarded-for", netip.MustParsePrefix("10.0.0.0/8"))
	f := newFixture(t, proxies, auth.WithLoginLimits(auth.RateLimit{}, auth.RateLimit{Burst: 3, Every: time.Minute}))
	h := f.a.Handler()
	fail := func(remote string, header ...string) int {
		return loginFrom(h, remote, "nobody", "password-1", header...).status
	}
	// A direct client cannot dodge its budget with a made-up header.
	for i := range 3 {
		if s := fail("198.51.100.5:4000", "X-Forwarded-For", fmt.Sprint("192.0.2.", i)); s != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, s)
		}
	}
	if s := fail("198.51.100.5:4001", "X-Forwarded-For", "192.0.2.99"); s != http.StatusTooManyRequests {
		t.Errorf("spoofed header from an untrusted peer: %d, want 429", s)
	}
	// Behind the proxy, each client has its own budget...
	for i := range 3 {
		if s := fail("10.1.1.1:80", "X-Forwarded-For", "1.2.3.4, 203.0.113.10, 10.2.2.2"); s != http.StatusUnauthorized {
			t.Fatalf("proxied failure %d: %d", i+1, s)
		}
	}
	// ...and what the client wrote to the left of its real address does
	// not change which budget is charged.
	if s := fail("10.1.1.1:80", "X-Forwarded-For", "9.9.9.9, 203.0.113.10"); s != http.StatusTooManyRequests {
		t.Errorf("same client, other spoofed prefix: %d, want 429", s)
	}
	if s := fail("10.1.1.1:80", "X-Forwarded-For", "203.0.113.11"); s != http.StatusUnauthorized {
		t.Errorf("another client behind the proxy: %d, want 401", s)
	}
	// An address the application set first is used as it is.
	preset := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.ContextWithClient(r.Context(), auth.Client{Addr: netip.MustParseAddr("198.51.100.5")})))
	})
	if s := loginFrom(preset, "10.1.1.1:80", "nobody", "password-1", "X-Forwarded-For", "203.0.113.12").status; s != http.StatusTooManyRequests {
		t.Errorf("address set by the application: %d, want 429 (198.51.100.5 is spent)", s)
	}
}

// from returns ctx for a client at addr.
func from(addr string) context.Context {
	return auth.ContextWithClient(context.Background(), auth.Client{Addr: netip.MustParseAddr(addr)})
}

// Correct logins in flight use up no budget: an office of 25 behind one
// NAT address, or one user on six devices at once, all get in. Only
// failures count, and the hashing slots, not a 429, bound concurrency.
func TestConcurrentCorrectLoginsAreNeverThrottled(t *testing.T) {
	for name, tc := range map[string]struct{ users, logins int }{
		"25 users behind one address": {25, 25},
		"one user, 6 logins at once":  {1, 6},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, auth.WithHashConcurrency(tc.logins))
			for i := range tc.users {
				f.register(t, fmt.Sprint("user", i), "password-1")
			}
			probe := auth.ProbeHashes(f.a)
			started := probe.Hold()
			errs := make(chan error, tc.logins)
			for i := range tc.logins {
				go func() {
					_, err := f.a.Login(from("203.0.113.7"), fmt.Sprint("user", i%tc.users), "password-1")
					errs <- err
				}()
			}
			// Wait until every login is either hashing (all at once, so
			// really concurrent) or already answered.
			var early []error
			for n := 0; n < tc.logins; {
				select {
				case <-started:
				case err := <-errs:
					early = append(early, err)
				}
				n++
			}
			probe.Release()
			for range tc.logins - len(early) {
				early = append(early, <-errs)
			}
			for _, err := range early {
				if err != nil {
					t.Errorf("a correct login: %v", err)
				}
			}
		})
	}
}

// An address that keeps hammering an account whose budget is spent pays
// for it: each 429 is charged to the address, which soon has nothing left
// for anyone.
func TestThrottledAttemptsCostTheAddress(t *testing.T) {
	f := newFixture(t)
	f.register(t, "vic", "password-1")
	f.register(t, "other", "password-1")
	for range 5 {
		if _, err := f.a.Login(from("198.51.100.1"), "vic", "wrong-password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		_, err := f.a.Login(from("203.0.113.9"), "vic", "wrong-password")
		if !errors.Is(err, auth.ErrThrottled) {
			t.Fatalf("attempt %d at a locked account: %v, want throttled", i+1, err)
		}
	}
	_, err := f.a.Login(from("203.0.113.9"), "other", "password-1")
	wantThrottled(t, err, 6*time.Second)
	// The address that did not hammer is untouched.
	if _, err := f.a.Login(from("198.51.100.1"), "other", "password-1"); err != nil {
		t.Errorf("another address: %v", err)
	}
}

// Registration has a budget per address, success or not: 10 at once,
// then one every 6 minutes.
func TestRegisterEndpointIsThrottledPerAddress(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	register := func(remote, name string) response {
		return doFrom(h, remote, http.MethodPost, "/auth/register", ctJSON, `{"username":"`+name+`","password":"password-1"}`)
	}
	for i := range 10 {
		name := fmt.Sprint("user", i)
		if i%2 == 1 {
			name = "user0" // taken: it counts all the same
		}
		if r := register("198.51.100.20:1", name); r.status != http.StatusCreated && r.status != http.StatusConflict {
			t.Fatalf("registration %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := register("198.51.100.20:2", "late")
	wantError(t, r, http.StatusTooManyRequests, "Too many registrations, retry later", "too_many_attempts")
	if got := r.header.Get("Retry-After"); got != "360" {
		t.Errorf("Retry-After = %q, want 360", got)
	}
	if r := register("198.51.100.21:1", "elsewhere"); r.status != http.StatusCreated {
		t.Errorf("another address: %d %s", r.status, r.body)
	}
	f.clock.Advance(6 * time.Minute)
	if r := register("198.51.100.20:3", "late"); r.status != http.StatusCreated {
		t.Errorf("six minutes later: %d %s", r.status, r.body)
	}
	if r := register("198.51.100.20:3", "later"); r.status != http.StatusTooManyRequests {
		t.Errorf("again at once: %d, want 429", r.status)
	}
}

// lockoutRun simulates 20 minutes, second by second on the fake clock, of an
// attacker at one address who tries to keep n accounts locked, while each
// account's owner logs in once a minute from an address of their own (with
// the device token of a login before the attack, when device is set). The
// attacker either hammers (a guess at every account every second) or is
// smart (guesses at an account only when its Retry-After has passed). It
// returns how many accounts were locked for their owner at every login
// after the first five minutes, and how many owner logins were refused.
func lockoutRun(t *testing.T, n int, smart, device bool) (kept, refused, logins int) {
	t.Helper()
	f := newFixture(t, auth.WithHashConcurrency(1))
	owners := make([]context.Context, n)
	for k := range n {
		name := fmt.Sprint("user", k)
		f.register(t, name, "password-1")
		owners[k] = from(fmt.Sprintf("198.51.100.%d", k+1))
		pair, err := f.a.Login(owners[k], name, "password-1")
		if err != nil {
			t.Fatal(err)
		}
		if device {
			owners[k] = auth.ContextWithDeviceToken(owners[k], pair.DeviceToken)
		}
	}
	attacker := from("203.0.113.9")
	next := make([]time.Duration, n)
	lockedAlways := make([]bool, n)
	for k := range lockedAlways {
		lockedAlways[k] = true
	}
	for sec := range 20 * 60 {
		now := time.Duration(sec) * time.Second
		if smart {
			for k := range n {
				if next[k] > now {
					continue
				}
				_, err := f.a.Login(attacker, fmt.Sprint("user", k), "wrong-password")
				next[k] = now + time.Second
				var te *auth.ThrottledError
				if errors.As(err, &te) {
					next[k] = now + te.RetryAfter
				}
			}
		} else {
			for k := range n {
				_, _ = f.a.Login(attacker, fmt.Sprint("user", k), "wrong-password")
			}
		}
		if sec%60 == 30 && sec >= 300 {
			for k := range n {
				_, err := f.a.Login(owners[k], fmt.Sprint("user", k), "password-1")
				logins++
				switch {
				case errors.Is(err, auth.ErrThrottled):
					refused++
				case err != nil:
					t.Fatalf("owner login: %v", err)
				default:
					lockedAlways[k] = false
				}
			}
		}
		f.clock.Advance(time.Second)
	}
	for _, l := range lockedAlways {
		if l {
			kept++
		}
	}
	return kept, refused, logins
}

// TestLockoutFigures measures how many accounts one address can keep
// locked, with the default budgets, for the table in SECURITY.md (go test
// -run TestLockoutFigures -v prints it).
func TestLockoutFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("20 minutes of simulated attack")
	}
	for _, n := range []int{5, 10, 20} {
		for _, smart := range []bool{false, true} {
			for _, device := range []bool{false, true} {
				kept, refused, logins := lockoutRun(t, n, smart, device)
				t.Logf("accounts %2d, smart %-5v, device tokens %-5v: %2d kept locked throughout, %4d of %4d owner logins refused",
					n, smart, device, kept, refused, logins)
				if device && refused > 0 {
					t.Errorf("%d accounts, smart %v: %d owner logins with a device token were refused", n, smart, refused)
				}
				// Hammering pays for its 429s: it keeps one account at
				// most (it kept 6 or 7 of 10 or 20 when 429s were free).
				if !smart && !device && n > 5 && kept > 1 {
					t.Errorf("%d accounts, hammering: one address kept %d locked", n, kept)
				}
				// Each locked account costs a failure a minute, and the
				// address earns 10 a minute.
				if kept > 10 {
					t.Errorf("%d accounts, smart %v: one address kept %d locked", n, smart, kept)
				}
			}
		}
	}
}
