// Command echo serves Gatehouse with the echo framework: the auth endpoints
// through echo.WrapHandler, and the middleware through
// echo.WrapMiddleware on the routes that need a user.
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
	"github.com/labstack/echo/v4"
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
	e := echo.New()
	// For every method: the handler routes its own endpoints and answers
	// wrong methods with JSON errors.
	e.Any("/auth/*", echo.WrapHandler(a.Handler()))

	e.GET("/", home)
	// Route-level rather than e.Group("", requireUser): a group's middleware
	// also guards its not-found fallback, which would turn every unknown
	// path into a 401. A group with a prefix, e.Group("/api", requireUser),
	// is fine.
	requireUser := echo.WrapMiddleware(a.Middleware)
	e.GET("/hello", hello, requireUser)
	return e
}

func home(c echo.Context) error {
	return c.String(http.StatusOK, "welcome; POST /auth/register, POST /auth/login, then GET /hello\n")
}

func hello(c echo.Context) error {
	u, _ := auth.UserFromContext(c.Request().Context()) // always there behind requireUser
	return c.String(http.StatusOK, "hello, "+u.Username+"\n")
}
