package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/auth"
)

// FuzzRedeemToken: whatever text comes as a token, redeeming it answers
// ErrOneTimeTokenInvalid (never a panic, never a success), at every
// redeem endpoint.
func FuzzRedeemToken(f *testing.F) {
	fix := newMailFix(f, auth.WithMagicLinks(), auth.WithTokenRedeemLimit(auth.RateLimit{}))
	for _, s := range []string{"", "ve_", "rp_" + strings.Repeat("A", 43), "ml_" + strings.Repeat("-", 43), "xx_" + strings.Repeat("a", 43), "ce_\x00"} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tok string) {
		if _, err := fix.a.VerifyEmail(ctx, tok); !errors.Is(err, auth.ErrOneTimeTokenInvalid) {
			t.Fatalf("VerifyEmail(%q) = %v", tok, err)
		}
		if err := fix.a.ResetPassword(ctx, tok, "password-9"); !errors.Is(err, auth.ErrOneTimeTokenInvalid) {
			t.Fatalf("ResetPassword(%q) = %v", tok, err)
		}
		if _, err := fix.a.LoginWithMagicLink(ctx, tok); !errors.Is(err, auth.ErrOneTimeTokenInvalid) {
			t.Fatalf("LoginWithMagicLink(%q) = %v", tok, err)
		}
	})
}

func TestOneTimeTokensAreSingleUseUnderConcurrency(t *testing.T) {
	f := newMailFix(t, auth.WithMagicLinks())
	f.register(t, "zack", "zack@example.com")
	f.post("/auth/magic-link", `{"email":"zack@example.com"}`)
	tok := f.lastToken(t, "zack@example.com", auth.MailMagicLink)
	const n = 20
	results := make(chan error, n)
	for range n {
		go func() {
			_, err := f.a.LoginWithMagicLink(context.Background(), tok)
			results <- err
		}()
	}
	ok := 0
	for range n {
		switch err := <-results; {
		case err == nil:
			ok++
		case !errors.Is(err, auth.ErrOneTimeTokenInvalid):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent redemptions succeeded, want 1", ok, n)
	}
}
