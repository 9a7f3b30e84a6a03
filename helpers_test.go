package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/testutil"
	"github.com/gatehouse/auth/memstore"
)

var testSecret = []byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-test-only")

// fakeClock is the injected clock: tests move it instead of sleeping.
type fakeClock = testutil.Clock

// TestMain keeps the failures that an Authenticator without WithLogger
// reports to slog.Default out of the test output; TestFailuresReachDefaultLogger
// checks that they are reported.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

func newClock() *fakeClock {
	return testutil.NewClock(time.Date(2026, 11, 27, 12, 0, 0, 123456789, time.UTC))
}

type fixture struct {
	a     *auth.Authenticator
	store *memstore.Store
	clock *fakeClock
}

func newFixture(t testing.TB, opts ...auth.Option) *fixture {
	t.Helper()
	f := &fixture{store: memstore.New(), clock: newClock()}
	base := []auth.Option{auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(f.clock.Now)}
	a, err := auth.New(f.store, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.a = a
	return f
}

func (f *fixture) register(t testing.TB, name, password string) *auth.User {
	t.Helper()
	u, err := f.a.Register(context.Background(), name, password)
	if err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
	return u
}

func (f *fixture) login(t testing.TB, name, password string) auth.TokenPair {
	t.Helper()
	p, err := f.a.Login(context.Background(), name, password)
	if err != nil {
		t.Fatalf("Login(%q): %v", name, err)
	}
	return p
}

// withFlakyStore returns an Authenticator on f's store and clock, reached
// through a flakyStore that the test can make fail.
func (f *fixture) withFlakyStore(t testing.TB) (*flakyStore, *auth.Authenticator) {
	t.Helper()
	fs := &flakyStore{UserStore: f.store}
	a, err := auth.New(fs, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return fs, a
}

// flakyStore wraps a store and can be told to fail every call with an error.
// It is a UserStore only, so an Authenticator on it keeps no sessions; see
// flakySessionStore for one that does.
type flakyStore struct {
	auth.UserStore
	mu   sync.Mutex
	err  error
	hang bool
	// beforeUpdate, when set, runs once before the next UpdateUser.
	beforeUpdate func()
}

// fail returns the error set with setErr; while hang is set it first waits
// for ctx to end, like a database behind a frozen connection.
func (s *flakyStore) fail(ctx context.Context) error {
	s.mu.Lock()
	hang, err := s.hang, s.err
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

// setHang makes every call wait until its context ends.
func (s *flakyStore) setHang(hang bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = hang
}

func (s *flakyStore) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *flakyStore) CreateUser(ctx context.Context, u *auth.User) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.UserStore.CreateUser(ctx, u)
}

func (s *flakyStore) UserByID(ctx context.Context, id string) (*auth.User, error) {
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	return s.UserStore.UserByID(ctx, id)
}

func (s *flakyStore) UserByUsername(ctx context.Context, name string) (*auth.User, error) {
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	return s.UserStore.UserByUsername(ctx, name)
}

func (s *flakyStore) UpdateUser(ctx context.Context, u *auth.User, h string, v int64) error {
	s.mu.Lock()
	hook := s.beforeUpdate
	s.beforeUpdate = nil
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.UserStore.UpdateUser(ctx, u, h, v)
}

var errDown = errors.Join(auth.ErrUnavailable, errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"))

func loginRequest(user, pass string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/auth/login", strings.NewReader(url.Values{"username": {user}, "password": {pass}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func serve(h http.Handler, req *http.Request) response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Header(), rec.Body.Bytes()}
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }

func newRequest(method, path, contentType, body string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// flakySessionStore is a flakyStore that keeps sessions too, and fails
// the session calls as well while its error is set.
type flakySessionStore struct {
	*flakyStore
	sessions auth.SessionStore
}

// newDownStore returns a flakySessionStore on a new memstore.
func newDownStore() *flakySessionStore {
	m := memstore.New()
	return &flakySessionStore{flakyStore: &flakyStore{UserStore: m}, sessions: m}
}

func (s *flakySessionStore) CreateSession(ctx context.Context, sess *auth.Session) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.sessions.CreateSession(ctx, sess)
}

func (s *flakySessionStore) Session(ctx context.Context, id string) (*auth.Session, error) {
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	return s.sessions.Session(ctx, id)
}

func (s *flakySessionStore) RotateSession(ctx context.Context, id, from, to string, at time.Time, userAgent, ip string) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.sessions.RotateSession(ctx, id, from, to, at, userAgent, ip)
}

func (s *flakySessionStore) UseGrace(ctx context.Context, id, previousJTI string, max int) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.sessions.UseGrace(ctx, id, previousJTI, max)
}

func (s *flakySessionStore) RevokeSession(ctx context.Context, id string, at time.Time) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.sessions.RevokeSession(ctx, id, at)
}

func (s *flakySessionStore) RevokeUserSessions(ctx context.Context, userID string, at time.Time) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.sessions.RevokeUserSessions(ctx, userID, at)
}

func (s *flakySessionStore) UserSessions(ctx context.Context, userID string, now time.Time) ([]*auth.Session, error) {
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	return s.sessions.UserSessions(ctx, userID, now)
}

func (s *flakySessionStore) DeleteSessions(ctx context.Context, before time.Time) (int, error) {
	if err := s.fail(ctx); err != nil {
		return 0, err
	}
	return s.sessions.DeleteSessions(ctx, before)
}

var _ auth.SessionStore = (*flakySessionStore)(nil)

// statelessStore hides memstore's SessionStore methods.
type statelessStore struct{ auth.UserStore }
