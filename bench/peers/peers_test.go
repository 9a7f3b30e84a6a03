package peers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

const (
	issuer   = "https://gatehouse.test/"
	audience = "peers-bench"
	// firstSightTokens is how many distinct valid tokens the first-sight
	// benchmark rotates through: far more than its token cache holds, so
	// that no token is ever found there.
	firstSightTokens = 4096
	// tinyTokenCache keeps the cache on (so a miss pays for the insert and
	// the eviction, as a real first sight does) while holding too few
	// entries for any of the rotated tokens to survive until its next turn.
	tinyTokenCache = 16
)

// secret is shared by Gatehouse and every peer, so that each verifies the
// very token Gatehouse issued.
var secret = []byte("9f2c4e71b0a85d36e1f47c2a9b3d58e0c6a1f9724b8e3d05")

// ok is the application handler behind every stack. It writes the status
// before the body so that httptest.ResponseRecorder does not sniff the
// content type: that would add 5 allocations and about 1 µs to every
// stack, and make the bare baseline, and so every ratio to it, look
// different from what a real server sees.
var ok = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
})

// fixture is what every benchmark shares: the store that holds the one
// user, and that user's tokens.
type fixture struct {
	store *memstore.Store
	// token is the access token every stack verifies; tampered is the same
	// token with one signature character changed.
	token, tampered string
	// fresh are further valid tokens of the same user, for first sight.
	fresh []string
}

var (
	fixtureOnce sync.Once
	fix         fixture
	fixErr      error
)

func gatehouse(store *memstore.Store, opts ...auth.Option) (*auth.Authenticator, error) {
	base := []auth.Option{
		auth.WithSecret(secret),
		auth.WithIssuer(issuer),
		auth.WithAudience(audience),
		// Only the password hash gets cheaper; tokens are unaffected. It
		// keeps issuing thousands of tokens for first sight fast.
		auth.WithInsecureFastHashingForTests(),
	}
	return auth.New(store, append(base, opts...)...)
}

func loadFixture(tb testing.TB) *fixture {
	tb.Helper()
	fixtureOnce.Do(func() {
		ctx := context.Background()
		f := fixture{store: memstore.New()}
		a, err := gatehouse(f.store)
		if err != nil {
			fixErr = err
			return
		}
		if _, err := a.Register(ctx, "bench", "correct horse battery"); err != nil {
			fixErr = err
			return
		}
		pair, err := a.Login(ctx, "bench", "correct horse battery")
		if err != nil {
			fixErr = err
			return
		}
		f.token = pair.AccessToken
		f.tampered = tamper(f.token)
		for range firstSightTokens {
			p, err := a.Login(ctx, "bench", "correct horse battery")
			if err != nil {
				fixErr = err
				return
			}
			f.fresh = append(f.fresh, p.AccessToken)
		}
		fix = f
	})
	if fixErr != nil {
		tb.Fatalf("fixture: %v", fixErr)
	}
	return &fix
}

// tamper changes a character in the middle of the signature. The last
// character would not do: it carries padding bits that a lenient base64
// decoder may ignore, leaving the signature valid.
func tamper(token string) string {
	i := strings.LastIndexByte(token, '.') + (len(token)-strings.LastIndexByte(token, '.'))/2
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

func request(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/hello", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// check fails the benchmark unless h answers 200 "ok" for the token and 401
// for the tampered one: a stack that rejects, or accepts, everything is not
// worth timing.
func check(tb testing.TB, h http.Handler, f *fixture) {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request(f.token))
	if rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		tb.Fatalf("valid token: got %d %q, want 200 \"ok\"", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, request(f.tampered))
	if rec.Code != http.StatusUnauthorized {
		tb.Fatalf("tampered token: got %d %q, want 401", rec.Code, rec.Body.String())
	}
}

// serve times h answering reqs in turn, a new recorder each time. The
// requests are built beforehand (none of the stacks modifies one), so the
// timer covers the stack, not httptest. Every answer must be 200.
//
// Besides wall time it reports the process's CPU time per request
// (cpu-ns/op), which other processes on a busy machine disturb far less:
// they delay this one, but do not make its work larger.
func serve(b *testing.B, h http.Handler, reqs ...*http.Request) {
	b.Helper()
	b.ReportAllocs()
	cpu0, measured := cpuTime()
	defer func() {
		if cpu1, _ := cpuTime(); measured && b.N > 0 {
			b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
		}
	}()
	i := 0
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, reqs[i])
		if rec.Code != http.StatusOK {
			b.Fatalf("request %d: got %d, want 200", i, rec.Code)
		}
		if i++; i == len(reqs) {
			i = 0
		}
	}
}

// stack is one way to protect the handler.
type stack struct {
	name string
	new  func() (http.Handler, error)
	// open marks a stack without authentication, which check would fail.
	open bool
	// firstSight rotates through fresh tokens instead of repeating one.
	firstSight bool
}

// stacks lists what is measured, in the order benchstat shows it.
func stacks(f *fixture) []stack {
	return []stack{
		{name: "bare", new: func() (http.Handler, error) { return ok, nil }, open: true},
		{name: "gatehouse-repeat", new: func() (http.Handler, error) { return newGatehouse(f.store) }},
		{name: "gatehouse-first-sight", new: func() (http.Handler, error) {
			return newGatehouse(f.store, auth.WithTokenCacheSize(tinyTokenCache))
		}, firstSight: true},
		{name: "golang-jwt", new: newGolangJWT},
		{name: "gin-noauth", new: newGinNoAuth, open: true},
		{name: "gin-jwt", new: newGinJWT},
		{name: "auth0", new: newAuth0},
		{name: "jwtauth", new: newJWTAuth},
	}
}

// TestStacks checks, without timing anything, that every protected stack
// accepts Gatehouse's token and all the first-sight tokens, and rejects a
// tampered one.
func TestStacks(t *testing.T) {
	f := loadFixture(t)
	for _, s := range stacks(f) {
		if s.open {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			h, err := s.new()
			if err != nil {
				t.Fatal(err)
			}
			check(t, h, f)
			for i, tok := range f.fresh {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, request(tok))
				if rec.Code != http.StatusOK {
					t.Fatalf("first-sight token %d: got %d, want 200", i, rec.Code)
				}
			}
		})
	}
}

// BenchmarkMiddleware runs every stack in one go test run, for benchstat.
func BenchmarkMiddleware(b *testing.B) {
	f := loadFixture(b)
	for _, s := range stacks(f) {
		b.Run(s.name, func(b *testing.B) {
			h, err := s.new()
			if err != nil {
				b.Fatal(err)
			}
			if !s.open {
				check(b, h, f)
			}
			if !s.firstSight {
				serve(b, h, request(f.token))
				return
			}
			reqs := make([]*http.Request, len(f.fresh))
			for i, t := range f.fresh {
				reqs[i] = request(t)
			}
			serve(b, h, reqs...)
		})
	}
}
