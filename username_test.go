package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/auth"
)

func TestCanonicalUsernameEdgeCases(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Greek final sigma: one account however it is typed.
	u := f.register(t, "Σίσυφος", "password-1")
	if _, err := f.a.Register(ctx, "ΣΊΣΥΦΟΣ", "password-2"); !errors.Is(err, auth.ErrUserExists) {
		t.Fatalf("Register(ΣΊΣΥΦΟΣ) = %v, want ErrUserExists", err)
	}
	if got, err := f.a.Authenticate(ctx, "σίσυφοσ", "password-1"); err != nil || got.ID != u.ID {
		t.Fatalf("Authenticate with a plain sigma: %v", err)
	}
	for _, name := range []string{"Alice", "Σίσυφος", "ＡＢＣ", "e\u0301te"} {
		c, err := auth.CanonicalUsername(name)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := auth.CanonicalUsername(c); again != c {
			t.Errorf("CanonicalUsername is not idempotent on %q: %q then %q", name, c, again)
		}
	}
	// The limits apply to the stored form: U+FB2C decomposes into three
	// characters under NFC, so 255 of them would store 765.
	_, err := f.a.Register(ctx, strings.Repeat("\uFB2C", 255), "password-1")
	var verr *auth.ValidationError
	if !errors.As(err, &verr) || verr.Problems[0].Type != "string_too_long" {
		t.Fatalf("a name that grows past 255 characters: %v", err)
	}
	// And 200 composed characters typed as 400 code points are 200 characters.
	f.register(t, strings.Repeat("e\u0301", 200), "password-1")
	if _, err := f.a.Register(ctx, strings.Repeat("a", 5000), "password-1"); !errors.As(err, &verr) {
		t.Fatalf("an oversized name: %v", err)
	}
}
