package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// malleate returns the other spellings of tok whose last base64url
// character decodes to the same bytes under a lenient decoder: a signature
// of 32 bytes leaves 2 bits of its last character unused.
func malleate(tok string) []string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.LastIndexByte(tok, '.')
	want, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	var out []string
	for _, c := range alphabet {
		m := tok[:len(tok)-1] + string(c)
		if got, err := base64.RawURLEncoding.DecodeString(m[i+1:]); m != tok && err == nil && string(got) == string(want) {
			out = append(out, m)
		}
	}
	return out
}

// TestStateTokenNotMalleable: a state token has one spelling; another
// spelling of its signature is refused, so it cannot be spent twice under
// two names or told apart from the one that was issued.
func TestStateTokenNotMalleable(t *testing.T) {
	f := newFixture(t)
	tok, err := f.a.IssueState("p", []byte("x"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	others := malleate(tok)
	if len(others) != 3 {
		t.Fatalf("%d other spellings of %q", len(others), tok)
	}
	for _, m := range others {
		if _, err := f.a.RedeemState(context.Background(), "p", m); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("RedeemState(%q) = %v, want ErrInvalidToken", m, err)
		}
	}
	if b, err := f.a.RedeemState(context.Background(), "p", tok); err != nil || string(b) != "x" {
		t.Errorf("RedeemState(issued) = %q, %v", b, err)
	}
}

// FuzzRedeemState redeems arbitrary state tokens, and tokens just issued
// with an arbitrary edit: no panic; a payload only for the token as it was
// issued, for its purpose; otherwise only the documented errors, which
// answer 401. Nothing a fuzzer can write is a token this Authenticator
// issued (each has a new random ID), so an arbitrary one never redeems.
func FuzzRedeemState(f *testing.F) {
	fx := newFixture(f)
	ctx := context.Background()
	const purpose = "passkey login"
	f.Add("s1.e30.AAAA", purpose, uint16(0), "", uint8(0))
	f.Add("s1..", purpose, uint16(200), "A", uint8(0))
	f.Add("", "", uint16(3), "..", uint8(1))
	f.Add("x", purpose+"x", uint16(0), "", uint8(0))
	f.Fuzz(func(t *testing.T, raw, p string, at uint16, insert string, cut uint8) {
		check := func(token string, want bool) {
			payload, err := fx.a.RedeemState(ctx, p, token)
			switch {
			case err == nil && !want:
				t.Fatalf("RedeemState(%q, %q) accepted a token it did not issue: %q", p, token, payload)
			case err == nil:
				if string(payload) != "payload" {
					t.Fatalf("payload %q", payload)
				}
			case want:
				t.Fatalf("RedeemState(%q, %q) refused the token it issued: %v", p, token, err)
			case payload != nil:
				t.Fatalf("a payload with error %v", err)
			case !errors.Is(err, auth.ErrInvalidToken) && !errors.Is(err, auth.ErrTokenInvalidated):
				t.Fatalf("RedeemState(%q, %q): undocumented error %v", p, token, err)
			}
			if err != nil {
				rec := httptest.NewRecorder()
				auth.WriteError(rec, nil, err)
				if rec.Code != 401 {
					t.Fatalf("error %v answers %d", err, rec.Code)
				}
			}
		}
		check(raw, false)
		tok, err := fx.a.IssueState(purpose, []byte("payload"), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		i := int(at) % (len(tok) + 1)
		j := min(len(tok), i+int(cut))
		edited := tok[:i] + insert + tok[j:]
		check(edited, edited == tok && p == purpose)
	})
}
