package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// runEmail checks the [auth.EmailStore] and [auth.OneTimeTokenStore]
// abilities (issue 13).
func runEmail(t *testing.T, newStore func(t *testing.T) auth.UserStore) {
	t.Helper()
	s := newStore(t)
	if _, ok := s.(auth.EmailStore); !ok {
		t.Skip("the store does not implement auth.EmailStore")
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s auth.UserStore)
	}{
		{"CreateWithEmail", testCreateWithEmail},
		{"DuplicateEmail", testDuplicateEmail},
		{"ConcurrentCreateSameEmail", testConcurrentCreateSameEmail},
		{"SetUserEmail", testSetUserEmail},
		{"ConcurrentSetSameEmail", testConcurrentSetSameEmail},
		{"UpdateKeepsEmail", testUpdateKeepsEmail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
	t.Run("OneTimeTokens", func(t *testing.T) {
		if _, ok := newStore(t).(auth.OneTimeTokenStore); !ok {
			t.Skip("the store does not implement auth.OneTimeTokenStore")
		}
		for _, tc := range []struct {
			name string
			fn   func(t *testing.T, s auth.UserStore, ts auth.OneTimeTokenStore)
		}{
			{"SaveAndRead", testTokenSaveAndRead},
			{"NewerReplacesOlder", testTokenReplaces},
			{"ConsumeOnce", testTokenConsumeOnce},
			{"ConcurrentConsume", testTokenConcurrentConsume},
			{"ConcurrentSave", testTokenConcurrentSave},
			{"Delete", testTokenDelete},
			{"Prune", testTokenPrune},
			{"DeleteUserDeletesTokens", testTokenDeleteUser},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				tc.fn(t, s, s.(auth.OneTimeTokenStore))
			})
		}
	})
}

// concurrentOutcomes runs call n times at once and returns how many
// succeeded; every failure must match want.
func concurrentOutcomes(t *testing.T, n int, want error, call func(i int) error) int {
	t.Helper()
	var ok atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := call(i); {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, want):
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	return int(ok.Load())
}

func emailUser(name, email string) *auth.User {
	u := newUser(name)
	u.Email = email
	return u
}

func testCreateWithEmail(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	es := s.(auth.EmailStore)
	u := emailUser("emma", "Emma.Smith@Example.COM")
	u.EmailVerified, u.EmailVerifiedAt = true, when.Add(time.Second)
	mustCreate(t, s, u)
	mustCreate(t, s, newUser("noemail1"))
	mustCreate(t, s, newUser("noemail2")) // any number of users have no address
	for _, lookup := range []func() (*auth.User, error){
		func() (*auth.User, error) { return s.UserByID(ctx, u.ID) },
		func() (*auth.User, error) { return es.UserByEmail(ctx, "emma.smith@example.com") },
	} {
		got, err := lookup()
		if err != nil {
			t.Fatal(err)
		}
		equalUser(t, "user with email", got, u)
		if got.Email != u.Email || !got.EmailVerified || !got.EmailVerifiedAt.Equal(u.EmailVerifiedAt) {
			t.Errorf("email fields: %q %v %v, want %q true %v", got.Email, got.EmailVerified, got.EmailVerifiedAt, u.Email, u.EmailVerifiedAt)
		}
	}
	for _, miss := range []string{"Emma.Smith@Example.COM", "", "nobody@example.com", string([]byte{0xff})} {
		if _, err := es.UserByEmail(ctx, miss); !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("UserByEmail(%q) = %v, want ErrUserNotFound", miss, err)
		}
	}
	plain, err := s.UserByUsername(ctx, "noemail1")
	if err != nil {
		t.Fatal(err)
	}
	if plain.Email != "" || plain.EmailVerified || !plain.EmailVerifiedAt.IsZero() {
		t.Errorf("user without email: %+v", *plain)
	}
}

func testDuplicateEmail(t *testing.T, s auth.UserStore) {
	mustCreate(t, s, emailUser("first", "dup@example.com"))
	err := s.CreateUser(context.Background(), emailUser("second", "DUP@Example.com"))
	if !errors.Is(err, auth.ErrEmailTaken) || !errors.Is(err, auth.ErrUserExists) {
		t.Fatalf("CreateUser with a taken email (other case) = %v, want ErrEmailTaken", err)
	}
	err = s.CreateUser(context.Background(), emailUser("first", "other@example.com"))
	if !errors.Is(err, auth.ErrUserExists) || errors.Is(err, auth.ErrEmailTaken) {
		t.Fatalf("CreateUser with a taken username = %v, want ErrUserExists alone", err)
	}
}

