package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// runOut runs the command line args and returns what it printed.
func runOut(t *testing.T, args ...string) (string, error) {
	t.Helper()
	c, err := parseConfig(args, env(nil), io.Discard, io.Discard)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	err = run(context.Background(), c, &out, slog.New(slog.DiscardHandler), nil)
	return out.String(), err
}

func request(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestServerAdmin: the users list and role commands, the admin API for
// the role "admin", and API keys on /hello.
func TestServerAdmin(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "auth.db")
	base := startServer(t, env(nil), "-db", db)
	token := login(t, base, "Tess")
	login(t, base, "terry")
	login(t, base, "bob")

	if code, _ := request(t, http.MethodGet, base+"/auth/admin/users", token, ""); code != http.StatusForbidden {
		t.Fatalf("admin API before the role: %d, want 403", code)
	}
	out, err := runOut(t, "-db", db, "users", "role", "add", "TESS", "admin")
	if err != nil || out != "user tess roles: admin\n" {
		t.Fatalf("role add: %q, %v", out, err)
	}
	code, body := request(t, http.MethodGet, base+"/auth/admin/users?q=te", token, "")
	if code != http.StatusOK || !strings.Contains(string(body), `"username":"terry"`) || strings.Contains(string(body), "bob") {
		t.Fatalf("admin API with the role: %d %s", code, body)
	}
	out, err = runOut(t, "-db", db, "users", "list", "--query", "TE")
	if err != nil || out != "terry\tenabled\t\ntess\tenabled\tadmin\n" {
		t.Errorf("users list --query TE: %q, %v", out, err)
	}
	if out, err := runOut(t, "-db", db, "users", "list"); err != nil || strings.Count(out, "\n") != 3 {
		t.Errorf("users list: %q, %v", out, err)
	}
	if _, err := runOut(t, "-db", db, "users", "role", "remove", "tess", "admin"); err == nil || !strings.Contains(err.Error(), "last enabled admin") {
		t.Errorf("removing the last admin: %v", err)
	}
	for _, args := range [][]string{{"users", "list", "x"}, {"users", "role", "add", "tess"}, {"users", "role", "add", "nobody", "admin"}, {"users", "role", "add", "tess", "bad role"}} {
		if _, err := runOut(t, append([]string{"-db", db}, args...)...); err == nil {
			t.Errorf("%q succeeded", args)
		}
	}

	code, body = request(t, http.MethodPost, base+"/auth/api-keys", token, `{"name":"script","scopes":[]}`)
	if code != http.StatusCreated {
		t.Fatalf("create a key: %d %s", code, body)
	}
	var k struct{ Key string }
	if err := json.Unmarshal(body, &k); err != nil {
		t.Fatal(err)
	}
	if got := callHello(t, base, k.Key); got != http.StatusOK {
		t.Errorf("/hello with the key: %d", got)
	}
}
