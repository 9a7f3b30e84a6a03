package auth_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// Every way a login can fail costs exactly one argon2id derivation, the same
// as a success, so that timing tells an attacker nothing. Counted through
// the hashing seam, not measured with a clock.
func TestLoginCostsOneDerivationWhateverTheOutcome(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.register(t, "ok-user", "password-1")
	f.register(t, "wrong-pw", "password-1")
	off := f.register(t, "disabled", "password-1")
	if err := f.a.SetDisabled(ctx, off.ID, true); err != nil {
		t.Fatal(err)
	}
	for i, h := range []string{"$2b$12$notargon", "", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$!!!", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"} {
		u := &auth.User{Username: []string{"broken-a", "broken-b", "broken-c", "broken-d"}[i], PasswordHash: h, TokenVersion: 1}
		if err := f.store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, username, password string
		want                     error
	}{
		{"success", "ok-user", "password-1", nil},
		{"unknown user", "nobody", "password-1", auth.ErrInvalidCredentials},
		{"name that cannot exist", "bad name", "password-1", auth.ErrInvalidCredentials},
		{"wrong password", "wrong-pw", "password-2", auth.ErrInvalidCredentials},
		{"disabled user, wrong password", "disabled", "password-2", auth.ErrInvalidCredentials},
		{"disabled user, right password", "disabled", "password-1", auth.ErrUserDisabled},
		{"bcrypt hash", "broken-a", "password-1", auth.ErrInvalidCredentials},
		{"empty hash", "broken-b", "password-1", auth.ErrInvalidCredentials},
		{"bad base64", "broken-c", "password-1", auth.ErrInvalidCredentials},
		{"memory over the cap", "broken-d", "password-1", auth.ErrInvalidCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			probe := auth.ProbeHashes(f.a)
			_, err := f.a.Authenticate(ctx, tc.username, tc.password)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Authenticate = %v, want %v", err, tc.want)
			}
			if n := probe.Count(); n != 1 {
				t.Errorf("%d argon2id derivations, want exactly 1", n)
			}
		})
	}
}

// TestRegisterHashesOnlyForAFreeName: a taken name costs no hash (issue:
// registration flooded with taken names kept every hashing slot busy).
func TestRegisterHashesOnlyForAFreeName(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name, username, password string
		want                     error
		derivations              int
	}{
		{"new name", "Zoe", "password-1", nil, 1},
		{"taken name", "ZOE", "password-2", auth.ErrUserExists, 0},
		{"invalid input", "z", "short", auth.ErrValidation, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			probe := auth.ProbeHashes(f.a)
			_, err := f.a.Register(ctx, tc.username, tc.password)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Register = %v, want %v", err, tc.want)
			}
			if n := probe.Count(); n != tc.derivations {
				t.Errorf("%d argon2id derivations, want %d", n, tc.derivations)
			}
		})
	}
}

func TestChangePasswordDerivations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "yuri", "password-1")
	probe := auth.ProbeHashes(f.a)
	if err := f.a.ChangePassword(ctx, u, "password-x", "password-2"); !errors.Is(err, auth.ErrIncorrectPassword) {
		t.Fatalf("wrong current password: %v", err)
	}
	if n := probe.Count(); n != 1 {
		t.Errorf("wrong current password: %d derivations, want 1", n)
	}
	if err := f.a.ChangePassword(ctx, u, "password-1", "password-2"); err != nil {
		t.Fatal(err)
	}
	if n := probe.Count(); n != 3 {
		t.Errorf("change: %d derivations in all, want 1 + 2 (verify, hash)", n)
	}
}

// The number of derivations running at once never exceeds the limit.
func TestHashConcurrencyIsBounded(t *testing.T) {
	for _, limit := range []int{1, 3} {
		f := newFixture(t, auth.WithHashConcurrency(limit), auth.WithHashWait(time.Minute),
			auth.WithLoginLimits(auth.RateLimit{}, auth.RateLimit{}))
		f.register(t, "xena", "password-1")
		probe := auth.ProbeHashes(f.a)
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Go(func() {
				pw := "password-1"
				if i%2 == 1 {
					pw = "password-2"
				}
				_, _ = f.a.Authenticate(context.Background(), "xena", pw)
			})
		}
		wg.Wait()
		if probe.Count() != 24 || probe.Peak() > limit {
			t.Errorf("limit %d: %d derivations, peak %d at once", limit, probe.Count(), probe.Peak())
		}
	}
}

