package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// newServer serves the routes of the example server from the real library,
// in memory and with cheap hashing. A grace period of 0 makes any reuse of
// a spent refresh token revoke its session, so a worker that failed to keep
// its newest token would show up as 401s.
func newServer(t *testing.T, opts ...auth.Option) *httptest.Server {
	t.Helper()
	a, err := auth.New(memstore.New(), append([]auth.Option{
		auth.WithSecret([]byte("loadtest-test-secret-5b0c1e9a7d3f4862a1")),
		auth.WithInsecureFastHashingForTests(),
		auth.WithRefreshGracePeriod(0),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.Handler())
	mux.Handle("GET /hello", a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.UserFromContext(r.Context())
		fmt.Fprintf(w, "Hello, %s!\n", u.Username)
	})))
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "pong\n") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func mustParse(t *testing.T, args ...string) *options {
	t.Helper()
	o, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// checkCounts fails unless every request of r is accounted for once and
// all were answered 2xx.
func checkCounts(t *testing.T, r *result, max int64) {
	t.Helper()
	var non2xx int64
	for _, n := range r.status {
		non2xx += n
	}
	if got := r.ok + non2xx + r.errorCount(); got != r.requests {
		t.Errorf("%s: ok %d + non-2xx %d + errors %d = %d, want requests %d", r.name, r.ok, non2xx, r.errorCount(), got, r.requests)
	}
	if r.latency.n != uint64(r.ok+non2xx) {
		t.Errorf("%s: %d latencies recorded, want one per answer (%d)", r.name, r.latency.n, r.ok+non2xx)
	}
	if max > 0 && r.requests > max {
		t.Errorf("%s: %d requests, want at most -n %d", r.name, r.requests, max)
	}
	if non2xx != 0 || r.errorCount() != 0 || r.stopped != 0 {
		t.Errorf("%s: non-2xx %v, errors %v, %d workers stopped; want none", r.name, r.status, r.errors, r.stopped)
	}
}

func TestScenarios(t *testing.T) {
	srv := newServer(t)
	runAll(t, mustParse(t, "-url", srv.URL, "-c", "4", "-d", "300ms", "-n", "60"))
}

// runAll runs every scenario with o and checks that each request was
// answered 2xx.
func runAll(t *testing.T, o *options) {
	t.Helper()
	tg, err := setup(t.Context(), newClient(o), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range scenarioOrder {
		t.Run(name, func(t *testing.T) {
			r, err := runScenario(t.Context(), tg, name, o)
			if err != nil {
				t.Fatal(err)
			}
			checkCounts(t, r, o.max)
		})
	}
}

// TestScenariosDPoP drives a server that requires DPoP as a DPoP client:
// every scenario is answered 2xx, so every proof was accepted, the bound
// refresh tokens included.
func TestScenariosDPoP(t *testing.T) {
	srv := newServer(t, auth.WithDPoP(auth.DPoPRequired))
	runAll(t, mustParse(t, "-url", srv.URL, "-c", "4", "-d", "300ms", "-n", "40", "-dpop"))
	// Without -dpop the same server refuses the client.
	plain := mustParse(t, "-url", srv.URL, "-c", "1", "-n", "1")
	if _, err := setup(t.Context(), newClient(plain), plain); err == nil {
		t.Fatal("a bearer client was served by a server that requires DPoP")
	}
}

// TestCountBound runs with a deadline far away, so that -n alone stops the
// workers: exactly n requests, whatever the machine's speed.
func TestCountBound(t *testing.T) {
	srv := newServer(t)
	o := mustParse(t, "-url", srv.URL, "-c", "3", "-d", "1m", "-n", "25", "-scenario", "refresh")
	tg, err := setup(t.Context(), newClient(o), o)
	if err != nil {
		t.Fatal(err)
	}
	r, err := runScenario(t.Context(), tg, "refresh", o)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, r, o.max)
	if r.requests != o.max {
		t.Errorf("requests = %d, want exactly -n %d", r.requests, o.max)
	}
}

func TestRun(t *testing.T) {
	srv := newServer(t)
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"-url", srv.URL + "/", "-c", "2", "-d", "200ms", "-n", "20"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit status %d, stderr:\n%s", code, errb.String())
	}
	for _, want := range append([]string{"req/s", "p99", "non-2xx", "req/s against ping: hello/ping"}, scenarioOrder...) {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestExistingUser logs in as a user that is already registered: the 409
// from registering is not a failure.
func TestExistingUser(t *testing.T) {
	srv := newServer(t)
	args := []string{"-url", srv.URL, "-user", "alice", "-password", "correct horse battery", "-n", "5", "-scenario", "me"}
	for i := range 2 {
		var out, errb bytes.Buffer
		if code := run(t.Context(), args, &out, &errb); code != 0 {
			t.Fatalf("run %d: exit status %d, stderr:\n%s", i, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	wrong := []string{"-url", srv.URL, "-user", "alice", "-password", "wrong password!", "-scenario", "me"}
	if code := run(t.Context(), wrong, &out, &errb); code != 1 || !strings.Contains(errb.String(), "log in as alice: 401") {
		t.Errorf("wrong password: exit status %d, stderr %q; want 1 and the failed login", code, errb.String())
	}
}

func TestSetupFailure(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"-url", url, "-d", "100ms"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "setup") {
		t.Errorf("exit status %d, stderr %q; want 1 and a setup error", code, errb.String())
	}
}

func TestRefusesOtherHosts(t *testing.T) {
	for _, u := range []string{
		"http://10.0.0.1:8080",
		"http://192.168.1.10",
		"http://8.8.8.8",
		"http://example.com",
		"http://localhost.example.com",
		"http://127.0.0.1.nip.io",
		"http://[::ffff:10.0.0.1]:80",
		"http://[fe80::1%25lo]:80",
		"http://0.0.0.0:8080",
		"http://[::]:8080",
		"ftp://127.0.0.1",
		"http://user:pass@127.0.0.1",
		"127.0.0.1:8080",
	} {
		var errb bytes.Buffer
		if o, err := parseFlags([]string{"-url", u}, &errb); err == nil {
			t.Errorf("-url %s accepted as %q; want it refused", u, o.base)
		}
		if code := run(context.Background(), []string{"-url", u}, io.Discard, &errb); code != 2 {
			t.Errorf("-url %s: exit status %d, want 2", u, code)
		}
	}
	for u, want := range map[string]string{
		"http://127.0.0.1:8080":       "http://127.0.0.1:8080",
		"http://127.8.9.10:1/":        "http://127.8.9.10:1",
		"http://[::1]:8080":           "http://[::1]:8080",
		"http://LocalHost:80/api/":    "http://LocalHost:80/api",
		"https://localhost":           "https://localhost",
		"http://[::ffff:127.0.0.1]:8": "http://[::ffff:127.0.0.1]:8",
	} {
		o, err := parseFlags([]string{"-url", u}, io.Discard)
		if err != nil {
			t.Errorf("-url %s: %v", u, err)
			continue
		}
		if o.base != want {
			t.Errorf("-url %s: base %q, want %q", u, o.base, want)
		}
	}
}

func TestFlagLimits(t *testing.T) {
	for _, args := range [][]string{
		{"-c", "0"},
		{"-c", "100000"},
		{"-d", "0s"},
		{"-d", "1h"},
		{"-n", "-1"},
		{"-timeout", "2m"},
		{"-scenario", "flood"},
		{"-user", "alice"},
		{"extra"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v accepted, want an error", args)
		}
	}
	if o := mustParse(t, "-scenario", "me, ping"); strings.Join(o.scenarios, ",") != "me,ping" {
		t.Errorf("scenarios = %v, want [me ping]", o.scenarios)
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, time.Millisecond}} {
		got := h.quantile(c.q)
		if got < c.want || float64(got) > float64(c.want)*(1+1.0/(1<<subBits)) {
			t.Errorf("quantile(%v) = %v, want %v to %.1f%% above", c.q, got, c.want, 100.0/(1<<subBits))
		}
	}
	if h.max != time.Millisecond {
		t.Errorf("max = %v, want 1ms", h.max)
	}
	// Every value lies in its bucket, and buckets neither overlap nor leave gaps.
	for v := uint64(0); v < 1<<20; v += 7 {
		i := bucket(v)
		if v > upper(i) || (i > 0 && v <= upper(i-1)) {
			t.Fatalf("value %d in bucket %d, which spans (%d, %d]", v, i, upper(i-1), upper(i))
		}
	}
	if i := bucket(1<<63 - 1); i >= len(h.counts) {
		t.Fatalf("bucket of the largest duration is %d, beyond %d", i, len(h.counts))
	}
	var empty histogram
	if empty.quantile(0.5) != 0 {
		t.Error("quantile of an empty histogram is not 0")
	}
}
