// Command server is a runnable Gatehouse server: the auth endpoints under
// /auth/, a protected demo route, GET /hello, and a demo page at / that
// uses the endpoints in cookie mode under /app/auth/.
//
//	go run ./examples/server                      # SQLite file auth.db, port 8080
//	go run ./examples/server -db memory           # users in memory
//	go run ./examples/server -db postgres://...   # or mysql://user:pass@tcp(host:3306)/db
//	go run ./examples/server users disable NAME   # revoke a user's tokens and block logins
//	go run ./examples/server users enable NAME
//
// It reads JWT_SECRET_KEY, JWT_ACCESS_EXP_MINUTES and JWT_REFRESH_EXP_DAYS.
// Without JWT_SECRET_KEY it generates a random secret once and keeps it in a
// file readable only by its owner, beside the database.
package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/auth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], os.Getenv, logger, nil); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// config is what flags and environment say.
type config struct {
	addr       string
	db         string
	secret     []byte
	secretFile string // where a generated secret is kept; "" keeps it in memory
	accessTTL  time.Duration
	refreshTTL time.Duration
	args       []string // what follows the flags: a subcommand
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fl := flag.NewFlagSet("server", flag.ContinueOnError)
	fl.SetOutput(stderr)
	c := &config{}
	fl.StringVar(&c.addr, "addr", ":8080", "address to listen on")
	fl.StringVar(&c.db, "db", "sqlite:auth.db", "user store: sqlite:PATH, memory, postgres://... or mysql://...")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: server [-addr ADDR] [-db STORE] [users disable|enable NAME]")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return nil, err
	}
	c.args = fl.Args()
	var err error
	if c.accessTTL, err = envDuration(getenv, "JWT_ACCESS_EXP_MINUTES", time.Minute, 30); err != nil {
		return nil, err
	}
	if c.refreshTTL, err = envDuration(getenv, "JWT_REFRESH_EXP_DAYS", 24*time.Hour, 7); err != nil {
		return nil, err
	}
	if s := getenv("JWT_SECRET_KEY"); s != "" {
		c.secret = []byte(s)
	} else if path, ok := strings.CutPrefix(c.db, "sqlite:"); ok {
		c.secretFile = path + ".secret"
	} else if c.db != "memory" {
		c.secretFile = "gatehouse.secret"
	}
	return c, nil
}

func envDuration(getenv func(string) string, name string, unit time.Duration, def int) (time.Duration, error) {
	s := getenv(name)
	if s == "" {
		return time.Duration(def) * unit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 100000 {
		return 0, fmt.Errorf("%s must be a positive whole number, got %q", name, s)
	}
	return time.Duration(n) * unit, nil
}

// loadSecret returns the configured secret, or reads the generated one from
// c.secretFile, creating it (mode 0600) on first use.
func loadSecret(c *config, logger *slog.Logger) ([]byte, error) {
	if c.secret != nil {
		return c.secret, nil
	}
	fresh := func() []byte {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // never fails on Linux; see crypto/rand
		return []byte(hex.EncodeToString(b))
	}
	if c.secretFile == "" {
		logger.Warn("JWT_SECRET_KEY is not set: using a random secret for this run only")
		return fresh(), nil
	}
	if b, err := os.ReadFile(c.secretFile); err == nil {
		if info, err := os.Stat(c.secretFile); err == nil && info.Mode().Perm()&0o077 != 0 {
			logger.Warn("secret file is readable by others; chmod 600 it", "file", c.secretFile)
		}
		return []byte(strings.TrimSpace(string(b))), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	secret := fresh()
	f, err := os.OpenFile(c.secretFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process won the race: use its secret
		return loadSecret(c, logger)
	}
	if err != nil {
		return nil, fmt.Errorf("create secret file: %w", err)
	}
	_, werr := f.Write(append(secret, '\n'))
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("write secret file: %w", err)
	}
	abs, _ := filepath.Abs(c.secretFile)
	logger.Info("JWT_SECRET_KEY is not set: generated a secret and saved it", "file", abs)
	return secret, nil
}

// run starts the server, or runs a subcommand, until ctx is done. When
// ready is not nil it receives the listening address. Tests pass extra
// options.
func run(ctx context.Context, args []string, getenv func(string) string, logger *slog.Logger, ready chan<- string, extra ...auth.Option) error {
	c, err := parseConfig(args, getenv, os.Stderr)
	if err != nil {
		return err
	}
	store, closeStore, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer closeStore()
	secret, err := loadSecret(c, logger)
	if err != nil {
		return err
	}
	opts := []auth.Option{
		auth.WithSecret(secret),
		auth.WithAccessTTL(c.accessTTL),
		auth.WithRefreshTTL(c.refreshTTL),
		auth.WithLogger(logger),
		auth.WithRefreshCookie(auth.CookieOptions{Path: "/app/auth"}),
	}
	a, err := auth.New(store, append(opts, extra...)...)
	if err != nil {
		return err
	}
	if len(c.args) > 0 {
		return usersCommand(ctx, a, c.args, os.Stdout)
	}
	go pruneSessions(ctx, a, time.Hour, logger)
	return serve(ctx, c.addr, newMux(a), logger, ready)
}

// pruneSessions deletes expired and revoked sessions every interval until
// ctx is done. The library starts no goroutines; the application owns this
// one.
func pruneSessions(ctx context.Context, a *auth.Authenticator, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := a.PruneSessions(ctx)
			if err != nil {
				logger.Warn("pruning sessions failed", "error", err)
				continue
			}
			logger.Debug("pruned sessions", "count", n)
		}
	}
}

// demoPage is a single page with plain JavaScript, using cookie mode.
//
//go:embed demo.html
var demoPage []byte

// newMux wires the routes: this is all an application needs.
func newMux(a *auth.Authenticator) *http.ServeMux {
	mux := http.NewServeMux()
	// API clients: tokens in JSON bodies.
	mux.Handle("/auth/", a.Handler())
	// The demo page: the same endpoints in cookie mode, under /app/auth/.
	mux.Handle("/app/auth/", http.StripPrefix("/app", a.CookieHandler()))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(demoPage)
	})
	mux.Handle("GET /hello", a.Middleware(http.HandlerFunc(hello)))
	// An unprotected route, the baseline for load tests of the ones above.
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "{\"message\":\"pong\"}\n")
	})
	return mux
}

func hello(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.UserFromContext(r.Context())
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"message\":%q}\n", "Hello, "+u.Username+"!")
}

func serve(ctx context.Context, addr string, h http.Handler, logger *slog.Logger, ready chan<- string) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	logger.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// usersCommand runs "users disable NAME" and "users enable NAME" through the
// library, so that disabling revokes the user's tokens.
func usersCommand(ctx context.Context, a *auth.Authenticator, args []string, out io.Writer) error {
	if len(args) != 3 || args[0] != "users" || (args[1] != "disable" && args[1] != "enable") {
		return errors.New("usage: server [-db STORE] users disable|enable NAME")
	}
	u, err := a.UserByUsername(ctx, args[2])
	if errors.Is(err, auth.ErrUserNotFound) {
		return fmt.Errorf("no user named %q", args[2])
	}
	if err != nil {
		return err
	}
	disable := args[1] == "disable"
	if err := a.SetDisabled(ctx, u.ID, disable); err != nil {
		return err
	}
	fmt.Fprintf(out, "user %s %sd\n", u.Username, args[1])
	return nil
}