// When every slot stays taken past the wait, each endpoint that hashes
// answers 503 "Server busy, retry later" with Retry-After, never 500.
func TestBusyHashingGives503(t *testing.T) {
	f := newFixture(t, auth.WithHashConcurrency(1), auth.WithHashWait(0))
	h := f.a.Handler()
	f.register(t, "walt", "password-1")
	p := tokensOf(t, loginForm(h, "walt", "password-1"))

	probe := auth.ProbeHashes(f.a)
	started := probe.Hold()
	held := make(chan error, 1)
	go func() {
		_, err := f.a.Register(context.Background(), "holder", "password-1")
		held <- err
	}()
	<-started // the only slot is taken

	for name, r := range map[string]response{
		"register":        postJSON(h, "/auth/register", `{"username":"vera","password":"password-1"}`),
		"login":           loginForm(h, "walt", "password-1"),
		"login, unknown":  loginForm(h, "nobody", "password-1"),
		"change-password": postJSON(h, "/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`, bearer(p.AccessToken)...),
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, r, http.StatusServiceUnavailable, "Server busy, retry later", "temporarily_unavailable")
			if r.header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
		})
	}
	if _, err := f.a.Login(context.Background(), "walt", "password-1"); !errors.Is(err, auth.ErrBusy) {
		t.Errorf("Login while busy = %v, want ErrBusy", err)
	}
	probe.Release()
	if err := <-held; err != nil {
		t.Fatalf("the held registration: %v", err)
	}
	tokensOf(t, loginForm(h, "walt", "password-1"))
}

// A request waiting for a slot gives up when its context ends, and gets a
// slot once one is free.
func TestHashWaitRespectsContext(t *testing.T) {
	f := newFixture(t, auth.WithHashConcurrency(1), auth.WithHashWait(time.Hour))
	f.register(t, "ursula", "password-1")
	probe := auth.ProbeHashes(f.a)
	started := probe.Hold()
	held := make(chan error, 1)
	go func() {
		_, err := f.a.Authenticate(context.Background(), "ursula", "password-1")
		held <- err
	}()
	<-started

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.a.Authenticate(ctx, "ursula", "password-1"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while waiting: %v, want context.Canceled", err)
	}
	waiting := make(chan error, 1)
	go func() {
		_, err := f.a.Authenticate(context.Background(), "ursula", "password-1")
		waiting <- err
	}()
	probe.Release()
	for _, c := range []chan error{held, waiting} {
		if err := <-c; err != nil {
			t.Errorf("Authenticate: %v", err)
		}
	}
}

func TestDefaultPasswordParams(t *testing.T) {
	want := auth.PasswordParams{Memory: 65536, Time: 3, Threads: 4, SaltLength: 16, KeyLength: 32}
	if got := auth.DefaultPasswordParams(); got != want {
		t.Fatalf("DefaultPasswordParams() = %+v, want %+v", got, want)
	}
}

// Registration never takes the last free hashing slot: a flood of sign-ups
// leaves room for a login.
func TestRegistrationLeavesASlotForLogins(t *testing.T) {
	f := newFixture(t, auth.WithHashConcurrency(2), auth.WithHashWait(0))
	f.register(t, "yara", "password-1")
	probe := auth.ProbeHashes(f.a)
	started := probe.Hold()
	done := make(chan error, 3)
	go func() {
		_, err := f.a.Login(context.Background(), "yara", "password-1")
		done <- err
	}()
	<-started // one slot taken, one free

	go func() {
		_, err := f.a.Register(context.Background(), "zeno", "password-1")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, auth.ErrBusy) {
			t.Errorf("registration with one slot free: %v, want ErrBusy", err)
		}
	case <-started:
		probe.Release()
		t.Fatal("registration took the last free slot")
	}
	go func() {
		_, err := f.a.Login(context.Background(), "yara", "password-1")
		done <- err
	}()
	<-started // the login got the slot registration left
	probe.Release()
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("login: %v", err)
		}
	}
}
