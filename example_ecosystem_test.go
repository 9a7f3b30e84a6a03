package auth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// Hooks observe a user's life and may veto registration and login.
func ExampleWithHooks() {
	ctx := context.Background()
	a, err := auth.New(memstore.New(), auth.WithSecret(secret), auth.WithHooks(auth.Hooks{
		BeforeRegister: func(_ context.Context, e auth.Event) error {
			if strings.HasPrefix(e.Username, "admin") {
				return errors.New("reserved name")
			}
			return nil
		},
		AfterRegister: func(_ context.Context, e auth.Event) {
			fmt.Println("welcome,", e.Username)
		},
		LoginFailed: func(_ context.Context, e auth.Event) {
			fmt.Println("failed login for", e.Username, errors.Is(e.Err, auth.ErrInvalidCredentials))
		},
	}))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := a.Register(ctx, "administrator", "correct horse battery"); errors.Is(err, auth.ErrRejected) {
		fmt.Println("rejected")
	}
	if _, err := a.Register(ctx, "Dana", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	_, _ = a.Login(ctx, "dana", "wrong horse battery")
	// Output:
	// rejected
	// welcome, dana
	// failed login for dana true
}

// Application claims travel in access tokens and reach handlers through the
// middleware.
func ExampleWithClaims() {
	ctx := context.Background()
	a, err := auth.New(memstore.New(), auth.WithSecret(secret),
		auth.WithClaims(func(_ context.Context, u *auth.User) (map[string]any, error) {
			return map[string]any{"tenant": "acme", "roles": []string{"editor"}}, nil
		}))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := a.Register(ctx, "erin", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	pair, err := a.Login(ctx, "erin", "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := auth.ClaimsFromContext(r.Context())
		fmt.Println(claims["tenant"], claims["roles"])
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+pair.AccessToken)
	h.ServeHTTP(httptest.NewRecorder(), req)
	// Output: acme [editor]
}

// Cookie mode for browser apps: the refresh token is an HttpOnly cookie,
// never in the JSON.
func ExampleAuthenticator_CookieHandler() {
	a, err := auth.New(memstore.New(), auth.WithSecret(secret),
		auth.WithRefreshCookie(auth.CookieOptions{Path: "/app/auth"}))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := a.Register(context.Background(), "fern", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.Handler())                                     // API clients
	mux.Handle("/app/auth/", http.StripPrefix("/app", a.CookieHandler())) // the app's own pages

	req := httptest.NewRequest(http.MethodPost, "/app/auth/login", strings.NewReader(`{"username":"fern","password":"correct horse battery"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		fmt.Println(c.Name, c.Path, c.HttpOnly, c.Secure, c.SameSite == http.SameSiteStrictMode)
	}
	fmt.Println(strings.Contains(rec.Body.String(), "refresh_token"))
	// Output:
	// gatehouse_refresh /app/auth/refresh true true true
	// gatehouse_refresh /app/auth/logout true true true
	// __Host-gatehouse_device / true true true
	// false
}
