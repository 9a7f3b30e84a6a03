package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/golang-jwt/jwt/v5"
)

// FuzzCacheAgreesWithGolangJWT is the differential test of the middleware's
// fast path. For any token, an Authenticator with its caches answers
// exactly as one without them, on first sight and when the token is seen
// again; and whatever Gatehouse accepts, plain golang-jwt parsing with the
// same key accepts too, so the cache never lets through a token that the
// verifier of record would refuse.
func FuzzCacheAgreesWithGolangJWT(f *testing.F) {
	store := memstore.New()
	clock := newClock()
	mk := func(opts ...auth.Option) *auth.Authenticator {
		a, err := auth.New(store, append([]auth.Option{auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(),
			auth.WithClock(clock.Now), auth.WithAccessTTL(time.Minute)}, opts...)...)
		if err != nil {
			f.Fatal(err)
		}
		return a
	}
	cached, plain := mk(), mk(auth.WithTokenCacheSize(0), auth.WithUserCacheTTL(0))
	ctx := context.Background()
	u, err := cached.Register(ctx, "differential", "password-1")
	if err != nil {
		f.Fatal(err)
	}
	p, err := cached.Login(ctx, "differential", "password-1")
	if err != nil {
		f.Fatal(err)
	}
	now := clock.Now()
	f.Add(p.AccessToken, int64(0))
	f.Add(p.AccessToken, int64(61))
	f.Add(p.RefreshToken, int64(0))
	f.Add(forge(f, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{
		"sub": u.ID, "type": "access", "ver": 1, "jti": "j", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}), int64(30))
	f.Add(forge(f, jwt.SigningMethodHS512, testSecret, jwt.MapClaims{
		"sub": u.ID, "type": "access", "ver": 1, "jti": "j", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}), int64(0))
	f.Add("e30.e30.", int64(0))
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithStrictDecoding(), jwt.WithLeeway(5*time.Second), jwt.WithTimeFunc(clock.Now))
	f.Fuzz(func(t *testing.T, token string, advance int64) {
		// The shared clock moves only forward, by at most two minutes.
		clock.Advance(time.Duration(advance%121) * time.Second)
		outcome := func(a *auth.Authenticator) string {
			_, err := a.VerifyAccessToken(ctx, token)
			switch {
			case err == nil:
				return "ok"
			case errors.Is(err, auth.ErrTokenExpired):
				return "expired"
			case errors.Is(err, auth.ErrTokenInvalidated):
				return "invalidated"
			case errors.Is(err, auth.ErrInvalidToken):
				return "invalid"
			default:
				return err.Error()
			}
		}
		first, again, reference := outcome(cached), outcome(cached), outcome(plain)
		if first != reference || again != reference {
			t.Fatalf("cached answers %s then %s, uncached %s, for %q", first, again, reference, token)
		}
		if reference == "ok" {
			if _, err := parser.Parse(token, func(*jwt.Token) (any, error) { return testSecret, nil }); err != nil {
				t.Fatalf("accepted a token golang-jwt refuses (%v): %q", err, token)
			}
		}
	})
}
