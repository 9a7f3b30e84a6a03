package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/testutil"
)

// FuzzMFAVerify posts arbitrary mfa_token and code values to
// /auth/mfa/verify, around a real token and a right code: no panic, no
// 5xx, only the statuses the OpenAPI document lists, JSON answers, and a
// token pair only for a token that was issued with a code that is right.
func FuzzMFAVerify(f *testing.F) {
	fx := newFixture(f, auth.WithMFALimits(auth.RateLimit{Burst: 1 << 20, Every: time.Nanosecond}, auth.RateLimit{Burst: 1 << 20, Every: time.Nanosecond}))
	ctx := context.Background()
	u := fx.register(f, "fuzzer", "password-1")
	e, err := fx.a.EnrollTOTP(ctx, u, "password-1")
	if err != nil {
		f.Fatal(err)
	}
	recovery, err := fx.a.ConfirmTOTP(ctx, u, codeAt(f, e.Secret, fx.clock.Now()))
	if err != nil {
		f.Fatal(err)
	}
	fx.clock.Advance(30 * time.Second) // the confirming code's step is used
	_, err = fx.a.Login(ctx, "fuzzer", "password-1")
	mfa, ok := err.(*auth.MFARequiredError)
	if !ok {
		f.Fatalf("password login: %v", err)
	}
	// The clock stands still: this is the one right TOTP code.
	right := codeAt(f, e.Secret, fx.clock.Now())
	h := fx.a.Handler()
	documented := testutil.DocumentedStatuses(f, auth.OpenAPI(), http.MethodPost, "/auth/mfa/verify")

	f.Add(mfa.Token, right)
	f.Add(mfa.Token, recovery[0])
	f.Add(mfa.Token, "000000")
	f.Add(mfa.Token+"x", right)
	f.Add(mfa.Token[:len(mfa.Token)-3], "")
	f.Add("m1.e30.AAAA", "123456")
	f.Add("", "\x00")
	f.Fuzz(func(t *testing.T, token, code string) {
		body, _ := json.Marshal(map[string]string{"mfa_token": token, "code": code})
		r := serve(h, postJ("/auth/mfa/verify", string(body)).request())
		if !documented[r.status] || r.status >= 500 {
			t.Fatalf("status %d (documented: %v) for %s: %s", r.status, documented, body, r.body)
		}
		if r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("Content-Type %q", r.header.Get("Content-Type"))
		}
		if r.status == http.StatusOK && (token != mfa.Token || code != right && !slices.Contains(recovery, code)) {
			t.Fatalf("tokens for %s", body)
		}
	})
}

// TestMFATokenNotMalleable: another spelling of an mfa_token's signature
// is refused, even with the right code.
func TestMFATokenNotMalleable(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	m := enrollTOTP(t, f, h, "moe")
	tok := mfaToken(t, h, "moe")
	others := malleate(tok) // plugin_test.go
	if len(others) != 3 {
		t.Fatalf("%d other spellings of %q", len(others), tok)
	}
	for _, o := range others {
		r := postJSON(h, "/auth/mfa/verify", `{"mfa_token":"`+o+`","code":"`+m.codes[0]+`"}`)
		if r.status != http.StatusUnauthorized {
			t.Errorf("another spelling: %d %s", r.status, r.body)
		}
	}
	r := postJSON(h, "/auth/mfa/verify", `{"mfa_token":"`+tok+`","code":"`+m.codes[0]+`"}`)
	if r.status != http.StatusOK {
		t.Errorf("the token as issued: %d %s", r.status, r.body)
	}
}
