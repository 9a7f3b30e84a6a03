package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// TestEveryTokenRejectionIsErrInvalidToken: one table of every way a token
// is refused. Each matches ErrInvalidToken and its own sentinel, and its
// text is one line.
func TestEveryTokenRejectionIsErrInvalidToken(t *testing.T) {
	f := newFixture(t)
	f.register(t, "erin", "password-1")
	ctx := context.Background()

	expired := f.login(t, "erin", "password-1")
	f.clock.Advance(31 * time.Minute)

	pair := f.login(t, "erin", "password-1")
	invalidated := f.login(t, "erin", "password-1")
	u, _ := f.a.UserByUsername(ctx, "erin")
	if err := f.a.LogoutAll(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	reused := f.login(t, "erin", "password-1")
	if _, err := f.a.Refresh(ctx, reused.RefreshToken); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute) // past the grace window
	_, reuseErr := f.a.Refresh(ctx, reused.RefreshToken)

	// The middleware's error for a request without a token.
	var noToken error
	mw, err := auth.New(f.store, auth.WithSecret(testSecret), auth.WithClock(f.clock.Now),
		auth.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) { noToken = err; auth.WriteError(w, r, err) }))
	if err != nil {
		t.Fatal(err)
	}
	serve(mw.Middleware(http.NotFoundHandler()), httptest.NewRequest(http.MethodGet, "/", nil))

	verify := func(tok string) error { _, err := f.a.VerifyAccessToken(ctx, tok); return err }
	refresh := func(tok string) error { _, err := f.a.Refresh(ctx, tok); return err }
	for _, tc := range []struct {
		name    string
		err     error
		precise error
	}{
		{"empty", verify(""), auth.ErrInvalidToken},
		{"no Authorization header", noToken, auth.ErrNoToken},
		{"malformed", verify("not.a.token"), auth.ErrInvalidToken},
		{"expired", verify(expired.AccessToken), auth.ErrTokenExpired},
		{"refresh token as access token", verify(pair.RefreshToken), auth.ErrInvalidToken},
		{"access token as refresh token", refresh(pair.AccessToken), auth.ErrInvalidToken},
		{"invalidated by logout-all", verify(invalidated.AccessToken), auth.ErrTokenInvalidated},
		{"refresh after logout-all", refresh(invalidated.RefreshToken), auth.ErrTokenInvalidated},
		{"reused refresh token", reuseErr, auth.ErrTokenReused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, auth.ErrInvalidToken) {
				t.Errorf("%v does not match ErrInvalidToken", tc.err)
			}
			if !errors.Is(tc.err, tc.precise) {
				t.Errorf("%v does not match %v", tc.err, tc.precise)
			}
			if strings.Contains(tc.err.Error(), "\n") {
				t.Errorf("error text is not one line: %q", tc.err.Error())
			}
		})
	}
	if !errors.Is(reuseErr, auth.ErrTokenInvalidated) {
		t.Errorf("reuse %v does not match ErrTokenInvalidated", reuseErr)
	}
	// A disabled user is not a token problem.
	f.register(t, "dan", "password-1")
	dp := f.login(t, "dan", "password-1")
	d, _ := f.a.UserByUsername(ctx, "dan")
	if err := f.a.SetDisabled(ctx, d.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Refresh(ctx, dp.RefreshToken); strings.Contains(err.Error(), "\n") {
		t.Errorf("Refresh error is not one line: %q", err)
	}
}

func TestThrottledErrorRoundsItsDuration(t *testing.T) {
	err := &auth.ThrottledError{RetryAfter: 59266660872 * time.Nanosecond}
	if got, want := err.Error(), "auth: too many failed login attempts; retry after 59s"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if got := (&auth.ThrottledError{RetryAfter: time.Millisecond}).Error(); !strings.HasSuffix(got, "retry after 1s") {
		t.Fatalf("Error() = %q, want at least 1s", got)
	}
}
