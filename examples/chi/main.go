// Command chi serves Gatehouse with the chi router: the auth endpoints
// mounted at /auth, and the routes that need a user in a group that uses the
// middleware.
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
	"github.com/go-chi/chi/v5"
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
	r := chi.NewRouter()
	// Mount keeps the full path, so the handler still sees /auth/login.
	r.Mount("/auth", a.Handler())

	r.Get("/", home)
	r.Group(func(r chi.Router) {
		r.Use(a.Middleware)
		r.Get("/hello", hello)
	})
	return r
}

func home(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprintln(w, "welcome; POST /auth/register, POST /auth/login, then GET /hello")
}

func hello(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.UserFromContext(r.Context()) // always there behind a.Middleware
	fmt.Fprintf(w, "hello, %s\n", u.Username)
}
