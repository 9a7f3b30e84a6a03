package auth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/auth"
)

type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) hook(name string) func(context.Context, auth.Event) {
	return func(_ context.Context, e auth.Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		s := name + ":" + e.Username
		if e.Err != nil {
			s += ":" + map[bool]string{true: "disabled", false: "invalid"}[errors.Is(e.Err, auth.ErrUserDisabled)]
		}
		if e.IP != "" {
			s += "@" + e.IP
		}
		r.events = append(r.events, s)
	}
}

func (r *recorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.events, " ")
	r.events = nil
	return s
}

func TestHooksAndLogEvents(t *testing.T) {
	rec := &recorder{}
	var logs bytes.Buffer
	var syncLogs sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&logs, &syncLogs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFixture(t, auth.WithLogger(logger), auth.WithHooks(auth.Hooks{
		AfterRegister:   rec.hook("registered"),
		AfterLogin:      rec.hook("login"),
		LoginFailed:     rec.hook("failed"),
		Refreshed:       rec.hook("refreshed"),
		ReuseDetected:   rec.hook("reused"),
		PasswordChanged: rec.hook("changed"),
		LoggedOut:       rec.hook("logout"),
		UserDisabled:    rec.hook("disabled"),
	}))
	h := f.a.Handler()
	req := func(r *http.Request) response {
		r.RemoteAddr = "203.0.113.9:4242"
		return serve(h, r)
	}
	jsonReq := func(method, path, body string, header ...string) *http.Request {
		r := newRequest(method, path, "application/json", body)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r
	}

	req(jsonReq(http.MethodPost, "/auth/register", `{"username":"Hugo","password":"secret-pass-1"}`))
	if got := rec.take(); got != "registered:hugo@203.0.113.9" {
		t.Fatalf("after register: %q", got)
	}
	req(loginRequest("hugo", "wrong-pass-1"))
	req(loginRequest("nobody", "secret-pass-1"))
	p := tokensOf(t, req(loginRequest("HUGO", "secret-pass-1")))
	if got := rec.take(); got != "failed:hugo:invalid@203.0.113.9 failed:nobody:invalid@203.0.113.9 login:hugo@203.0.113.9" {
		t.Fatalf("after logins: %q", got)
	}
	p2 := tokensOf(t, req(jsonReq(http.MethodPost, "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`)))
	f.clock.Advance(20e9)
	req(jsonReq(http.MethodPost, "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`))
	if got := rec.take(); got != "refreshed:hugo@203.0.113.9 reused:hugo@203.0.113.9" {
		t.Fatalf("after refreshes: %q", got)
	}
	p3 := tokensOf(t, req(loginRequest("hugo", "secret-pass-1")))
	req(jsonReq(http.MethodPost, "/auth/change-password", `{"current_password":"secret-pass-1","new_password":"secret-pass-2"}`, bearer(p3.AccessToken)...))
	req(jsonReq(http.MethodPost, "/auth/logout", `{"refresh_token":"`+p3.RefreshToken+`"}`))
	rec.take()
	p4 := tokensOf(t, req(loginRequest("hugo", "secret-pass-2")))
	if r := req(jsonReq(http.MethodPost, "/auth/change-password", `{"current_password":"secret-pass-2","new_password":"secret-pass-3"}`, bearer(p4.AccessToken)...)); r.status != http.StatusNoContent {
		t.Fatalf("change-password: %d %s", r.status, r.body)
	}
	if got := rec.take(); got != "login:hugo@203.0.113.9 changed:hugo@203.0.113.9" {
		t.Fatalf("after change-password: %q", got)
	}
	u, _ := f.a.UserByUsername(context.Background(), "hugo")
	if err := f.a.SetDisabled(context.Background(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	req(loginRequest("hugo", "secret-pass-3"))
	if got := rec.take(); got != "disabled:hugo failed:hugo:disabled@203.0.113.9" {
		t.Fatalf("after disabling: %q", got)
	}
	_ = p2

	out := logs.String()
	for _, msg := range []string{"auth: user registered", "auth: login failed", "auth: login succeeded", "auth: token refreshed",
		"auth: refresh token reused; session revoked", "auth: logged out", "auth: password changed", "auth: user disabled"} {
		if !strings.Contains(out, msg) {
			t.Errorf("no log event %q", msg)
		}
	}
	for _, secret := range []string{"secret-pass", "wrong-pass", "$argon2id", p.AccessToken, p.RefreshToken, p3.RefreshToken, string(testSecret)} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs contain a secret (%.20q…)", secret)
		}
	}
}

func TestBeforeHooksAbort(t *testing.T) {
	invite := errors.New("registration is by invitation")
	f := newFixture(t, auth.WithHooks(auth.Hooks{
		BeforeRegister: func(_ context.Context, e auth.Event) error {
			if !strings.HasPrefix(e.Username, "invited-") {
				return invite
			}
			return nil
		},
		BeforeLogin: func(_ context.Context, e auth.Event) error {
			if e.Username == "invited-banned" {
				return &auth.ValidationError{Problems: []auth.FieldError{{Loc: []string{"body", "username"}, Msg: "This account is under review", Type: "account_review"}}}
			}
			return nil
		},
	}))
	ctx := context.Background()
	_, err := f.a.Register(ctx, "stranger", "password-1")
	if !errors.Is(err, auth.ErrRejected) || !errors.Is(err, invite) {
		t.Fatalf("Register = %v, want ErrRejected joined with the hook's error", err)
	}
	if _, err := f.a.UserByUsername(ctx, "stranger"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Fatal("a rejected registration stored a user")
	}
	h := f.a.Handler()
	wantError(t, postJSON(h, "/auth/register", `{"username":"stranger","password":"password-1"}`), http.StatusForbidden, "Forbidden", "forbidden")
	f.register(t, "invited-ann", "password-1")
	f.register(t, "invited-banned", "password-1")
	f.login(t, "invited-ann", "password-1")
	wantProblems(t, loginForm(h, "invited-banned", "password-1"), "invalid_request", "body.username:account_review")
	if _, err := f.a.Authenticate(ctx, "invited-banned", "password-1"); !errors.Is(err, auth.ErrRejected) {
		t.Fatalf("Authenticate = %v, want ErrRejected", err)
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestAttemptedUsernamesAreNotLogged: a password typed into the username
// field must not reach the log. Known users are logged by ID, unknown
// names by a keyed hash that is the same for the same name.
func TestAttemptedUsernamesAreNotLogged(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, auth.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	u := f.register(t, "olga", "password-1")
	h := f.a.Handler()
	for range 2 {
		serve(h, loginRequest("MySecretPassw0rd!", "password-1")) // the password in the wrong field
	}
	serve(h, loginRequest("olga", "wrong-password"))
	got := logs.String()
	if strings.Contains(strings.ToLower(got), "mysecretpassw0rd") {
		t.Fatalf("the attempted name reached the log:\n%s", got)
	}
	if !strings.Contains(got, "user_id="+u.ID) || strings.Contains(got, "username=olga") {
		t.Fatalf("a known user is logged by ID only:\n%s", got)
	}
	var hashes []string
	for _, line := range strings.Split(got, "\n") {
		if _, h, ok := strings.Cut(line, "username_hash="); ok {
			hashes = append(hashes, strings.Fields(h)[0])
		}
	}
	if len(hashes) != 2 || hashes[0] != hashes[1] || len(hashes[0]) != 16 {
		t.Fatalf("username hashes = %q, want the same 16-digit hash twice", hashes)
	}
}
