package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func postJSON(t *testing.T, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return res.StatusCode, m
}

// TestUsersMFAReset: a user with TOTP on needs a second factor to log in;
// "users mfa reset NAME" removes it and ends the user's sessions.
func TestUsersMFAReset(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "auth.db")
	getenv := env(nil)
	base := startServer(t, getenv, "-db", db)
	token := login(t, base, "Tester")
	status, m := postJSON(t, base+"/auth/mfa/totp", token, `{"password":"password-1"}`)
	if status != http.StatusOK {
		t.Fatalf("enroll: %d %v", status, m)
	}
	code, err := totp.GenerateCode(m["secret"].(string), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status, m = postJSON(t, base+"/auth/mfa/totp/confirm", token, `{"code":"`+code+`"}`); status != http.StatusOK {
		t.Fatalf("confirm: %d %v", status, m)
	}
	res, err := http.PostForm(base+"/auth/login", url.Values{"username": {"tester"}, "password": {"password-1"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("login with TOTP on: %d, want 403 mfa_required", res.StatusCode)
	}
	if err := runArgs(context.Background(), []string{"-db", db, "users", "mfa", "reset", "TESTER"}, getenv, nil); err != nil {
		t.Fatalf("users mfa reset: %v", err)
	}
	if got := callHello(t, base, token); got != http.StatusUnauthorized {
		t.Errorf("/hello after the reset = %d, want 401", got)
	}
	if got := callHello(t, base, login(t, base, "tester")); got != http.StatusOK {
		t.Errorf("/hello after a password login = %d", got)
	}
	if err := runArgs(context.Background(), []string{"-db", db, "users", "mfa", "reset", "nobody"}, getenv, nil); err == nil {
		t.Error("resetting an unknown user succeeded")
	}
}

// TestWebAuthnFlags: the passkey flags, and their defaults.
func TestWebAuthnFlags(t *testing.T) {
	c, err := parseConfig([]string{"-db", "memory"}, env(nil), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.webauthnRPID != "localhost" || strings.Join(c.origins("[::]:8080", "http://localhost:8080"), " ") != "http://localhost:8080" {
		t.Errorf("defaults: %q %v", c.webauthnRPID, c.origins("[::]:8080", "http://localhost:8080"))
	}
	// Listening on a loopback address: the page is at localhost too, since
	// an IP address cannot be an RP ID.
	if got := strings.Join(c.origins("127.0.0.1:9000", "http://127.0.0.1:9000"), " "); got != "http://localhost:9000 http://127.0.0.1:9000" {
		t.Errorf("on 127.0.0.1: %v", got)
	}
	c, err = parseConfig([]string{"-webauthn-rp-id", "example.com", "-webauthn-origin", "https://example.com, https://www.example.com"}, env(nil), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.webauthnRPID != "example.com" || strings.Join(c.origins(":8080", "x"), " ") != "https://example.com https://www.example.com" {
		t.Errorf("flags: %q %v", c.webauthnRPID, c.origins(":8080", "x"))
	}
}
