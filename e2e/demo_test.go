package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromium = "/usr/bin/chromium"

// startServer builds and starts the example server on a loopback port with
// users in memory, and more flags if given, and returns its base URL.
func startServer(t *testing.T, flags ...string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "server")
	build := exec.Command("go", "build", "-o", bin, "./examples/server")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the example server: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-db", "memory"}, flags...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`msg=listening addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("the example server did not start")
		return ""
	}
}

func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("%s not found: install Debian's chromium package to run the browser test", chromium)
	}
	// Not t.TempDir: Chromium may still write its profile while it exits.
	profile, err := os.MkdirTemp("", "gatehouse-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it
		cancelTimeout()
		cancel()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	})
	return ctx
}

// waitOut waits until the page's output starts with prefix.
func waitOut(prefix string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`document.getElementById("out").textContent.startsWith(%q)`, prefix), nil,
		chromedp.WithPollingTimeout(15*time.Second))
}

func fill(sel, value string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).value = ""`, sel), nil),
		chromedp.SendKeys(sel, value, chromedp.ByQuery),
	}
}

// TestDemoPage registers, logs in, asks who it is, survives a reload on the
// refresh cookie alone, changes the password and logs out, in a real
// browser.
func TestDemoPage(t *testing.T) {
	ctx := browser(t)
	base := startServer(t)
	var out, cookies string
	steps := []struct {
		name    string
		actions chromedp.Tasks
	}{
		{"open the page", chromedp.Tasks{chromedp.Navigate(base + "/"), chromedp.WaitVisible("#register", chromedp.ByID)}},
		{"register", chromedp.Tasks{fill("#username", "Browser-User"), fill("#password", "password-123"),
			chromedp.Click("#register", chromedp.ByID), waitOut("register: 201")}},
		{"log in", chromedp.Tasks{chromedp.Click("#login", chromedp.ByID), waitOut("login: 200")}},
		{"who am I", chromedp.Tasks{chromedp.Click("#whoami", chromedp.ByID), waitOut("me: 200"),
			chromedp.Text("#out", &out, chromedp.ByID)}},
		{"the refresh cookie is invisible to scripts", chromedp.Tasks{chromedp.Evaluate(`document.cookie`, &cookies)}},
		{"reload drops the access token; the cookie brings a new one", chromedp.Tasks{
			chromedp.Reload(), chromedp.WaitVisible("#whoami", chromedp.ByID),
			chromedp.Click("#whoami", chromedp.ByID), waitOut("me: 200")}},
		{"change password", chromedp.Tasks{fill("#current", "password-123"), fill("#new", "password-456"),
			chromedp.Click("#change", chromedp.ByID), waitOut("change-password: 204")}},
		{"the old session is over", chromedp.Tasks{chromedp.Click("#whoami", chromedp.ByID), waitOut("me: 401")}},
		{"log in with the new password", chromedp.Tasks{fill("#username", "browser-user"), fill("#password", "password-456"),
			chromedp.Click("#login", chromedp.ByID), waitOut("login: 200")}},
		{"log out", chromedp.Tasks{chromedp.Click("#logout", chromedp.ByID), waitOut("logout: 204"),
			chromedp.Click("#whoami", chromedp.ByID), waitOut("me: 401")}},
	}
	for _, s := range steps {
		if err := chromedp.Run(ctx, s.actions); err != nil {
			var page, fields string
			_ = chromedp.Run(ctx, chromedp.Text("#out", &page, chromedp.ByID),
				chromedp.Evaluate(`["username","password","current","new"].map(id => id + "=" + document.getElementById(id).value).join(" ")`, &fields))
			t.Fatalf("%s: %v\npage output: %s\nfields: %s", s.name, err, page, fields)
		}
		switch s.name {
		case "who am I":
			if !strings.Contains(out, `"username": "browser-user"`) {
				t.Fatalf("who am I showed %q", out)
			}
		case "the refresh cookie is invisible to scripts":
			if strings.Contains(cookies, "gatehouse_refresh") {
				t.Fatalf("document.cookie exposes the refresh cookie: %q", cookies)
			}
		}
	}
}
