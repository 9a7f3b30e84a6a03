package smtpmail_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/smtpmail"
)

// The end-to-end tests send through a real SMTP server, Mailpit, read the
// mail back through its HTTP API and follow the links. They run when
// GATEHOUSE_TEST_MAILPIT is "SMTP,HTTP", such as
// "127.0.0.1:1026,127.0.0.1:8026" for
//
//	mailpit --smtp 127.0.0.1:1026 --listen 127.0.0.1:8026 --smtp-auth-accept-any --smtp-auth-allow-insecure

// mailpit is a running Mailpit.
type mailpit struct {
	smtp, api string
}

func mailpitOf(t *testing.T) *mailpit {
	t.Helper()
	env := os.Getenv("GATEHOUSE_TEST_MAILPIT")
	if env == "" {
		t.Skip("GATEHOUSE_TEST_MAILPIT is not set")
	}
	smtp, api, ok := strings.Cut(env, ",")
	if !ok {
		t.Fatalf("GATEHOUSE_TEST_MAILPIT=%q, want SMTP,HTTP addresses", env)
	}
	return &mailpit{smtp: smtp, api: "http://" + api}
}

type mpAddress struct{ Address string }

type mpSummary struct {
	ID      string
	To      []mpAddress
	Subject string
}

type mpMessage struct {
	ID      string
	From    mpAddress
	To      []mpAddress
	Subject string
	Text    string
	HTML    string
}

