package auth_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

func TestNewRejectsUnsafeConfig(t *testing.T) {
	weak := auth.DefaultPasswordParams()
	weak.Memory = 4096
	shortSalt := auth.DefaultPasswordParams()
	shortSalt.SaltLength = 8
	huge := auth.DefaultPasswordParams()
	huge.Memory = 4 << 20
	tests := []struct {
		name string
		opts []auth.Option
		want error
	}{
		{"no secret", nil, auth.ErrWeakSecret},
		{"short secret", []auth.Option{auth.WithSecret([]byte("too-short-secret"))}, auth.ErrWeakSecret},
		{"origin placeholder", []auth.Option{auth.WithSecret([]byte("change-me-in-production-please-use-a-secure-secret-key"))}, auth.ErrWeakSecret},
		{"repeated byte", []auth.Option{auth.WithSecret([]byte(strings.Repeat("a", 40)))}, auth.ErrWeakSecret},
		{"leeway over a minute", []auth.Option{auth.WithSecret(testSecret), auth.WithLeeway(2 * time.Minute)}, nil},
		{"negative leeway", []auth.Option{auth.WithSecret(testSecret), auth.WithLeeway(-time.Second)}, nil},
		{"zero access TTL", []auth.Option{auth.WithSecret(testSecret), auth.WithAccessTTL(0)}, nil},
		{"negative refresh TTL", []auth.Option{auth.WithSecret(testSecret), auth.WithRefreshTTL(-time.Hour)}, nil},
		{"memory below OWASP", []auth.Option{auth.WithSecret(testSecret), auth.WithPasswordParams(weak)}, nil},
		{"m=64MiB t=1 is fine but m=19MiB t=1 is not", []auth.Option{auth.WithSecret(testSecret), auth.WithPasswordParams(auth.PasswordParams{Memory: 19456, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32})}, nil},
		{"short salt", []auth.Option{auth.WithSecret(testSecret), auth.WithPasswordParams(shortSalt)}, nil},
		{"memory over cap", []auth.Option{auth.WithSecret(testSecret), auth.WithPasswordParams(huge)}, nil},
		{"nil clock", []auth.Option{auth.WithSecret(testSecret), auth.WithClock(nil)}, nil},
		{"nil logger", []auth.Option{auth.WithSecret(testSecret), auth.WithLogger(nil)}, nil},
		{"no hashing slots", []auth.Option{auth.WithSecret(testSecret), auth.WithHashConcurrency(0)}, nil},
		{"negative hash wait", []auth.Option{auth.WithSecret(testSecret), auth.WithHashWait(-time.Second)}, nil},
		{"login limit without interval", []auth.Option{auth.WithSecret(testSecret), auth.WithLoginLimits(auth.RateLimit{Burst: 5}, auth.RateLimit{})}, nil},
		{"negative address burst", []auth.Option{auth.WithSecret(testSecret), auth.WithLoginLimits(auth.RateLimit{}, auth.RateLimit{Burst: -1, Every: time.Second})}, nil},
		{"trusted proxy without prefixes", []auth.Option{auth.WithSecret(testSecret), auth.WithTrustedProxy("X-Forwarded-For")}, nil},
		{"trusted proxy without header", []auth.Option{auth.WithSecret(testSecret), auth.WithTrustedProxy("", netip.MustParsePrefix("10.0.0.0/8"))}, nil},
		{"trusted proxy with a bad header name", []auth.Option{auth.WithSecret(testSecret), auth.WithTrustedProxy("X Real IP", netip.MustParsePrefix("10.0.0.0/8"))}, nil},
		{"trusted proxy with an invalid prefix", []auth.Option{auth.WithSecret(testSecret), auth.WithTrustedProxy("X-Real-IP", netip.Prefix{})}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := auth.New(memstore.New(), tc.opts...)
			if err == nil || a != nil {
				t.Fatalf("New succeeded, want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("New error = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := auth.New(nil, auth.WithSecret(testSecret)); err == nil {
		t.Error("New(nil store) succeeded")
	}
	// The OWASP minimum itself is accepted, and so are the defaults.
	ok := auth.PasswordParams{Memory: 19456, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32}
	oneTime := auth.PasswordParams{Memory: 47104, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}
	for _, p := range []auth.PasswordParams{ok, auth.DefaultPasswordParams(), oneTime} {
		if _, err := auth.New(memstore.New(), auth.WithSecret(testSecret), auth.WithPasswordParams(p)); err != nil {
			t.Errorf("New with %+v: %v", p, err)
		}
	}
}

func TestDefaultPasswordParams(t *testing.T) {
	want := auth.PasswordParams{Memory: 65536, Time: 3, Threads: 4, SaltLength: 16, KeyLength: 32}
	if got := auth.DefaultPasswordParams(); got != want {
		t.Fatalf("DefaultPasswordParams() = %+v, want %+v", got, want)
	}
}

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

func TestInsecureHashingIsCheap(t *testing.T) {
	f := newFixture(t)
	u := f.register(t, "olga", "password-1")
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash = %q", u.PasswordHash)
	}
	// WithPasswordParams after it restores the full check.
	weak := auth.PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}
	if _, err := auth.New(memstore.New(), auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithPasswordParams(weak)); err == nil {
		t.Error("weak WithPasswordParams accepted after WithInsecureFastHashingForTests")
	}
}

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
