package auth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// TestMisconfigurationSpeaks: each mistake a new user made gets an error
// that matches ErrInvalidConfig and says what to do.
func TestMisconfigurationSpeaks(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []auth.Option
		want error
		text string
	}{
		{"empty secret", []auth.Option{auth.WithSecret(nil)}, auth.ErrWeakSecret,
			"auth: signing secret is empty; generate one with `openssl rand -hex 32`"},
		{"short secret", []auth.Option{auth.WithSecret([]byte("too-short-secret"))}, auth.ErrWeakSecret,
			"auth: signing secret is too short: got 16 bytes, need at least 32; generate one with `openssl rand -hex 32`"},
		{"repeated word", []auth.Option{auth.WithSecret([]byte("passwordpasswordpasswordpassword"))}, auth.ErrWeakSecret,
			"auth: signing secret is too predictable: about 31 bits of entropy, need at least 80"},
		{"run of digits", []auth.Option{auth.WithSecret([]byte("12345678901234567890123456789012"))}, auth.ErrWeakSecret,
			"auth: signing secret is too predictable"},
		{"the alphabet", []auth.Option{auth.WithSecret([]byte("abcdefghijklmnopqrstuvwxyz012345"))}, auth.ErrWeakSecret,
			"auth: signing secret is too predictable"},
		{"one character", []auth.Option{auth.WithSecret([]byte(strings.Repeat("a", 40)))}, auth.ErrWeakSecret,
			"auth: signing secret is too predictable"},
		{"repeated word and a suffix", []auth.Option{auth.WithSecret([]byte("passwordpasswordpasswordpassword1"))}, auth.ErrWeakSecret,
			"auth: signing secret is too predictable"},
		{"repeated word with digits", []auth.Option{auth.WithSecret([]byte("Password123Password123Password123!"))}, auth.ErrWeakSecret,
			"auth: signing secret is too predictable"},
		{"keyboard rows", []auth.Option{auth.WithSecret([]byte("qwertyuiopasdfghjklzxcvbnm123456"))}, auth.ErrWeakSecret,
			"auth: signing secret is too predictable"},
		{"hex digits twice", []auth.Option{auth.WithSecret([]byte("0123456789abcdef0123456789abcdef-test-only"))}, auth.ErrWeakSecret,
			"auth: signing secret is too predictable"},
		{"no key", nil, auth.ErrWeakSecret, "no signing key: use WithSecret or WithSigningKey"},
		{"access TTL in nanoseconds", []auth.Option{auth.WithSecret(testSecret), auth.WithAccessTTL(30)}, auth.ErrInvalidConfig,
			"auth: access TTL is 30ns; it must be at least a second (did you mean 30 * time.Minute?)"},
		{"refresh TTL shorter than access TTL", []auth.Option{auth.WithSecret(testSecret), auth.WithAccessTTL(time.Hour), auth.WithRefreshTTL(time.Minute)}, auth.ErrInvalidConfig,
			"auth: refresh TTL (1m0s) is shorter than the access TTL (1h0m0s)"},
		{"nil logger", []auth.Option{auth.WithSecret(testSecret), auth.WithLogger(nil)}, auth.ErrInvalidConfig,
			"pass slog.New(slog.DiscardHandler)"},
		{"zero store timeout", []auth.Option{auth.WithSecret(testSecret), auth.WithStoreTimeout(0)}, auth.ErrInvalidConfig,
			"auth: store timeout is 0s; it must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.New(memstore.New(), tc.opts...)
			if !errors.Is(err, tc.want) || !errors.Is(err, auth.ErrInvalidConfig) {
				t.Fatalf("New = %v, want %v (and ErrInvalidConfig)", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("New = %q, want one line containing %q", err, tc.text)
			}
		})
	}
	// Random secrets pass, in hex and in raw bytes.
	for _, s := range []string{"9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8", "kJ8s9dF2mN4pQ7rT1vX3zB6cE0gH5jL8"} {
		if _, err := auth.New(memstore.New(), auth.WithSecret([]byte(s))); err != nil {
			t.Errorf("New with a random secret %q: %v", s, err)
		}
	}
}

