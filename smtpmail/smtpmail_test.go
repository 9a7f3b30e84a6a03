package smtpmail_test

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/smtpmail"
)

func TestFromURL(t *testing.T) {
	for _, ok := range []string{
		"smtp://user:p%40ss@smtp.example.com:587",
		"smtps://user:pass@smtp.example.com",
		"smtp://127.0.0.1:1025?tls=none",
		"smtp://smtp.example.com",
	} {
		if _, err := smtpmail.FromURL(ok, "Example <no-reply@example.com>"); err != nil {
			t.Errorf("FromURL(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{
		"http://smtp.example.com", "smtp://", "smtps://h?tls=none", "smtp://h?tls=maybe", "smtp://h:notaport", "smtp://h:70000", "::",
	} {
		if _, err := smtpmail.FromURL(bad, "no-reply@example.com"); !errors.Is(err, smtpmail.ErrConfig) {
			t.Errorf("FromURL(%q) = %v, want ErrConfig", bad, err)
		}
	}
	for _, from := range []string{"", "not an address", "a@b\r\nBcc: c@d"} {
		if _, err := smtpmail.FromURL("smtp://h", from); !errors.Is(err, smtpmail.ErrConfig) {
			t.Errorf("sender %q: %v, want ErrConfig", from, err)
		}
	}
}

// TestSendFailsCleanly: a server that is not there, and a recipient with a
// line break, are errors that name no password.
func TestSendFailsCleanly(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	m, err := smtpmail.FromURL("smtp://user:secret-pass@"+addr+"?tls=none", "no-reply@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = m.Send(ctx, auth.Message{To: "a@example.com", Subject: "s", Text: "t"})
	if err == nil || containsSecret(err) {
		t.Errorf("Send to a closed port = %v", err)
	}
	if err := m.Send(ctx, auth.Message{To: "a@example.com\r\nBcc: b@example.com", Subject: "s", Text: "t"}); err == nil {
		t.Error("a recipient with a line break was accepted")
	}
}

func containsSecret(err error) bool {
	return err != nil && strings.Contains(err.Error(), "secret-pass")
}

// TestRootDoesNotImportGoMail: an application that imports only the root
// package does not build go-mail in.
func TestRootDoesNotImportGoMail(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/gatehouse/auth").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "github.com/wneessen/go-mail") {
		t.Error("package auth depends on go-mail")
	}
}
