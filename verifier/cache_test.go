package verifier_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/verifier"
)

// remote returns a verifier of srv's JWKS on clock, refetching at most every
// 30 seconds (the default).
func remote(t testing.TB, srv *jwksServer, clock *fakeClock, opts ...verifier.Option) *verifier.Verifier {
	t.Helper()
	v, err := verifier.New(append([]verifier.Option{verifier.WithJWKSURL(srv.url()), verifier.WithHTTPClient(srv.Client()),
		verifier.WithClock(clock.Now), verifier.WithIssuer(issuer), verifier.WithAudience(audience)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantHits(t *testing.T, srv *jwksServer, want int64) {
	t.Helper()
	if got := srv.hits.Load(); got != want {
		t.Fatalf("JWKS fetched %d times, want %d", got, want)
	}
}

func TestJWKSFetchedLazilyAndCached(t *testing.T) {
	ss := signers(t)
	clock := newClock()
	g := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(ss[0].key))
	srv := newJWKSServer(t, g.a.Handler())
	v := remote(t, srv, clock)
	ctx := context.Background()
	wantHits(t, srv, 0) // New makes no request

	token := g.login(t).AccessToken
	for range 5 {
		if _, err := v.Verify(ctx, token); err != nil {
			t.Fatal(err)
		}
	}
	wantHits(t, srv, 1)

	// Gatehouse serves max-age=600: the cache is fresh for ten minutes.
	clock.Advance(10*time.Minute - time.Second)
	token = g.login(t).AccessToken
	if _, err := v.Verify(ctx, token); err != nil {
		t.Fatal(err)
	}
	wantHits(t, srv, 1)
	clock.Advance(time.Second)
	if _, err := v.Verify(ctx, token); err != nil {
		t.Fatal(err)
	}
	wantHits(t, srv, 2)
}

// TestUnknownKIDRefetchIsRateLimited sends many tokens with unknown key IDs:
// they cause at most one fetch per refetch interval.
func TestUnknownKIDRefetchIsRateLimited(t *testing.T) {
	ss := signers(t)
	clock := newClock()
	store := memstore.New()
	g := newGatehouse(t, clock, store, auth.WithSigningKey(ss[0].key))
	srv := newJWKSServer(t, g.a.Handler())
	v := remote(t, srv, clock)
	ctx := context.Background()
	if err := v.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	wantHits(t, srv, 1)

	// An attacker's instance signs with keys Gatehouse never published.
	forger := newGatehouse(t, clock, store, auth.WithSigningKey(auth.PEMKey("unknown", readPEM(t, "ed25519-b.pem"))))
	forged := forger.login(t).AccessToken
	check := func() {
		t.Helper()
		if _, err := v.Verify(ctx, forged); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Fatalf("forged token: %v", err)
		}
	}
	// Within 30 seconds of the last fetch: no refetch at all.
	for range 100 {
		check()
	}
	wantHits(t, srv, 1)
	clock.Advance(30 * time.Second)
	for range 100 {
		check()
	}
	wantHits(t, srv, 2)
	clock.Advance(29 * time.Second)
	check()
	wantHits(t, srv, 2)
	clock.Advance(time.Second)
	check()
	wantHits(t, srv, 3)

	// A longer interval, when asked for.
	slow := remote(t, srv, clock, verifier.WithRefetchInterval(5*time.Minute))
	_ = slow.Refresh(ctx)
	clock.Advance(time.Minute)
	for range 10 {
		_, _ = slow.Verify(ctx, forged)
	}
	wantHits(t, srv, 4)
}

// TestNewKeyPickedUpAtOnce follows a rotation as a verifier sees it: the new
// key is fetched on its first token, old tokens keep working while the old
// key is published, and stop once it is gone and the cache expired.
func TestNewKeyPickedUpAtOnce(t *testing.T) {
	ss := signers(t)
	clock := newClock()
	store := memstore.New()
	before := newGatehouse(t, clock, store, auth.WithSigningKey(ss[0].key))
	srv := newJWKSServer(t, before.a.Handler())
	v := remote(t, srv, clock)
	ctx := context.Background()
	old := before.login(t).AccessToken
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)

	// ES256 becomes active; EdDSA only verifies.
	after := newGatehouse(t, clock, store, auth.WithSigningKey(ss[1].key), auth.WithVerificationKeys(ss[0].key))
	srv.set(after.a.Handler())
	fresh := after.login(t).AccessToken
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	wantHits(t, srv, 2)
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("token of the old key: %v", err)
	}

	// EdDSA is removed. Verifiers drop it when their cache expires.
	final := newGatehouse(t, clock, store, auth.WithSigningKey(ss[1].key), auth.WithAccessTTL(time.Hour))
	srv.set(final.a.Handler())
	old = before.login(t).AccessToken // still unexpired, but its key is gone
	clock.Advance(10 * time.Minute)
	if _, err := v.Verify(ctx, old); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatalf("token of the removed key: %v", err)
	}
	if _, err := v.Verify(ctx, final.login(t).AccessToken); err != nil {
		t.Fatalf("token of the remaining key: %v", err)
	}
}

