package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// runArgs runs the command line args as main does, without exiting.
func runArgs(ctx context.Context, args []string, getenv func(string) string, ready chan<- string, extra ...auth.Option) error {
	c, err := parseConfig(args, getenv, io.Discard, io.Discard)
	if err != nil {
		return err
	}
	return run(ctx, c, io.Discard, slog.New(slog.DiscardHandler), ready, extra...)
}

// startServer runs the server with args on a loopback port until the test
// ends, and returns its base URL.
func startServer(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	// No user cache: the users command runs as another process would, and
	// the server must learn of its changes at once (the cache's staleness
	// bound is tested in the library).
	go func() {
		done <- runArgs(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), getenv, ready, auth.WithUserCacheTTL(0))
	}()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("graceful shutdown: %v", err)
			}
		})
		return "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
		return ""
	}
}

// login registers name (if new) at base and returns an access token.
func login(t *testing.T, base, name string) string {
	t.Helper()
	res, err := http.Post(base+"/auth/register", "application/json", strings.NewReader(`{"username":"`+name+`","password":"password-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusConflict {
		t.Fatalf("register: %d", res.StatusCode)
	}
	res, err = http.PostForm(base+"/auth/login", url.Values{"username": {name}, "password": {"password-1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", res.StatusCode)
	}
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&pair); err != nil || pair.AccessToken == "" {
		t.Fatalf("login answer: %v", err)
	}
	return pair.AccessToken
}

// callHello calls GET /hello at base with token and returns the status.
func callHello(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/hello", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != ":8080" || c.db != "sqlite:auth.db" || c.secretFile != "auth.db.secret" || c.maxConns != 1024 ||
		c.issuer != "" || c.audience != "" || c.accessTTL != 30*time.Minute || c.refreshTTL != 7*24*time.Hour {
		t.Fatalf("defaults = %+v", c)
	}
	c, err = parseConfig([]string{"-db", "memory", "-issuer", "https://a.example", "-audience", "api", "-max-conns", "7", "users", "disable", "bob"},
		env(map[string]string{"JWT_SECRET_KEY": "k", "JWT_ACCESS_EXP_MINUTES": "5", "JWT_REFRESH_EXP_DAYS": "2"}), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.secret) != "k" || c.issuer != "https://a.example" || c.audience != "api" || c.maxConns != 7 ||
		c.accessTTL != 5*time.Minute || c.refreshTTL != 48*time.Hour || strings.Join(c.args, " ") != "users disable bob" {
		t.Fatalf("config = %+v", c)
	}
	for _, bad := range []string{"0", "-3", "ten", "1.5"} {
		if _, err := parseConfig(nil, env(map[string]string{"JWT_ACCESS_EXP_MINUTES": bad}), io.Discard, io.Discard); err == nil {
			t.Errorf("JWT_ACCESS_EXP_MINUTES=%q accepted", bad)
		}
	}
}

func TestSecretFileLocation(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "auth.db.secret"},
		{[]string{"-db", "sqlite:" + filepath.Join("data", "users.db")}, filepath.Join("data", "users.db.secret")},
		{[]string{"-db", "postgres://u@127.0.0.1/db"}, "gatehouse.secret"},
		{[]string{"-db", "mysql://u@tcp(127.0.0.1:3306)/db"}, "gatehouse.secret"},
		{[]string{"-db", "postgres://u@127.0.0.1/db", "-secret-file", "/etc/gatehouse/key"}, "/etc/gatehouse/key"},
		{[]string{"-db", "sqlite:x.db", "-secret-file", "k"}, "k"},
		{[]string{"-db", "memory"}, ""},
	}
	for _, tt := range tests {
		c, err := parseConfig(tt.args, env(nil), io.Discard, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.secretFile != tt.want {
			t.Errorf("%q: secret file %q, want %q", tt.args, c.secretFile, tt.want)
		}
	}
}

func TestGeneratedSecretIsKept(t *testing.T) {
	dir := t.TempDir()
	c := &config{secretFile: filepath.Join(dir, "auth.db.secret")}
	logger := slog.New(slog.DiscardHandler)
	first, err := loadSecret(c, logger)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) < 32 {
		t.Fatalf("secret of %d bytes", len(first))
	}
	info, err := os.Stat(c.secretFile)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode = %v, want 0600", info.Mode().Perm())
	}
	second, err := loadSecret(c, logger)
	if err != nil || string(second) != string(first) {
		t.Fatalf("second start got another secret: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".gatehouse-secret-*")); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}

	// A truncated file is refused with a clear message, not replaced.
	if err := os.WriteFile(c.secretFile, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = loadSecret(c, logger)
	if err == nil || !strings.Contains(err.Error(), "holds 5 bytes, want at least 32: delete it to generate a new one") {
		t.Fatalf("short secret file: %v", err)
	}
	if strings.Contains(err.Error(), string(first)) {
		t.Fatal("the error shows a secret")
	}
}

func TestHelp(t *testing.T) {
	for _, flag := range []string{"-h", "-help", "--help"} {
		var stdout, stderr bytes.Buffer
		if code := realMain(context.Background(), []string{flag}, env(nil), &stdout, &stderr); code != 0 {
			t.Errorf("%s: exit status %d, want 0", flag, code)
		}
		for _, want := range []string{
			"usage: server [flags] [users disable|enable NAME]",
			"-db", "-addr", "-secret-file", "-issuer", "-audience", "-max-conns",
			"PATH.secret beside a sqlite:PATH database\n(auth.db.secret for the default -db), to ./gatehouse.secret for a postgres://\nor mysql:// database",
			"(default 1024)",
		} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%s: usage lacks %q:\n%s", flag, want, stdout.String())
			}
		}
		if stderr.Len() != 0 {
			t.Errorf("%s: stderr %q", flag, stderr.String())
		}
	}

	var stdout, stderr bytes.Buffer
	if code := realMain(context.Background(), []string{"-nope"}, env(nil), &stdout, &stderr); code != 2 {
		t.Errorf("-nope: exit status %d, want 2", code)
	}
	if !strings.HasPrefix(stderr.String(), "flag provided but not defined: -nope\nusage: server") ||
		strings.Count(stderr.String(), "-nope") != 1 || stdout.Len() != 0 {
		t.Errorf("-nope: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	stderr.Reset()
	if code := realMain(context.Background(), []string{"-max-conns", "0"}, env(nil), &stdout, &stderr); code != 2 ||
		stderr.String() != "server: -max-conns must be at least 1, got 0\n" {
		t.Errorf("-max-conns 0: exit status %d, stderr %q", code, stderr.String())
	}
}

func TestOrigin(t *testing.T) {
	for addr, want := range map[string]string{
		":8080":               "http://localhost:8080",
		"0.0.0.0:8080":        "http://localhost:8080",
		"[::]:8080":           "http://localhost:8080",
		"127.0.0.1:41000":     "http://127.0.0.1:41000",
		"[::1]:8080":          "http://[::1]:8080",
		"auth.example.com:80": "http://auth.example.com:80",
	} {
		if got := origin(addr); got != want {
			t.Errorf("origin(%q) = %q, want %q", addr, got, want)
		}
	}
	c := &config{}
	if iss, aud := c.claims(":8000"); iss != "http://localhost:8000" || aud != iss {
		t.Errorf("default claims = %q, %q", iss, aud)
	}
	c = &config{issuer: "https://auth.example.com"}
	if iss, aud := c.claims(":8000"); iss != "https://auth.example.com" || aud != iss {
		t.Errorf("claims with -issuer = %q, %q", iss, aud)
	}
}

// TestTokensStayInTheirDeployment runs servers that share a secret and a
// database: a token from one is refused by another with another issuer or
// audience.
func TestTokensStayInTheirDeployment(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "auth.db")
	getenv := env(map[string]string{"JWT_SECRET_KEY": "7c1e0b9f4a2d8e6b3f5a9c0d2e4f6a8b1c3d5e7f9a0b2c4d"})
	a := startServer(t, getenv, "-db", db)
	token := login(t, a, "alice")
	if got := callHello(t, a, token); got != http.StatusOK {
		t.Fatalf("/hello at the issuing server = %d", got)
	}
	b := startServer(t, getenv, "-db", db) // another port, so another default issuer
	if got := callHello(t, b, token); got != http.StatusUnauthorized {
		t.Errorf("/hello at a server with another issuer = %d, want 401", got)
	}
	sameAsA := startServer(t, getenv, "-db", db, "-issuer", a, "-audience", a)
	if got := callHello(t, sameAsA, token); got != http.StatusOK {
		t.Errorf("/hello at a server with the same issuer and audience = %d, want 200", got)
	}
	otherAudience := startServer(t, getenv, "-db", db, "-issuer", a, "-audience", a+"/api")
	if got := callHello(t, otherAudience, token); got != http.StatusUnauthorized {
		t.Errorf("/hello at a server with another audience = %d, want 401", got)
	}
}

func TestPostgresDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u@127.0.0.1:5432/db", "postgres://u@127.0.0.1:5432/db?connect_timeout=5"},
		{"postgresql://u:p%40ss@h/db?sslmode=disable", "postgresql://u:p%40ss@h/db?connect_timeout=5&sslmode=disable"},
		{"postgres://u@h/db?connect_timeout=30&sslmode=require", "postgres://u@h/db?connect_timeout=30&sslmode=require"}, // the user's own
		{"postgres://u@h/db?connect_timeout=0", "postgres://u@h/db?connect_timeout=0"},                                   // none, as asked
	}
	for _, tt := range tests {
		got, err := postgresDSN(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("postgresDSN(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := postgresDSN("postgres://u:hunter2@h:port/db"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad URL: %v", err)
	}
}

func TestMySQLConfig(t *testing.T) {
	tests := []struct {
		dsn               string
		dial, read, write time.Duration
		lockWait          string
	}{
		{"root@tcp(127.0.0.1:3306)/test", 5 * time.Second, 10 * time.Second, 10 * time.Second, "5"},
		{"root@tcp(h)/test?timeout=1s&readTimeout=2m", time.Second, 2 * time.Minute, 10 * time.Second, "5"},
		{"root@tcp(h)/test?writeTimeout=0&innodb_lock_wait_timeout=20", 5 * time.Second, 10 * time.Second, 0, "20"},
		{"u:pa/ss?@tcp(h)/test?timeout=3s", 3 * time.Second, 10 * time.Second, 10 * time.Second, "5"},
	}
	for _, tt := range tests {
		cfg, err := mysqlConfig(tt.dsn)
		if err != nil {
			t.Errorf("%q: %v", tt.dsn, err)
			continue
		}
		if cfg.Timeout != tt.dial || cfg.ReadTimeout != tt.read || cfg.WriteTimeout != tt.write ||
			cfg.Params["innodb_lock_wait_timeout"] != tt.lockWait || !cfg.ParseTime {
			t.Errorf("%q: timeout %v, readTimeout %v, writeTimeout %v, innodb_lock_wait_timeout %q, parseTime %v",
				tt.dsn, cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout, cfg.Params["innodb_lock_wait_timeout"], cfg.ParseTime)
		}
	}
	if _, err := mysqlConfig("no slash"); err == nil {
		t.Error("a DSN without a database was accepted")
	}
}

// TestServerDatabases runs the server on the PostgreSQL and MySQL databases
// CI provides, each in a schema or database of its own, through the DSNs
// with the timeouts added, and checks that the pool is bounded.
func TestServerDatabases(t *testing.T) {
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "gh_server_" + hex.EncodeToString(suffix)
	for _, v := range []struct {
		env    string
		scheme string
		create string
		drop   string
		dsn    func(base string) string // the DSN of the scratch schema or database
	}{
		{"GATEHOUSE_TEST_POSTGRES_DSN", "", "CREATE SCHEMA " + name, "DROP SCHEMA " + name + " CASCADE", func(base string) string {
			u, err := url.Parse(base)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("search_path", name)
			u.RawQuery = q.Encode()
			return u.String()
		}},
		{"GATEHOUSE_TEST_MYSQL_DSN", "mysql://", "CREATE DATABASE " + name, "DROP DATABASE " + name, func(base string) string {
			cfg, err := mysql.ParseDSN(base)
			if err != nil {
				t.Fatal(err)
			}
			cfg.DBName = name
			return "mysql://" + cfg.FormatDSN()
		}},
	} {
		t.Run(v.env, func(t *testing.T) {
			base := os.Getenv(v.env)
			if base == "" {
				t.Skipf("%s not set", v.env)
			}
			admin, err := openDB(v.scheme + base)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { admin.Close() }) // after the drop below
			if got := admin.Stats().MaxOpenConnections; got != maxOpenConns {
				t.Errorf("MaxOpenConnections = %d, want %d", got, maxOpenConns)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := admin.ExecContext(ctx, v.create); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if _, err := admin.ExecContext(context.Background(), v.drop); err != nil {
					t.Errorf("drop: %v", err)
				}
			})
			secretFile := filepath.Join(t.TempDir(), "gatehouse.secret")
			srv := startServer(t, env(nil), "-db", v.dsn(base), "-secret-file", secretFile)
			if got := callHello(t, srv, login(t, srv, "alice")); got != http.StatusOK {
				t.Errorf("/hello = %d", got)
			}
			if _, err := os.Stat(secretFile); err != nil {
				t.Errorf("no secret in -secret-file: %v", err)
			}
		})
	}
}

// hangingStore is a database that stopped answering: looking up a user
// waits until the caller gives up.
type hangingStore struct{ *memstore.Store }

func (hangingStore) UserByUsername(ctx context.Context, _ string) (*auth.User, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestHangingDatabase checks that the request deadline turns a database
// that stops answering into a 503, not a request that hangs.
func TestHangingDatabase(t *testing.T) {
	a, err := auth.New(hangingStore{memstore.New()}, auth.WithSecret([]byte("7c1e0b9f4a2d8e6b3f5a9c0d2e4f6a8b1c3d5e7f9a0b2c4d")))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withDeadline(newMux(a), 100*time.Millisecond))
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.PostForm(srv.URL+"/auth/login", url.Values{"username": {"alice"}, "password": {"password-1"}})
	if err != nil {
		t.Fatal(err) // the client's timeout: the request hung
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("login against a hanging database: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

// TestMaxConns checks that with -max-conns 2 a third connection is served
// only once one of the first two closes.
func TestMaxConns(t *testing.T) {
	base := startServer(t, env(nil), "-db", "memory", "-max-conns", "2")
	addr := strings.TrimPrefix(base, "http://")
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		return c, bufio.NewReader(c)
	}
	ping := func(c net.Conn, r *bufio.Reader, wait time.Duration) error {
		_ = c.SetReadDeadline(time.Now().Add(wait))
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			return err
		}
		res.Body.Close()
		return nil
	}
	first, r1 := dial()
	if err := ping(first, r1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	second, r2 := dial()
	if err := ping(second, r2, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// Both stay open (keep-alive), so the third waits.
	third, r3 := dial()
	if err := ping(third, r3, 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a third connection was served while two were open: %v", err)
	}
	first.Close()
	if err := ping(third, r3, 5*time.Second); err != nil {
		t.Fatalf("the third connection was not served after the first closed: %v", err)
	}
}

// TestJSONEndsInNewline checks the bodies the example writes itself.
func TestJSONEndsInNewline(t *testing.T) {
	a, err := auth.New(memstore.New(), auth.WithSecret([]byte("7c1e0b9f4a2d8e6b3f5a9c0d2e4f6a8b1c3d5e7f9a0b2c4d")))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newMux(a))
	defer srv.Close()
	token := login(t, srv.URL, "Zoë")
	for path, want := range map[string]string{"/ping": "pong", "/hello": "Hello, zoë!"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var msg struct{ Message string }
		if err := json.Unmarshal(body, &msg); err != nil || msg.Message != want || !bytes.HasSuffix(body, []byte("}\n")) ||
			res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %q (%v), Content-Type %q", path, body, err, res.Header.Get("Content-Type"))
		}
	}
}

// TestServerEndToEnd runs the server on a loopback port with a SQLite file,
// registers, logs in, calls /hello, disables the user with the users
// command, and checks that the token stopped working.
func TestServerEndToEnd(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(t.TempDir()) // to see that nothing is written here
	db := "sqlite:" + filepath.Join(dir, "auth.db")
	getenv := env(nil)
	base := startServer(t, getenv, "-db", db)
	token := login(t, base, "Tester")
	if got := callHello(t, base, token); got != http.StatusOK {
		t.Fatalf("/hello = %d", got)
	}
	if err := runArgs(context.Background(), []string{"-db", db, "users", "disable", "TESTER"}, getenv, nil); err != nil {
		t.Fatalf("users disable: %v", err)
	}
	if got := callHello(t, base, token); got == http.StatusOK {
		t.Fatal("/hello still works after users disable")
	}
	if err := runArgs(context.Background(), []string{"-db", db, "users", "enable", "tester"}, getenv, nil); err != nil {
		t.Fatalf("users enable: %v", err)
	}
	if err := runArgs(context.Background(), []string{"-db", db, "users", "disable", "nobody"}, getenv, nil); err == nil {
		t.Fatal("disabling an unknown user succeeded")
	}
	if err := runArgs(context.Background(), []string{"-db", db, "users", "delete", "tester"}, getenv, nil); err == nil {
		t.Fatal("an unknown subcommand succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "auth.db.secret")); err != nil {
		t.Fatalf("no secret file beside the database: %v", err)
	}
	if here, _ := os.ReadDir("."); len(here) != 0 {
		t.Fatalf("files written in the working directory: %v", here)
	}
	info, err := os.Stat(filepath.Join(dir, "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode %v, want 0600", info.Mode().Perm())
	}
}

// TestSQLiteFileThatCannotBeCreated: a -db path in a missing directory is
// reported as a configuration problem that names the path.
func TestSQLiteFileThatCannotBeCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "auth.db")
	_, err := openDB("sqlite:" + path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "directory does not exist (check the path)") {
		t.Fatalf("openDB = %v, want an error naming %s and the reason", err, path)
	}
	if errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("openDB = %v, a configuration problem reads as an outage", err)
	}
}
