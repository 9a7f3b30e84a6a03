package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/golang-jwt/jwt/v5"
)

// forge signs arbitrary claims, to build the tokens an attacker would send.
// They carry the key ID of testSecret, as the tokens that WithSecret issues
// do, so that each case fails for the reason it names.
func forge(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	return forgeKID(t, method, key, auth.HS256Key("", testSecret).KID(), claims)
}

// forgeKID is forge with the given "kid" header, or none when kid is "".
func forgeKID(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyRejectsForgedTokens(t *testing.T) {
	f := newFixture(t, auth.WithIssuer("https://gatehouse.test"), auth.WithAudience("api"))
	ctx := context.Background()
	u := f.register(t, "nora", "password-1")
	now := f.clock.Now()
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{
			"sub": u.ID, "type": "access", "ver": u.TokenVersion, "jti": "j1",
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
			"iss": "https://gatehouse.test", "aud": "api",
		}
	}
	with := func(k string, v any) jwt.MapClaims {
		c := valid()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	// The baseline forged with the right key is accepted: the cases below
	// fail for the reason they name, not for a mistake in the baseline.
	if _, err := f.a.VerifyAccessToken(ctx, forge(t, jwt.SigningMethodHS256, testSecret, valid())); err != nil {
		t.Fatalf("baseline token rejected: %v", err)
	}
	good := forge(t, jwt.SigningMethodHS256, testSecret, valid())
	parts := strings.Split(good, ".")
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + auth.HS256Key("", testSecret).KID() + `","typ":"JWT"}`))
	cases := map[string]string{
		"garbage":             "not-a-token",
		"empty":               "",
		"two parts":           parts[0] + "." + parts[1],
		"alg none":            noneHeader + "." + parts[1] + ".",
		"alg none signed":     forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid()),
		"HS384 same secret":   forge(t, jwt.SigningMethodHS384, testSecret, valid()),
		"HS512 same secret":   forge(t, jwt.SigningMethodHS512, testSecret, valid()),
		"other secret":        forge(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-another"), valid()),
		"tampered payload":    parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"`+u.ID+`","type":"access","ver":1,"jti":"x","exp":9999999999}`)) + "." + parts[2],
		"bad signature":       parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"expired":             forge(t, jwt.SigningMethodHS256, testSecret, with("exp", now.Add(-time.Minute).Unix())),
		"missing exp":         forge(t, jwt.SigningMethodHS256, testSecret, with("exp", nil)),
		"string exp":          forge(t, jwt.SigningMethodHS256, testSecret, with("exp", "tomorrow")),
		"iat far in future":   forge(t, jwt.SigningMethodHS256, testSecret, with("iat", now.Add(time.Hour).Unix())),
		"nbf in future":       forge(t, jwt.SigningMethodHS256, testSecret, with("nbf", now.Add(time.Hour).Unix())),
		"refresh type":        forge(t, jwt.SigningMethodHS256, testSecret, with("type", "refresh")),
		"no type":             forge(t, jwt.SigningMethodHS256, testSecret, with("type", nil)),
		"no sub":              forge(t, jwt.SigningMethodHS256, testSecret, with("sub", nil)),
		"unknown sub":         forge(t, jwt.SigningMethodHS256, testSecret, with("sub", "someone-else")),
		"no jti":              forge(t, jwt.SigningMethodHS256, testSecret, with("jti", nil)),
		"no version":          forge(t, jwt.SigningMethodHS256, testSecret, with("ver", nil)),
		"string version":      forge(t, jwt.SigningMethodHS256, testSecret, with("ver", "1")),
		"wrong issuer":        forge(t, jwt.SigningMethodHS256, testSecret, with("iss", "https://evil.test")),
		"no issuer":           forge(t, jwt.SigningMethodHS256, testSecret, with("iss", nil)),
		"wrong audience":      forge(t, jwt.SigningMethodHS256, testSecret, with("aud", "other")),
		"no audience":         forge(t, jwt.SigningMethodHS256, testSecret, with("aud", nil)),
		"too long":            forge(t, jwt.SigningMethodHS256, testSecret, with("pad", strings.Repeat("x", 5000))),
		"whitespace appended": good + " ",
		"no kid":              forgeKID(t, jwt.SigningMethodHS256, testSecret, "", valid()),
		"unknown kid":         forgeKID(t, jwt.SigningMethodHS256, testSecret, "other", valid()),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := f.a.VerifyAccessToken(ctx, tok)
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("VerifyAccessToken = %v, want ErrInvalidToken", err)
			}
		})
	}
	// A stale version is reported as invalidated, not as forged.
	if _, err := f.a.VerifyAccessToken(ctx, forge(t, jwt.SigningMethodHS256, testSecret, with("ver", 0))); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Errorf("stale version: %v, want ErrTokenInvalidated", err)
	}
}

func TestIssuedTokenClaims(t *testing.T) {
	f := newFixture(t, auth.WithIssuer("iss-x"), auth.WithAudience("aud-y"))
	u := f.register(t, "olive", "password-1")
	pair := f.login(t, "olive", "password-1")
	pair2 := f.login(t, "olive", "password-1")
	for _, tok := range []string{pair.AccessToken, pair.RefreshToken} {
		c := jwt.MapClaims{}
		parsed, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(f.clock.Now)).ParseWithClaims(tok, c, func(*jwt.Token) (any, error) { return testSecret, nil })
		if err != nil {
			t.Fatal(err)
		}
		if parsed.Header["alg"] != "HS256" || c["sub"] != u.ID || c["iss"] != "iss-x" || c["jti"] == "" || c["exp"] == nil || c["iat"] == nil || c["ver"] != float64(1) {
			t.Errorf("claims = %v, header = %v", c, parsed.Header)
		}
		aud, _ := c.GetAudience()
		if len(aud) != 1 || aud[0] != "aud-y" {
			t.Errorf("aud = %v", aud)
		}
		if _, ok := c["username"]; ok {
			t.Error("token carries the username")
		}
	}
	if pair.AccessToken == pair2.AccessToken || pair.RefreshToken == pair2.RefreshToken {
		t.Error("two logins in the same second produced the same token: jti is not unique")
	}
}

func TestTokensBoundToSecret(t *testing.T) {
	store := memstore.New()
	a1, _ := auth.New(store, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests())
	a2, _ := auth.New(store, auth.WithSecret([]byte("a-completely-different-secret-of-32-bytes")), auth.WithInsecureFastHashingForTests())
	ctx := context.Background()
	if _, err := a1.Register(ctx, "pat", "password-1"); err != nil {
		t.Fatal(err)
	}
	pair, _ := a1.Login(ctx, "pat", "password-1")
	if _, err := a2.VerifyAccessToken(ctx, pair.AccessToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("token verified under another secret: %v", err)
	}
}

func FuzzVerifyAccessToken(f *testing.F) {
	fx := newFixture(f)
	u := fx.register(f, "quinn", "password-1")
	pair := fx.login(f, "quinn", "password-1")
	f.Add(pair.AccessToken)
	f.Add(pair.RefreshToken)
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		got, err := fx.a.VerifyAccessToken(context.Background(), tok)
		if err == nil {
			// Only the token we issued may pass: anything else would be a forgery.
			if tok != pair.AccessToken || got.ID != u.ID {
				t.Fatalf("accepted a token that was never issued: %q", tok)
			}
			return
		}
		if !errors.Is(err, auth.ErrInvalidToken) && !errors.Is(err, auth.ErrTokenInvalidated) {
			t.Fatalf("unexpected error class: %v", err)
		}
	})
}
