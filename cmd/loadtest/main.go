// Command loadtest drives a running Gatehouse server over loopback and
// reports, per scenario, requests per second, p50/p99/max latency and the
// responses that were not 2xx.
//
//	go run ./examples/server -addr 127.0.0.1:8080 &
//	go run ./cmd/loadtest -c 8 -d 10s -scenario all
//
// The scenarios:
//
//	ping     GET /ping, unprotected: the server's baseline
//	hello    GET /hello with a bearer token (the middleware)
//	me       GET /auth/me with a bearer token
//	refresh  POST /auth/refresh; each connection holds its own session and
//	         always presents its newest refresh token, as the server rotates
//	         them and treats reuse of an old one as theft
//	login    POST /auth/login, a form with username and password: argon2,
//	         slow by design
//	all      each of the above in turn
//
// Without -user it registers a random user first. Every connection is a
// keep-alive connection of its own; each request loop stops at the deadline
// (-d) or after -n requests, whichever comes first, and nothing is retried.
// No request starts after the deadline; one in flight may take up to
// -timeout (30s) to finish, so that slow logins are measured, not dropped.
//
// It refuses any target that is not this machine: the host of -url must be
// in 127.0.0.0/8, ::1 or localhost, every connection is checked to end at a
// loopback address, no proxy is used and no redirect is followed.
//
// The exit status is 0 when every scenario ran, whatever the server
// answered; 2 for bad flags; 1 when setting up failed (the server is down,
// registering or logging in failed).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Limits on the flags, so that a typo cannot start an hour-long run.
const (
	maxConns    = 256
	maxDuration = 5 * time.Minute
	maxTimeout  = time.Minute
)

// scenarioOrder is the order of -scenario all: the baseline first, the
// slowest last.
var scenarioOrder = []string{"ping", "hello", "me", "refresh", "login"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options is what the flags say.
type options struct {
	base      string // scheme://host[:port][/prefix], without a trailing slash
	conns     int
	duration  time.Duration
	max       int64 // requests per scenario; 0 for no limit but the duration
	timeout   time.Duration
	scenarios []string
	user      string
	password  string
	dpop      bool // sign a DPoP proof for every request (package dpop)
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fl := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o options
	var rawURL, scenarios string
	fl.StringVar(&rawURL, "url", "http://127.0.0.1:8080", "server to drive; loopback only (127.0.0.0/8, ::1, localhost)")
	fl.IntVar(&o.conns, "c", 8, fmt.Sprintf("connections, one worker each (1 to %d)", maxConns))
	fl.DurationVar(&o.duration, "d", 10*time.Second, fmt.Sprintf("duration of each scenario (at most %s)", maxDuration))
	fl.Int64Var(&o.max, "n", 0, "stop a scenario after this many requests; 0 for no limit but -d")
	fl.DurationVar(&o.timeout, "timeout", 30*time.Second, fmt.Sprintf("timeout of one request, which may run past -d (at most %s)", maxTimeout))
	fl.StringVar(&scenarios, "scenario", "all", "one of "+strings.Join(scenarioOrder, ", ")+", or all; or a comma-separated list")
	fl.StringVar(&o.user, "user", "", "existing user to log in as (registered if missing); default: a new random user")
	fl.StringVar(&o.password, "password", "", "password of -user")
	fl.BoolVar(&o.dpop, "dpop", false, "be a DPoP client: sign a proof (ES256) for every request, so the server binds the tokens (run it with -dpop allowed or required)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: loadtest [-url URL] [-c N] [-d DURATION] [-n N] [-scenario NAME] [-user NAME -password PASSWORD] [-dpop]")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return nil, err
	}
	if fl.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fl.Arg(0))
	}
	var err error
	if o.base, err = loopbackBase(rawURL); err != nil {
		return nil, err
	}
	switch {
	case o.conns < 1 || o.conns > maxConns:
		return nil, fmt.Errorf("-c must be between 1 and %d, got %d", maxConns, o.conns)
	case o.duration <= 0 || o.duration > maxDuration:
		return nil, fmt.Errorf("-d must be positive and at most %s, got %s", maxDuration, o.duration)
	case o.max < 0:
		return nil, fmt.Errorf("-n must not be negative, got %d", o.max)
	case o.timeout <= 0 || o.timeout > maxTimeout:
		return nil, fmt.Errorf("-timeout must be positive and at most %s, got %s", maxTimeout, o.timeout)
	case (o.user == "") != (o.password == ""):
		return nil, errors.New("-user and -password go together")
	}
	if o.scenarios, err = parseScenarios(scenarios); err != nil {
		return nil, err
	}
	return &o, nil
}

func parseScenarios(s string) ([]string, error) {
	if s == "all" {
		return scenarioOrder, nil
	}
	var out []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(scenarioOrder, name) {
			return nil, fmt.Errorf("unknown scenario %q: want one of %s, or all", name, strings.Join(scenarioOrder, ", "))
		}
		out = append(out, name)
	}
	return out, nil
}

// loopbackBase checks that raw names a server on this machine and returns
// it without a trailing slash. Only literal loopback addresses and the name
// localhost pass; any other name is refused without being resolved.
func loopbackBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("-url: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("-url %q: the scheme must be http or https", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("-url %q: want only scheme, host, port and an optional path prefix", raw)
	case !isLoopbackHost(u.Hostname()):
		return "", fmt.Errorf("-url %q: refusing host %q: loadtest only targets this machine (127.0.0.0/8, ::1 or localhost)", raw, u.Hostname())
	}
	return u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/"), nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

// isLoopbackAddr reports whether a connection's remote end is on this
// machine: a second check, after name resolution, for "localhost".
func isLoopbackAddr(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// newClient returns a client with up to o.conns keep-alive connections to
// the target and none anywhere else.
func newClient(o *options) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil, // the target is this machine; never go through a proxy
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if !isLoopbackAddr(conn.RemoteAddr()) {
				conn.Close()
				return nil, fmt.Errorf("refusing to talk to %s: not a loopback address", conn.RemoteAddr())
			}
			return conn, nil
		},
		MaxIdleConns:        o.conns,
		MaxIdleConnsPerHost: o.conns,
		MaxConnsPerHost:     o.conns,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   o.timeout,
		// A redirect could lead off this machine; report it as it is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 2
	}
	client := newClient(o)
	defer client.CloseIdleConnections()
	t, err := setup(ctx, client, o)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest: setup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "target %s, user %s, %d connections, %s per scenario", o.base, t.user, o.conns, o.duration)
	if o.max > 0 {
		fmt.Fprintf(stdout, " or %d requests", o.max)
	}
	fmt.Fprintln(stdout)
	var results []*result
	for _, name := range o.scenarios {
		if ctx.Err() != nil {
			break
		}
		r, err := runScenario(ctx, t, name, o)
		if err != nil {
			printTable(stdout, results)
			fmt.Fprintln(stderr, "loadtest: setup:", err)
			return 1
		}
		results = append(results, r)
		fmt.Fprintf(stderr, "%s: %d requests in %.1fs\n", name, r.requests, r.elapsed.Seconds())
	}
	printTable(stdout, results)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "loadtest: interrupted")
	}
	return 0
}
