package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"golang.org/x/crypto/argon2"
)

// okHandler writes its headers before "ok", so that the recorder does not
// sniff the content type: that would add a microsecond to every stack.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
})

func benchRequest(b *testing.B, h http.Handler, token string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, "/hello", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}

func benchFixture(b *testing.B, opts ...auth.Option) (*auth.Authenticator, auth.TokenPair) {
	b.Helper()
	a, err := auth.New(memstore.New(), append([]auth.Option{auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests()}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Register(ctx, "bench", "password-1"); err != nil {
		b.Fatal(err)
	}
	p, err := a.Login(ctx, "bench", "password-1")
	if err != nil {
		b.Fatal(err)
	}
	return a, p
}

// BenchmarkBareHandler is the baseline the middleware is measured against.
func BenchmarkBareHandler(b *testing.B) { benchRequest(b, okHandler, "") }

// BenchmarkMiddlewareRepeatToken is the common case: a client sends the same
// access token again, and the user's state is fresh in the cache.
func BenchmarkMiddlewareRepeatToken(b *testing.B) {
	a, p := benchFixture(b)
	benchRequest(b, a.Middleware(okHandler), p.AccessToken)
}

// BenchmarkMiddlewareRepeatAPIKey is the repeat-token case for an API key
// (issue 15): the key and the user's state are fresh in their caches, and
// last_used_at was written within the minute.
func BenchmarkMiddlewareRepeatAPIKey(b *testing.B) {
	a, p := benchFixture(b, auth.WithAPIKeys())
	u, err := a.VerifyAccessToken(context.Background(), p.AccessToken)
	if err != nil {
		b.Fatal(err)
	}
	_, key, err := a.CreateAPIKey(context.Background(), u.ID, "bench", []string{"repo:read"}, 0)
	if err != nil {
		b.Fatal(err)
	}
	benchRequest(b, a.Middleware(okHandler), key)
}

// BenchmarkMiddlewareFirstSight verifies the token's signature and claims on
// every request (no token cache); the user's state comes from the cache.
func BenchmarkMiddlewareFirstSight(b *testing.B) {
	a, p := benchFixture(b, auth.WithTokenCacheSize(0))
	benchRequest(b, a.Middleware(okHandler), p.AccessToken)
}

// BenchmarkMiddlewareNoCache verifies the token and reads the user from the
// store (here memstore) on every request, as a FastAPI app with a
// database look-up per request does.
func BenchmarkMiddlewareNoCache(b *testing.B) {
	a, p := benchFixture(b, auth.WithTokenCacheSize(0), auth.WithUserCacheTTL(0))
	benchRequest(b, a.Middleware(okHandler), p.AccessToken)
}

// BenchmarkMiddlewareRepeatTokenParallel runs the hot path on every core.
func BenchmarkMiddlewareRepeatTokenParallel(b *testing.B) {
	a, p := benchFixture(b)
	h := a.Middleware(okHandler)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/hello", nil)
		req.Header.Set("Authorization", "Bearer "+p.AccessToken)
		for pb.Next() {
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}

// BenchmarkRefresh signs a new token pair after verifying a refresh token
// (with session rotation in memstore).
func BenchmarkRefresh(b *testing.B) {
	a, p := benchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if p, err = a.Refresh(ctx, p.RefreshToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogin measures logins per second at the default argon2id
// parameters, on every core; compare with BenchmarkArgon2IDKey.
func BenchmarkLogin(b *testing.B) {
	a, err := auth.New(memstore.New(), auth.WithSecret(testSecret))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Register(ctx, "bench", "password-1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Login(ctx, "bench", "password-1"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkArgon2IDKey is the raw cost of one hash at the default
// parameters, on every core: the ceiling for BenchmarkLogin.
func BenchmarkArgon2IDKey(b *testing.B) {
	p := auth.DefaultPasswordParams()
	salt := []byte("0123456789abcdef")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			argon2.IDKey([]byte("password-1"), salt, p.Time, p.Memory, p.Threads, p.KeyLength)
		}
	})
}

func ExampleWithUserCacheTTL() {
	// Three instances share one PostgreSQL database. A user disabled on one
	// of them is refused there at once, and on the others within 1 s.
	a, err := auth.New(memstore.New(), auth.WithSecret(secret), auth.WithUserCacheTTL(time.Second))
	fmt.Println(a != nil, err)
	// Output: true <nil>
}
