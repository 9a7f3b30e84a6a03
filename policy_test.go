package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/auth"
)

func TestDefaultPasswordPolicy(t *testing.T) {
	tests := []struct {
		username, password string
		reject             bool
	}{
		{"alice-smith", "alice-smith", true},
		{"alice-smith", "ALICE-Smith", true},
		{"alice-smith", "ａｌｉｃｅ-ｓｍｉｔｈ", true},
		{"alice-smith", "password", true},
		{"alice-smith", "PASSWORD", true},
		{"alice-smith", "Password1", true},
		{"alice-smith", "iloveyou", true},
		{"alice-smith", "qwertyuiop", true},
		{"alice-smith", "deeznutz", true},
		{"alice-smith", "alice-smith!", false},
		{"alice-smith", "password-1", false},
		{"alice-smith", "correct horse battery staple", false},
		{"alice-smith", "pässwörd", false},
	}
	for _, tc := range tests {
		err := auth.DefaultPasswordPolicy(context.Background(), tc.username, tc.password)
		if (err != nil) != tc.reject {
			t.Errorf("DefaultPasswordPolicy(%q, %q) = %v, want rejected: %v", tc.username, tc.password, err, tc.reject)
		}
		if err != nil && (strings.Contains(err.Error(), "auth:") || strings.Contains(err.Error(), tc.password)) {
			t.Errorf("message %q is not written for the user", err)
		}
	}
}

func TestPasswordPolicyOnRegister(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	probe := auth.ProbeHashes(f.a)
	r := postJSON(h, "/auth/register", `{"username":"Nina","password":"baseball"}`)
	wantProblems(t, r, "validation_error", "body.password:password_policy")
	if msg := r.json(t)["detail"].([]any)[0].(map[string]any)["msg"]; msg != "Password is too common, choose a less guessable one" {
		t.Errorf("msg = %q", msg)
	}
	wantProblems(t, postJSON(h, "/auth/register", `{"username":"Nina-Lopez","password":"NINA-LOPEZ"}`), "validation_error", "body.password:password_policy")
	// Other problems first: the policy only sees input that passed them.
	wantProblems(t, postJSON(h, "/auth/register", `{"username":"n","password":"baseball"}`), "validation_error", "body.username:string_too_short")
	if probe.Count() != 0 {
		t.Error("a rejected password was hashed")
	}
	if _, err := f.a.UserByUsername(context.Background(), "nina"); err == nil {
		t.Error("a rejected registration created the user")
	}
}

func TestPasswordPolicyOnChangePassword(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	f.register(t, "mona", "password-1")
	p := tokensOf(t, loginForm(h, "mona", "password-1"))
	probe := auth.ProbeHashes(f.a)
	for _, current := range []string{"password-1", "wrong-password"} {
		r := postJSON(h, "/auth/change-password", `{"current_password":"`+current+`","new_password":"football"}`, bearer(p.AccessToken)...)
		wantProblems(t, r, "validation_error", "body.new_password:password_policy")
	}
	if probe.Count() != 0 {
		t.Error("the current password was checked before the new one was validated")
	}
}

func TestCustomPasswordPolicy(t *testing.T) {
	var gotName string
	type ctxKey struct{}
	policy := func(ctx context.Context, username, password string) error {
		gotName = username
		if ctx.Value(ctxKey{}) != "request" {
			t.Error("the policy did not get the caller's context")
		}
		if strings.Contains(password, "gatehouse") {
			return errors.New("Password must not contain the name of this site")
		}
		return nil
	}
	f := newFixture(t, auth.WithPasswordPolicy(policy))
	ctx := context.WithValue(context.Background(), ctxKey{}, "request")
	_, err := f.a.Register(ctx, "Lena", "my-gatehouse-pw")
	var verr *auth.ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 1 || verr.Problems[0].Msg != "Password must not contain the name of this site" ||
		verr.Problems[0].Type != "password_policy" || strings.Join(verr.Problems[0].Loc, ".") != "body.password" {
		t.Fatalf("Register = %#v", err)
	}
	if gotName != "lena" {
		t.Errorf("policy got username %q, want the canonical %q", gotName, "lena")
	}
	// A custom policy replaces the default.
	if _, err := f.a.Register(ctx, "Lena", "password"); err != nil {
		t.Errorf("default list still applied: %v", err)
	}
}

func TestPasswordPolicyOff(t *testing.T) {
	f := newFixture(t, auth.WithPasswordPolicy(nil))
	f.register(t, "kurt", "password")
	f.register(t, "kurt-kurt", "kurt-kurt")
}

// A policy that cannot decide (its breach-list service is down) fails the
// request with 503, not with a 422 that blames the password.
func TestPasswordPolicySystemFailure(t *testing.T) {
	for _, cause := range []error{auth.ErrUnavailable, context.DeadlineExceeded} {
		f := newFixture(t, auth.WithPasswordPolicy(func(context.Context, string, string) error {
			return fmt.Errorf("breach list: %w", cause)
		}))
		r := postJSON(f.a.Handler(), "/auth/register", `{"username":"jan","password":"password-1"}`)
		wantError(t, r, http.StatusServiceUnavailable, "Service temporarily unavailable, retry later", "temporarily_unavailable")
	}
}
