package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// These tests use golang.org/x/oauth2 as a real client against the handler
// on a loopback server, to show the token endpoint speaks OAuth2 as clients
// actually implement it, not only as our own tests read the RFC.

// grantLog records the grant_type of every request to the token endpoint.
type grantLog struct {
	mu     sync.Mutex
	grants []string
}

func (g *grantLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auth/login" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			vals, _ := url.ParseQuery(string(body))
			g.mu.Lock()
			g.grants = append(g.grants, vals.Get("grant_type"))
			g.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (g *grantLog) list() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.grants)
}

type oauth2Fixture struct {
	*fixture
	srv    *httptest.Server
	conf   *oauth2.Config
	ctx    context.Context // carries the server's client for x/oauth2
	grants *grantLog
}

func newOAuth2Fixture(t *testing.T) *oauth2Fixture {
	t.Helper()
	f := &oauth2Fixture{fixture: newFixture(t), grants: &grantLog{}}
	f.srv = httptest.NewServer(f.grants.wrap(f.a.Handler()))
	t.Cleanup(f.srv.Close)
	f.conf = &oauth2.Config{Endpoint: oauth2.Endpoint{
		TokenURL: f.srv.URL + "/auth/login",
		// No client authentication: public clients send nothing but the grant.
		AuthStyle: oauth2.AuthStyleInParams,
	}}
	f.ctx = context.WithValue(t.Context(), oauth2.HTTPClient, f.srv.Client())
	return f
}

// me calls /auth/me through client and returns the username.
func (f *oauth2Fixture) me(t *testing.T, client *http.Client) string {
	t.Helper()
	res, err := client.Get(f.srv.URL + "/auth/me")
	if err != nil {
		t.Fatalf("GET /auth/me: %v", err)
	}
	defer res.Body.Close()
	var u struct{ Username string }
	if err := json.NewDecoder(res.Body).Decode(&u); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /auth/me: %s, decode error %v", res.Status, err)
	}
	return u.Username
}

func TestOAuth2PasswordGrant(t *testing.T) {
	f := newOAuth2Fixture(t)
	f.register(t, "alice", "password-1")

	before := time.Now()
	tok, err := f.conf.PasswordCredentialsToken(f.ctx, "Alice", "password-1")
	if err != nil {
		t.Fatalf("PasswordCredentialsToken: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Type() != "Bearer" || !tok.Valid() {
		t.Fatalf("token = %+v", tok)
	}
	if exp := before.Add(30 * time.Minute); tok.Expiry.Before(exp) || tok.Expiry.After(exp.Add(time.Minute)) {
		t.Errorf("Expiry = %v, want about 30 minutes from %v", tok.Expiry, before)
	}
	if got := f.me(t, oauth2.NewClient(f.ctx, f.conf.TokenSource(f.ctx, tok))); got != "alice" {
		t.Errorf("me = %q, want alice", got)
	}
	if got := f.grants.list(); !slices.Equal(got, []string{"password"}) {
		t.Errorf("grants = %q, want one password grant", got)
	}
}

// x/oauth2 decides that a token has expired from the real time.Now and the
// Expiry it computed from expires_in, while the server decides from its
// injected clock. To make the client refresh without sleeping, both views
// are aged: the client's copy of the token gets an Expiry in the past, and
// the server's clock moves past the access TTL, so the old access token
// really is rejected and only a refresh can make the call succeed.
func TestOAuth2TokenSourceRefreshes(t *testing.T) {
	f := newOAuth2Fixture(t)
	f.register(t, "bob", "password-1")
	tok, err := f.conf.PasswordCredentialsToken(f.ctx, "bob", "password-1")
	if err != nil {
		t.Fatalf("PasswordCredentialsToken: %v", err)
	}

	f.clock.Advance(31 * time.Minute) // default access TTL 30 minutes, leeway 5 seconds
	res := do(f.a.Handler(), http.MethodGet, "/auth/me", "", "", bearer(tok.AccessToken)...)
	wantError(t, res, http.StatusUnauthorized, "Could not validate credentials", "invalid_token")

	stale := &oauth2.Token{
		AccessToken:  tok.AccessToken,
		TokenType:    tok.TokenType,
		RefreshToken: tok.RefreshToken,
		Expiry:       time.Now().Add(-time.Minute),
	}
	ts := f.conf.TokenSource(f.ctx, stale)
	client := oauth2.NewClient(f.ctx, ts)
	if got := f.me(t, client); got != "bob" {
		t.Errorf("me = %q, want bob", got)
	}
	fresh, err := ts.Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == "" || !fresh.Valid() {
		t.Errorf("token after refresh = %+v; want a new, valid access token", fresh)
	}
	want := []string{"password", "refresh_token"}
	if got := f.grants.list(); !slices.Equal(got, want) {
		t.Errorf("grants = %q, want %q", got, want)
	}

	// The refreshed token is reused, not refreshed again on every call.
	if got := f.me(t, client); got != "bob" {
		t.Errorf("me = %q, want bob", got)
	}
	if got := f.grants.list(); !slices.Equal(got, want) {
		t.Errorf("grants after a second call = %q, want %q", got, want)
	}
}

func TestOAuth2InvalidGrant(t *testing.T) {
	f := newOAuth2Fixture(t)
	u := f.register(t, "carol", "password-1")
	tok, err := f.conf.PasswordCredentialsToken(f.ctx, "carol", "password-1")
	if err != nil {
		t.Fatalf("PasswordCredentialsToken: %v", err)
	}
	if err := f.a.ChangePassword(context.Background(), u, "password-1", "password-2"); err != nil {
		t.Fatal(err)
	}
	expired := &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}

	tests := map[string]func() error{
		"wrong password": func() error {
			_, err := f.conf.PasswordCredentialsToken(f.ctx, "carol", "wrong-password")
			return err
		},
		"unknown user": func() error {
			_, err := f.conf.PasswordCredentialsToken(f.ctx, "nobody", "password-2")
			return err
		},
		"refresh after password change": func() error {
			_, err := oauth2.NewClient(f.ctx, f.conf.TokenSource(f.ctx, expired)).Get(f.srv.URL + "/auth/me")
			return err
		},
	}
	for name, call := range tests {
		t.Run(name, func(t *testing.T) {
			err := call()
			var rerr *oauth2.RetrieveError
			if !errors.As(err, &rerr) {
				t.Fatalf("err = %v (%T), want *oauth2.RetrieveError", err, err)
			}
			if rerr.ErrorCode != "invalid_grant" || rerr.Response.StatusCode != http.StatusUnauthorized {
				t.Errorf("ErrorCode %q, status %d; want invalid_grant, 401", rerr.ErrorCode, rerr.Response.StatusCode)
			}
			if strings.Contains(string(rerr.Body), "auth:") {
				t.Errorf("body leaks internal error text: %s", rerr.Body)
			}
		})
	}
}