// waitFor returns the newest message to addr whose subject is subject,
// polling Mailpit's search API until it arrives.
func (m *mailpit) waitFor(t *testing.T, addr, subject string) mpMessage {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var list struct{ Messages []mpSummary }
		m.get(t, "/api/v1/search?query="+url.QueryEscape(`to:"`+addr+`"`), &list)
		for _, s := range list.Messages { // newest first
			if s.Subject == subject {
				var msg mpMessage
				m.get(t, "/api/v1/message/"+s.ID, &msg)
				return msg
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no mail %q to %s in Mailpit", subject, addr)
	return mpMessage{}
}

// count returns how many messages to addr Mailpit holds.
func (m *mailpit) count(t *testing.T, addr string) int {
	t.Helper()
	var list struct{ Messages []mpSummary }
	m.get(t, "/api/v1/search?query="+url.QueryEscape(`to:"`+addr+`"`), &list)
	return len(list.Messages)
}

func (m *mailpit) get(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(m.api + path)
	if err != nil {
		t.Fatalf("Mailpit API: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Mailpit API %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

var tokenLink = regexp.MustCompile(`https://app\.example\.com(/[a-z-]+)\?token=([A-Za-z0-9_%-]+)`)

// click returns the path and token of the link in msg, checking that the
// HTML part carries the same link.
func click(t *testing.T, msg mpMessage) (string, string) {
	t.Helper()
	m := tokenLink.FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("no link in %q", msg.Text)
	}
	if !strings.Contains(msg.HTML, m[0]) {
		t.Errorf("the HTML part lacks %s", m[0])
	}
	tok, err := url.QueryUnescape(m[2])
	if err != nil {
		t.Fatal(err)
	}
	return m[1], tok
}

// server is a Gatehouse server that mails through Mailpit.
type server struct {
	url string
	a   *auth.Authenticator
}

func newServer(t *testing.T, mp *mailpit) *server {
	t.Helper()
	m, err := smtpmail.FromURL("smtp://gatehouse:any-pass@"+mp.smtp+"?tls=none", "Gatehouse <no-reply@gatehouse.test>")
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(memstore.New(), auth.WithSecret([]byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-mailpit-e2e")),
		auth.WithInsecureFastHashingForTests(), auth.WithMailer(m), auth.WithPublicURL("https://app.example.com"),
		auth.WithMagicLinks(), auth.WithMailQueue(auth.MailQueue{Size: 100, Workers: 2, Attempts: 3, Backoff: 100 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.StartMail(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return &server{url: srv.URL, a: a}
}

// post sends a JSON body and returns the status and decoded body.
func (s *server) post(t *testing.T, path string, body map[string]string, bearer string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return s.do(t, req)
}

func (s *server) do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (s *server) login(t *testing.T, user, pass string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/auth/login", strings.NewReader(url.Values{"username": {user}, "password": {pass}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(t, req)
}

func (s *server) me(t *testing.T, access string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+"/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	return s.do(t, req)
}

// unique returns an address no earlier run has used.
func unique(t *testing.T, local string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%s@example.test", local, hex.EncodeToString(b[:]))
}

func TestMailpitRegisterAndVerify(t *testing.T) {
	mp := mailpitOf(t)
	s := newServer(t, mp)
	addr := unique(t, "Ada")
	if st, body := s.post(t, "/auth/register", map[string]string{"username": "ada", "password": "password-1", "email": addr}, ""); st != http.StatusCreated {
		t.Fatalf("register: %d %v", st, body)
	}
	msg := mp.waitFor(t, addr, "Confirm your email address")
	if msg.From.Address != "no-reply@gatehouse.test" || len(msg.To) != 1 || msg.To[0].Address != addr {
		t.Errorf("envelope: from %v to %v", msg.From, msg.To)
	}
	path, tok := click(t, msg)
	if path != "/verify-email" {
		t.Errorf("path %q", path)
	}
	st, user := s.post(t, "/auth/verify", map[string]string{"token": tok}, "")
	if st != http.StatusOK || user["email_verified"] != true || user["email"] != addr {
		t.Fatalf("verify: %d %v", st, user)
	}
	if st, _ := s.post(t, "/auth/verify", map[string]string{"token": tok}, ""); st != http.StatusBadRequest {
		t.Errorf("the link clicked twice: %d", st)
	}
	if st, _ := s.login(t, strings.ToUpper(addr), "password-1"); st != http.StatusOK {
		t.Errorf("login by the verified address: %d", st)
	}
}

func TestMailpitForgotAndReset(t *testing.T) {
	mp := mailpitOf(t)
	s := newServer(t, mp)
	addr := unique(t, "bob")
	if _, err := s.a.RegisterWithEmail(context.Background(), "bob", "password-1", addr); err != nil {
		t.Fatal(err)
	}
	_, old := s.login(t, "bob", "password-1")
	oldAccess, _ := old["access_token"].(string)
	oldRefresh, _ := old["refresh_token"].(string)
	if st, _ := s.post(t, "/auth/forgot-password", map[string]string{"email": addr}, ""); st != http.StatusAccepted {
		t.Fatalf("forgot-password: %d", st)
	}
	// An unknown address gets the same answer and no mail.
	nobody := unique(t, "nobody")
	if st, _ := s.post(t, "/auth/forgot-password", map[string]string{"email": nobody}, ""); st != http.StatusAccepted {
		t.Fatalf("forgot-password for nobody: %d", st)
	}
	msg := mp.waitFor(t, addr, "Reset your password")
	path, tok := click(t, msg)
	if path != "/reset-password" {
		t.Errorf("path %q", path)
	}
	if st, _ := s.post(t, "/auth/reset-password", map[string]string{"token": tok, "password": "new-password-2"}, ""); st != http.StatusNoContent {
		t.Fatalf("reset: %d", st)
	}
	if st, _ := s.me(t, oldAccess); st != http.StatusUnauthorized {
		t.Errorf("the old access token after the reset: %d", st)
	}
	if st, _ := s.post(t, "/auth/refresh", map[string]string{"refresh_token": oldRefresh}, ""); st != http.StatusUnauthorized {
		t.Errorf("the old refresh token after the reset: %d", st)
	}
	if st, _ := s.login(t, "bob", "password-1"); st != http.StatusUnauthorized {
		t.Errorf("the old password: %d", st)
	}
	if st, _ := s.login(t, "bob", "new-password-2"); st != http.StatusOK {
		t.Errorf("the new password: %d", st)
	}
	s.a.Shutdown(context.Background()) // every queued job has run
	if n := mp.count(t, nobody); n != 0 {
		t.Errorf("%d mails to an address that is no one's", n)
	}
}

func TestMailpitChangeEmail(t *testing.T) {
	mp := mailpitOf(t)
	s := newServer(t, mp)
	oldAddr, newAddr := unique(t, "cyd"), unique(t, "cyd-new")
	if _, err := s.a.RegisterWithEmail(context.Background(), "cyd", "password-1", oldAddr); err != nil {
		t.Fatal(err)
	}
	_, pair := s.login(t, "cyd", "password-1")
	access, _ := pair["access_token"].(string)
	if st, _ := s.post(t, "/auth/change-email", map[string]string{"email": newAddr, "password": "password-1"}, access); st != http.StatusAccepted {
		t.Fatalf("change-email: %d", st)
	}
	notice := mp.waitFor(t, oldAddr, "Your email address is being changed")
	if !strings.Contains(notice.Text, newAddr) || strings.Contains(notice.Text, "token=") {
		t.Errorf("notice: %q", notice.Text)
	}
	_, tok := click(t, mp.waitFor(t, newAddr, "Confirm your new email address"))
	st, user := s.post(t, "/auth/verify", map[string]string{"token": tok}, "")
	if st != http.StatusOK || user["email"] != newAddr || user["email_verified"] != true {
		t.Fatalf("confirm: %d %v", st, user)
	}
	if _, me := s.me(t, access); me["email"] != newAddr {
		t.Errorf("me after the change: %v", me)
	}
}

func TestMailpitMagicLink(t *testing.T) {
	mp := mailpitOf(t)
	s := newServer(t, mp)
	addr := unique(t, "dee")
	if _, err := s.a.RegisterWithEmail(context.Background(), "dee", "password-1", addr); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.post(t, "/auth/magic-link", map[string]string{"email": addr}, ""); st != http.StatusAccepted {
		t.Fatalf("magic-link: %d", st)
	}
	path, tok := click(t, mp.waitFor(t, addr, "Your sign-in link"))
	if path != "/magic-link" {
		t.Errorf("path %q", path)
	}
	st, pair := s.post(t, "/auth/magic-link/verify", map[string]string{"token": tok}, "")
	if st != http.StatusOK {
		t.Fatalf("magic-link/verify: %d %v", st, pair)
	}
	access, _ := pair["access_token"].(string)
	if st, me := s.me(t, access); st != http.StatusOK || me["username"] != "dee" || me["email_verified"] != true {
		t.Errorf("me: %d %v", st, me)
	}
	if st, _ := s.post(t, "/auth/magic-link/verify", map[string]string{"token": tok}, ""); st != http.StatusBadRequest {
		t.Errorf("the link used twice: %d", st)
	}
}