// TestFailuresReachDefaultLogger: without WithLogger a 500 is logged to
// slog.Default at error level; WithLogger redirects it, and a discard
// logger silences it.
func TestFailuresReachDefaultLogger(t *testing.T) {
	var def bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&def, nil)))
	defer slog.SetDefault(prev)

	broken := errors.New("the store broke")
	fs := &flakyStore{UserStore: memstore.New()}
	fs.setErr(broken)
	var mine bytes.Buffer
	for _, tc := range []struct {
		name   string
		opts   []auth.Option
		where  *bytes.Buffer
		silent bool
	}{
		{"default", nil, &def, false},
		{"WithLogger", []auth.Option{auth.WithLogger(slog.New(slog.NewTextHandler(&mine, nil)))}, &mine, false},
		{"discard", []auth.Option{auth.WithLogger(slog.New(slog.DiscardHandler))}, &def, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def.Reset()
			mine.Reset()
			a, err := auth.New(fs, append([]auth.Option{auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests()}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			r := serve(a.Handler(), loginRequest("alice", "password-1"))
			if r.status != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500", r.status)
			}
			got := tc.where.String()
			if tc.silent {
				if def.Len()+mine.Len() != 0 {
					t.Fatalf("discard logger: something was logged: %q %q", def.String(), mine.String())
				}
				return
			}
			if !strings.Contains(got, "level=ERROR") || !strings.Contains(got, "the store broke") || !strings.Contains(got, "path=/auth/login") {
				t.Fatalf("log = %q, want the failure at error level", got)
			}
			if strings.Contains(got, "password-1") {
				t.Fatalf("log holds the password: %q", got)
			}
		})
	}
}

// TestStoreTimeout: a store that stops answering costs a request the store
// timeout, then a 503 with Retry-After, not as long as the store is silent.
func TestStoreTimeout(t *testing.T) {
	fs := &flakyStore{UserStore: memstore.New()}
	fs.setHang(true)
	a, err := auth.New(fs, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(),
		auth.WithStoreTimeout(20*time.Millisecond), auth.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Login(context.Background(), "alice", "password-1")
	if !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("Login = %v, want ErrUnavailable", err)
	}
	r := serve(a.Handler(), loginRequest("alice", "password-1"))
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q, want 503 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	// The caller's own cancellation is not an outage.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Login(ctx, "alice", "password-1"); errors.Is(err, auth.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Login with a canceled context = %v, want context.Canceled and not ErrUnavailable", err)
	}
}

