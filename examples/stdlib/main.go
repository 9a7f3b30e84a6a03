// Command stdlib serves Gatehouse with nothing but net/http: the auth
// endpoints mounted under /auth/ and application routes written as Go 1.22
// method patterns, the protected ones wrapped in the middleware.
//
//	export JWT_SECRET_KEY=$(openssl rand -hex 32)
//	go run . -addr :8080
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	flag.Parse()

	secret := os.Getenv("JWT_SECRET_KEY")
	if secret == "" {
		log.Fatal("JWT_SECRET_KEY is not set; generate one with: export JWT_SECRET_KEY=$(openssl rand -hex 32)")
	}
	a, err := auth.New(memstore.New(), auth.WithSecret([]byte(secret)))
	if err != nil {
		log.Fatal(err)
	}

	srv := &http.Server{Addr: *addr, Handler: newRouter(a), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}

// newRouter returns the application's routes.
func newRouter(a *auth.Authenticator) http.Handler {
	mux := http.NewServeMux()
	// The whole subtree, without a method: the handler routes its own
	// endpoints and answers unknown paths and wrong methods with JSON errors.
	mux.Handle("/auth/", a.Handler())

	mux.HandleFunc("GET /{$}", home)
	mux.Handle("GET /hello", a.Middleware(http.HandlerFunc(hello)))
	return mux
}

func home(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprintln(w, "welcome; POST /auth/register, POST /auth/login, then GET /hello")
}

func hello(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.UserFromContext(r.Context()) // always there behind a.Middleware
	fmt.Fprintf(w, "hello, %s\n", u.Username)
}
