package verifier_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/testutil"
	"github.com/gatehouse/auth/memstore"
)

type fakeClock = testutil.Clock

func newClock() *fakeClock {
	return testutil.NewClock(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
}

var (
	readPEM    = testutil.ReadPEM
	privateKey = testutil.PrivateKey
)

const (
	issuer   = "https://login.example.test"
	audience = "orders"
)

// issuer is a Gatehouse instance with one user, on the shared clock.
type gatehouse struct {
	a    *auth.Authenticator
	user *auth.User
}

func newGatehouse(t testing.TB, clock *fakeClock, store *memstore.Store, opts ...auth.Option) *gatehouse {
	t.Helper()
	base := []auth.Option{auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now),
		auth.WithIssuer(issuer), auth.WithAudience(audience)}
	a, err := auth.New(store, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	g := &gatehouse{a: a}
	g.user, err = a.UserByUsername(context.Background(), "uma")
	if err != nil {
		g.user, err = a.Register(context.Background(), "uma", "password-1")
		if err != nil {
			t.Fatal(err)
		}
	}
	return g
}

func (g *gatehouse) login(t testing.TB) auth.TokenPair {
	t.Helper()
	p, err := g.a.Login(context.Background(), "uma", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// jwksServer serves whatever handler is current and counts JWKS requests.
type jwksServer struct {
	*httptest.Server
	hits    atomic.Int64
	handler atomic.Pointer[http.Handler]
}

func newJWKSServer(t testing.TB, h http.Handler) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(h)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "jwks.json") {
			s.hits.Add(1)
		}
		(*s.handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(h http.Handler) { s.handler.Store(&h) }

func (s *jwksServer) url() string { return s.URL + "/auth/.well-known/jwks.json" }

// static serves a fixed body with a fixed status and Cache-Control.
func static(status int, cacheControl string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cacheControl != "" {
			w.Header().Set("Cache-Control", cacheControl)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

// jwksOf returns the JWKS that a's handler serves.
func jwksOf(t testing.TB, a *auth.Authenticator) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/auth/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("JWKS status %d", rec.Code)
	}
	return rec.Body.Bytes()
}
