// Command gin serves Gatehouse with the gin framework. The auth endpoints
// are mounted with gin.WrapH, and protected routes use requireUser (in
// ginauth.go), which runs the middleware and puts the user into gin's
// context as well.
//
//	export JWT_SECRET_KEY=$(openssl rand -hex 32)
//	go run . -addr :8080
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gin-gonic/gin"
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
	r := gin.New()
	r.Use(gin.Recovery())

	// One catch-all for every method: the handler routes its own endpoints
	// and answers wrong methods with JSON errors. gin refuses to register any
	// other route below /auth/ next to a catch-all, so application routes
	// live elsewhere.
	r.Any("/auth/*path", gin.WrapH(a.Handler()))

	r.GET("/", home)
	protected := r.Group("/", requireUser(a))
	protected.GET("/hello", hello)
	return r
}

func home(c *gin.Context) {
	c.String(http.StatusOK, "welcome; POST /auth/register, POST /auth/login, then GET /hello\n")
}

func hello(c *gin.Context) {
	u, _ := currentUser(c) // always there behind requireUser
	c.String(http.StatusOK, "hello, %s\n", u.Username)
}
