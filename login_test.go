package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "carol", "correct horse")
	got, err := f.a.Authenticate(ctx, "Carol", "correct horse")
	if err != nil || got.ID != u.ID {
		t.Fatalf("Authenticate = %v, %v", got, err)
	}
	for _, c := range []struct{ name, pw string }{
		{"carol", "wrong horse"},
		{"carol", "Correct horse"},
		{"carol", "correct horse "},
		{"nobody", "correct horse"},
		{"bad name", "correct horse"},
		{"carol", ""},
	} {
		if _, err := f.a.Authenticate(ctx, c.name, c.pw); !errors.Is(err, auth.ErrInvalidCredentials) || errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("Authenticate(%q, %q) = %v, want only ErrInvalidCredentials", c.name, c.pw, err)
		}
	}
	if err := f.a.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5 * time.Minute) // carol's failed-login budget refills
	if _, err := f.a.Authenticate(ctx, "carol", "wrong horse"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("disabled user, wrong password: %v, want ErrInvalidCredentials", err)
	}
	if _, err := f.a.Authenticate(ctx, "carol", "correct horse"); !errors.Is(err, auth.ErrUserDisabled) {
		t.Errorf("disabled user, right password: %v, want ErrUserDisabled", err)
	}
}

func TestUnusableStoredHash(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := &auth.User{Username: "dave", PasswordHash: "$2b$12$notargon", TokenVersion: 1}
	if err := f.store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(ctx, "dave", "anything"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("Authenticate with an unusable hash = %v, want ErrInvalidCredentials", err)
	}
}

func TestRehashOnLogin(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	clock := newClock()
	// A user whose hash was made with other (cheap) parameters, as after a
	// change of WithPasswordParams.
	old, err := auth.New(store, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	u, err := old.Register(ctx, "kim", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	params := auth.PasswordParams{Memory: 7168, Time: 5, Threads: 1, SaltLength: 16, KeyLength: 32}
	cur, err := auth.New(store, auth.WithSecret(testSecret), auth.WithPasswordParams(params), auth.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	pair, err := cur.Login(ctx, "kim", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := store.UserByID(ctx, u.ID)
	if !strings.HasPrefix(after.PasswordHash, "$argon2id$v=19$m=7168,t=5,p=1$") {
		t.Fatalf("hash after login = %q, want the current parameters", after.PasswordHash)
	}
	if after.TokenVersion != u.TokenVersion {
		t.Errorf("rehash changed the token version")
	}
	if _, err := cur.VerifyAccessToken(ctx, pair.AccessToken); err != nil {
		t.Errorf("token from the rehashing login: %v", err)
	}
	// A second login finds nothing to rewrite.
	if _, err := cur.Login(ctx, "kim", "password-1"); err != nil {
		t.Fatal(err)
	}
	again, _ := store.UserByID(ctx, u.ID)
	if again.PasswordHash != after.PasswordHash {
		t.Error("second login rewrote the hash again")
	}
}

func TestRehashNeverUndoesConcurrentPasswordChange(t *testing.T) {
	ctx := context.Background()
	base := memstore.New()
	fs := &flakyStore{UserStore: base}
	old, _ := auth.New(base, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests())
	u, err := old.Register(ctx, "lou", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	params := auth.PasswordParams{Memory: 7168, Time: 5, Threads: 1, SaltLength: 16, KeyLength: 32}
	cur, _ := auth.New(fs, auth.WithSecret(testSecret), auth.WithPasswordParams(params))
	// Between the rehashing login's read and its write, the password changes.
	fs.beforeUpdate = func() {
		snap, _ := base.UserByID(ctx, u.ID)
		if err := old.ChangePassword(ctx, snap, "password-1", "password-2"); err != nil {
			t.Error(err)
		}
	}
	if _, err := cur.Login(ctx, "lou", "password-1"); err != nil {
		t.Fatalf("login racing a password change: %v", err)
	}
	if _, err := old.Authenticate(ctx, "lou", "password-2"); err != nil {
		t.Fatalf("the concurrent password change was undone: %v", err)
	}
	if _, err := old.Authenticate(ctx, "lou", "password-1"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("old password works again: %v", err)
	}
}
