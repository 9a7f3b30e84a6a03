package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// mailpitAddrs returns the SMTP and HTTP addresses of the Mailpit named by
// GATEHOUSE_TEST_MAILPIT ("127.0.0.1:1026,127.0.0.1:8026"), or skips.
func mailpitAddrs(t *testing.T) (smtp, api string) {
	t.Helper()
	env := os.Getenv("GATEHOUSE_TEST_MAILPIT")
	smtp, api, ok := strings.Cut(env, ",")
	if !ok {
		t.Skip("GATEHOUSE_TEST_MAILPIT is not set (SMTP,HTTP addresses of a Mailpit)")
	}
	return smtp, "http://" + api
}

// mailLink polls Mailpit for the newest mail to addr with subject and
// returns the link in its text.
func mailLink(t *testing.T, api, addr, subject string) string {
	t.Helper()
	link := regexp.MustCompile(`http://127\.0\.0\.1:\d+/[a-z-]+\?token=\S+`)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var list struct {
			Messages []struct{ ID, Subject string }
		}
		getJSON(t, api+"/api/v1/search?query="+url.QueryEscape(`to:"`+addr+`"`), &list)
		for _, m := range list.Messages {
			if m.Subject != subject {
				continue
			}
			var msg struct{ Text string }
			getJSON(t, api+"/api/v1/message/"+m.ID, &msg)
			if l := link.FindString(msg.Text); l != "" {
				return l
			}
			t.Fatalf("no link in %q", msg.Text)
		}
	}
	t.Fatalf("no mail %q to %s", subject, addr)
	return ""
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestDemoPageEmail registers with an address, verifies it from the link
// in the mail, then resets a forgotten password from its link, in a real
// browser, with the mail sent through Mailpit.
func TestDemoPageEmail(t *testing.T) {
	smtp, api := mailpitAddrs(t)
	ctx := browser(t)
	base := startServer(t, "-smtp", "smtp://"+smtp+"?tls=none", "-mail-from", "Demo <demo@gatehouse.test>")
	var b [4]byte
	_, _ = rand.Read(b[:])
	addr := "demo-" + hex.EncodeToString(b[:]) + "@example.test"
	var out string
	steps := []struct {
		name    string
		actions func() chromedp.Tasks
	}{
		{"open the page", func() chromedp.Tasks {
			return chromedp.Tasks{chromedp.Navigate(base + "/"), chromedp.WaitVisible("#register-email", chromedp.ByID)}
		}},
		{"register with an address", func() chromedp.Tasks {
			return chromedp.Tasks{fill("#username", "mail-user"), fill("#password", "password-123"), fill("#email", addr),
				chromedp.Click("#register-email", chromedp.ByID), waitOut("register: 201")}
		}},
		{"open the verification link", func() chromedp.Tasks {
			return chromedp.Tasks{chromedp.Navigate(mailLink(t, api, addr, "Confirm your email address")),
				waitOut("verify: 200"), chromedp.Text("#out", &out, chromedp.ByID)}
		}},
		{"forgot password", func() chromedp.Tasks {
			return chromedp.Tasks{chromedp.Navigate(base + "/"), chromedp.WaitVisible("#forgot", chromedp.ByID),
				fill("#email", addr), chromedp.Click("#forgot", chromedp.ByID), waitOut("forgot-password: 202")}
		}},
		{"open the reset link and choose a new password", func() chromedp.Tasks {
			return chromedp.Tasks{chromedp.Navigate(mailLink(t, api, addr, "Reset your password")),
				waitOut("reset-password: link opened"), fill("#reset-new", "password-789"),
				chromedp.Click("#reset", chromedp.ByID), waitOut("reset-password: 204")}
		}},
		{"the old password is refused", func() chromedp.Tasks {
			return chromedp.Tasks{fill("#username", "mail-user"), fill("#password", "password-123"),
				chromedp.Click("#login", chromedp.ByID), waitOut("login: 401")}
		}},
		{"log in by the verified address and the new password", func() chromedp.Tasks {
			return chromedp.Tasks{fill("#username", strings.ToUpper(addr)), fill("#password", "password-789"),
				chromedp.Click("#login", chromedp.ByID), waitOut("login: 200"),
				chromedp.Click("#whoami", chromedp.ByID), waitOut("me: 200")}
		}},
	}
	for _, s := range steps {
		if err := chromedp.Run(ctx, s.actions()); err != nil {
			var page string
			_ = chromedp.Run(ctx, chromedp.Text("#out", &page, chromedp.ByID))
			t.Fatalf("%s: %v\npage output: %s", s.name, err, page)
		}
		if s.name == "open the verification link" && !strings.Contains(out, `"email_verified": true`) {
			t.Fatalf("verification showed %q", out)
		}
	}
}
