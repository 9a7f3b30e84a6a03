package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// A 32-byte (or longer) random secret; in production, read it from the
// environment or a secret manager. Generate one with `openssl rand -hex 32`.
var secret = []byte("4f1c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f10")

// Wiring Gatehouse into a net/http server: the auth endpoints under /auth/
// and a protected route.
func Example() {
	a, err := auth.New(memstore.New(), auth.WithSecret(secret))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.Handler())
	mux.Handle("GET /hello", a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.UserFromContext(r.Context())
		fmt.Fprintf(w, "hello, %s", u.Username)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// A client registers, logs in with the OAuth2 password grant, and calls
	// the protected route with its access token.
	res, _ := http.Post(srv.URL+"/auth/register", "application/json",
		strings.NewReader(`{"username":"Alice","password":"correct horse battery"}`))
	fmt.Println("register:", res.Status)
	res, _ = http.PostForm(srv.URL+"/auth/login", url.Values{"username": {"alice"}, "password": {"correct horse battery"}})
	var pair auth.TokenPair
	_ = jsonDecode(res.Body, &pair)
	fmt.Println("login:", res.Status, pair.TokenType)

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/hello", nil)
	req.Header.Set("Authorization", "Bearer "+pair.AccessToken)
	res, _ = http.DefaultClient.Do(req)
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.Status, string(body))

	res, _ = http.Get(srv.URL + "/hello")
	fmt.Println("without a token:", res.Status, res.Header.Get("WWW-Authenticate"))
	// Output:
	// register: 201 Created
	// login: 200 OK bearer
	// 200 OK hello, alice
	// without a token: 401 Unauthorized Bearer
}

