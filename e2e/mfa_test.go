package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// virtualAuthenticator gives the page a platform authenticator through
// DevTools (CTAP2, internal, resident keys, user verification that
// succeeds), so that navigator.credentials works without a person.
func virtualAuthenticator(id *webauthn.AuthenticatorID) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		if err := webauthn.Enable().Do(ctx); err != nil {
			return err
		}
		var err error
		*id, err = webauthn.AddVirtualAuthenticator(&webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		}).Do(ctx)
		return err
	})
}

// outJSON reads the JSON body that the page shows under its status line.
func outJSON(out string, v any) error {
	_, body, _ := strings.Cut(out, "\n")
	return json.Unmarshal([]byte(body), v)
}

// TestDemoPageMFA registers a passkey and logs in with it (alone, and as
// the second factor after the password), enrolls TOTP with codes computed
// from the secret, and logs in with a TOTP code and with a recovery code,
// in a real browser.
func TestDemoPageMFA(t *testing.T) {
	ctx := browser(t)
	// WebAuthn wants a secure context and an RP ID: localhost, not an IP.
	base := strings.Replace(startServer(t), "127.0.0.1", "localhost", 1)
	var authID webauthn.AuthenticatorID
	var out, me string
	var creds []*webauthn.Credential
	var enrollment struct {
		Secret string `json:"secret"`
	}
	var recovery struct {
		Codes []string `json:"recovery_codes"`
	}
	click := func(id, want string) chromedp.Tasks {
		return chromedp.Tasks{chromedp.Click("#"+id, chromedp.ByID), waitOut(want)}
	}
	code := func(at func() time.Time) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			c, err := totp.GenerateCode(enrollment.Secret, at())
			if err != nil {
				return err
			}
			return fill("#totp-code", c).Do(ctx)
		})
	}
	steps := []struct {
		name    string
		actions chromedp.Tasks
	}{
		{"open the page", chromedp.Tasks{chromedp.Navigate(base + "/"), chromedp.WaitVisible("#passkey-register", chromedp.ByID),
			virtualAuthenticator(&authID)}},
		{"register and log in", chromedp.Tasks{fill("#username", "mfa-user"), fill("#password", "password-123"),
			click("register", "register: 201"), click("login", "login: 200")}},
		{"register a passkey", chromedp.Tasks{click("passkey-register", "passkey-register: 201"),
			chromedp.ActionFunc(func(ctx context.Context) (err error) {
				creds, err = webauthn.GetCredentials(authID).Do(ctx)
				return err
			})}},
		{"log out", click("logout", "logout: 204")},
		{"log in with the passkey alone", chromedp.Tasks{fill("#username", ""), click("passkey-login", "passkey-login: 200"),
			click("whoami", "me: 200"), chromedp.Text("#out", &me, chromedp.ByID)}},
		{"the password alone is not enough now", chromedp.Tasks{fill("#username", "mfa-user"), click("login", "login: 403")}},
		{"the passkey as the second factor", chromedp.Tasks{click("passkey-login", "passkey-login: 200"), click("whoami", "me: 200")}},
		{"enroll TOTP", chromedp.Tasks{click("totp-enroll", "totp: 200"), chromedp.Text("#out", &out, chromedp.ByID),
			chromedp.ActionFunc(func(context.Context) error { return outJSON(out, &enrollment) })}},
		{"confirm TOTP", chromedp.Tasks{code(time.Now), click("totp-confirm", "totp-confirm: 200"),
			chromedp.Text("#out", &out, chromedp.ByID),
			chromedp.ActionFunc(func(context.Context) error { return outJSON(out, &recovery) })}},
		{"log in with a TOTP code", chromedp.Tasks{click("logout", "logout: 204"), click("login", "login: 403"),
			fill("#totp-code", "000000"), click("mfa-verify", "mfa-verify: 401"),
			// The confirming code's time step is used: the next one is within the allowed skew.
			code(func() time.Time { return time.Now().Add(30 * time.Second) }), click("mfa-verify", "mfa-verify: 200"),
			click("whoami", "me: 200")}},
		{"log in with a recovery code", chromedp.Tasks{click("logout", "logout: 204"), click("login", "login: 403"),
			chromedp.ActionFunc(func(ctx context.Context) error { return fill("#totp-code", recovery.Codes[0]).Do(ctx) }),
			click("mfa-verify", "mfa-verify: 200"), click("whoami", "me: 200")}},
		{"a recovery code works once", chromedp.Tasks{click("logout", "logout: 204"), click("login", "login: 403"),
			click("mfa-verify", "mfa-verify: 401")}},
	}
	for _, s := range steps {
		if err := chromedp.Run(ctx, s.actions); err != nil {
			var page string
			_ = chromedp.Run(ctx, chromedp.Text("#out", &page, chromedp.ByID))
			t.Fatalf("%s: %v\npage output: %s", s.name, err, page)
		}
		switch s.name {
		case "register a passkey":
			if len(creds) != 1 || !creds[0].IsResidentCredential {
				t.Fatalf("the virtual authenticator holds %d credentials: %+v", len(creds), creds)
			}
		case "log in with the passkey alone":
			if !strings.Contains(me, `"username": "mfa-user"`) {
				t.Fatalf("who am I after the passkey login: %q", me)
			}
		case "enroll TOTP":
			if enrollment.Secret == "" {
				t.Fatalf("no secret in %q", out)
			}
		case "confirm TOTP":
			if len(recovery.Codes) != 10 {
				t.Fatalf("recovery codes: %q", out)
			}
		}
	}
}
