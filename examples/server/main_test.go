package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != ":8080" || c.db != "sqlite:auth.db" || c.secretFile != "auth.db.secret" || c.accessTTL != 30*time.Minute || c.refreshTTL != 7*24*time.Hour {
		t.Fatalf("defaults = %+v", c)
	}
	c, err = parseConfig([]string{"-db", "memory", "users", "disable", "bob"},
		env(map[string]string{"JWT_SECRET_KEY": "k", "JWT_ACCESS_EXP_MINUTES": "5", "JWT_REFRESH_EXP_DAYS": "2"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.secret) != "k" || c.accessTTL != 5*time.Minute || c.refreshTTL != 48*time.Hour || strings.Join(c.args, " ") != "users disable bob" {
		t.Fatalf("config = %+v", c)
	}
	for _, bad := range []string{"0", "-3", "ten", "1.5"} {
		if _, err := parseConfig(nil, env(map[string]string{"JWT_ACCESS_EXP_MINUTES": bad}), io.Discard); err == nil {
			t.Errorf("JWT_ACCESS_EXP_MINUTES=%q accepted", bad)
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
}

// TestServerEndToEnd runs the server on a loopback port with a SQLite file,
// registers, logs in, calls /hello, disables the user with the users
// command, and checks that the token stopped working.
func TestServerEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "auth.db")
	getenv := env(nil)
	logger := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	// The users command runs as another process would, so the server learns
	// of the change through the store: no user cache, so that it learns at
	// once (the cache's staleness bound is tested in the library).
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", db}, getenv, logger, ready, auth.WithUserCacheTTL(0))
	}()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	}

	res, err := http.Post(base+"/auth/register", "application/json", strings.NewReader(`{"username":"Tester","password":"password-1"}`))
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("register: %v %v", res.StatusCode, err)
	}
	res, err = http.PostForm(base+"/auth/login", url.Values{"username": {"tester"}, "password": {"password-1"}})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login: %v %v", res.StatusCode, err)
	}
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&pair)
	hello := func() int {
		req, _ := http.NewRequest(http.MethodGet, base+"/hello", nil)
		req.Header.Set("Authorization", "Bearer "+pair.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := hello(); got != http.StatusOK {
		t.Fatalf("/hello = %d", got)
	}
	if err := run(context.Background(), []string{"-db", db, "users", "disable", "TESTER"}, getenv, logger, nil); err != nil {
		t.Fatalf("users disable: %v", err)
	}
	if got := hello(); got == http.StatusOK {
		t.Fatal("/hello still works after users disable")
	}
	if err := run(context.Background(), []string{"-db", db, "users", "enable", "tester"}, getenv, logger, nil); err != nil {
		t.Fatalf("users enable: %v", err)
	}
	if err := run(context.Background(), []string{"-db", db, "users", "disable", "nobody"}, getenv, logger, nil); err == nil {
		t.Fatal("disabling an unknown user succeeded")
	}
	if err := run(context.Background(), []string{"-db", db, "users", "delete", "tester"}, getenv, logger, nil); err == nil {
		t.Fatal("an unknown subcommand succeeded")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "auth.db.secret")); err != nil {
		t.Fatalf("no secret file beside the database: %v", err)
	}
	info, err := os.Stat(filepath.Join(dir, "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode %v, want 0600", info.Mode().Perm())
	}
}
