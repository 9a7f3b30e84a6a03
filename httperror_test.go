package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse/auth"
)

func TestStoreUnavailable(t *testing.T) {
	f := newFixture(t)
	fs := &flakyStore{UserStore: f.store}
	a, _ := auth.New(fs, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests())
	ctx := context.Background()
	u, _ := a.Register(ctx, "max", "password-1")
	pair, _ := a.Login(ctx, "max", "password-1")
	fs.setErr(errDown)
	if _, err := a.Register(ctx, "ned", "password-1"); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("Register: %v", err)
	}
	if _, err := a.Login(ctx, "max", "password-1"); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("Login: %v", err)
	}
	if _, err := a.VerifyAccessToken(ctx, pair.AccessToken); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("VerifyAccessToken: %v", err)
	}
	if _, err := a.Refresh(ctx, pair.RefreshToken); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("Refresh: %v", err)
	}
	if err := a.ChangePassword(ctx, u, "password-1", "password-2"); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("ChangePassword: %v", err)
	}
	fs.setErr(nil)
	if _, err := a.Login(ctx, "max", "password-1"); err != nil {
		t.Errorf("nothing was lost: %v", err)
	}
}
