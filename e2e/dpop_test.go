package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// awaitPromise makes Evaluate wait for the promise the expression returns.
func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }

// TestDemoPageDPoP: the page logs in bound to its WebCrypto key, calls a
// protected route and refreshes with proofs; its key cannot be exported,
// and its access token, copied out of the page, is refused without it.
func TestDemoPageDPoP(t *testing.T) {
	ctx := browser(t)
	base := startServer(t)
	var out, token, exported, tokenType string
	steps := []struct {
		name    string
		actions chromedp.Tasks
	}{
		{"open the page", chromedp.Tasks{chromedp.Navigate(base + "/"), chromedp.WaitVisible("#register", chromedp.ByID)}},
		{"register", chromedp.Tasks{fill("#username", "dpop-user"), fill("#password", "password-123"),
			chromedp.Click("#register", chromedp.ByID), waitOut("register: 201")}},
		{"log in bound", chromedp.Tasks{chromedp.Click("#login", chromedp.ByID), waitOut("login: 200"),
			chromedp.Text("#out", &out, chromedp.ByID), chromedp.Evaluate(`tokenType`, &tokenType)}},
		{"call a protected route", chromedp.Tasks{chromedp.Click("#whoami", chromedp.ByID), waitOut("me: 200")}},
		{"refresh with a proof", chromedp.Tasks{chromedp.Evaluate(`accessToken = null; document.getElementById("out").textContent = ""; "dropped"`, nil),
			chromedp.Click("#whoami", chromedp.ByID), waitOut("me: 200"), chromedp.Evaluate(`accessToken`, &token)}},
		{"the key cannot be exported", chromedp.Tasks{chromedp.Evaluate(
			`dpopKey().then(k => crypto.subtle.exportKey("jwk", k.privateKey)).then(() => "exported", e => e.name)`, &exported, awaitPromise)}},
		{"a reload keeps the key: refresh from the cookie still works", chromedp.Tasks{
			chromedp.Reload(), chromedp.WaitVisible("#whoami", chromedp.ByID),
			chromedp.Click("#whoami", chromedp.ByID), waitOut("me: 200")}},
	}
	for _, s := range steps {
		if err := chromedp.Run(ctx, s.actions); err != nil {
			var page string
			_ = chromedp.Run(ctx, chromedp.Text("#out", &page, chromedp.ByID))
			t.Fatalf("%s: %v\npage output: %s", s.name, err, page)
		}
	}
	if tokenType != "DPoP" || !strings.Contains(out, `"token_type": "DPoP"`) {
		t.Fatalf("login was not bound: token type %q, page %q", tokenType, out)
	}
	if exported != "InvalidAccessError" {
		t.Errorf("exporting the private key gave %q, want InvalidAccessError", exported)
	}
	if token == "" {
		t.Fatal("no access token in the page")
	}
	// The token copied out of the page, replayed without the key.
	for _, scheme := range []string{"DPoP", "Bearer"} {
		req, _ := http.NewRequest(http.MethodGet, base+"/app/auth/me", nil)
		req.Header.Set("Authorization", scheme+" "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "DPoP ") {
			t.Errorf("copied token as %s: %d %q, want 401 with a DPoP challenge", scheme, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
	}
}
