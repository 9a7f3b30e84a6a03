package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// ownSessions is how many sessions each worker refreshes in turn.
const ownSessions = 4

// maxSpare bounds the sessions that logins leave for logouts.
const maxSpare = 10000

// hashParams are the argon2id parameters of -hash.
func hashParams(name string) auth.PasswordParams {
	if name == "default" {
		return auth.DefaultPasswordParams()
	}
	return auth.PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32}
}

// precomputedHash hashes password once, through the library's own
// registration, with the parameters the measured Authenticator uses (so
// that no login rehashes).
func precomputedHash(ctx context.Context, p auth.PasswordParams) (string, error) {
	a, err := auth.New(memstore.New(), auth.WithSecret(secret), auth.WithPasswordParams(p))
	if err != nil {
		return "", err
	}
	u, err := a.Register(ctx, "hash-donor", password)
	if err != nil {
		return "", err
	}
	return u.PasswordHash, nil
}

// secret signs the tokens of the measured Authenticator. It is fixed: the
// tool measures, it guards nothing.
var secret = []byte("gatehouse-scale-measurement-secret-0123456789")

// bench is one store at one size, set up for the workload: its
// Authenticator, routes and the tokens of its logged-in users. It lives
// across rounds.
type bench struct {
	st      *store
	a       *auth.Authenticator
	calls   *samples // store calls, by method
	h       http.Handler
	access  []string   // shared access tokens
	admin   string     // an access token of a user holding the admin role
	keys    []string   // API keys of some of the logged-in users
	own     [][]string // refresh tokens, per worker
	spare   []string   // refresh tokens of logins, for logouts
	spareMu sync.Mutex
	ends    *samples                 // endpoint times, by operation
	inStore *samples                 // per request time in the store, by operation
	fails   map[string]int           // failures by operation and status
	failsMu sync.Mutex               // guards fails and elapsed
	elapsed map[string]time.Duration // measured time by phase, all rounds
}

func newBench(ctx context.Context, o *options, st *store) (*bench, error) {
	b := &bench{st: st, calls: newSamples(), ends: newSamples(), inStore: newSamples(), fails: map[string]int{},
		elapsed: map[string]time.Duration{}}
	a, err := auth.New(&timedStore{s: st.backend, calls: b.calls},
		auth.WithSecret(secret),
		auth.WithUserCacheTTL(0), // every request reaches the store
		auth.WithPasswordParams(hashParams(o.hash)),
		auth.WithAccessTTL(2*time.Hour),
		auth.WithAdminRole(adminRole),
		auth.WithAPIKeys(),
	)
	if err != nil {
		return nil, err
	}
	b.a = a
	// The admin, before the logins: giving a role again changes nothing,
	// and a role is never taken away, so no token of the logins dies.
	adminUser, err := st.backend.UserByUsername(ctx, seedUsername(0))
	if err != nil {
		return nil, fmt.Errorf("%s at %d users: the admin: %w", st.kind, st.users, err)
	}
	if err := a.SetRoles(ctx, adminUser.ID, []string{adminRole}); err != nil {
		return nil, fmt.Errorf("%s at %d users: the admin: %w", st.kind, st.users, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.Handler())
	mux.Handle("GET /hello", a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.UserFromContext(r.Context())
		fmt.Fprintf(w, "hello, %s\n", u.Username)
	})))
	b.h = mux
	// Log in -tokens seeded users, spread over the table, for the access
	// tokens, and ownSessions more per worker for the refresh tokens; the
	// two sets are apart, so that no refresh ends a session whose access
	// token is in use.
	nAccess := min(o.tokens, st.users)
	pairs := make([]auth.TokenPair, nAccess+ownSessions*o.workers)
	errs := make(chan error, len(pairs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for k := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			i := int(uint64(k) * uint64(st.users) / uint64(len(pairs))) // spread over the table
			rec := b.serve(ctx, loginRequest(seedUsername(i)), nil)
			if rec.Code != http.StatusOK {
				errs <- fmt.Errorf("log in seeded user %d: %d %s", i, rec.Code, rec.Body.String())
				return
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &pairs[k]); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("%s at %d users: %w", st.kind, st.users, err)
	}
	b.own = make([][]string, o.workers)
	for k, p := range pairs {
		if k < nAccess {
			b.access = append(b.access, p.AccessToken)
		} else {
			b.own[k%o.workers] = append(b.own[k%o.workers], p.RefreshToken)
		}
	}
	b.admin = b.access[0] // user 0's
	if err := b.makeKeys(ctx, min(nKeys, nAccess)); err != nil {
		return nil, fmt.Errorf("%s at %d users: %w", st.kind, st.users, err)
	}
	b.calls.reset() // the set-up logins are not part of the figures
	return b, nil
}