// TestCacheControlBounds checks that max-age is honoured within one minute
// and one day.
func TestCacheControlBounds(t *testing.T) {
	ss := signers(t)
	tests := []struct {
		cacheControl string
		ttl          time.Duration
	}{
		{"public, max-age=3600", time.Hour},
		{"max-age=120, must-revalidate", 2 * time.Minute},
		{"max-age=1", time.Minute},
		{"max-age=0", time.Minute},
		{"no-store", time.Minute},
		{"no-cache", time.Minute},
		{"max-age=99999999999", 24 * time.Hour},
		{"MAX-AGE=300", 5 * time.Minute},
		{"max-age=soon", 10 * time.Minute},
		{"", 10 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.cacheControl, func(t *testing.T) {
			clock := newClock()
			g := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(ss[0].key), auth.WithAccessTTL(48*time.Hour))
			srv := newJWKSServer(t, static(http.StatusOK, tc.cacheControl, jwksOf(t, g.a)))
			v := remote(t, srv, clock)
			token := g.login(t).AccessToken
			ctx := context.Background()
			if _, err := v.Verify(ctx, token); err != nil {
				t.Fatal(err)
			}
			clock.Advance(tc.ttl - time.Second)
			_, _ = v.Verify(ctx, token)
			wantHits(t, srv, 1)
			clock.Advance(time.Second)
			_, _ = v.Verify(ctx, token)
			wantHits(t, srv, 2)
		})
	}
}

func TestJWKSFailures(t *testing.T) {
	ss := signers(t)
	clock := newClock()
	g := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(ss[0].key), auth.WithAccessTTL(48*time.Hour))
	good := jwksOf(t, g.a)
	bad := map[string]http.Handler{
		"500":          static(http.StatusInternalServerError, "", []byte(`{}`)),
		"404":          static(http.StatusNotFound, "", []byte(`{"detail":"Not Found","error":"not_found"}`)),
		"not JSON":     static(http.StatusOK, "", []byte("<html>")),
		"no keys":      static(http.StatusOK, "", []byte(`{"keys":[]}`)),
		"only HS256":   static(http.StatusOK, "", []byte(`{"keys":[{"kty":"oct","kid":"x","alg":"HS256","k":"AAAA"}]}`)),
		"bad key":      static(http.StatusOK, "", []byte(strings.Replace(string(good), `"x":"`, `"x":"AA`, 1))),
		"over 256 KiB": static(http.StatusOK, "", []byte(`{"keys":[],"pad":"`+strings.Repeat("x", 300<<10)+`"}`)),
	}
	for name, h := range bad {
		t.Run(name, func(t *testing.T) {
			clock := newClock()
			srv := newJWKSServer(t, h)
			v := remote(t, srv, clock)
			token := g.login(t).AccessToken
			ctx := context.Background()
			if err := v.Refresh(ctx); !errors.Is(err, verifier.ErrKeysUnavailable) {
				t.Fatalf("Refresh = %v", err)
			}
			// No keys at all: 503, and no new fetch for 30 seconds.
			if _, err := v.Verify(ctx, token); !errors.Is(err, verifier.ErrKeysUnavailable) {
				t.Fatalf("Verify = %v", err)
			}
			rec := serve(v.Middleware(whoami()), "Bearer "+token)
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
				rec.Body.String() != `{"detail":"Service temporarily unavailable, retry later","error":"temporarily_unavailable"}`+"\n" {
				t.Fatalf("middleware: %d %s", rec.Code, rec.Body)
			}
			wantHits(t, srv, 1)
			// Recovery is picked up after the refetch interval.
			srv.set(static(http.StatusOK, "max-age=600", good))
			clock.Advance(30 * time.Second)
			if _, err := v.Verify(ctx, token); err != nil {
				t.Fatalf("after recovery: %v", err)
			}
			wantHits(t, srv, 2)
			// Failing again: stale keys serve for an hour past expiry,
			// with a retry at most every 30 seconds.
			srv.set(h)
			clock.Advance(10 * time.Minute)
			for range 5 {
				if _, err := v.Verify(ctx, token); err != nil {
					t.Fatalf("with stale keys: %v", err)
				}
			}
			wantHits(t, srv, 3)
			clock.Advance(time.Hour - time.Second)
			if _, err := v.Verify(ctx, token); err != nil {
				t.Fatalf("stale keys at the end of the grace: %v", err)
			}
			wantHits(t, srv, 4)
			clock.Advance(time.Second)
			if _, err := v.Verify(ctx, token); !errors.Is(err, verifier.ErrKeysUnavailable) {
				t.Fatalf("past the grace: %v", err)
			}
		})
	}
}