// Calling the library directly, without the HTTP handlers: register, log in,
// verify the access token, and refresh.
func ExampleAuthenticator_Refresh() {
	ctx := context.Background()
	a, err := auth.New(memstore.New(), auth.WithSecret(secret))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := a.Register(ctx, "bob", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	pair, err := a.Login(ctx, "bob", "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	u, err := a.VerifyAccessToken(ctx, pair.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("access token belongs to", u.Username)

	next, err := a.Refresh(ctx, pair.RefreshToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new pair expires in", next.ExpiresIn, "seconds")
	// Output:
	// access token belongs to bob
	// new pair expires in 1800 seconds
}

// Authenticate checks a password without issuing tokens, for apps with
// their own sessions. Its errors are sentinels, tested with errors.Is.
func ExampleAuthenticator_Authenticate() {
	ctx := context.Background()
	a, err := auth.New(memstore.New(), auth.WithSecret(secret))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := a.Register(ctx, "carol", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	_, err = a.Authenticate(ctx, "carol", "wrong horse battery")
	fmt.Println(errors.Is(err, auth.ErrInvalidCredentials))
	_, err = a.Authenticate(ctx, "nobody", "correct horse battery")
	fmt.Println(errors.Is(err, auth.ErrInvalidCredentials))
	u, err := a.Authenticate(ctx, "CAROL", "correct horse battery")
	fmt.Println(u.Username, err)
	// Output:
	// true
	// true
	// carol <nil>
}

// Reading the authenticated user in a handler behind the middleware.
func ExampleUserFromContext() {
	profile := func(w http.ResponseWriter, r *http.Request) {
		u, ok := auth.UserFromContext(r.Context())
		if !ok {
			http.Error(w, "no user", http.StatusUnauthorized) // unreachable behind Middleware
			return
		}
		fmt.Fprintf(w, "signed in as %s (id %s)", u.Username, u.ID)
	}
	a, err := auth.New(memstore.New(), auth.WithSecret(secret))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /profile", a.Middleware(http.HandlerFunc(profile)))
}

// Serving the endpoints under another prefix, here /api/v1/auth/.
func ExampleAuthenticator_Handler() {
	a, err := auth.New(memstore.New(), auth.WithSecret(secret))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/auth/", http.StripPrefix("/api/v1", a.Handler()))

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/auth/me", nil))
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	// Output:
	// 401 {"detail":"Not authenticated","error":"invalid_request"}
}

func jsonDecode(r io.Reader, v any) error {
	return json.NewDecoder(r).Decode(v)
}

// A password policy of your own: the default rules plus words that are
// easy to guess for this site. Its error text is what the client sees.
func ExampleWithPasswordPolicy() {
	policy := func(ctx context.Context, username, password string) error {
		if err := auth.DefaultPasswordPolicy(ctx, username, password); err != nil {
			return err
		}
		for _, word := range []string{"gatehouse", "acme"} {
			if strings.Contains(strings.ToLower(password), word) {
				return errors.New("Password must not contain the name of this site")
			}
		}
		return nil
	}
	a, err := auth.New(memstore.New(), auth.WithSecret(secret), auth.WithPasswordPolicy(policy))
	if err != nil {
		log.Fatal(err)
	}
	for _, pw := range []string{"Gatehouse2026", "iloveyou", "bob"} {
		_, err := a.Register(context.Background(), "bob", pw)
		var verr *auth.ValidationError
		if errors.As(err, &verr) {
			fmt.Printf("%s: %s\n", verr.Problems[0].Type, verr.Problems[0].Msg)
		}
	}
	// Output:
	// password_policy: Password must not contain the name of this site
	// password_policy: Password is too common, choose a less guessable one
	// string_too_short: String should have at least 8 characters
}

// Failed logins are throttled per username and per client address. Here
// the username's budget is two failures, then one a minute; a throttled
// attempt gets 429 with Retry-After, even with the right password.
func ExampleWithLoginLimits() {
	a, err := auth.New(memstore.New(), auth.WithSecret(secret),
		auth.WithLoginLimits(auth.RateLimit{Burst: 2, Every: time.Minute}, auth.RateLimit{Burst: 20, Every: 6 * time.Second}))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := a.Register(context.Background(), "dana", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	h := a.Handler()
	for _, pw := range []string{"wrong horse", "wrong pony", "correct horse battery"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/auth/login", strings.NewReader(url.Values{"username": {"dana"}, "password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(rec, req)
		// Retry-After is in whole seconds: up to 60 here.
		if ra := rec.Header().Get("Retry-After"); ra != "" {
			fmt.Println(rec.Code, "with Retry-After")
		} else {
			fmt.Println(rec.Code)
		}
	}
	// Output:
	// 401
	// 401
	// 429 with Retry-After
}

// Behind a reverse proxy, name the proxy's addresses and the header it
// sets, so that each client is charged to its own address, not the
// proxy's. Requests from anywhere else are charged to their peer address,
// whatever headers they carry.
func ExampleWithTrustedProxy() {
	a, err := auth.New(memstore.New(), auth.WithSecret(secret),
		auth.WithTrustedProxy("X-Forwarded-For", netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")))
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/auth/", a.Handler())
}

// Telling token problems apart with errors.Is: every rejection matches
// ErrInvalidToken, and its precise cause matches its own sentinel.
func ExampleAuthenticator_VerifyAccessToken() {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a, err := auth.New(memstore.New(), auth.WithSecret(secret), auth.WithClock(clock),
		auth.WithInsecureFastHashingForTests()) // only because this example runs as a test
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Register(ctx, "alice", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	pair, err := a.Login(ctx, "alice", "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	now = now.Add(time.Hour) // the access token lives 30 minutes

	_, err = a.VerifyAccessToken(ctx, pair.AccessToken)
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		fmt.Println("expired: refresh it")
	case errors.Is(err, auth.ErrInvalidToken):
		fmt.Println("invalid: log in again")
	}
	fmt.Println(errors.Is(err, auth.ErrInvalidToken))
	// Output:
	// expired: refresh it
	// true
}

// Calling Login from your own handler: tell Gatehouse who the client is,
// for the login throttle, the session list and hooks.
func ExampleContextWithClient() {
	a, err := auth.New(memstore.New(), auth.WithSecret(secret),
		auth.WithInsecureFastHashingForTests()) // only because this example runs as a test
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	u, err := a.Register(ctx, "alice", "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	ctx = auth.ContextWithClient(ctx, auth.Client{
		Addr:      netip.MustParseAddr("203.0.113.7"), // from your proxy's header, say
		UserAgent: "Mozilla/5.0",
	})
	if _, err := a.Login(ctx, "alice", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	sessions, err := a.Sessions(context.Background(), u.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sessions[0].IP, sessions[0].UserAgent)
	// Output: 203.0.113.7 Mozilla/5.0
}