func testConcurrentCreateSameEmail(t *testing.T, s auth.UserStore) {
	const n = 30
	ok := concurrentOutcomes(t, n, auth.ErrEmailTaken, func(i int) error {
		u := emailUser(fmt.Sprintf("racer%d", i), []string{"race@example.com", "RACE@example.com", "Race@Example.Com"}[i%3])
		return s.CreateUser(context.Background(), u)
	})
	if ok != 1 {
		t.Fatalf("%d concurrent creates of one address: %d succeeded, want 1", n, ok)
	}
}

func testSetUserEmail(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	es := s.(auth.EmailStore)
	u := mustCreate(t, s, newUser("fay"))
	other := mustCreate(t, s, emailUser("gil", "gil@example.com"))

	next := *u
	next.Email, next.EmailVerified, next.EmailVerifiedAt, next.UpdatedAt = "Fay@Example.com", true, when.Add(time.Minute), when.Add(time.Minute)
	if err := es.SetUserEmail(ctx, &next, "wrong-prev@example.com"); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("SetUserEmail with a stale previous address = %v, want ErrConflict", err)
	}
	if err := es.SetUserEmail(ctx, &next, ""); err != nil {
		t.Fatalf("SetUserEmail: %v", err)
	}
	got, err := es.UserByEmail(ctx, "fay@example.com")
	if err != nil || got.ID != u.ID || got.Email != "Fay@Example.com" || !got.EmailVerified ||
		!got.EmailVerifiedAt.Equal(next.EmailVerifiedAt) || !got.UpdatedAt.Equal(next.UpdatedAt) {
		t.Fatalf("after SetUserEmail: %+v, %v", got, err)
	}
	if got.PasswordHash != u.PasswordHash || got.TokenVersion != u.TokenVersion {
		t.Errorf("SetUserEmail changed other fields: %+v", *got)
	}
	taken := next
	taken.Email = "GIL@example.com"
	if err := es.SetUserEmail(ctx, &taken, "Fay@Example.com"); !errors.Is(err, auth.ErrEmailTaken) {
		t.Errorf("SetUserEmail to another user's address = %v, want ErrEmailTaken", err)
	}
	if got, err := es.UserByEmail(ctx, "gil@example.com"); err != nil || got.ID != other.ID {
		t.Errorf("the other user's address after a refused change: %+v, %v", got, err)
	}
	// The old address is free once changed.
	moved := next
	moved.Email, moved.EmailVerified, moved.EmailVerifiedAt = "fay2@example.com", false, time.Time{}
	if err := es.SetUserEmail(ctx, &moved, "Fay@Example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := es.UserByEmail(ctx, "fay@example.com"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("old address after a change = %v, want ErrUserNotFound", err)
	}
	mustCreate(t, s, emailUser("hal", "fay@example.com"))
	ghost := next
	ghost.ID = "no-such-user"
	if err := es.SetUserEmail(ctx, &ghost, ""); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("SetUserEmail of a missing user = %v, want ErrUserNotFound", err)
	}
}

func testConcurrentSetSameEmail(t *testing.T, s auth.UserStore) {
	es := s.(auth.EmailStore)
	const n = 20
	users := make([]*auth.User, n)
	for i := range users {
		users[i] = mustCreate(t, s, newUser(fmt.Sprintf("setter%d", i)))
	}
	ok := concurrentOutcomes(t, n, auth.ErrEmailTaken, func(i int) error {
		next := *users[i]
		next.Email = "contested@example.com"
		return es.SetUserEmail(context.Background(), &next, "")
	})
	if ok != 1 {
		t.Fatalf("%d concurrent sets of one address: %d succeeded, want 1", n, ok)
	}
}

