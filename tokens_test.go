package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
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
		"other secret":        forge(t, jwt.SigningMethodHS256, []byte("a-different-hs256-secret-0b7e4d9c21fa"), valid()),
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
		// Payloads that read two ways: keys are matched ignoring case by
		// encoding/json, so these could change who, how long and what.
		"SUB next to sub":    forge(t, jwt.SigningMethodHS256, testSecret, with("SUB", "someone-else")),
		"Exp next to exp":    forge(t, jwt.SigningMethodHS256, testSecret, with("Exp", now.Add(24*time.Hour).Unix())),
		"Type next to type":  forge(t, jwt.SigningMethodHS256, testSecret, with("Type", "refresh")),
		"quoted numeric exp": forge(t, jwt.SigningMethodHS256, testSecret, with("exp", fmt.Sprint(now.Add(time.Minute).Unix()))),
		"quoted numeric iat": forge(t, jwt.SigningMethodHS256, testSecret, with("iat", fmt.Sprint(now.Unix()))),
		"unknown kid":        forgeKID(t, jwt.SigningMethodHS256, testSecret, "other", valid()),
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

func TestTokensAndRefresh(t *testing.T) {
	f := newFixture(t, auth.WithAccessTTL(10*time.Minute), auth.WithRefreshTTL(time.Hour))
	ctx := context.Background()
	u := f.register(t, "erin", "password-1")
	pair := f.login(t, "erin", "password-1")
	if pair.TokenType != "bearer" || pair.ExpiresIn != 600 || pair.AccessToken == "" || pair.RefreshToken == "" {
		t.Fatalf("pair = %+v", pair)
	}
	got, err := f.a.VerifyAccessToken(ctx, pair.AccessToken)
	if err != nil || got.ID != u.ID {
		t.Fatalf("VerifyAccessToken = %v, %v", got, err)
	}
	// The kinds are kept apart.
	if _, err := f.a.VerifyAccessToken(ctx, pair.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("refresh token used as access token: %v", err)
	}
	if _, err := f.a.Refresh(ctx, pair.AccessToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("access token used as refresh token: %v", err)
	}
	// Access expires first; refresh still works.
	f.clock.Advance(11 * time.Minute)
	if _, err := f.a.VerifyAccessToken(ctx, pair.AccessToken); !errors.Is(err, auth.ErrTokenExpired) || !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("expired access token: %v, want ErrInvalidToken and ErrTokenExpired", err)
	}
	next, err := f.a.Refresh(ctx, pair.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if _, err := f.a.VerifyAccessToken(ctx, next.AccessToken); err != nil {
		t.Errorf("refreshed access token: %v", err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.a.Refresh(ctx, pair.RefreshToken); !errors.Is(err, auth.ErrTokenExpired) {
		t.Errorf("expired refresh token: %v", err)
	}
}

func TestLeeway(t *testing.T) {
	f := newFixture(t, auth.WithAccessTTL(time.Minute), auth.WithLeeway(10*time.Second))
	f.register(t, "fay", "password-1")
	pair := f.login(t, "fay", "password-1")
	f.clock.Advance(time.Minute + 5*time.Second)
	if _, err := f.a.VerifyAccessToken(context.Background(), pair.AccessToken); err != nil {
		t.Errorf("token 5 s past exp with 10 s leeway: %v", err)
	}
	f.clock.Advance(10 * time.Second)
	if _, err := f.a.VerifyAccessToken(context.Background(), pair.AccessToken); !errors.Is(err, auth.ErrTokenExpired) {
		t.Errorf("token 15 s past exp with 10 s leeway: %v", err)
	}
}

// twoInstances returns two Authenticators sharing one store and one clock,
// as two processes behind a load balancer would.
func twoInstances(t *testing.T, opts ...auth.Option) (a1, a2 *auth.Authenticator, clock *fakeClock) {
	t.Helper()
	store := memstore.New()
	clock = newClock()
	mk := func() *auth.Authenticator {
		a, err := auth.New(store, append([]auth.Option{auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	return mk(), mk(), clock
}

func TestRevocationAcrossInstances(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		revoke func(a *auth.Authenticator, u *auth.User) error
	}{
		{"disable", func(a *auth.Authenticator, u *auth.User) error { return a.SetDisabled(ctx, u.ID, true) }},
		{"password change", func(a *auth.Authenticator, u *auth.User) error {
			return a.ChangePassword(ctx, u, "password-1", "password-2")
		}},
		{"logout-all", func(a *auth.Authenticator, u *auth.User) error { return a.LogoutAll(ctx, u.ID) }},
		{"delete", func(a *auth.Authenticator, u *auth.User) error { return a.DeleteUser(ctx, u.ID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a1, a2, clock := twoInstances(t, auth.WithUserCacheTTL(3*time.Second))
			u, err := a1.Register(ctx, "ruth", "password-1")
			if err != nil {
				t.Fatal(err)
			}
			p, _ := a1.Login(ctx, "ruth", "password-1")
			// Both instances have seen the token and cached the user.
			for _, a := range []*auth.Authenticator{a1, a2} {
				if _, err := a.VerifyAccessToken(ctx, p.AccessToken); err != nil {
					t.Fatal(err)
				}
			}
			if err := tc.revoke(a1, u); err != nil {
				t.Fatal(err)
			}
			if _, err := a1.VerifyAccessToken(ctx, p.AccessToken); err == nil {
				t.Fatal("the instance that revoked still accepts the token")
			}
			// The other instance may trust its cache for at most the TTL.
			clock.Advance(2 * time.Second)
			if _, err := a2.VerifyAccessToken(ctx, p.AccessToken); err != nil {
				t.Fatalf("within the staleness bound the other instance rejected early: %v (allowed, but the cache is not working)", err)
			}
			clock.Advance(1 * time.Second)
			if _, err := a2.VerifyAccessToken(ctx, p.AccessToken); err == nil {
				t.Fatal("the other instance still accepts the token after the staleness bound")
			}
		})
	}
}

func TestUserCacheTTLZeroAlwaysAsksTheStore(t *testing.T) {
	ctx := context.Background()
	a1, a2, _ := twoInstances(t, auth.WithUserCacheTTL(0))
	u, _ := a1.Register(ctx, "sara", "password-1")
	p, _ := a1.Login(ctx, "sara", "password-1")
	if _, err := a2.VerifyAccessToken(ctx, p.AccessToken); err != nil {
		t.Fatal(err)
	}
	if err := a1.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := a2.VerifyAccessToken(ctx, p.AccessToken); err == nil {
		t.Fatal("with no user cache the other instance still accepts the token")
	}
}

func TestCachedTokenStillExpires(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{0, 10000} {
		f := newFixture(t, auth.WithTokenCacheSize(size), auth.WithAccessTTL(time.Minute), auth.WithLeeway(0))
		f.register(t, "tom", "password-1")
		p := f.login(t, "tom", "password-1")
		if _, err := f.a.VerifyAccessToken(ctx, p.AccessToken); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		if _, err := f.a.VerifyAccessToken(ctx, p.AccessToken); !errors.Is(err, auth.ErrTokenExpired) {
			t.Fatalf("cache size %d: expired token: %v", size, err)
		}
	}
}

func TestStoreDownWithFreshCache(t *testing.T) {
	ctx := context.Background()
	fs := &flakyStore{UserStore: memstore.New()}
	clock := newClock()
	a, _ := auth.New(fs, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now))
	_, _ = a.Register(ctx, "uma", "password-1")
	p, _ := a.Login(ctx, "uma", "password-1")
	if _, err := a.VerifyAccessToken(ctx, p.AccessToken); err != nil {
		t.Fatal(err)
	}
	fs.setErr(errDown)
	if _, err := a.VerifyAccessToken(ctx, p.AccessToken); err != nil {
		t.Fatalf("fresh cached user while the store is down: %v", err)
	}
	clock.Advance(3 * time.Second)
	if _, err := a.VerifyAccessToken(ctx, p.AccessToken); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("stale cache while the store is down: %v, want ErrUnavailable (fail closed)", err)
	}
}

// A token issued by one instance right after it changed the user must work
// at once on the others, whose cache still holds the user's older state.
func TestFreshTokenAcceptedOnOtherInstance(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(a *auth.Authenticator, u *auth.User) error
	}{
		{"password change", func(a *auth.Authenticator, u *auth.User) error {
			return a.ChangePassword(ctx, u, "password-1", "password-2")
		}},
		{"logout-all", func(a *auth.Authenticator, u *auth.User) error { return a.LogoutAll(ctx, u.ID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a1, a2, _ := twoInstances(t, auth.WithUserCacheTTL(10*time.Second))
			u, _ := a1.Register(ctx, "walt", "password-1")
			old, _ := a1.Login(ctx, "walt", "password-1")
			if _, err := a2.VerifyAccessToken(ctx, old.AccessToken); err != nil { // a2 caches version 1
				t.Fatal(err)
			}
			if err := tc.change(a1, u); err != nil {
				t.Fatal(err)
			}
			password := "password-1"
			if tc.name == "password change" {
				password = "password-2"
			}
			fresh, err := a1.Login(ctx, "walt", password)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a2.VerifyAccessToken(ctx, fresh.AccessToken); err != nil {
				t.Fatalf("the other instance refused a token issued after the change: %v", err)
			}
			// Having looked, it now refuses the old one at once.
			if _, err := a2.VerifyAccessToken(ctx, old.AccessToken); !errors.Is(err, auth.ErrTokenInvalidated) {
				t.Fatalf("old token on the other instance: %v", err)
			}
		})
	}
}

// A user deleted on another instance, while this one still trusts its cache,
// gets 401 from the endpoints that read the user again: never a 500.
func TestDeletedElsewhereIsNotA500(t *testing.T) {
	ctx := context.Background()
	a1, a2, _ := twoInstances(t)
	u, _ := a1.Register(ctx, "xena", "password-1")
	p, _ := a1.Login(ctx, "xena", "password-1")
	h := a1.Handler()
	if r := do(h, http.MethodGet, "/auth/me", "", "", bearer(p.AccessToken)...); r.status != http.StatusOK {
		t.Fatal(r.status)
	}
	if err := a2.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range []response{
		do(h, http.MethodGet, "/auth/sessions", "", "", bearer(p.AccessToken)...),
		do(h, http.MethodPost, "/auth/logout-all", "", "", bearer(p.AccessToken)...),
		do(h, http.MethodDelete, "/auth/sessions/x", "", "", bearer(p.AccessToken)...),
		postJSON(h, "/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`, bearer(p.AccessToken)...),
	} {
		wantError(t, r, http.StatusUnauthorized, "Could not validate credentials", "invalid_token")
	}
}

// TestLoginRefreshesTheUserCache: a user disabled through this instance and
// re-enabled through another can use the tokens of a fresh login here at
// once, not only after the user-cache TTL.
func TestLoginRefreshesTheUserCache(t *testing.T) {
	a1, a2, _ := twoInstances(t, auth.WithUserCacheTTL(time.Minute))
	ctx := context.Background()
	u, err := a1.Register(ctx, "rene", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := a1.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := a2.SetDisabled(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	p, err := a1.Login(ctx, "rene", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a1.VerifyAccessToken(ctx, p.AccessToken); err != nil {
		t.Fatalf("fresh login's token refused on the instance that issued it: %v", err)
	}
}
