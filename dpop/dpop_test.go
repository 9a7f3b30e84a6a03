package dpop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/dpop"
	"github.com/gatehouse/auth/internal/testutil"
	"github.com/gatehouse/auth/memstore"
	"golang.org/x/oauth2"
)

var secret = []byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-test-only")

// server is a Gatehouse server with DPoP required and server nonces on,
// and a protected /hello that answers the user's name.
func server(t *testing.T, opts ...auth.Option) (*httptest.Server, *auth.Authenticator) {
	t.Helper()
	a, err := auth.New(memstore.New(), append([]auth.Option{auth.WithSecret(secret), auth.WithInsecureFastHashingForTests(),
		auth.WithDPoP(auth.DPoPRequired)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Register(context.Background(), "alice", "password-1"); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.Handler())
	mux.Handle("/hello", a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.UserFromContext(r.Context())
		fmt.Fprint(w, "hello "+u.Username)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, a
}

// counting counts the requests that reach the network.
type counting struct{ n atomic.Int32 }

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestTransportWithOAuth2(t *testing.T) {
	srv, _ := server(t, auth.WithDPoPNonces(time.Minute))
	base := &counting{}
	tr, err := dpop.New(base)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: tr})
	conf := &oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/auth/login", AuthStyle: oauth2.AuthStyleInParams}}
	tok, err := conf.PasswordCredentialsToken(ctx, "alice", "password-1")
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	if tok.Type() != "DPoP" {
		t.Errorf("token type %q, want DPoP", tok.Type())
	}
	if n := base.n.Load(); n != 2 {
		t.Errorf("%d requests for the token, want 2 (one refused for want of a nonce, one retry)", n)
	}
	client := conf.Client(ctx, tok)
	for i := range 2 {
		res, err := client.Get(srv.URL + "/hello?i=" + fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		var body strings.Builder
		_, _ = fmt.Fscan(res.Body, &body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /hello: %d", res.StatusCode)
		}
	}

	// The token without the key is refused, in either scheme.
	for _, scheme := range []string{"Bearer", "DPoP"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/hello", nil)
		req.Header.Set("Authorization", scheme+" "+tok.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "DPoP ") {
			t.Errorf("%s without a proof: %d %q", scheme, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
	}

	// Refresh through the token source: same key, so it works.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Hour)
	fresh, err := conf.TokenSource(ctx, &expired).Token()
	if err != nil || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
}

// TestTransportResourceNonceRetry: the nonce the client holds goes stale;
// the resource answers 401 use_dpop_nonce and the transport retries once.
func TestTransportResourceNonceRetry(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	srv, _ := server(t, auth.WithDPoPNonces(time.Minute), auth.WithClock(clock.Now))
	base := &counting{}
	tr, err := dpop.New(base, dpop.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&http.Client{Transport: tr}).PostForm(srv.URL+"/auth/login", url.Values{"username": {"alice"}, "password": {"password-1"}})
	if err != nil {
		t.Fatal(err)
	}
	var p auth.TokenPair
	_ = json.NewDecoder(res.Body).Decode(&p)
	res.Body.Close()
	if p.TokenType != "DPoP" {
		t.Fatalf("login: %d %q", res.StatusCode, p.TokenType)
	}
	clock.Advance(3 * time.Minute)
	before := base.n.Load()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/hello", nil)
	req.Header.Set("Authorization", "DPoP "+p.AccessToken)
	res, err = (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("resource: %d", res.StatusCode)
	}
	if n := base.n.Load() - before; n != 2 {
		t.Errorf("%d requests to the resource, want 2 (refused for a stale nonce, then the retry)", n)
	}
	if req.Header.Get("DPoP") != "" {
		t.Error("RoundTrip modified the caller's request")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := dpop.New(nil, dpop.WithClock(nil)); err == nil {
		t.Error("nil clock accepted")
	}
}

func TestProofShape(t *testing.T) {
	tr, err := dpop.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tr.Proof("GET", "https://api.example.com/x?q=1#f", "tok", "n-1")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(p, ".")
	if len(parts) != 3 || tr.Algorithm() != "ES256" || len(tr.Thumbprint()) != 43 {
		t.Fatalf("proof %q alg %s jkt %q", p, tr.Algorithm(), tr.Thumbprint())
	}
}