func testUpdateKeepsEmail(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	u := emailUser("ivy", "ivy@example.com")
	u.EmailVerified, u.EmailVerifiedAt = true, when
	mustCreate(t, s, u)
	next := *u
	next.PasswordHash, next.TokenVersion = "new-hash", 2
	next.Email, next.EmailVerified = "changed@example.com", false // UpdateUser must ignore these
	if err := s.UpdateUser(ctx, &next, u.PasswordHash, u.TokenVersion); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "ivy@example.com" || !got.EmailVerified || got.PasswordHash != "new-hash" {
		t.Errorf("after UpdateUser: %+v", *got)
	}
}

var tokenSeq atomic.Int64

func newToken(userID, purpose string, expires time.Time) *auth.OneTimeToken {
	return &auth.OneTimeToken{
		Hash:   fmt.Sprintf("%064x", tokenSeq.Add(1)),
		UserID: userID, Purpose: purpose, Email: "x@example.com", Binding: "binding",
		CreatedAt: when, ExpiresAt: expires,
	}
}

func equalToken(t *testing.T, got, want *auth.OneTimeToken) {
	t.Helper()
	if got.Hash != want.Hash || got.UserID != want.UserID || got.Purpose != want.Purpose || got.Email != want.Email ||
		got.Binding != want.Binding || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("token:\n got %+v\nwant %+v", *got, *want)
	}
}

func testTokenSaveAndRead(t *testing.T, s auth.UserStore, ts auth.OneTimeTokenStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("jay"))
	tok := newToken(u.ID, "reset_password", when.Add(time.Hour))
	if err := ts.SaveOneTimeToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	other := newToken(u.ID, "verify_email", when.Add(time.Hour))
	if err := ts.SaveOneTimeToken(ctx, other); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*auth.OneTimeToken{tok, other} {
		got, err := ts.OneTimeToken(ctx, want.Hash)
		if err != nil {
			t.Fatal(err)
		}
		equalToken(t, got, want)
	}
	if _, err := ts.OneTimeToken(ctx, fmt.Sprintf("%064x", 0)); !errors.Is(err, auth.ErrOneTimeTokenNotFound) {
		t.Errorf("unknown hash = %v, want ErrOneTimeTokenNotFound", err)
	}
	if _, err := ts.OneTimeToken(ctx, string([]byte{0, 0xff})); !errors.Is(err, auth.ErrOneTimeTokenNotFound) {
		t.Errorf("malformed hash = %v, want ErrOneTimeTokenNotFound", err)
	}
	// A store that checks references refuses a token of a missing user.
	if err := ts.SaveOneTimeToken(ctx, newToken("no-such-user", "reset_password", when)); err != nil && !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("token of a missing user = %v, want nil or ErrUserNotFound", err)
	}
	if err := ts.SaveOneTimeToken(ctx, newToken(string([]byte{0xff}), "reset_password", when)); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("token of a malformed user ID = %v, want ErrUserNotFound", err)
	}
}

func testTokenReplaces(t *testing.T, s auth.UserStore, ts auth.OneTimeTokenStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("kim"))
	old := newToken(u.ID, "magic_link", when.Add(time.Hour))
	newer := newToken(u.ID, "magic_link", when.Add(2*time.Hour))
	for _, tok := range []*auth.OneTimeToken{old, newer} {
		if err := ts.SaveOneTimeToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ts.OneTimeToken(ctx, old.Hash); !errors.Is(err, auth.ErrOneTimeTokenNotFound) {
		t.Errorf("older token after a newer one of the same purpose = %v, want ErrOneTimeTokenNotFound", err)
	}
	if _, err := ts.OneTimeToken(ctx, newer.Hash); err != nil {
		t.Errorf("newer token: %v", err)
	}
}

func testTokenConsumeOnce(t *testing.T, s auth.UserStore, ts auth.OneTimeTokenStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("lea"))
	tok := newToken(u.ID, "reset_password", when.Add(-time.Hour)) // expired: still returned
	if err := ts.SaveOneTimeToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := ts.ConsumeOneTimeToken(ctx, tok.Hash)
	if err != nil {
		t.Fatal(err)
	}
	equalToken(t, got, tok)
	if _, err := ts.ConsumeOneTimeToken(ctx, tok.Hash); !errors.Is(err, auth.ErrOneTimeTokenNotFound) {
		t.Errorf("second consume = %v, want ErrOneTimeTokenNotFound", err)
	}
	if _, err := ts.OneTimeToken(ctx, tok.Hash); !errors.Is(err, auth.ErrOneTimeTokenNotFound) {
		t.Errorf("read after consume = %v, want ErrOneTimeTokenNotFound", err)
	}
}

