package verifier_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/verifier"
)

// TestIntrospection: a token revoked at Gatehouse is refused by the
// verifier once the positive cache has lapsed, and at once without one.
func TestIntrospection(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	ed := auth.EdDSAKey("ed", privateKey(t, "ed25519.pem").(ed25519.PrivateKey))
	g := newGatehouse(t, clock, memstore.New(), auth.WithSigningKey(ed), auth.WithAPIKeys())
	// The service's key belongs to a service account, not to the user.
	svc, err := g.a.Register(ctx, "orders-service", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := g.a.CreateAPIKey(ctx, svc.ID, "orders service", []string{auth.ScopeIntrospect}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int64
	h := g.a.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auth/introspect" {
			asked.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	newV := func(ttl time.Duration, apiKey string) *verifier.Verifier {
		v, err := verifier.New(verifier.WithJWKSURL(srv.URL+"/auth/.well-known/jwks.json"), verifier.WithClock(clock.Now),
			verifier.WithIssuer(issuer), verifier.WithAudience(audience),
			verifier.WithIntrospection(srv.URL+"/auth/introspect", apiKey, ttl))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cached, uncached := newV(30*time.Second, key), newV(0, key)
	p := g.login(t)
	for _, v := range []*verifier.Verifier{cached, uncached} {
		for range 3 {
			if _, err := v.Verify(ctx, p.AccessToken); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		}
	}
	if n := asked.Load(); n != 4 {
		t.Errorf("%d introspection requests, want 1 (cached) + 3 (uncached)", n)
	}
	if err := g.a.LogoutAll(ctx, g.user.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := uncached.Verify(ctx, p.AccessToken); !errors.Is(err, verifier.ErrTokenInactive) || !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("uncached after logout-all = %v, want ErrTokenInactive", err)
	}
	if _, err := cached.Verify(ctx, p.AccessToken); err != nil {
		t.Errorf("cached within its TTL = %v, want the remembered answer", err)
	}
	clock.Advance(31 * time.Second)
	if _, err := cached.Verify(ctx, p.AccessToken); !errors.Is(err, verifier.ErrTokenInactive) {
		t.Errorf("cached after its TTL = %v, want ErrTokenInactive", err)
	}

	// A caller key without the scope, or Gatehouse down: fail closed, 503.
	_, plain, err := g.a.CreateAPIKey(ctx, svc.ID, "plain", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	fresh := g.login(t)
	if _, err := newV(0, plain).Verify(ctx, fresh.AccessToken); !errors.Is(err, verifier.ErrIntrospectionUnavailable) {
		t.Errorf("with a key lacking the scope = %v, want ErrIntrospectionUnavailable", err)
	}
	rec := httptest.NewRecorder()
	verifier.WriteError(rec, nil, verifier.ErrIntrospectionUnavailable)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("WriteError(ErrIntrospectionUnavailable) = %d", rec.Code)
	}
	for _, opt := range []verifier.Option{
		verifier.WithIntrospection(srv.URL+"/auth/introspect", "not-a-key", 0),
		verifier.WithIntrospection(srv.URL+"/auth/introspect", key, 2*time.Minute),
		verifier.WithIntrospection("http://example.com/auth/introspect", key, 0),
	} {
		if _, err := verifier.New(verifier.WithJWKSURL(srv.URL+"/auth/.well-known/jwks.json"), opt); err == nil {
			t.Error("New accepted a bad introspection option")
		}
	}
}
