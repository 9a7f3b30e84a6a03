package auth_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// countingKeys counts the writes of LastUsedAt.
type countingKeys struct {
	*memstore.Store
	touches atomic.Int64
}

func (s *countingKeys) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	s.touches.Add(1)
	return s.Store.TouchAPIKey(ctx, id, at)
}

// scopeEcho is an application route behind Middleware and RequireScope.
func scopeEcho(a *auth.Authenticator, scopes ...string) http.Handler {
	return a.Middleware(a.RequireScope(scopes...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.UserFromContext(r.Context())
		k, ok := auth.APIKeyFromContext(r.Context())
		name := "-"
		if ok {
			name = k.Name + ":" + strings.Join(k.Scopes, ",")
		}
		w.Write([]byte(u.Username + " " + name))
	})))
}

func TestAPIKeyLifecycle(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	r := af.call(http.MethodPost, "/auth/api-keys", af.token, `{"name":"deploy","scopes":["repo:write","repo:read","repo:read"],"expires_in":86400}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	body := r.json(t)
	key, _ := body["key"].(string)
	if !regexp.MustCompile(`^gh_[0-9A-Za-z]{46}$`).MatchString(key) {
		t.Fatalf("key = %q, want gh_ and 46 base62 characters", key)
	}
	if body["expires_at"] == nil || body["last_used_at"] != nil || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("create body %s", r.body)
	}
	id := body["id"].(string)
	stored, err := af.store.APIKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored.Hash, key[3:20]) || len(stored.Hash) != 64 {
		t.Errorf("stored hash %q", stored.Hash)
	}

	app := scopeEcho(af.a, "repo:read")
	if r := do(app, http.MethodGet, "/x", "", "", bearer(key)...); r.status != 200 || string(r.body) != "root deploy:repo:read,repo:write" {
		t.Errorf("app with the key: %d %s", r.status, r.body)
	}
	if r := do(app, http.MethodGet, "/x", "", "", bearer(af.token)...); r.status != 200 || string(r.body) != "root -" {
		t.Errorf("app with an access token: %d %s", r.status, r.body)
	}
	wantError(t, do(scopeEcho(af.a, "repo:read", "admin"), http.MethodGet, "/x", "", "", bearer(key)...),
		http.StatusForbidden, "Insufficient scope", "insufficient_scope")

	// A key never manages keys, changes a password or ends sessions.
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, "/auth/api-keys", `{"name":"more","scopes":[]}`},
		{http.MethodGet, "/auth/api-keys", ""},
		{http.MethodDelete, "/auth/api-keys/" + id, ""},
		{http.MethodPost, "/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`},
		{http.MethodPost, "/auth/logout-all", ""},
		{http.MethodGet, "/auth/sessions", ""},
		{http.MethodGet, "/auth/me", ""},
	} {
		wantError(t, af.call(c.method, c.path, key, c.body), http.StatusForbidden, "API keys cannot be used here; use an access token", "api_key_not_allowed")
	}

	// last_used_at: written once a minute at most, not per request.
	list := decodeKeys(t, af.call(http.MethodGet, "/auth/api-keys", af.token, ""))
	if len(list) != 1 || list[0]["last_used_at"] == nil || list[0]["key"] != nil || list[0]["hash"] != nil {
		t.Fatalf("list = %v", list)
	}
	first := list[0]["last_used_at"]
	for range 5 {
		do(app, http.MethodGet, "/x", "", "", bearer(key)...)
	}
	if got := decodeKeys(t, af.call(http.MethodGet, "/auth/api-keys", af.token, ""))[0]["last_used_at"]; got != first {
		t.Errorf("last_used_at moved within the minute: %v -> %v", first, got)
	}
	af.clock.Advance(61 * time.Second)
	do(app, http.MethodGet, "/x", "", "", bearer(key)...)
	if got := decodeKeys(t, af.call(http.MethodGet, "/auth/api-keys", af.token, ""))[0]["last_used_at"]; got == first {
		t.Error("last_used_at did not move after a minute")
	}

	// Revoked: refused at once.
	if r := af.call(http.MethodDelete, "/auth/api-keys/"+id, af.token, ""); r.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := do(app, http.MethodGet, "/x", "", "", bearer(key)...); r.status != http.StatusUnauthorized {
		t.Errorf("a revoked key: %d, want 401", r.status)
	}
	wantError(t, af.call(http.MethodDelete, "/auth/api-keys/"+id, af.token, ""), http.StatusNotFound, "API key not found", "api_key_not_found")
	if list := decodeKeys(t, af.call(http.MethodGet, "/auth/api-keys", af.token, "")); len(list) != 0 {
		t.Errorf("list after revoking = %v", list)
	}

	for _, b := range []string{`{"scopes":[]}`, `{"name":"x"}`, `{"name":"","scopes":[]}`, `{"name":"x","scopes":["a b"]}`,
		`{"name":"x","scopes":[],"expires_in":5}`, `{"name":"x","scopes":[],"expires_in":"60"}`, `{"name":"x\u0007","scopes":[]}`} {
		if r := af.call(http.MethodPost, "/auth/api-keys", af.token, b); r.status != http.StatusUnprocessableEntity {
			t.Errorf("create %s: %d %s, want 422", b, r.status, r.body)
		}
	}
}