func TestRefreshWithStaticKeys(t *testing.T) {
	v, err := verifier.New(verifier.WithKeys(signers(t)[0].verifier))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestUnreachableJWKS(t *testing.T) {
	srv := newJWKSServer(t, static(http.StatusOK, "", nil))
	url := srv.url()
	srv.Close() // nothing listens there any more
	v, err := verifier.New(verifier.WithJWKSURL(url))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Refresh(context.Background()); !errors.Is(err, verifier.ErrKeysUnavailable) {
		t.Fatalf("Refresh = %v", err)
	}
}

func TestCancelledContextDoesNotCountAsTry(t *testing.T) {
	ss := signers(t)
	clock := newClock()
	g := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(ss[0].key))
	srv := newJWKSServer(t, g.a.Handler())
	v := remote(t, srv, clock)
	token := g.login(t).AccessToken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Verify(ctx, token); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with a cancelled context = %v", err)
	}
	rec := httptestRecorderWith(v, ctx, token)
	if rec != http.StatusServiceUnavailable {
		t.Fatalf("middleware with a cancelled context: %d", rec)
	}
	// The next caller fetches at once, without waiting for the interval.
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Fatal(err)
	}
}

func httptestRecorderWith(v *verifier.Verifier, ctx context.Context, token string) int {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/orders", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	v.Middleware(whoami()).ServeHTTP(rec, req)
	return rec.Code
}

// TestConcurrentFetchOnce starts many verifications on a cold cache: one
// fetch serves them all.
func TestConcurrentFetchOnce(t *testing.T) {
	ss := signers(t)
	clock := newClock()
	g := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(ss[2].key))
	srv := newJWKSServer(t, g.a.Handler())
	v := remote(t, srv, clock)
	token := g.login(t).AccessToken
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), token); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	wantHits(t, srv, 1)
}

// TestDefaultClientRedirects follows a redirect on the same loopback server
// but refuses one that would leave https, before any request is made.
func TestDefaultClientRedirects(t *testing.T) {
	ss := signers(t)
	clock := newClock()
	g := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(ss[0].key))
	token := g.login(t).AccessToken
	jwks := jwksOf(t, g.a)
	for _, tc := range []struct {
		location string
		ok       bool
	}{
		{"/keys.json", true},
		{"http://login.example.test/jwks.json", false},
	} {
		t.Run(tc.location, func(t *testing.T) {
			srv := newJWKSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/keys.json" {
					static(http.StatusOK, "", jwks).ServeHTTP(w, r)
					return
				}
				http.Redirect(w, r, tc.location, http.StatusFound)
			}))
			v, err := verifier.New(verifier.WithJWKSURL(srv.url()), verifier.WithClock(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), token)
			if tc.ok != (err == nil) {
				t.Fatalf("Verify = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok && !errors.Is(err, verifier.ErrKeysUnavailable) {
				t.Fatalf("Verify = %v, want ErrKeysUnavailable", err)
			}
		})
	}
}

func TestFetchFailureLogged(t *testing.T) {
	ss := signers(t)
	clock := newClock()
	token := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(ss[0].key)).login(t).AccessToken
	srv := newJWKSServer(t, static(http.StatusBadGateway, "", nil))
	var buf bytes.Buffer
	v := remote(t, srv, clock, verifier.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	if _, err := v.Verify(context.Background(), token); !errors.Is(err, verifier.ErrKeysUnavailable) {
		t.Fatal(err)
	}
	log := buf.String()
	if !strings.Contains(log, "JWKS fetch failed") || !strings.Contains(log, "status 502") {
		t.Errorf("log = %q", log)
	}
	if strings.Contains(log, token) || strings.Contains(log, strings.Split(token, ".")[2]) {
		t.Error("the token was logged")
	}
}
