package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/dpop"
	"github.com/gatehouse/auth/internal/testutil"
)

// alwaysFresh lets one proof be sent again and again, so that the
// benchmark measures the server's checks rather than the client's
// signing; BenchmarkMemoryReplay in internal/dpop prices the cache.
type alwaysFresh struct{}

func (alwaysFresh) Use(context.Context, string, time.Time) (bool, error) { return true, nil }

// BenchmarkMiddlewareDPoP is BenchmarkMiddlewareRepeatToken for a
// DPoP-bound token: the token comes from the cache, the proof's signature
// is checked on every request, per algorithm of the client's key.
func BenchmarkMiddlewareDPoP(b *testing.B) {
	for _, k := range []struct{ alg, file string }{{"ES256", "p256.pem"}, {"EdDSA", "ed25519.pem"}, {"RS256", "rsa2048.pem"}} {
		b.Run(k.alg, func(b *testing.B) {
			a, _ := benchFixture(b, auth.WithDPoP(auth.DPoPAllowed), auth.WithDPoPReplayCache(alwaysFresh{}))
			tr, err := dpop.New(nil, dpop.WithKey(testutil.PrivateKey(b, k.file)))
			if err != nil {
				b.Fatal(err)
			}
			p, err := a.Login(auth.ContextWithDPoPThumbprint(context.Background(), tr.Thumbprint()), "bench", "password-1")
			if err != nil {
				b.Fatal(err)
			}
			proof, err := tr.Proof(http.MethodGet, "http://example.com/hello", p.AccessToken, "")
			if err != nil {
				b.Fatal(err)
			}
			h := a.Middleware(okHandler)
			req := httptest.NewRequest(http.MethodGet, "/hello", nil)
			req.Header.Set("Authorization", "DPoP "+p.AccessToken)
			req.Header.Set("DPoP", proof)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
