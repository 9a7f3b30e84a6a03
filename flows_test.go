package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	texttemplate "text/template"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// memMailer is the in-memory Mailer of the unit tests: it keeps every
// message, and can be made to fail or to block.
type memMailer struct {
	mu    sync.Mutex
	msgs  []auth.Message
	fails int           // the next fails sends fail
	block chan struct{} // when set, Send waits for it to close
}

func (m *memMailer) Send(ctx context.Context, msg auth.Message) error {
	m.mu.Lock()
	block := m.block
	m.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fails > 0 {
		m.fails--
		return errors.New("smtp: 451 try again later")
	}
	m.msgs = append(m.msgs, msg)
	return nil
}

// sent returns the messages sent so far.
func (m *memMailer) sent() []auth.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]auth.Message(nil), m.msgs...)
}

// to returns the messages sent to addr.
func (m *memMailer) to(addr string) []auth.Message {
	var out []auth.Message
	for _, msg := range m.sent() {
		if msg.To == addr {
			out = append(out, msg)
		}
	}
	return out
}

var linkRE = regexp.MustCompile(`https://app\.example\.com(/[a-z-]+)\?token=([^\s"<&]+)`)

// linkOf returns the path and token of the link in msg.
func linkOf(t *testing.T, msg auth.Message) (path, token string) {
	t.Helper()
	m := linkRE.FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("no link in %q", msg.Text)
	}
	tok, err := url.QueryUnescape(m[2])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.HTML, `href="https://app.example.com`+m[1]+`?token=`) {
		t.Errorf("the HTML part lacks the link: %q", msg.HTML)
	}
	return m[1], tok
}

// mailFix is an Authenticator with email flows on an in-memory store and
// mailer, and its handler.
type mailFix struct {
	a      *auth.Authenticator
	h      http.Handler
	mailer *memMailer
	clock  *fakeClock
	store  *memstore.Store
}