// adminRole is the role of the admin API.
const adminRole = "admin"

// nKeys is how many of the logged-in users send API keys, one each.
const nKeys = 16

// keyName names the workload's API keys.
const keyName = "scale-workload"

// makeKeys makes an API key for each of the first n logged-in users,
// revoking the one an earlier run made (a user may hold only so many).
func (b *bench) makeKeys(ctx context.Context, n int) error {
	for k := range n {
		i := int(uint64(k) * uint64(b.st.users) / uint64(len(b.access)+ownSessions*len(b.own)))
		u, err := b.st.backend.UserByUsername(ctx, seedUsername(i))
		if err != nil {
			return fmt.Errorf("API key of seeded user %d: %w", i, err)
		}
		old, err := b.a.APIKeys(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, key := range old {
			if key.Name == keyName {
				if err := b.a.RevokeAPIKey(ctx, u.ID, key.ID); err != nil {
					return err
				}
			}
		}
		_, key, err := b.a.CreateAPIKey(ctx, u.ID, keyName, nil, 0)
		if err != nil {
			return fmt.Errorf("API key of seeded user %d: %w", i, err)
		}
		b.keys = append(b.keys, key)
	}
	return nil
}

// serve runs one request through the handler; total, when not nil, adds
// up the request's time in the store.
func (b *bench) serve(ctx context.Context, r *http.Request, total *atomic.Int64) *httptest.ResponseRecorder {
	if total != nil {
		ctx = withStoreTime(ctx, total)
	}
	r = r.WithContext(ctx)
	// A client address of its own per request, so that no per-address
	// budget is what the figures measure.
	r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", mrand.IntN(256), mrand.IntN(256), 1+mrand.IntN(254))
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, r)
	return rec
}