func testTokenConcurrentConsume(t *testing.T, s auth.UserStore, ts auth.OneTimeTokenStore) {
	u := mustCreate(t, s, newUser("max"))
	tok := newToken(u.ID, "magic_link", when.Add(time.Hour))
	if err := ts.SaveOneTimeToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	const n = 20
	ok := concurrentOutcomes(t, n, auth.ErrOneTimeTokenNotFound, func(int) error {
		_, err := ts.ConsumeOneTimeToken(context.Background(), tok.Hash)
		return err
	})
	if ok != 1 {
		t.Fatalf("%d concurrent consumes of one token: %d succeeded, want 1", n, ok)
	}
}

func testTokenConcurrentSave(t *testing.T, s auth.UserStore, ts auth.OneTimeTokenStore) {
	u := mustCreate(t, s, newUser("ned"))
	const n = 10
	toks := make([]*auth.OneTimeToken, n)
	var wg sync.WaitGroup
	for i := range toks {
		toks[i] = newToken(u.ID, "reset_password", when.Add(time.Hour))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ts.SaveOneTimeToken(context.Background(), toks[i]); err != nil {
				t.Errorf("SaveOneTimeToken: %v", err)
			}
		}()
	}
	wg.Wait()
	left := 0
	for _, tok := range toks {
		if _, err := ts.OneTimeToken(context.Background(), tok.Hash); err == nil {
			left++
		}
	}
	if left != 1 {
		t.Fatalf("%d concurrent saves for one user and purpose left %d tokens, want 1", n, left)
	}
}

func testTokenDelete(t *testing.T, s auth.UserStore, ts auth.OneTimeTokenStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("ola"))
	v := mustCreate(t, s, newUser("pat"))
	a, b, c := newToken(u.ID, "reset_password", when.Add(time.Hour)), newToken(u.ID, "verify_email", when.Add(time.Hour)),
		newToken(v.ID, "reset_password", when.Add(time.Hour))
	for _, tok := range []*auth.OneTimeToken{a, b, c} {
		if err := ts.SaveOneTimeToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.DeleteOneTimeTokens(ctx, u.ID, "reset_password"); err != nil {
		t.Fatal(err)
	}
	exists := func(tok *auth.OneTimeToken) bool { _, err := ts.OneTimeToken(ctx, tok.Hash); return err == nil }
	if exists(a) || !exists(b) || !exists(c) {
		t.Errorf("after deleting one purpose: %v %v %v, want false true true", exists(a), exists(b), exists(c))
	}
	if err := ts.DeleteOneTimeTokens(ctx, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	if exists(b) || !exists(c) {
		t.Errorf("after deleting every purpose: %v %v, want false true", exists(b), exists(c))
	}
	if err := ts.DeleteOneTimeTokens(ctx, "no-such-user", ""); err != nil {
		t.Errorf("deleting none = %v, want nil", err)
	}
}

func testTokenPrune(t *testing.T, s auth.UserStore, ts auth.OneTimeTokenStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("quin"))
	expired, edge, live := newToken(u.ID, "reset_password", when.Add(-time.Minute)),
		newToken(u.ID, "verify_email", when), newToken(u.ID, "magic_link", when.Add(time.Microsecond))
	for _, tok := range []*auth.OneTimeToken{expired, edge, live} {
		if err := ts.SaveOneTimeToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	n, err := ts.DeleteExpiredOneTimeTokens(ctx, when)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredOneTimeTokens = %d, %v; want 2", n, err)
	}
	if _, err := ts.OneTimeToken(ctx, live.Hash); err != nil {
		t.Errorf("live token pruned: %v", err)
	}
}

func testTokenDeleteUser(t *testing.T, s auth.UserStore, ts auth.OneTimeTokenStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("rex"))
	tok := newToken(u.ID, "reset_password", when.Add(time.Hour))
	if err := ts.SaveOneTimeToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.OneTimeToken(ctx, tok.Hash); !errors.Is(err, auth.ErrOneTimeTokenNotFound) {
		t.Errorf("token after DeleteUser = %v, want ErrOneTimeTokenNotFound", err)
	}
}