func TestNewRejectsUnsafeConfig(t *testing.T) {
	weak := auth.DefaultPasswordParams()
	weak.Memory = 4096
	shortSalt := auth.DefaultPasswordParams()
	shortSalt.SaltLength = 8
	huge := auth.DefaultPasswordParams()
	huge.Memory = 4 << 20
	tests := []struct {
		name string
		opts []auth.Option
		want error
	}{
		{"no secret", nil, auth.ErrWeakSecret},
		{"short secret", []auth.Option{auth.WithSecret([]byte("too-short-secret"))}, auth.ErrWeakSecret},
		{"origin placeholder", []auth.Option{auth.WithSecret([]byte("change-me-in-production-please-use-a-secure-secret-key"))}, auth.ErrWeakSecret},
		{"repeated byte", []auth.Option{auth.WithSecret([]byte(strings.Repeat("a", 40)))}, auth.ErrWeakSecret},
		{"leeway over a minute", []auth.Option{auth.WithSecret(testSecret), auth.WithLeeway(2 * time.Minute)}, nil},
		{"negative leeway", []auth.Option{auth.WithSecret(testSecret), auth.WithLeeway(-time.Second)}, nil},
		{"zero access TTL", []auth.Option{auth.WithSecret(testSecret), auth.WithAccessTTL(0)}, nil},
		{"negative refresh TTL", []auth.Option{auth.WithSecret(testSecret), auth.WithRefreshTTL(-time.Hour)}, nil},
		{"memory below OWASP", []auth.Option{auth.WithSecret(testSecret), auth.WithPasswordParams(weak)}, nil},
		{"m=64MiB t=1 is fine but m=19MiB t=1 is not", []auth.Option{auth.WithSecret(testSecret), auth.WithPasswordParams(auth.PasswordParams{Memory: 19456, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32})}, nil},
		{"short salt", []auth.Option{auth.WithSecret(testSecret), auth.WithPasswordParams(shortSalt)}, nil},
		{"memory over cap", []auth.Option{auth.WithSecret(testSecret), auth.WithPasswordParams(huge)}, nil},
		{"nil clock", []auth.Option{auth.WithSecret(testSecret), auth.WithClock(nil)}, nil},
		{"nil logger", []auth.Option{auth.WithSecret(testSecret), auth.WithLogger(nil)}, nil},
		{"no hashing slots", []auth.Option{auth.WithSecret(testSecret), auth.WithHashConcurrency(0)}, nil},
		{"negative hash wait", []auth.Option{auth.WithSecret(testSecret), auth.WithHashWait(-time.Second)}, nil},
		{"login limit without interval", []auth.Option{auth.WithSecret(testSecret), auth.WithLoginLimits(auth.RateLimit{Burst: 5}, auth.RateLimit{})}, nil},
		{"negative address burst", []auth.Option{auth.WithSecret(testSecret), auth.WithLoginLimits(auth.RateLimit{}, auth.RateLimit{Burst: -1, Every: time.Second})}, nil},
		{"trusted proxy without prefixes", []auth.Option{auth.WithSecret(testSecret), auth.WithTrustedProxy("X-Forwarded-For")}, nil},
		{"trusted proxy without header", []auth.Option{auth.WithSecret(testSecret), auth.WithTrustedProxy("", netip.MustParsePrefix("10.0.0.0/8"))}, nil},
		{"trusted proxy with a bad header name", []auth.Option{auth.WithSecret(testSecret), auth.WithTrustedProxy("X Real IP", netip.MustParsePrefix("10.0.0.0/8"))}, nil},
		{"trusted proxy with an invalid prefix", []auth.Option{auth.WithSecret(testSecret), auth.WithTrustedProxy("X-Real-IP", netip.Prefix{})}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := auth.New(memstore.New(), tc.opts...)
			if err == nil || a != nil {
				t.Fatalf("New succeeded, want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("New error = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := auth.New(nil, auth.WithSecret(testSecret)); err == nil {
		t.Error("New(nil store) succeeded")
	}
	// The OWASP minimum itself is accepted, and so are the defaults.
	ok := auth.PasswordParams{Memory: 19456, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32}
	oneTime := auth.PasswordParams{Memory: 47104, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}
	for _, p := range []auth.PasswordParams{ok, auth.DefaultPasswordParams(), oneTime} {
		if _, err := auth.New(memstore.New(), auth.WithSecret(testSecret), auth.WithPasswordParams(p)); err != nil {
			t.Errorf("New with %+v: %v", p, err)
		}
	}
}

func TestInsecureHashingIsCheap(t *testing.T) {
	f := newFixture(t)
	u := f.register(t, "olga", "password-1")
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash = %q", u.PasswordHash)
	}
	// WithPasswordParams after it restores the full check.
	weak := auth.PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}
	if _, err := auth.New(memstore.New(), auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithPasswordParams(weak)); err == nil {
		t.Error("weak WithPasswordParams accepted after WithInsecureFastHashingForTests")
	}
}

func TestNewRejectsBadCacheOptions(t *testing.T) {
	for _, opt := range []auth.Option{auth.WithTokenCacheSize(-1), auth.WithUserCacheTTL(-time.Second), auth.WithUserCacheTTL(2 * time.Minute)} {
		if _, err := auth.New(memstore.New(), auth.WithSecret(testSecret), opt); err == nil {
			t.Error("New accepted a bad cache option")
		}
	}
}