func decodeKeys(t *testing.T, r response) []map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("list keys: %d %s", r.status, r.body)
	}
	return decode[[]map[string]any](t, r)
}

// TestAPIKeyEndsWithTheUser: expiry, disabling, logout-all, a password
// change and deletion each stop a key at once.
func TestAPIKeyEndsWithTheUser(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		end    func(af *adminFixture, u *auth.User) error
		status int
	}{
		{"expiry", func(af *adminFixture, _ *auth.User) error { af.clock.Advance(2 * time.Hour); return nil }, 401},
		{"disabled", func(af *adminFixture, u *auth.User) error { return af.a.SetDisabled(ctx, u.ID, true) }, 403},
		{"logout-all", func(af *adminFixture, u *auth.User) error { return af.a.LogoutAll(ctx, u.ID) }, 401},
		{"password", func(af *adminFixture, u *auth.User) error {
			return af.a.ChangePassword(ctx, u, "password-1", "password-2")
		}, 401},
		{"deleted", func(af *adminFixture, u *auth.User) error { return af.a.DeleteUser(ctx, u.ID) }, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			af := newAdminFixture(t)
			u := af.register(t, "jan", "password-1")
			_, key, err := af.a.CreateAPIKey(ctx, u.ID, "k", nil, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			app := scopeEcho(af.a)
			if r := do(app, http.MethodGet, "/x", "", "", bearer(key)...); r.status != 200 {
				t.Fatalf("before: %d %s", r.status, r.body)
			}
			if err := tc.end(af, u); err != nil {
				t.Fatal(err)
			}
			if r := do(app, http.MethodGet, "/x", "", "", bearer(key)...); r.status != tc.status {
				t.Errorf("after %s: %d %s, want %d", tc.name, r.status, r.body, tc.status)
			}
		})
	}
}