func jsonRequest(method, path string, body any) *http.Request {
	j, _ := json.Marshal(body)
	r := httptest.NewRequest(method, path, bytes.NewReader(j))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func loginRequest(username string) *http.Request {
	return jsonRequest(http.MethodPost, "/auth/login", map[string]string{"username": username, "password": password})
}

func bearer(method, path, token string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// worker is one client of the workload.
type worker struct {
	b      *bench
	id     int
	rng    *mrand.Rand
	cursor string // the next page of the worker's walk through the users
	search bool   // whether the last users request was a search
}

// listUsers asks the admin API for a page of 50 users: every other time a
// prefix search of the usernames (1 in 16 of them match, so that the page
// is full at every size from 1000 users: a page of 4 rows at the smallest
// size would cost less than the 50 of the larger ones), otherwise the
// next page of the worker's walk through the enabled users, in username
// order, from the start when it ends.
func (w *worker) listUsers() *http.Request {
	w.search = w.rng.IntN(2) == 0
	path := "/auth/admin/users?limit=50&disabled=false"
	if w.search {
		path = fmt.Sprintf("/auth/admin/users?limit=50&q=%s%x", usernamePrefix, w.rng.IntN(16))
	} else if w.cursor != "" {
		path += "&after=" + url.QueryEscape(w.cursor)
	}
	return bearer(http.MethodGet, path, w.b.admin)
}

// keepCursor keeps where the walk through the users goes on.
func (w *worker) keepCursor(body []byte) {
	if w.search {
		return
	}
	var page struct {
		Next *string `json:"next"`
	}
	if json.Unmarshal(body, &page) == nil {
		w.cursor = ""
		if page.Next != nil {
			w.cursor = *page.Next
		}
	}
}

func (w *worker) own() *[]string { return &w.b.own[w.id] }

// refreshToken takes one of the worker's own refresh tokens, which the
// refresh's answer puts back.
func (w *worker) refreshToken() string {
	own := w.own()
	k := w.rng.IntN(len(*own))
	t := (*own)[k]
	(*own)[k] = (*own)[len(*own)-1]
	*own = (*own)[:len(*own)-1]
	return t
}

func (w *worker) keep(body []byte) {
	var p auth.TokenPair
	if json.Unmarshal(body, &p) == nil && p.RefreshToken != "" {
		*w.own() = append(*w.own(), p.RefreshToken)
	}
}

// spend keeps a login's session for a logout.
func (w *worker) spend(body []byte) {
	var p auth.TokenPair
	if json.Unmarshal(body, &p) != nil || p.RefreshToken == "" {
		return
	}
	w.b.spareMu.Lock()
	if len(w.b.spare) < maxSpare {
		w.b.spare = append(w.b.spare, p.RefreshToken)
	}
	w.b.spareMu.Unlock()
}

// spareToken takes a login's session for a logout, if there is one.
func (w *worker) spareToken() (string, bool) {
	w.b.spareMu.Lock()
	defer w.b.spareMu.Unlock()
	n := len(w.b.spare)
	if n == 0 {
		return "", false
	}
	t := w.b.spare[n-1]
	w.b.spare = w.b.spare[:n-1]
	return t, true
}

func (w *worker) anyAccess() string { return w.b.access[w.rng.IntN(len(w.b.access))] }

// The phases of the workload. Password hashing takes all the CPU it gets,
// so the endpoints that hash run apart, as many at once as there are CPUs
// (the Authenticator's own limit), and do not hide the others' figures.
const (
	mixed   = "mixed"
	hashing = "hashing"
)

// operation is one endpoint of the workload. request returns nil when the
// worker cannot send it now (no session left to log out); after sees a
// successful response, untimed.
type operation struct {
	name    string
	phase   string
	weight  int
	status  int
	request func(w *worker) *http.Request
	after   func(w *worker, body []byte)
}

// operations is the workload. An endpoint added by a feature (listing
// users, API-key requests) is one more entry, with its phase and weight.
var operations = []operation{
	{name: "me", phase: mixed, weight: 25, status: http.StatusOK,
		request: func(w *worker) *http.Request { return bearer(http.MethodGet, "/auth/me", w.anyAccess()) }},
	{name: "protected", phase: mixed, weight: 25, status: http.StatusOK,
		request: func(w *worker) *http.Request { return bearer(http.MethodGet, "/hello", w.anyAccess()) }},
	{name: "refresh", phase: mixed, weight: 20, status: http.StatusOK,
		request: func(w *worker) *http.Request {
			return jsonRequest(http.MethodPost, "/auth/refresh", map[string]string{"refresh_token": w.refreshToken()})
		},
		after: (*worker).keep},
	{name: "sessions", phase: mixed, weight: 10, status: http.StatusOK,
		request: func(w *worker) *http.Request { return bearer(http.MethodGet, "/auth/sessions", w.anyAccess()) }},
	{name: "logout", phase: mixed, weight: 5, status: http.StatusNoContent,
		request: func(w *worker) *http.Request {
			t, ok := w.spareToken()
			if !ok {
				return nil
			}
			return jsonRequest(http.MethodPost, "/auth/logout", map[string]string{"refresh_token": t})
		}},
	{name: "users", phase: mixed, weight: 5, status: http.StatusOK,
		request: (*worker).listUsers, after: (*worker).keepCursor},
	{name: "apikey", phase: mixed, weight: 10, status: http.StatusOK,
		request: func(w *worker) *http.Request {
			return bearer(http.MethodGet, "/hello", w.b.keys[w.rng.IntN(len(w.b.keys))])
		}},
	{name: "login", phase: hashing, weight: 3, status: http.StatusOK,
		request: func(w *worker) *http.Request { return loginRequest(seedUsername(w.rng.IntN(w.b.st.users))) },
		after:   (*worker).spend},
	{name: "register", phase: hashing, weight: 1, status: http.StatusCreated,
		request: func(w *worker) *http.Request {
			return jsonRequest(http.MethodPost, "/auth/register", map[string]string{"username": "new-" + randomHex(8), "password": password})
		}},
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails; see crypto/rand
	return hex.EncodeToString(b)
}

// pick chooses the worker's n-th operation of the phase: the first ones
// go once through the phase's operations, starting at one that depends on
// the worker, so that a short run still measures every operation (a slow
// one of low weight, such as register under the race detector, could
// otherwise not come up at all); after that, by weight.
func (w *worker) pick(phase string, n int) *operation {
	var ops []*operation
	total := 0
	for i := range operations {
		if operations[i].phase == phase {
			ops = append(ops, &operations[i])
			total += operations[i].weight
		}
	}
	if n < len(ops) {
		return ops[(n+w.id)%len(ops)]
	}
	k := w.rng.IntN(total)
	for i := range operations {
		if operations[i].phase != phase {
			continue
		}
		if k < operations[i].weight {
			return &operations[i]
		}
		k -= operations[i].weight
	}
	panic("unreachable")
}

// run drives a phase of the workload for d with the given workers.
func (b *bench) run(ctx context.Context, phase string, workers int, d time.Duration, log io.Writer) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	b.runWhile(ctx, phase, workers, log)
}

// runWhile drives a phase of the workload until ctx ends.
func (b *bench) runWhile(ctx context.Context, phase string, workers int, log io.Writer) {
	start := time.Now()
	var wg sync.WaitGroup
	for id := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{b: b, id: id, rng: mrand.New(mrand.NewPCG(uint64(id), uint64(time.Now().UnixNano())))}
			for n := 0; ctx.Err() == nil; n++ {
				op := w.pick(phase, n)
				r := op.request(w)
				if r == nil {
					continue
				}
				var inStore atomic.Int64
				t0 := time.Now()
				// The request runs to its end even when the run's time is
				// up: cutting it off would count a cancelled request.
				rec := b.serve(context.WithoutCancel(ctx), r, &inStore)
				el := time.Since(t0)
				if rec.Code != op.status {
					b.fail(op.name, rec, log)
					continue
				}
				b.ends.add(op.name, el)
				b.inStore.add(op.name, time.Duration(inStore.Load()))
				if op.after != nil {
					op.after(w, rec.Body.Bytes())
				}
			}
		}()
	}
	wg.Wait()
	b.failsMu.Lock() // prune runs both phases at once
	b.elapsed[phase] += time.Since(start)
	b.failsMu.Unlock()
}

