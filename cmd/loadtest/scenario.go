package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/auth/dpop"
)

// maxBody bounds what is read of a response. The server's answers are tiny.
const maxBody = 1 << 20

// target is the server and the user a run drives.
type target struct {
	client   *http.Client
	base     string
	user     string
	password string
	// access is an access token of user, shared by the workers of me and
	// hello: one client repeating its token, the common case.
	access string
	// scheme is how access tokens are sent: "Bearer", or "DPoP" for a
	// DPoP client, whose transport adds the proofs.
	scheme string
}

type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// setup makes sure the user exists and logs in once.
func setup(ctx context.Context, client *http.Client, o *options) (*target, error) {
	t := &target{client: client, base: o.base, user: o.user, password: o.password, scheme: "Bearer"}
	if o.dpop {
		// One key for the run, as one client holds one; the transport
		// signs every request, the token endpoint's included.
		tr, err := dpop.New(client.Transport)
		if err != nil {
			return nil, err
		}
		client.Transport, t.scheme = tr, "DPoP"
	}
	if t.user == "" {
		t.user = "loadtest-" + randomHex(6)
		t.password = randomHex(16)
	}
	body, _ := json.Marshal(map[string]string{"username": t.user, "password": t.password})
	status, resp, err := t.do(ctx, http.MethodPost, "/auth/register", "application/json", bytes.NewReader(body), "")
	switch {
	case err != nil:
		return nil, err
	case status != http.StatusCreated && status != http.StatusConflict:
		return nil, fmt.Errorf("register %s: %d %s", t.user, status, snippet(resp))
	}
	pair, err := t.login(ctx)
	if err != nil {
		return nil, err
	}
	t.access = pair.AccessToken
	return t, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on Linux; see crypto/rand
	return hex.EncodeToString(b)
}

// do sends one request and reads the response, at most maxBody of it.
func (t *target) do(ctx context.Context, method, path, contentType string, body io.Reader, bearer string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, t.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", t.scheme+" "+bearer)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, b, err
}

func (t *target) loginRequest(ctx context.Context) (int, []byte, error) {
	form := url.Values{"username": {t.user}, "password": {t.password}}.Encode()
	return t.do(ctx, http.MethodPost, "/auth/login", "application/x-www-form-urlencoded", strings.NewReader(form), "")
}

func (t *target) login(ctx context.Context) (tokenPair, error) {
	status, body, err := t.loginRequest(ctx)
	if err != nil {
		return tokenPair{}, err
	}
	return decodePair("log in as "+t.user, status, body)
}

func decodePair(what string, status int, body []byte) (tokenPair, error) {
	if status != http.StatusOK {
		return tokenPair{}, fmt.Errorf("%s: %d %s", what, status, snippet(body))
	}
	var p tokenPair
	if err := json.Unmarshal(body, &p); err != nil || p.AccessToken == "" || p.RefreshToken == "" {
		return tokenPair{}, fmt.Errorf("%s: no token pair in the response %s", what, snippet(body))
	}
	return p, nil
}