// TestAPIKeyRevokedElsewhere: a key revoked through another instance
// sharing the store stops within the user-cache TTL.
func TestAPIKeyRevokedElsewhere(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	k, key, err := af.a.CreateAPIKey(ctx, af.root.ID, "k", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	other, err := auth.New(af.store, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(),
		auth.WithClock(af.clock.Now), auth.WithAPIKeys())
	if err != nil {
		t.Fatal(err)
	}
	app := scopeEcho(af.a)
	if r := do(app, http.MethodGet, "/x", "", "", bearer(key)...); r.status != 200 {
		t.Fatal(r.status)
	}
	if err := other.RevokeAPIKey(ctx, af.root.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	af.clock.Advance(3 * time.Second) // past the 2 s default TTL
	if r := do(app, http.MethodGet, "/x", "", "", bearer(key)...); r.status != http.StatusUnauthorized {
		t.Errorf("after revocation elsewhere and the TTL: %d, want 401", r.status)
	}
}

func TestAPIKeyGuessingThrottled(t *testing.T) {
	af := newAdminFixture(t, auth.WithAPIKeyLimit(auth.RateLimit{Burst: 3, Every: time.Minute}))
	_, key, err := af.a.CreateAPIKey(context.Background(), af.root.ID, "k", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	app := scopeEcho(af.a)
	last := "x"
	if strings.HasSuffix(key, "x") {
		last = "y" // the mistyped key must differ from the real one
	}
	guesses := []string{"gh_" + strings.Repeat("a", 46), key[:len(key)-1] + last, "gh_short"}
	for _, g := range guesses {
		if r := doFrom(app, "198.51.100.3:1", http.MethodGet, "/x", "", "", bearer(g)...); r.status != http.StatusUnauthorized {
			t.Fatalf("guess %q: %d, want 401", g, r.status)
		}
	}
	r := doFrom(app, "198.51.100.3:1", http.MethodGet, "/x", "", "", bearer("gh_"+strings.Repeat("b", 46))...)
	wantError(t, r, http.StatusTooManyRequests, "Too many invalid API keys, retry later", "too_many_attempts")
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Another address, and a valid key already known, are not held back.
	if r := doFrom(app, "198.51.100.4:1", http.MethodGet, "/x", "", "", bearer(key)...); r.status != 200 {
		t.Errorf("another address with the real key: %d", r.status)
	}
}

func TestAPIKeysNeedTheStore(t *testing.T) {
	_, err := auth.New(statelessStore{memstore.New()}, auth.WithSecret(testSecret), auth.WithAPIKeys())
	if !errors.Is(err, auth.ErrInvalidConfig) {
		t.Errorf("WithAPIKeys on a store without APIKeyStore = %v, want ErrInvalidConfig", err)
	}
	if _, err := auth.New(memstore.New(), auth.WithSecret(testSecret), auth.WithAPIKeys(), auth.WithAPIKeyHashKey([]byte("short"))); !errors.Is(err, auth.ErrWeakSecret) {
		t.Errorf("a short hash key = %v, want ErrWeakSecret", err)
	}
	f := newFixture(t)
	u := f.register(t, "kim", "password-1")
	if _, _, err := f.a.CreateAPIKey(context.Background(), u.ID, "k", nil, 0); !errors.Is(err, auth.ErrAPIKeysUnsupported) {
		t.Errorf("CreateAPIKey without WithAPIKeys = %v", err)
	}
	// Without WithAPIKeys, a gh_ token is just a bad access token.
	if r := do(f.a.Middleware(http.NotFoundHandler()), http.MethodGet, "/", "", "", bearer("gh_x")...); r.status != http.StatusUnauthorized {
		t.Errorf("gh_ token without API keys: %d", r.status)
	}
}

// TestAPIKeyHashKey: keys survive a signing-key rotation when the hash key
// is set, and not otherwise.
func TestAPIKeyHashKey(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	hashKey := []byte("api-key-hash-key-api-key-hash-key-!!")
	newA := func(secret []byte, opts ...auth.Option) *auth.Authenticator {
		a, err := auth.New(store, append([]auth.Option{auth.WithSecret(secret), auth.WithInsecureFastHashingForTests(), auth.WithAPIKeys()}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a1 := newA(testSecret, auth.WithAPIKeyHashKey(hashKey))
	u, err := a1.Register(ctx, "lou", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := a1.CreateAPIKey(ctx, u.ID, "k", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	rotated := []byte("a-rotated-signing-secret-5e8a13f0c7d2b946")
	if r := do(scopeEcho(newA(rotated, auth.WithAPIKeyHashKey(hashKey))), http.MethodGet, "/x", "", "", bearer(key)...); r.status != 200 {
		t.Errorf("after rotation with the hash key: %d", r.status)
	}
	if r := do(scopeEcho(newA(rotated)), http.MethodGet, "/x", "", "", bearer(key)...); r.status != 401 {
		t.Errorf("after rotation without it: %d, want 401", r.status)
	}
}

func TestAPIKeyTouchIsRare(t *testing.T) {
	ck := &countingKeys{Store: memstore.New()}
	clock := newClock()
	a, err := auth.New(ck, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now), auth.WithAPIKeys())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := a.Register(context.Background(), "max", "password-1")
	_, key, _ := a.CreateAPIKey(context.Background(), u.ID, "k", nil, 0)
	app := scopeEcho(a)
	for i := range 300 {
		if i%100 == 0 {
			clock.Advance(time.Second)
		}
		do(app, http.MethodGet, "/x", "", "", bearer(key)...)
	}
	if n := ck.touches.Load(); n != 1 {
		t.Errorf("%d writes of last_used_at for 300 requests within a minute, want 1", n)
	}
}