// fail counts an unexpected answer and shows the first of each kind.
func (b *bench) fail(op string, rec *httptest.ResponseRecorder, log io.Writer) {
	key := fmt.Sprintf("%s %d", op, rec.Code)
	b.failsMu.Lock()
	defer b.failsMu.Unlock()
	if b.fails[key] == 0 {
		fmt.Fprintf(log, "%s at %d users: %s: %.200s\n", b.st.kind, b.st.users, key, rec.Body.String())
	}
	b.fails[key]++
}

// pruneResult is one PruneSessions run under the workload.
type pruneResult struct {
	Store   string  `json:"store"`
	Users   int     `json:"users"`
	Removed int     `json:"removed"`
	Seconds float64 `json:"seconds"`
	Stopped bool    `json:"stopped,omitempty"` // by -prune-for, before the end
	// LiveBefore and LiveAfter count the seeded sessions live when the
	// prune began, before and after it (which the workload never
	// touches): a prune that removed a live one would show it.
	LiveBefore int    `json:"live_before"`
	LiveAfter  int    `json:"live_after"`
	Error      string `json:"error,omitempty"`
}

// prune runs PruneSessions while both phases of the workload run, for at
// most limit when limit is not 0, and returns what it did; the workload's
// figures meanwhile replace the bench's.
func (b *bench) prune(ctx context.Context, workers int, limit time.Duration, log io.Writer) pruneResult {
	b.ends.reset()
	b.inStore.reset()
	b.calls.reset()
	b.elapsed = map[string]time.Duration{}
	// Sessions live an hour from now are live when the prune runs, whose
	// cutoff is later than now: none of them may go. (Counting takes a
	// while at ten million rows, and a seeded session may expire meanwhile.)
	t0 := time.Now().Add(time.Hour)
	liveBefore, err := b.st.liveSeeded(ctx, t0)
	if err != nil {
		return pruneResult{Store: b.st.kind, Users: b.st.users, Error: err.Error()}
	}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.runWhile(wctx, mixed, workers, log) }()
	go func() { defer wg.Done(); b.runWhile(wctx, hashing, runtime.GOMAXPROCS(0), log) }()
	start := time.Now()
	pctx := ctx
	if limit > 0 {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	n, err := b.a.PruneSessions(pctx)
	r := pruneResult{Store: b.st.kind, Users: b.st.users, Removed: n, Seconds: time.Since(start).Seconds(), LiveBefore: liveBefore}
	switch {
	case err != nil && limit > 0 && ctx.Err() == nil && pctx.Err() != nil:
		r.Stopped = true // by -prune-for, as asked
	case err != nil:
		r.Error = err.Error()
	}
	stop()
	wg.Wait()
	if r.LiveAfter, err = b.st.liveSeeded(ctx, t0); err != nil && r.Error == "" {
		r.Error = err.Error()
	}
	if r.LiveAfter != r.LiveBefore && r.Error == "" {
		r.Error = fmt.Sprintf("the prune removed %d live sessions", r.LiveBefore-r.LiveAfter)
	}
	return r
}