// snippet is the start of a response body, for error messages.
func snippet(b []byte) string {
	const n = 200
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// outcome is what one request of a scenario came to.
type outcome struct {
	status int
	err    error
	// stop ends the worker: its session is gone, so further requests
	// would measure nothing but rejections.
	stop bool
}

// step sends one request of a scenario.
type step func(ctx context.Context) outcome

// newStep prepares one worker of a scenario, before the clock starts.
func (t *target) newStep(ctx context.Context, scenario string) (step, error) {
	get := func(path, bearer string) step {
		return func(ctx context.Context) outcome {
			status, _, err := t.do(ctx, http.MethodGet, path, "", nil, bearer)
			return outcome{status: status, err: err}
		}
	}
	switch scenario {
	case "ping":
		return get("/ping", ""), nil
	case "hello":
		return get("/hello", t.access), nil
	case "me":
		return get("/auth/me", t.access), nil
	case "login":
		return func(ctx context.Context) outcome {
			status, _, err := t.loginRequest(ctx)
			return outcome{status: status, err: err}
		}, nil
	case "refresh":
		// Each worker is a client with a session of its own.
		pair, err := t.login(ctx)
		if err != nil {
			return nil, err
		}
		current := pair.RefreshToken
		return func(ctx context.Context) outcome {
			body, _ := json.Marshal(map[string]string{"refresh_token": current})
			status, resp, err := t.do(ctx, http.MethodPost, "/auth/refresh", "application/json", bytes.NewReader(body), "")
			if err != nil {
				// The server may or may not have rotated the token: without
				// a retry there is no way to tell, so the session is lost.
				return outcome{err: err, stop: true}
			}
			next, perr := decodePair("refresh", status, resp)
			if perr != nil {
				return outcome{status: status, stop: true}
			}
			current = next.RefreshToken // the old one is spent
			return outcome{status: status}
		}, nil
	}
	return nil, fmt.Errorf("unknown scenario %q", scenario)
}

// result is what a scenario, or one of its workers, measured.
type result struct {
	name     string
	requests int64            // answered, plus failed with an error
	ok       int64            // answered 2xx
	status   map[int]int64    // answered otherwise, by status
	errors   map[string]int64 // no answer, by error
	stopped  int              // workers that stopped early (lost session)
	elapsed  time.Duration
	latency  histogram // of answered requests
}

func newResult(name string) *result {
	return &result{name: name, status: map[int]int64{}, errors: map[string]int64{}}
}

func (r *result) merge(o *result) {
	r.requests += o.requests
	r.ok += o.ok
	for k, v := range o.status {
		r.status[k] += v
	}
	for k, v := range o.errors {
		r.errors[k] += v
	}
	r.stopped += o.stopped
	r.latency.merge(&o.latency)
}

func (r *result) errorCount() int64 {
	var n int64
	for _, v := range r.errors {
		n += v
	}
	return n
}

// rps is requests per second over the scenario's wall time.
func (r *result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// runScenario prepares o.conns workers, then runs them until the deadline
// or until o.max requests have been sent, whichever comes first. An error
// means the preparation failed; what the server answers is in the result.
func runScenario(ctx context.Context, t *target, name string, o *options) (*result, error) {
	steps := make([]step, o.conns)
	for i := range steps {
		s, err := t.newStep(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		steps[i] = s
	}
	var sent atomic.Int64
	parts := make([]*result, len(steps))
	start := time.Now()
	deadline := start.Add(o.duration)
	var wg sync.WaitGroup
	for i, s := range steps {
		wg.Go(func() { parts[i] = work(ctx, name, s, deadline, o.max, &sent) })
	}
	wg.Wait()
	total := newResult(name)
	total.elapsed = time.Since(start)
	for _, p := range parts {
		total.merge(p)
	}
	return total, nil
}

// work is one worker's loop. It is bounded twice: by the deadline and by
// max, counted across all workers through sent.
func work(ctx context.Context, name string, s step, deadline time.Time, max int64, sent *atomic.Int64) *result {
	r := newResult(name)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if max > 0 && sent.Add(1) > max {
			break
		}
		t0 := time.Now()
		out := s(ctx)
		d := time.Since(t0)
		if out.err != nil && ctx.Err() != nil {
			break // interrupted: neither an answer nor the server's fault
		}
		r.requests++
		switch {
		case out.err != nil:
			r.errors[errorKind(out.err)]++
		case out.status >= 200 && out.status < 300:
			r.ok++
			r.latency.record(d)
		default:
			r.status[out.status]++
			r.latency.record(d)
		}
		if out.stop {
			r.stopped++
			break
		}
	}
	return r
}

// errorKind shortens an error for counting: without the method and URL
// that every request of a scenario shares.
func errorKind(err error) string {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	return err.Error()
}