func newMailFix(t testing.TB, opts ...auth.Option) *mailFix {
	t.Helper()
	f := &mailFix{mailer: &memMailer{}, clock: newClock(), store: memstore.New()}
	base := []auth.Option{auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(f.clock.Now),
		auth.WithMailer(f.mailer), auth.WithPublicURL("https://app.example.com"),
		auth.WithMailQueue(auth.MailQueue{Size: 100, Workers: 2, Attempts: 3, Backoff: time.Millisecond})}
	a, err := auth.New(f.store, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.StartMail(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	f.a, f.h = a, a.Handler()
	return f
}

// post sends a JSON body and, when the request may queue mail, waits for
// the mail queue.
func (f *mailFix) post(path, body string, header ...string) response {
	r := do(f.h, http.MethodPost, path, ctJSON, body, header...)
	auth.WaitMail(f.a)
	return r
}

// register makes a user with an address through the handler and returns
// the token of the verification mail.
func (f *mailFix) register(t *testing.T, name, email string) string {
	t.Helper()
	r := f.post("/auth/register", `{"username":"`+name+`","password":"password-1","email":"`+email+`"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	msgs := f.mailer.to(email)
	if len(msgs) == 0 || msgs[len(msgs)-1].Kind != auth.MailVerifyEmail {
		t.Fatalf("no verification mail to %s: %+v", email, msgs)
	}
	_, tok := linkOf(t, msgs[len(msgs)-1])
	return tok
}

// lastToken returns the token of the last mail of kind to addr.
func (f *mailFix) lastToken(t *testing.T, addr string, kind auth.MailKind) string {
	t.Helper()
	msgs := f.mailer.to(addr)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Kind == kind {
			_, tok := linkOf(t, msgs[i])
			return tok
		}
	}
	t.Fatalf("no %s mail to %s", kind, addr)
	return ""
}

func jsonObj(t *testing.T, r response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	return m
}

func wantProblem(t *testing.T, r response, status int, code, detail string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	m := jsonObj(t, r)
	if m["error"] != code || (detail != "" && m["detail"] != detail) {
		t.Errorf("body %s, want error %q detail %q", r.body, code, detail)
	}
}

func TestRegisterAndVerifyEmail(t *testing.T) {
	f := newMailFix(t)
	tok := f.register(t, "alice", "Alice@Example.com")
	msg := f.mailer.to("Alice@Example.com")[0]
	if path, _ := linkOf(t, msg); path != "/verify-email" {
		t.Errorf("verification link path %q", path)
	}
	// Before verification the address is no login name.
	if r := serve(f.h, loginRequest("alice@example.com", "password-1")); r.status != http.StatusUnauthorized {
		t.Errorf("login by an unverified address: %d", r.status)
	}
	me := tokensOf(t, serve(f.h, loginRequest("alice", "password-1")))
	if m := jsonObj(t, do(f.h, http.MethodGet, "/auth/me", "", "", bearer(me.AccessToken)...)); m["email"] != "Alice@Example.com" || m["email_verified"] != false {
		t.Errorf("me before verification: %v", m)
	}
	r := f.post("/auth/verify", `{"token":"`+tok+`"}`)
	if r.status != http.StatusOK {
		t.Fatalf("verify: %d %s", r.status, r.body)
	}
	if m := jsonObj(t, r); m["email_verified"] != true || m["email"] != "Alice@Example.com" || m["username"] != "alice" {
		t.Errorf("verify body %v", m)
	}
	wantProblem(t, f.post("/auth/verify", `{"token":"`+tok+`"}`), 400, "bad_token", "VERIFY_USER_BAD_TOKEN")
	// The verified address logs in, in any case.
	if r := serve(f.h, loginRequest("ALICE@example.COM", "password-1")); r.status != http.StatusOK {
		t.Errorf("login by the verified address: %d %s", r.status, r.body)
	}
	// request-verify-token for a verified address mails nothing.
	n := len(f.mailer.sent())
	if r := f.post("/auth/request-verify-token", `{"email":"alice@example.com"}`); r.status != http.StatusAccepted || string(r.body) != "null\n" {
		t.Errorf("request-verify-token: %d %q", r.status, r.body)
	}
	if len(f.mailer.sent()) != n {
		t.Error("a verified address was sent another verification mail")
	}
}

func TestEmailLoginOff(t *testing.T) {
	f := newMailFix(t, auth.WithEmailLogin(false))
	tok := f.register(t, "bea", "bea@example.com")
	if r := f.post("/auth/verify", `{"token":"`+tok+`"}`); r.status != http.StatusOK {
		t.Fatal(r.status)
	}
	if r := serve(f.h, loginRequest("bea@example.com", "password-1")); r.status != http.StatusUnauthorized {
		t.Errorf("login by address with email login off: %d", r.status)
	}
}

func TestRequestVerifyTokenResends(t *testing.T) {
	f := newMailFix(t)
	first := f.register(t, "cara", "cara@example.com")
	if r := f.post("/auth/request-verify-token", `{"email":"CARA@example.com"}`); r.status != http.StatusAccepted {
		t.Fatal(r.status)
	}
	second := f.lastToken(t, "cara@example.com", auth.MailVerifyEmail)
	if first == second {
		t.Fatal("the same token twice")
	}
	// The newer token voids the older.
	wantProblem(t, f.post("/auth/verify", `{"token":"`+first+`"}`), 400, "bad_token", "VERIFY_USER_BAD_TOKEN")
	if r := f.post("/auth/verify", `{"token":"`+second+`"}`); r.status != http.StatusOK {
		t.Errorf("newer token: %d %s", r.status, r.body)
	}
}

func TestForgotAndResetPassword(t *testing.T) {
	f := newMailFix(t)
	f.register(t, "dan", "dan@example.com")
	old := tokensOf(t, serve(f.h, loginRequest("dan", "password-1")))
	if r := f.post("/auth/forgot-password", `{"email":"Dan@Example.com"}`); r.status != http.StatusAccepted || string(r.body) != "null\n" {
		t.Fatalf("forgot-password: %d %q", r.status, r.body)
	}
	msgs := f.mailer.to("dan@example.com")
	msg := msgs[len(msgs)-1]
	if msg.Kind != auth.MailResetPassword || msg.Subject != "Reset your password" {
		t.Fatalf("mail %+v", msg)
	}
	path, tok := linkOf(t, msg)
	if path != "/reset-password" {
		t.Errorf("reset link path %q", path)
	}
	// A password the rules refuse: 422, and the token still works.
	if r := f.post("/auth/reset-password", `{"token":"`+tok+`","password":"short"}`); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("weak password: %d %s", r.status, r.body)
	}
	if r := f.post("/auth/reset-password", `{"token":"`+tok+`","password":"new-password-2"}`); r.status != http.StatusNoContent {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	// Every earlier token is dead at once.
	if r := do(f.h, http.MethodGet, "/auth/me", "", "", bearer(old.AccessToken)...); r.status != http.StatusUnauthorized {
		t.Errorf("old access token after reset: %d", r.status)
	}
	if r := do(f.h, http.MethodPost, "/auth/refresh", ctJSON, `{"refresh_token":"`+old.RefreshToken+`"}`); r.status != http.StatusUnauthorized {
		t.Errorf("old refresh token after reset: %d", r.status)
	}
	if r := serve(f.h, loginRequest("dan", "password-1")); r.status != http.StatusUnauthorized {
		t.Errorf("old password after reset: %d", r.status)
	}
	if r := serve(f.h, loginRequest("dan", "new-password-2")); r.status != http.StatusOK {
		t.Errorf("new password: %d", r.status)
	}
	wantProblem(t, f.post("/auth/reset-password", `{"token":"`+tok+`","password":"new-password-3"}`), 400, "bad_token", "RESET_PASSWORD_BAD_TOKEN")
}

// TestHostileTokens: guessed, malformed, reused, relabelled, expired,
// after a password change, and for another purpose; then the failure
// budget.
func TestHostileTokens(t *testing.T) {
	f := newMailFix(t, auth.WithMagicLinks(), auth.WithTokenRedeemLimit(auth.RateLimit{Burst: 100, Every: time.Minute}))
	verify := f.register(t, "eve", "eve@example.com")
	f.post("/auth/forgot-password", `{"email":"eve@example.com"}`)
	reset := f.lastToken(t, "eve@example.com", auth.MailResetPassword)

	guessed := "rp_" + strings.Repeat("A", 43)
	bad := map[string]struct{ path, body, detail string }{
		"guessed":              {"/auth/reset-password", `{"token":"` + guessed + `","password":"password-9"}`, "RESET_PASSWORD_BAD_TOKEN"},
		"malformed":            {"/auth/verify", `{"token":"not a token"}`, "VERIFY_USER_BAD_TOKEN"},
		"empty":                {"/auth/verify", `{"token":""}`, "VERIFY_USER_BAD_TOKEN"},
		"reset at verify":      {"/auth/verify", `{"token":"` + reset + `"}`, "VERIFY_USER_BAD_TOKEN"},
		"verify at reset":      {"/auth/reset-password", `{"token":"` + verify + `","password":"password-9"}`, "RESET_PASSWORD_BAD_TOKEN"},
		"reset at magic link":  {"/auth/magic-link/verify", `{"token":"` + reset + `"}`, "MAGIC_LINK_BAD_TOKEN"},
		"relabelled":           {"/auth/verify", `{"token":"ve` + reset[2:] + `"}`, "VERIFY_USER_BAD_TOKEN"},
		"huge":                 {"/auth/verify", `{"token":"` + strings.Repeat("x", 60000) + `"}`, "VERIFY_USER_BAD_TOKEN"},
		"reset with bad bytes": {"/auth/reset-password", `{"token":"rp_` + strings.Repeat("\\u0000", 43) + `","password":"password-9"}`, "RESET_PASSWORD_BAD_TOKEN"},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, f.post(c.path, c.body), 400, "bad_token", c.detail)
		})
	}
	// None of that used up the real tokens.
	if r := f.post("/auth/reset-password", `{"token":"`+reset+`","password":"password-2"}`); r.status != http.StatusNoContent {
		t.Fatalf("real reset token after the hostile ones: %d %s", r.status, r.body)
	}
	// The reset changed the token version: the verification token is void.
	wantProblem(t, f.post("/auth/verify", `{"token":"`+verify+`"}`), 400, "bad_token", "VERIFY_USER_BAD_TOKEN")

	t.Run("after a password change", func(t *testing.T) {
		f.post("/auth/forgot-password", `{"email":"eve@example.com"}`)
		tok := f.lastToken(t, "eve@example.com", auth.MailResetPassword)
		p := tokensOf(t, serve(f.h, loginRequest("eve", "password-2")))
		if r := do(f.h, http.MethodPost, "/auth/change-password", ctJSON, `{"current_password":"password-2","new_password":"password-3"}`, bearer(p.AccessToken)...); r.status != http.StatusNoContent {
			t.Fatal(r.status)
		}
		wantProblem(t, f.post("/auth/reset-password", `{"token":"`+tok+`","password":"password-4"}`), 400, "bad_token", "RESET_PASSWORD_BAD_TOKEN")
	})
	t.Run("expired", func(t *testing.T) {
		f.post("/auth/forgot-password", `{"email":"eve@example.com"}`)
		tok := f.lastToken(t, "eve@example.com", auth.MailResetPassword)
		f.clock.Advance(30 * time.Minute)
		wantProblem(t, f.post("/auth/reset-password", `{"token":"`+tok+`","password":"password-4"}`), 400, "bad_token", "RESET_PASSWORD_BAD_TOKEN")
	})
	t.Run("disabled user", func(t *testing.T) {
		f.post("/auth/magic-link", `{"email":"eve@example.com"}`)
		tok := f.lastToken(t, "eve@example.com", auth.MailMagicLink)
		u, _ := f.a.UserByUsername(context.Background(), "eve")
		if err := f.a.SetDisabled(context.Background(), u.ID, true); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, f.post("/auth/magic-link/verify", `{"token":"`+tok+`"}`), 400, "bad_token", "MAGIC_LINK_BAD_TOKEN")
		n := len(f.mailer.sent())
		f.post("/auth/magic-link", `{"email":"eve@example.com"}`)
		f.post("/auth/forgot-password", `{"email":"eve@example.com"}`)
		if len(f.mailer.sent()) != n {
			t.Error("a disabled user was mailed a link")
		}
	})
}

func TestRedeemFailureBudget(t *testing.T) {
	f := newMailFix(t, auth.WithTokenRedeemLimit(auth.RateLimit{Burst: 3, Every: time.Minute}))
	tok := f.register(t, "fred", "fred@example.com")
	for range 3 {
		wantProblem(t, f.post("/auth/verify", `{"token":"ve_`+strings.Repeat("B", 43)+`"}`), 400, "bad_token", "")
	}
	r := f.post("/auth/verify", `{"token":"`+tok+`"}`)
	wantProblem(t, r, 429, "too_many_attempts", "Too many invalid tokens, retry later")
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	f.clock.Advance(time.Minute)
	if r := f.post("/auth/verify", `{"token":"`+tok+`"}`); r.status != http.StatusOK {
		t.Errorf("after the budget refilled, the untouched token: %d %s", r.status, r.body)
	}
}

func TestChangeEmail(t *testing.T) {
	f := newMailFix(t)
	f.register(t, "gus", "gus@example.com")
	f.register(t, "hana", "hana@example.com")
	p := tokensOf(t, serve(f.h, loginRequest("gus", "password-1")))
	auth := bearer(p.AccessToken)
	wantProblem(t, f.post("/auth/change-email", `{"email":"gus2@example.com","password":"wrong-pass"}`, auth...), 400, "incorrect_password", "")
	if r := f.post("/auth/change-email", `{"email":"gus2@example.com","password":"password-1"}`); r.status != http.StatusUnauthorized {
		t.Errorf("without a token: %d", r.status)
	}
	if r := f.post("/auth/change-email", `{"email":"Gus2@Example.com","password":"password-1"}`, auth...); r.status != http.StatusAccepted {
		t.Fatalf("change-email: %d %s", r.status, r.body)
	}
	notice := f.mailer.to("gus@example.com")
	if last := notice[len(notice)-1]; last.Kind != "email_change_notice" || !strings.Contains(last.Text, "Gus2@Example.com") || strings.Contains(last.Text, "token=") {
		t.Errorf("notice to the old address: %+v", last)
	}
	tok := f.lastToken(t, "Gus2@Example.com", "change_email")
	// Until confirmed, the address is the old one.
	if m := jsonObj(t, do(f.h, http.MethodGet, "/auth/me", "", "", auth...)); m["email"] != "gus@example.com" {
		t.Errorf("me before confirmation: %v", m)
	}
	r := f.post("/auth/verify", `{"token":"`+tok+`"}`)
	if r.status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	if m := jsonObj(t, r); m["email"] != "Gus2@Example.com" || m["email_verified"] != true {
		t.Errorf("after confirmation: %v", m)
	}
	if m := jsonObj(t, do(f.h, http.MethodGet, "/auth/me", "", "", auth...)); m["email"] != "Gus2@Example.com" {
		t.Errorf("me after confirmation: %v", m)
	}
	if r := serve(f.h, loginRequest("gus2@example.com", "password-1")); r.status != http.StatusOK {
		t.Errorf("login by the new address: %d", r.status)
	}
	if r := serve(f.h, loginRequest("gus@example.com", "password-1")); r.status != http.StatusUnauthorized {
		t.Errorf("login by the old address: %d", r.status)
	}
	// Another user's address: the same answer, and nothing mailed to it.
	n := len(f.mailer.to("hana@example.com"))
	if r := f.post("/auth/change-email", `{"email":"HANA@example.com","password":"password-1"}`, auth...); r.status != http.StatusAccepted {
		t.Fatalf("change to a taken address: %d", r.status)
	}
	if len(f.mailer.to("hana@example.com")) != n || len(f.mailer.to("HANA@example.com")) != 0 {
		t.Error("mail went to another user's address")
	}
}

func TestChangeEmailRace(t *testing.T) {
	// Two users ask for the same new address; the second confirmation
	// finds it taken: 409.
	f := newMailFix(t)
	f.register(t, "ian", "ian@example.com")
	f.register(t, "joan", "joan@example.com")
	for _, name := range []string{"ian", "joan"} {
		p := tokensOf(t, serve(f.h, loginRequest(name, "password-1")))
		if r := f.post("/auth/change-email", `{"email":"shared@example.com","password":"password-1"}`, bearer(p.AccessToken)...); r.status != http.StatusAccepted {
			t.Fatal(r.status)
		}
	}
	var toks []string
	for _, msg := range f.mailer.to("shared@example.com") {
		_, tok := linkOf(t, msg)
		toks = append(toks, tok)
	}
	if len(toks) != 2 {
		t.Fatalf("%d confirmations, want 2", len(toks))
	}
	if r := f.post("/auth/verify", `{"token":"`+toks[0]+`"}`); r.status != http.StatusOK {
		t.Fatal(r.status)
	}
	wantProblem(t, f.post("/auth/verify", `{"token":"`+toks[1]+`"}`), 409, "email_taken", "")
}

func TestMagicLink(t *testing.T) {
	off := newMailFix(t)
	if r := off.post("/auth/magic-link", `{"email":"x@example.com"}`); r.status != http.StatusNotFound {
		t.Errorf("magic link while off: %d", r.status)
	}
	var logins atomic.Int32
	f := newMailFix(t, auth.WithMagicLinks(), auth.WithHooks(auth.Hooks{AfterLogin: func(context.Context, auth.Event) { logins.Add(1) }}))
	verify := f.register(t, "kai", "kai@example.com")
	if r := f.post("/auth/magic-link", `{"email":"KAI@example.com"}`); r.status != http.StatusAccepted {
		t.Fatal(r.status)
	}
	msgs := f.mailer.to("kai@example.com")
	path, tok := linkOf(t, msgs[len(msgs)-1])
	if path != "/magic-link" {
		t.Errorf("magic link path %q", path)
	}
	r := f.post("/auth/magic-link/verify", `{"token":"`+tok+`"}`)
	if r.status != http.StatusOK {
		t.Fatalf("magic-link/verify: %d %s", r.status, r.body)
	}
	p := tokensOf(t, r)
	if p.DeviceToken == "" || logins.Load() != 1 {
		t.Errorf("a magic-link login is a login: device token %q, AfterLogin ran %d times", p.DeviceToken, logins.Load())
	}
	me := jsonObj(t, do(f.h, http.MethodGet, "/auth/me", "", "", bearer(p.AccessToken)...))
	if me["username"] != "kai" || me["email_verified"] != true {
		t.Errorf("me after a magic-link login: %v", me)
	}
	if sessions, _ := f.a.Sessions(context.Background(), me["id"].(string)); len(sessions) != 1 {
		t.Errorf("%d sessions, want 1", len(sessions))
	}
	wantProblem(t, f.post("/auth/magic-link/verify", `{"token":"`+tok+`"}`), 400, "bad_token", "MAGIC_LINK_BAD_TOKEN")
	// The link proved the address for the first time, which starts the
	// account afresh (TestMagicLinkClaimsAnUnverifiedAccount): the pending
	// verification link died with the rest.
	wantProblem(t, f.post("/auth/verify", `{"token":"`+verify+`"}`), 400, "bad_token", "VERIFY_USER_BAD_TOKEN")
}

func TestMagicLinkCookieMode(t *testing.T) {
	f := newMailFix(t, auth.WithMagicLinks())
	f.register(t, "lia", "lia@example.com")
	f.post("/auth/magic-link", `{"email":"lia@example.com"}`)
	tok := f.lastToken(t, "lia@example.com", auth.MailMagicLink)
	ch := f.a.CookieHandler()
	r := do(ch, http.MethodPost, "/auth/magic-link/verify", ctJSON, `{"token":"`+tok+`"}`)
	if r.status != http.StatusOK {
		t.Fatalf("cookie mode magic-link/verify: %d %s", r.status, r.body)
	}
	var found bool
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "gatehouse_refresh=") && strings.Contains(c, "HttpOnly") {
			found = true
		}
	}
	if !found {
		t.Errorf("no refresh cookie: %v", r.header.Values("Set-Cookie"))
	}
	// Cross-site requests are refused like every cookie-mode request.
	if r := do(ch, http.MethodPost, "/auth/forgot-password", ctJSON, `{"email":"lia@example.com"}`, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
		t.Errorf("cross-site forgot-password in cookie mode: %d", r.status)
	}
}

// TestEmailInputHostile: header injection, display names, a huge address,
// at every endpoint that takes one.
func TestEmailInputHostile(t *testing.T) {
	f := newMailFix(t, auth.WithMagicLinks())
	p := tokensOf(t, serve(f.h, registerAndLogin(t, f, "mona")))
	inputs := map[string]string{
		"CR LF":        `victim@example.com\r\nBcc: everyone@example.com`,
		"LF":           `victim@example.com\nBcc: x@example.com`,
		"display name": `Victim <victim@example.com>`,
		"two":          `a@example.com, b@example.com`,
		"huge":         strings.Repeat("a", 250) + "@example.com",
		"very huge":    strings.Repeat("a", 60000) + "@example.com",
		"NUL":          `victim\u0000@example.com`,
		"no domain":    `victim@`,
		"bidi":         "victim\u202e@example.com",
	}
	for name, email := range inputs {
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct{ path, body string }{
				{"/auth/forgot-password", `{"email":"` + email + `"}`},
				{"/auth/request-verify-token", `{"email":"` + email + `"}`},
				{"/auth/magic-link", `{"email":"` + email + `"}`},
				{"/auth/change-email", `{"email":"` + email + `","password":"password-1"}`},
				{"/auth/register", `{"username":"nina","password":"password-1","email":"` + email + `"}`},
			} {
				r := f.post(c.path, c.body, bearer(p.AccessToken)...)
				if r.status != http.StatusUnprocessableEntity {
					t.Errorf("%s: %d %s, want 422", c.path, r.status, r.body)
				}
			}
		})
	}
	for _, msg := range f.mailer.sent() {
		if strings.ContainsAny(msg.To, "\r\n") || strings.ContainsAny(msg.Subject, "\r\n") {
			t.Errorf("a header with a line break: %+v", msg)
		}
	}
}

func registerAndLogin(t *testing.T, f *mailFix, name string) *http.Request {
	t.Helper()
	if _, err := f.a.Register(context.Background(), name, "password-1"); err != nil {
		t.Fatal(err)
	}
	return loginRequest(name, "password-1")
}

// countingStore counts the store calls made on a request's path.
type countingStore struct {
	*memstore.Store
	calls atomic.Int64
}

func (s *countingStore) UserByEmail(ctx context.Context, c string) (*auth.User, error) {
	s.calls.Add(1)
	return s.Store.UserByEmail(ctx, c)
}

func (s *countingStore) UserByUsername(ctx context.Context, n string) (*auth.User, error) {
	s.calls.Add(1)
	return s.Store.UserByUsername(ctx, n)
}

func (s *countingStore) UserByID(ctx context.Context, id string) (*auth.User, error) {
	s.calls.Add(1)
	return s.Store.UserByID(ctx, id)
}

func (s *countingStore) SaveOneTimeToken(ctx context.Context, tok *auth.OneTimeToken) error {
	s.calls.Add(1)
	return s.Store.SaveOneTimeToken(ctx, tok)
}

func (s *countingStore) CreateUser(ctx context.Context, u *auth.User) error {
	s.calls.Add(1)
	return s.Store.CreateUser(ctx, u)
}

// TestMailRequestsCostTheSameWhateverTheAddress: forgot-password,
// request-verify-token and magic-link do the same work on the request's
// path for a known and an unknown address: the same store calls, one job
// queued, no hash, the same status and body. The work is counted, not
// timed, so the test cannot flake; the medians of the counts, which stand
// for the time spent, must be within 20% (they are equal).
func TestMailRequestsCostTheSameWhateverTheAddress(t *testing.T) {
	store := &countingStore{Store: memstore.New()}
	mailer := &memMailer{}
	a, err := auth.New(store, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(),
		auth.WithMailer(mailer), auth.WithPublicURL("https://app.example.com"), auth.WithMagicLinks(),
		auth.WithMailLimits(auth.RateLimit{Burst: 1000, Every: time.Second}, auth.RateLimit{Burst: 1000, Every: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	probe := auth.ProbeHashes(a)
	// The queue is not started: jobs wait, so that only the request's own
	// work is counted.
	defer a.Shutdown(context.Background())
	if _, err := a.RegisterWithEmail(context.Background(), "known", "password-1", "known@example.com"); err != nil {
		t.Fatal(err)
	}
	h := a.Handler()
	hashes := probe.Count()
	for _, path := range []string{"/auth/forgot-password", "/auth/request-verify-token", "/auth/magic-link"} {
		t.Run(path, func(t *testing.T) {
			const n = 15
			cost := map[string][]float64{}
			bodies := map[string]string{}
			for i := range 2 * n {
				addr := []string{"known@example.com", "unknown@example.com"}[i%2]
				calls := store.calls.Load()
				queued, _ := auth.MailQueueCounts(a)
				r := do(h, http.MethodPost, path, ctJSON, `{"email":"`+addr+`"}`)
				if r.status != http.StatusAccepted {
					t.Fatalf("%s: %d", addr, r.status)
				}
				nowQueued, _ := auth.MailQueueCounts(a)
				cost[addr] = append(cost[addr], float64(store.calls.Load()-calls+(nowQueued-queued)))
				bodies[addr] = string(r.body)
			}
			if bodies["known@example.com"] != bodies["unknown@example.com"] {
				t.Errorf("bodies differ: %q / %q", bodies["known@example.com"], bodies["unknown@example.com"])
			}
			known, unknown := median(cost["known@example.com"]), median(cost["unknown@example.com"])
			if known == 0 || unknown < 0.8*known || unknown > 1.2*known {
				t.Errorf("median work %v for a known address, %v for an unknown one; want within 20%%", known, unknown)
			}
			if known != 2 {
				t.Errorf("work per request %v, want 2 (one look-up, one job)", known)
			}
		})
	}
	if probe.Count() != hashes {
		t.Errorf("%d password hashes on the mail endpoints, want none", probe.Count()-hashes)
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// TestMailBudgets: per address and kind, and per client, 429 with
// Retry-After, the same for a known and an unknown address.
func TestMailBudgets(t *testing.T) {
	f := newMailFix(t, auth.WithMailLimits(auth.RateLimit{Burst: 2, Every: time.Hour}, auth.RateLimit{Burst: 5, Every: time.Hour}))
	f.register(t, "olga", "olga@example.com")
	for _, addr := range []string{"olga@example.com", "nobody@example.com"} {
		for range 2 {
			if r := f.post("/auth/forgot-password", `{"email":"`+addr+`"}`); r.status != http.StatusAccepted {
				t.Fatal(r.status)
			}
		}
		r := f.post("/auth/forgot-password", `{"email":"`+strings.ToUpper(addr)+`"}`)
		wantProblem(t, r, 429, "too_many_attempts", "Too many emails requested, retry later")
		if r.header.Get("Retry-After") != "3600" {
			t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	// Another kind of mail has its own budget per address, but the
	// client's budget across endpoints is spent after 5.
	wantProblem(t, f.post("/auth/request-verify-token", `{"email":"other@example.com"}`), 429, "too_many_attempts", "Too many emails requested, retry later")
	if r := doFrom(f.h, "198.51.100.2:1", http.MethodPost, "/auth/request-verify-token", ctJSON, `{"email":"other@example.com"}`); r.status != http.StatusAccepted {
		t.Errorf("another client: %d", r.status)
	}
}

// TestForgotPasswordFlood: with the mailer stuck, a flood of requests
// fills the bounded queue, the rest are dropped (and answered 202 all the
// same), the budgets answer 429, and memory stays bounded.
func TestForgotPasswordFlood(t *testing.T) {
	mailer := &memMailer{block: make(chan struct{})}
	store := memstore.New()
	a, err := auth.New(store, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(),
		auth.WithMailer(mailer), auth.WithPublicURL("https://app.example.com"),
		auth.WithMailQueue(auth.MailQueue{Size: 8, Workers: 1, Attempts: 1}),
		auth.WithMailLimits(auth.RateLimit{Burst: 1, Every: time.Hour}, auth.RateLimit{Burst: 200, Every: time.Hour}),
		auth.WithLogger(discardLog()))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.StartMail(); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := a.RegisterWithEmail(context.Background(), "user"+string(rune('a'+i%26))+string(rune('a'+i/26)), "password-1", "u"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	h := a.Handler()
	counts := map[int]int{}
	for i := range 300 {
		email := "u" + string(rune('a'+i%26)) + string(rune('a'+(i/26)%2)) + "@example.com"
		if i%3 == 0 {
			email = "flood" + string(rune('a'+i%26)) + "@example.org"
		}
		r := do(h, http.MethodPost, "/auth/forgot-password", ctJSON, `{"email":"`+email+`"}`)
		counts[r.status]++
		if l := auth.MailQueueLen(a); l > auth.MailQueueCap(a) || auth.MailQueueCap(a) != 8 {
			t.Fatalf("queue length %d, capacity %d", l, auth.MailQueueCap(a))
		}
	}
	if counts[http.StatusAccepted] == 0 || counts[http.StatusTooManyRequests] == 0 || len(counts) != 2 {
		t.Errorf("statuses %v, want 202s then 429s", counts)
	}
	enq, dropped := auth.MailQueueCounts(a)
	if dropped == 0 || enq > int64(counts[http.StatusAccepted]+50) {
		t.Errorf("enqueued %d, dropped %d", enq, dropped)
	}
	close(mailer.block)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := a.StartMail(); err == nil {
		t.Error("StartMail after Shutdown succeeded")
	}
}

func TestMailRetriesAndShutdown(t *testing.T) {
	f := newMailFix(t)
	f.mailer.fails = 2 // the third attempt succeeds
	f.register(t, "pia", "pia@example.com")
	f.mailer.mu.Lock()
	f.mailer.fails = 3 // every attempt fails: logged, the answer unchanged
	f.mailer.mu.Unlock()
	if r := f.post("/auth/forgot-password", `{"email":"pia@example.com"}`); r.status != http.StatusAccepted {
		t.Fatal(r.status)
	}
	if n := len(f.mailer.to("pia@example.com")); n != 1 {
		t.Errorf("%d mails, want only the verification", n)
	}

	// Shutdown sends what is queued.
	mailer := &memMailer{}
	a, err := auth.New(memstore.New(), auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(),
		auth.WithMailer(mailer), auth.WithPublicURL("https://app.example.com/base/"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"quin", "rosa", "sam"} {
		if _, err := a.RegisterWithEmail(context.Background(), name, "password-1", name+"@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	if len(mailer.sent()) != 0 {
		t.Fatal("mail sent before StartMail")
	}
	if err := a.StartMail(); err != nil {
		t.Fatal(err)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(mailer.sent()); n != 3 {
		t.Fatalf("%d mails after Shutdown, want 3", n)
	}
	if !strings.Contains(mailer.sent()[0].Text, "https://app.example.com/base/verify-email?token=ve_") {
		t.Errorf("link under a base path: %q", mailer.sent()[0].Text)
	}
}

func TestMailTemplatesReplaceable(t *testing.T) {
	tmpl := auth.MailTemplate{
		Subject: "Bienvenue\r\nBcc: x@example.com",
		Text:    texttemplate.Must(texttemplate.New("").Parse("Lien: {{.PublicURL}}/confirmer/{{.Token}} ({{.ExpiresIn}})")),
	}
	f := newMailFix(t, auth.WithMailTemplate(auth.MailVerifyEmail, tmpl), auth.WithTokenTTL(auth.MailVerifyEmail, 2*time.Hour))
	f.post("/auth/register", `{"username":"tom","password":"password-1","email":"tom@example.com"}`)
	msgs := f.mailer.to("tom@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d mails", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "Bienvenue Bcc: x@example.com" || m.HTML != "" || !strings.HasPrefix(m.Text, "Lien: https://app.example.com/confirmer/ve_") ||
		!strings.HasSuffix(m.Text, "(2 hours)") {
		t.Errorf("custom template: %+v", m)
	}
}

func TestEmailConfig(t *testing.T) {
	mailer := auth.MailerFunc(func(context.Context, auth.Message) error { return nil })
	base := []auth.Option{auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests()}
	for name, c := range map[string]struct {
		store auth.UserStore
		opts  []auth.Option
	}{
		"mailer without public URL": {memstore.New(), []auth.Option{auth.WithMailer(mailer)}},
		"relative public URL":       {memstore.New(), []auth.Option{auth.WithMailer(mailer), auth.WithPublicURL("/app")}},
		"public URL with query":     {memstore.New(), []auth.Option{auth.WithMailer(mailer), auth.WithPublicURL("https://x.example/?a=1")}},
		"magic links without mail":  {memstore.New(), []auth.Option{auth.WithMagicLinks()}},
		"store without emails":      {statelessStore{memstore.New()}, []auth.Option{auth.WithMailer(mailer), auth.WithPublicURL("https://x.example")}},
		"email required, no emails": {statelessStore{memstore.New()}, []auth.Option{auth.WithEmailRequired()}},
		"short TTL":                 {memstore.New(), []auth.Option{auth.WithTokenTTL(auth.MailResetPassword, time.Second)}},
		"TTL of a notice":           {memstore.New(), []auth.Option{auth.WithTokenTTL("email_change_notice", time.Hour)}},
		"empty queue":               {memstore.New(), []auth.Option{auth.WithMailQueue(auth.MailQueue{})}},
		"template without text":     {memstore.New(), []auth.Option{auth.WithMailTemplate(auth.MailResetPassword, auth.MailTemplate{Subject: "x"})}},
	} {
		if _, err := auth.New(c.store, append(base, c.opts...)...); !errors.Is(err, auth.ErrInvalidConfig) {
			t.Errorf("%s: New = %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestEmailWithoutMail(t *testing.T) {
	// No mailer: addresses are kept, the mail endpoints answer 501.
	a, err := auth.New(memstore.New(), auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithEmailRequired())
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler()
	if r := do(h, http.MethodPost, "/auth/register", ctJSON, `{"username":"uma","password":"password-1"}`); r.status != http.StatusUnprocessableEntity {
		t.Errorf("register without the required email: %d", r.status)
	}
	r := do(h, http.MethodPost, "/auth/register", ctJSON, `{"username":"uma","password":"password-1","email":"uma@example.com"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	wantProblem(t, do(h, http.MethodPost, "/auth/register", ctJSON, `{"username":"uma2","password":"password-1","email":"UMA@example.com"}`), 409, "email_taken", "Email address already taken")
	wantProblem(t, do(h, http.MethodPost, "/auth/forgot-password", ctJSON, `{"email":"uma@example.com"}`), 501, "email_unsupported", "")
	wantProblem(t, do(h, http.MethodPost, "/auth/verify", ctJSON, `{"token":"x"}`), 501, "email_unsupported", "")
	// A store without addresses refuses one at registration.
	sa, err := auth.New(statelessStore{memstore.New()}, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sa.RegisterWithEmail(context.Background(), "vic", "password-1", "vic@example.com"); !errors.Is(err, auth.ErrEmailUnsupported) {
		t.Errorf("RegisterWithEmail on a store without emails = %v", err)
	}
	if _, err := sa.Register(context.Background(), "vic", "password-1"); err != nil {
		t.Errorf("Register on a store without emails: %v", err)
	}
}

func TestPruneOneTimeTokens(t *testing.T) {
	f := newMailFix(t)
	f.register(t, "walt", "walt@example.com")
	f.post("/auth/forgot-password", `{"email":"walt@example.com"}`)
	if n, err := f.a.PruneOneTimeTokens(context.Background()); err != nil || n != 0 {
		t.Fatalf("prune with live tokens = %d, %v", n, err)
	}
	f.clock.Advance(25 * time.Hour)
	if n, err := f.a.PruneOneTimeTokens(context.Background()); err != nil || n != 2 {
		t.Fatalf("prune after expiry = %d, %v; want 2", n, err)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestMagicLinkClaimsAnUnverifiedAccount: someone registered first with
// another person's address and a password of their own. When the owner of
// the address signs in with a magic link, the address is proven for the
// first time: the squatter's password, sessions and tokens stop working.
func TestMagicLinkClaimsAnUnverifiedAccount(t *testing.T) {
	f := newMailFix(t, auth.WithMagicLinks())
	f.register(t, "squat", "victim@example.com") // never verified
	squatter := tokensOf(t, loginForm(f.h, "squat", "password-1"))
	f.post("/auth/magic-link", `{"email":"victim@example.com"}`)
	r := f.post("/auth/magic-link/verify", `{"token":"`+f.lastToken(t, "victim@example.com", auth.MailMagicLink)+`"}`)
	if r.status != http.StatusOK {
		t.Fatalf("magic-link verify: %d %s", r.status, r.body)
	}
	victim := tokensOf(t, r)
	if st := do(f.h, http.MethodGet, "/auth/me", "", "", bearer(squatter.AccessToken)...).status; st != http.StatusUnauthorized {
		t.Errorf("the squatter's access token: %d, want 401", st)
	}
	if st := postJSON(f.h, "/auth/refresh", `{"refresh_token":"`+squatter.RefreshToken+`"}`).status; st != http.StatusUnauthorized {
		t.Errorf("the squatter's refresh token: %d, want 401", st)
	}
	if st := loginForm(f.h, "squat", "password-1").status; st != http.StatusUnauthorized {
		t.Errorf("the squatter's password: %d, want 401", st)
	}
	if st := do(f.h, http.MethodGet, "/auth/me", "", "", bearer(victim.AccessToken)...).status; st != http.StatusOK {
		t.Errorf("the owner's session: %d", st)
	}
	// A second magic link, the address being verified now, ends nothing.
	f.post("/auth/magic-link", `{"email":"victim@example.com"}`)
	f.post("/auth/magic-link/verify", `{"token":"`+f.lastToken(t, "victim@example.com", auth.MailMagicLink)+`"}`)
	if st := do(f.h, http.MethodGet, "/auth/me", "", "", bearer(victim.AccessToken)...).status; st != http.StatusOK {
		t.Errorf("the owner's session after a second link: %d", st)
	}
}

// TestChangeEmailToATakenAddressStillNotifies: the old address gets its
// notice whether or not the new one is taken, so that its mailbox learns
// nothing about who is registered.
func TestChangeEmailToATakenAddressStillNotifies(t *testing.T) {
	f := newMailFix(t)
	f.register(t, "ana", "ana@example.com")
	f.register(t, "ben", "ben@example.com")
	p := tokensOf(t, loginForm(f.h, "ana", "password-1"))
	for _, target := range []string{"ben@example.com", "fresh@example.com"} {
		before := len(f.mailer.to("ana@example.com"))
		r := f.post("/auth/change-email", `{"email":"`+target+`","password":"password-1"}`, bearer(p.AccessToken)...)
		if r.status != http.StatusAccepted {
			t.Fatalf("change-email to %s: %d %s", target, r.status, r.body)
		}
		msgs := f.mailer.to("ana@example.com")
		if len(msgs) != before+1 || msgs[len(msgs)-1].Kind != auth.MailEmailChangeNotice {
			t.Errorf("change to %s: %d new mails to the old address, want one notice", target, len(msgs)-before)
		}
	}
}

// TestResetTokenOnceUnderRace: the same reset link sent by several clients
// at once changes the password once; the others are told the link is bad.
func TestResetTokenOnceUnderRace(t *testing.T) {
	f := newMailFix(t)
	f.register(t, "ria", "ria@example.com")
	f.post("/auth/forgot-password", `{"email":"ria@example.com"}`)
	tok := f.lastToken(t, "ria@example.com", auth.MailResetPassword)
	const n = 4
	codes := make(chan int, n)
	for i := range n {
		go func() {
			codes <- f.post("/auth/reset-password", fmt.Sprintf(`{"token":"%s","password":"new-password-%d"}`, tok, i)).status
		}()
	}
	ok := 0
	for range n {
		switch c := <-codes; c {
		case http.StatusNoContent:
			ok++
		case http.StatusBadRequest:
		default:
			t.Errorf("a racing reset answered %d", c)
		}
	}
	if ok != 1 {
		t.Errorf("%d resets succeeded with one link, want 1", ok)
	}
}
