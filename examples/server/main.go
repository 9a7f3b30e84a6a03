// Command server is a runnable Gatehouse server: the auth endpoints under
// /auth/, a protected demo route, GET /hello, and a demo page at / that
// uses the endpoints in cookie mode under /app/auth/.
//
//	go run ./examples/server                      # SQLite file auth.db, port 8080
//	go run ./examples/server -db memory           # users in memory
//	go run ./examples/server -db postgres://...   # or mysql://user:pass@tcp(host:3306)/db
//	go run ./examples/server users disable NAME   # revoke a user's tokens and block logins
//	go run ./examples/server users enable NAME
//	go run ./examples/server users mfa reset NAME # clear second factors, revoke sessions
//	go run ./examples/server users list [--query Q]
//	go run ./examples/server users role add NAME admin   # or remove; "admin" opens /auth/admin/
//
// The admin API (/auth/admin/) is on for users holding the role "admin",
// and so are API keys (/auth/api-keys) and introspection.
//
// It reads JWT_SECRET_KEY, JWT_ACCESS_EXP_MINUTES and JWT_REFRESH_EXP_DAYS.
// Without JWT_SECRET_KEY it generates a random secret once and keeps it in a
// file readable only by its owner: beside a SQLite database (auth.db.secret),
// else in -secret-file (./gatehouse.secret by default). Tokens carry an
// issuer and audience (-issuer, -audience; by default http://localhost:PORT),
// so that deployments sharing a secret do not accept each other's tokens.
// -max-conns caps the connections served at once. -dpop off|allowed|required
// (default allowed) binds tokens to a key the client holds (DPoP), and
// -dpop-nonce makes proofs carry a server nonce. TOTP and passkeys are on;
// passkeys use -webauthn-rp-id (localhost) and -webauthn-origin (by default
// http://localhost:PORT and the issuer). "server -h" says more.
package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/passkey"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := realMain(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// realMain runs the command and returns its exit status: 0 also for -h, 2
// for a bad command line.
func realMain(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c, err := parseConfig(args, getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		if !errors.Is(err, errFlags) {
			fmt.Fprintln(stderr, "server:", err)
		}
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if err := run(ctx, c, stdout, logger, nil); err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	return 0
}

// config is what flags and environment say.
type config struct {
	addr       string
	db         string
	secret     []byte
	secretFile string // where a generated secret is kept; "" keeps it in memory
	issuer     string // "" derives it from the listening address
	audience   string // "" uses the issuer
	maxConns   int
	accessTTL  time.Duration
	refreshTTL time.Duration
	dpop       auth.DPoPMode
	dpopNonce  bool
	args       []string // what follows the flags: a subcommand

	webauthnRPID    string
	webauthnOrigins string // comma-separated; "" derives it from the listening address
	mail            mailConfig
}

// defaultSecretFile is where the generated secret of a server database
// (PostgreSQL, MySQL) is kept unless -secret-file says otherwise.
const defaultSecretFile = "gatehouse.secret"

const usageText = `usage: server [flags] [users disable|enable NAME]
       server [flags] users mfa reset NAME
       server [flags] users list [--query Q]
       server [flags] users role add|remove NAME ROLE

Serves the Gatehouse endpoints under /auth/, GET /hello and a demo page at /.
With "users disable NAME" it revokes a user's tokens and blocks their logins.
With "users mfa reset NAME" it removes the user's TOTP, recovery codes and
passkeys and ends their sessions, for a user who lost every second factor.
"users role add NAME admin" opens the admin API under /auth/admin/ to NAME.

Environment: JWT_SECRET_KEY (the HMAC signing secret, 32+ bytes),
JWT_ACCESS_EXP_MINUTES (default 30), JWT_REFRESH_EXP_DAYS (default 7).

Without JWT_SECRET_KEY the server generates a secret on first start and keeps
it, readable by its owner only (mode 0600), in -secret-file; later starts
reuse it. -secret-file defaults to PATH.secret beside a sqlite:PATH database
(auth.db.secret for the default -db), to ./gatehouse.secret for a postgres://
or mysql:// database, and to none with -db memory (a secret for this run only).

Flags:
`

// errFlags reports a command line the flag package refused; it has printed
// why, and the usage.
var errFlags = errors.New("bad flags")

func parseConfig(args []string, getenv func(string) string, stdout, stderr io.Writer) (*config, error) {
	fl := flag.NewFlagSet("server", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {} // printed below, to stdout when asked for
	c := &config{}
	fl.StringVar(&c.addr, "addr", ":8080", "address to listen on")
	fl.StringVar(&c.db, "db", "sqlite:auth.db", "user store: sqlite:PATH, memory, postgres://... or mysql://...")
	fl.StringVar(&c.secretFile, "secret-file", "", "file that keeps the generated signing secret (default: see above)")
	fl.StringVar(&c.issuer, "issuer", "", `the tokens' "iss" claim, required on verification; set it to the public URL
(default http://localhost:PORT, or http://HOST:PORT when -addr names a host)`)
	fl.StringVar(&c.audience, "audience", "", `the tokens' "aud" claim, required on verification (default: the issuer)`)
	fl.StringVar(&c.webauthnRPID, "webauthn-rp-id", "localhost", "the passkeys' relying party ID: the site's domain")
	fl.StringVar(&c.webauthnOrigins, "webauthn-origin", "", "comma-separated origins of the pages that use passkeys (default http://localhost:PORT, the issuer, and -public-url when given)")
	mailFlags(fl, &c.mail)
	fl.IntVar(&c.maxConns, "max-conns", 1024, "most client connections served at once; more wait to be accepted.\nEach is an open file: raise ulimit -n (nofile) above it, see examples/README.md")
	dpopMode := fl.String("dpop", "allowed", "DPoP (sender-constrained tokens, docs/dpop.md): off, allowed (bind the tokens of clients that send proofs) or required")
	fl.BoolVar(&c.dpopNonce, "dpop-nonce", false, "require DPoP proofs to carry a server nonce (DPoP-Nonce), renewed every 5 minutes")
	usage := func(w io.Writer) {
		fmt.Fprint(w, usageText)
		fl.SetOutput(w)
		fl.PrintDefaults()
		fl.SetOutput(stderr)
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return nil, err
		}
		usage(stderr) // after the flag package's own message
		return nil, errFlags
	}
	c.args = fl.Args()
	var err error
	if c.dpop, err = auth.ParseDPoPMode(*dpopMode); err != nil {
		return nil, fmt.Errorf("-dpop must be off, allowed or required, got %q", *dpopMode)
	}
	if c.maxConns < 1 {
		return nil, fmt.Errorf("-max-conns must be at least 1, got %d", c.maxConns)
	}
	if c.accessTTL, err = envDuration(getenv, "JWT_ACCESS_EXP_MINUTES", time.Minute, 30); err != nil {
		return nil, err
	}
	if c.refreshTTL, err = envDuration(getenv, "JWT_REFRESH_EXP_DAYS", 24*time.Hour, 7); err != nil {
		return nil, err
	}
	if s := getenv("JWT_SECRET_KEY"); s != "" {
		c.secret = []byte(s)
	}
	if c.secretFile == "" {
		if path, ok := strings.CutPrefix(c.db, "sqlite:"); ok {
			c.secretFile = path + ".secret"
		} else if c.db != "memory" {
			c.secretFile = defaultSecretFile
		}
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

// minSecretLen is the shortest secret accepted from a secret file, in bytes;
// a generated one has 64 (32 random bytes in hex).
const minSecretLen = 32

// loadSecret returns the configured secret, or reads the generated one from
// c.secretFile, creating it (mode 0600) on first use.
func loadSecret(c *config, logger *slog.Logger) ([]byte, error) {
	if c.secret != nil {
		return c.secret, nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails; see crypto/rand
	fresh := []byte(hex.EncodeToString(b))
	if c.secretFile == "" {
		logger.Warn("JWT_SECRET_KEY is not set: using a random secret for this run only")
		return fresh, nil
	}
	secret, err := readSecretFile(c.secretFile, logger)
	if !errors.Is(err, fs.ErrNotExist) {
		return secret, err
	}
	// Write the whole secret to a temporary file, then link it into place:
	// the secret file never exists half written, and of two servers starting
	// at once the second uses the first one's secret.
	tmp, err := os.CreateTemp(filepath.Dir(c.secretFile), ".gatehouse-secret-*")
	if err != nil {
		return nil, fmt.Errorf("create secret file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(append(fresh, '\n'))
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("write secret file: %w", err)
	}
	if err := os.Link(tmp.Name(), c.secretFile); errors.Is(err, fs.ErrExist) {
		return readSecretFile(c.secretFile, logger)
	} else if err != nil {
		return nil, fmt.Errorf("create secret file: %w", err)
	}
	abs, _ := filepath.Abs(c.secretFile)
	logger.Info("JWT_SECRET_KEY is not set: generated a secret and saved it", "file", abs)
	return fresh, nil
}

// readSecretFile reads a kept secret; the error wraps fs.ErrNotExist when
// there is none yet.
func readSecretFile(path string, logger *slog.Logger) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		logger.Warn("secret file is readable by others; chmod 600 it", "file", path)
	}
	secret := []byte(strings.TrimSpace(string(b)))
	if len(secret) < minSecretLen {
		return nil, fmt.Errorf("secret file %s holds %d bytes, want at least %d: delete it to generate a new one", path, len(secret), minSecretLen)
	}
	return secret, nil
}

// origin is the default issuer for a server listening on addr: http://HOST:PORT,
// with localhost for an address that names no host or all of them.
func origin(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// origins returns the origins allowed to use passkeys on a server
// listening on addr with issuer iss: -webauthn-origin, or by default
// http://localhost:PORT and the issuer (the public URL, when -issuer names
// it).
func (c *config) origins(addr, iss string) []string {
	if c.webauthnOrigins == "" {
		out := []string{iss}
		if _, port, err := net.SplitHostPort(addr); err == nil {
			if local := "http://" + net.JoinHostPort("localhost", port); local != iss {
				out = append([]string{local}, out...)
			}
		}
		// And the public URL the server is reached at.
		if pub := strings.TrimRight(c.mail.publicURL, "/"); pub != "" && !slices.Contains(out, pub) {
			out = append(out, pub)
		}
		return out
	}
	var out []string
	for _, o := range strings.Split(c.webauthnOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// claims returns the issuer and audience of a server listening on addr.
func (c *config) claims(addr string) (iss, aud string) {
	iss, aud = c.issuer, c.audience
	if iss == "" {
		iss = origin(addr)
	}
	if aud == "" {
		aud = iss
	}
	return iss, aud
}

// run starts the server, or runs a subcommand, until ctx is done. When
// ready is not nil it receives the listening address. Tests pass extra
// options.
func run(ctx context.Context, c *config, stdout io.Writer, logger *slog.Logger, ready chan<- string, extra ...auth.Option) error {
	store, closeStore, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer closeStore()
	secret, err := loadSecret(c, logger)
	if err != nil {
		return err
	}
	newAuth := func(addr string) (*auth.Authenticator, error) {
		iss, aud := c.claims(addr)
		mail, err := mailOptions(&c.mail, iss, logger)
		if err != nil {
			return nil, err
		}
		opts := []auth.Option{
			passkey.WithWebAuthn(c.webauthnRPID, "Gatehouse demo", c.origins(addr, iss)...),
			auth.WithSecret(secret),
			auth.WithIssuer(iss),
			auth.WithAudience(aud),
			auth.WithAccessTTL(c.accessTTL),
			auth.WithRefreshTTL(c.refreshTTL),
			auth.WithLogger(logger),
			auth.WithRefreshCookie(auth.CookieOptions{Path: "/app/auth"}),
			auth.WithAdminRole(adminRole), // admin.go
			auth.WithAPIKeys(),
			auth.WithDPoP(c.dpop),
		}
		if c.dpopNonce {
			opts = append(opts, auth.WithDPoPNonces(5*time.Minute))
		}
		if u, err := url.Parse(c.mail.publicURL); err == nil && u.Scheme != "" && u.Host != "" {
			// Proofs name the URL clients use; without this, the request's
			// own Host header would say what that is.
			opts = append(opts, auth.WithDPoPExternalURL(u.Scheme+"://"+u.Host))
		}
		return auth.New(store, append(append(opts, mail...), extra...)...)
	}
	if len(c.args) > 0 {
		a, err := newAuth(c.addr)
		if err != nil {
			return err
		}
		return usersCommand(ctx, a, c.args, stdout)
	}
	// Listen first, so that the default issuer names the port in use.
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	iss, aud := c.claims(ln.Addr().String())
	a, err := newAuth(ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	logger.Info("tokens", "issuer", iss, "audience", aud)
	if c.issuer == "" && c.db != "memory" {
		// Two deployments on the same port would accept each other's
		// tokens if they also shared the secret.
		logger.Warn("no -issuer set: the default names only this port; set -issuer to this deployment's public URL")
	}
	if err := a.StartMail(); err != nil {
		ln.Close()
		return err
	}
	defer stopMail(a, 10*time.Second, logger)
	go pruneSessions(ctx, a, time.Hour, logger)
	go pruneAudit(ctx, a, time.Hour, logger) // admin.go
	return serve(ctx, limitListener(ln, c.maxConns), withDeadline(newMux(a), requestTimeout), logger, ready)
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
			if n, err := a.PruneOneTimeTokens(ctx); err != nil {
				logger.Warn("pruning one-time tokens failed", "error", err)
			} else {
				logger.Debug("pruned one-time tokens", "count", n)
			}
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
	mux.HandleFunc("GET /{$}", servePage)
	mailPages(mux)
	mux.Handle("GET /hello", a.Middleware(http.HandlerFunc(hello)))
	// An unprotected route, the baseline for load tests of the ones above.
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "{\"message\":\"pong\"}\n")
	})
	return mux
}

// servePage serves the demo page.
func servePage(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // the links in mail carry tokens
	_, _ = w.Write(demoPage)
}

func hello(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.UserFromContext(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"message": "Hello, " + u.Username + "!"}) // ends in a newline
}

// requestTimeout bounds each request: a database that stops answering makes
// the request fail (503, Retry-After) instead of hanging. It is below the
// server's WriteTimeout, so that the client still gets the answer.
const requestTimeout = 10 * time.Second

// withDeadline gives each request's context a deadline d from its start.
func withDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// limitListener accepts at most n connections at a time; further ones wait
// in the kernel's backlog until one closes. It keeps the server from using
// up its file descriptors, which would starve the database pool and the
// secret and SQLite files too.
func limitListener(ln net.Listener, n int) net.Listener {
	return &limitedListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type limitedListener struct {
	net.Listener
	sem       chan struct{} // one token per open connection
	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

func (l *limitedListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitedListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

func serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, ready chan<- string) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		// Short: an idle keep-alive connection holds one of -max-conns,
		// and one client could hold them all with a request now and then.
		IdleTimeout:    15 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
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

// usersCommand runs "users disable NAME", "users enable NAME" and "users
// mfa reset NAME" through the library, so that disabling and resetting
// revoke the user's tokens.
func usersCommand(ctx context.Context, a *auth.Authenticator, args []string, out io.Writer) error {
	if len(args) == 4 && args[0] == "users" && args[1] == "mfa" && args[2] == "reset" {
		return mfaReset(ctx, a, args[3], out)
	}
	if len(args) >= 2 && args[0] == "users" && (args[1] == "list" || args[1] == "role") {
		return adminCommand(ctx, a, args, out)
	}
	if len(args) != 3 || args[0] != "users" || (args[1] != "disable" && args[1] != "enable") {
		return errors.New("usage: server [-db STORE] users disable|enable NAME, or users mfa reset NAME")
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

// mfaReset removes a user's second factors and ends their sessions
// (auth.Authenticator.ResetMFA): the recovery path for a user who lost
// their authenticator and their recovery codes.
func mfaReset(ctx context.Context, a *auth.Authenticator, name string, out io.Writer) error {
	u, err := a.UserByUsername(ctx, name)
	if errors.Is(err, auth.ErrUserNotFound) {
		return fmt.Errorf("no user named %q", name)
	}
	if err != nil {
		return err
	}
	if err := a.ResetMFA(ctx, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(out, "second factors of %s removed; sessions ended\n", u.Username)
	return nil
}
