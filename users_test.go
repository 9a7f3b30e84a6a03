package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

func TestRegisterCanonicalUsernames(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "Alice", "password-1")
	if u.Username != "alice" || u.ID == "" || u.TokenVersion != 1 || u.Disabled {
		t.Fatalf("registered user = %+v", *u)
	}
	if !u.CreatedAt.Equal(f.clock.Now().Truncate(time.Microsecond)) {
		t.Errorf("CreatedAt = %v, want the injected clock's time", u.CreatedAt)
	}
	for _, spelling := range []string{"alice", "ALICE", "ＡＬＩＣＥ", "ａｌｉｃｅ"} {
		if _, err := f.a.Register(ctx, spelling, "password-2"); !errors.Is(err, auth.ErrUserExists) {
			t.Errorf("Register(%q) = %v, want ErrUserExists", spelling, err)
		}
		if _, err := f.a.Login(ctx, spelling, "password-1"); err != nil {
			t.Errorf("Login(%q) = %v", spelling, err)
		}
		if got, err := f.a.UserByUsername(ctx, spelling); err != nil || got.ID != u.ID {
			t.Errorf("UserByUsername(%q) = %v, %v", spelling, got, err)
		}
	}
	// Byte-exact beyond case and width: accents make a different user.
	f.register(t, "résumé", "password-1")
	f.register(t, "resume", "password-1")
}

func TestRegisterValidation(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, username, password string
		want                     []string // "field:type"
	}{
		{"short username", "ab", "password-1", []string{"username:string_too_short"}},
		{"long username", strings.Repeat("a", 256), "password-1", []string{"username:string_too_long"}},
		{"short password", "bob", "sh0rt!", []string{"password:string_too_short"}},
		{"long password", "bob", strings.Repeat("p", 129), []string{"password:string_too_long"}},
		{"both", "b", "p", []string{"username:string_too_short", "password:string_too_short"}},
		{"space", "bob smith", "password-1", []string{"username:username_invalid"}},
		{"leading space", " bob", "password-1", []string{"username:username_invalid"}},
		{"tab", "bob\tx", "password-1", []string{"username:username_invalid"}},
		{"control", "bob\x07", "password-1", []string{"username:username_invalid"}},
		{"NUL", "bob\x00x", "password-1", []string{"username:username_invalid"}},
		{"bidi override", "bob\u202Egnp.exe", "password-1", []string{"username:username_invalid"}},
		{"zero width joiner", "bo\u200Db", "password-1", []string{"username:username_invalid"}},
		{"invalid UTF-8", "bob\xff\xfe", "password-1", []string{"username:username_invalid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.a.Register(context.Background(), tc.username, tc.password)
			var verr *auth.ValidationError
			if !errors.As(err, &verr) || !errors.Is(err, auth.ErrValidation) {
				t.Fatalf("Register = %v, want a ValidationError", err)
			}
			var got []string
			for _, p := range verr.Problems {
				got = append(got, p.Loc[1]+":"+p.Type)
				if p.Loc[0] != "body" || p.Msg == "" {
					t.Errorf("problem %+v lacks loc or msg", p)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("problems = %v, want %v", got, tc.want)
			}
			if strings.Contains(err.Error(), tc.password) && len(tc.password) > 1 {
				t.Errorf("error text contains the password: %v", err)
			}
		})
	}
	// Limits are counted in characters, not bytes.
	f.register(t, strings.Repeat("é", 255), strings.Repeat("ü", 128))
	f.register(t, "日本語", "pässwörd")
}

func TestChangePasswordInvalidatesTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "gus", "old-password")
	old := f.login(t, "gus", "old-password")
	if err := f.a.ChangePassword(ctx, u, "wrong-password", "new-password"); !errors.Is(err, auth.ErrIncorrectPassword) {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := f.a.ChangePassword(ctx, u, "old-password", "old-password"); !errors.Is(err, auth.ErrSamePassword) {
		t.Fatalf("same password: %v", err)
	}
	if err := f.a.ChangePassword(ctx, u, "old-password", "short"); !errors.Is(err, auth.ErrValidation) {
		t.Fatalf("short new password: %v", err)
	}
	if err := f.a.ChangePassword(ctx, u, "old-password", "new-password"); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if u.TokenVersion != 2 {
		t.Errorf("TokenVersion after change = %d, want 2", u.TokenVersion)
	}
	if _, err := f.a.VerifyAccessToken(ctx, old.AccessToken); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Errorf("old access token: %v, want ErrTokenInvalidated", err)
	}
	if _, err := f.a.Refresh(ctx, old.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Errorf("old refresh token: %v, want ErrTokenInvalidated", err)
	}
	if _, err := f.a.Login(ctx, "gus", "old-password"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("old password still works: %v", err)
	}
	// The clock has not moved: a token issued in the same second works.
	fresh := f.login(t, "gus", "new-password")
	if _, err := f.a.VerifyAccessToken(ctx, fresh.AccessToken); err != nil {
		t.Errorf("token issued right after the change: %v", err)
	}
	if _, err := f.a.Refresh(ctx, fresh.RefreshToken); err != nil {
		t.Errorf("refresh token issued right after the change: %v", err)
	}
}

func TestChangePasswordRetriesAfterConcurrentRehash(t *testing.T) {
	f := newFixture(t)
	fs, a := f.withFlakyStore(t)
	ctx := context.Background()
	u, err := a.Register(ctx, "hal", "old-password")
	if err != nil {
		t.Fatal(err)
	}
	// Another instance rewrites the hash (same password) between our read
	// and our write; ChangePassword must re-verify and succeed.
	other := newFixture(t)
	rehashed, _ := other.a.Register(ctx, "tmp", "old-password")
	fs.beforeUpdate = func() {
		cur, _ := f.store.UserByID(ctx, u.ID)
		next := *cur
		next.PasswordHash = rehashed.PasswordHash
		if err := f.store.UpdateUser(ctx, &next, cur.PasswordHash, cur.TokenVersion); err != nil {
			t.Error(err)
		}
	}
	if err := a.ChangePassword(ctx, u, "old-password", "new-password"); err != nil {
		t.Fatalf("ChangePassword after a concurrent rehash: %v", err)
	}
	if _, err := a.Login(ctx, "hal", "new-password"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestSetDisabledRevokesTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "ivy", "password-1")
	pair := f.login(t, "ivy", "password-1")
	if err := f.a.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := f.a.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatalf("disabling twice: %v", err)
	}
	stored, _ := f.store.UserByID(ctx, u.ID)
	if !stored.Disabled || stored.TokenVersion != 2 {
		t.Fatalf("after disabling twice: %+v, want disabled with version 2", *stored)
	}
	if _, err := f.a.VerifyAccessToken(ctx, pair.AccessToken); err == nil {
		t.Error("a disabled user's access token still works")
	}
	if _, err := f.a.Refresh(ctx, pair.RefreshToken); !errors.Is(err, auth.ErrUserInactive) || !errors.Is(err, auth.ErrUserDisabled) {
		t.Errorf("refresh for a disabled user: %v", err)
	}
	if err := f.a.SetDisabled(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	// Re-enabling does not resurrect the revoked tokens.
	if _, err := f.a.VerifyAccessToken(ctx, pair.AccessToken); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Errorf("token from before disabling, after re-enabling: %v", err)
	}
	f.login(t, "ivy", "password-1")
	if err := f.a.SetDisabled(ctx, "no-such-id", true); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("SetDisabled(missing) = %v", err)
	}
}

func TestDeletedUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "jay", "password-1")
	pair := f.login(t, "jay", "password-1")
	if err := f.store.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.VerifyAccessToken(ctx, pair.AccessToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("deleted user's access token: %v", err)
	}
	if _, err := f.a.Refresh(ctx, pair.RefreshToken); !errors.Is(err, auth.ErrUserInactive) {
		t.Errorf("deleted user's refresh token: %v", err)
	}
}
