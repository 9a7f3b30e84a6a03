package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/auth"
)

// payload decodes the claims of a token without checking it.
func payload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRoles(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "nia", "password-1")
	before := f.login(t, "nia", "password-1")
	if _, ok := payload(t, before.AccessToken)["roles"]; ok {
		t.Error("a token of a user without roles has a roles claim")
	}
	if err := f.a.SetRoles(ctx, u.ID, []string{"editor", "admin", "editor"}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.a.UserByID(ctx, u.ID)
	if strings.Join(got.Roles, ",") != "admin,editor" || !got.HasRole("admin") || got.HasRole("adm") {
		t.Fatalf("roles = %q", got.Roles)
	}
	after := f.login(t, "nia", "password-1")
	if r := payload(t, after.AccessToken)["roles"]; strings.Join(toStrings(r), ",") != "admin,editor" {
		t.Errorf("roles claim = %v", r)
	}

	app := f.a.Middleware(f.a.RequireRole("admin", "ops")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	// Adding a role does not end earlier tokens, and counts at once.
	if r := do(app, http.MethodGet, "/", "", "", bearer(before.AccessToken)...); r.status != http.StatusOK {
		t.Errorf("the earlier token after a role was added: %d", r.status)
	}
	if err := f.a.RemoveRole(ctx, u.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	// Removing one ends every earlier token, like disabling.
	for _, tok := range []string{before.AccessToken, after.AccessToken} {
		if r := do(app, http.MethodGet, "/", "", "", bearer(tok)...); r.status != http.StatusUnauthorized {
			t.Errorf("a token from before the removal: %d, want 401", r.status)
		}
	}
	fresh := f.login(t, "nia", "password-1")
	wantError(t, do(app, http.MethodGet, "/", "", "", bearer(fresh.AccessToken)...), http.StatusForbidden, "Insufficient role", "insufficient_role")
	if r := do(f.a.RequireRole("admin")(http.NotFoundHandler()), http.MethodGet, "/", "", ""); r.status != http.StatusUnauthorized {
		t.Errorf("RequireRole without Middleware: %d, want 401", r.status)
	}

	for _, bad := range [][]string{{""}, {"a b"}, {"a,b"}, {strings.Repeat("r", 65)}, {"ü"}} {
		if err := f.a.SetRoles(ctx, u.ID, bad); !errors.Is(err, auth.ErrValidation) {
			t.Errorf("SetRoles(%q) = %v, want ErrValidation", bad, err)
		}
	}
	if err := f.a.AddRole(ctx, "no-such-user", "x"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("AddRole for nobody = %v", err)
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestRolesClaimFromTheApplication: an application that sets "roles"
// through WithClaims keeps its own claim.
func TestRolesClaimFromTheApplication(t *testing.T) {
	f := newFixture(t, auth.WithClaims(func(context.Context, *auth.User) (map[string]any, error) {
		return map[string]any{"Roles": []string{"from-app"}}, nil
	}))
	u := f.register(t, "oli", "password-1")
	if err := f.a.AddRole(context.Background(), u.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	p := payload(t, f.login(t, "oli", "password-1").AccessToken)
	if _, ok := p["roles"]; ok || strings.Join(toStrings(p["Roles"]), ",") != "from-app" {
		t.Errorf("claims = %v; want the application's Roles alone", p)
	}
}
