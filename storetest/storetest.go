// Package storetest is the conformance suite for [auth.UserStore]
// implementations. Every store in this module runs it, and so should a
// third-party adapter:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) auth.UserStore {
//			return mystore.New(freshDatabase(t))
//		})
//	}
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// Run checks a store against the [auth.UserStore] contract. newStore is
// called once per subtest and must return an empty store that no other
// subtest uses; register any cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) auth.UserStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s auth.UserStore)
	}{
		{"CreateAndGet", testCreateAndGet},
		{"KeepsGivenID", testKeepsGivenID},
		{"DuplicateUsername", testDuplicateUsername},
		{"DuplicateID", testDuplicateID},
		{"NotFound", testNotFound},
		{"MalformedIDs", testMalformedIDs},
		{"ByteExactUsernames", testByteExactUsernames},
		{"LongUnicodeUsername", testLongUnicodeUsername},
		{"TimesRoundTrip", testTimesRoundTrip},
		{"ReturnsCopies", testReturnsCopies},
		{"UpdateWritesAllFields", testUpdateWritesAllFields},
		{"UpdateConflict", testUpdateConflict},
		{"UpdateNotFound", testUpdateNotFound},
		{"Delete", testDelete},
		{"ConcurrentCreateSameName", testConcurrentCreate},
		{"ConcurrentUpdateSameCondition", testConcurrentUpdate},
		{"CanceledContext", testCanceledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
	t.Run("Email", func(t *testing.T) { runEmail(t, newStore) })
	t.Run("Sessions", func(t *testing.T) {
		if _, ok := newStore(t).(auth.SessionStore); !ok {
			t.Skip("the store does not implement auth.SessionStore")
		}
		runSessions(t, func(t *testing.T) (auth.UserStore, auth.SessionStore) {
			s := newStore(t)
			return s, s.(auth.SessionStore)
		})
	})
	t.Run("Credentials", func(t *testing.T) {
		if _, ok := newStore(t).(auth.CredentialStore); !ok {
			t.Skip("the store does not implement auth.CredentialStore")
		}
		runCredentials(t, func(t *testing.T) (auth.UserStore, auth.CredentialStore) {
			s := newStore(t)
			return s, s.(auth.CredentialStore)
		})
	})
	runAdmin(t, newStore)
}

// when is a fixed instant with a non-zero microsecond part, so that stores
// which drop sub-second precision are caught.
var when = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

func newUser(name string) *auth.User {
	return &auth.User{
		Username:     name,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		TokenVersion: 1,
		CreatedAt:    when,
		UpdatedAt:    when,
	}
}

func mustCreate(t *testing.T, s auth.UserStore, u *auth.User) *auth.User {
	t.Helper()
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%q): %v", u.Username, err)
	}
	if u.ID == "" {
		t.Fatalf("CreateUser(%q) left ID empty", u.Username)
	}
	return u
}

func equalUser(t *testing.T, what string, got, want *auth.User) {
	t.Helper()
	if got.ID != want.ID || got.Username != want.Username || got.PasswordHash != want.PasswordHash ||
		got.Disabled != want.Disabled || got.TokenVersion != want.TokenVersion ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, *got, *want)
	}
}

func testCreateAndGet(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("alice"))
	other := mustCreate(t, s, newUser("bob"))
	if u.ID == other.ID {
		t.Fatalf("two users got the same ID %q", u.ID)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	equalUser(t, "UserByID", got, u)
	got, err = s.UserByUsername(ctx, "alice")
	if err != nil {
		t.Fatalf("UserByUsername: %v", err)
	}
	equalUser(t, "UserByUsername", got, u)
}

func testKeepsGivenID(t *testing.T, s auth.UserStore) {
	u := newUser("imported")
	u.ID = "42"
	mustCreate(t, s, u)
	if u.ID != "42" {
		t.Fatalf("CreateUser replaced the given ID with %q", u.ID)
	}
	got, err := s.UserByID(context.Background(), "42")
	if err != nil {
		t.Fatalf("UserByID(42): %v", err)
	}
	equalUser(t, "imported user", got, u)
}

func testDuplicateUsername(t *testing.T, s auth.UserStore) {
	first := mustCreate(t, s, newUser("carol"))
	dup := newUser("carol")
	dup.PasswordHash = "other"
	err := s.CreateUser(context.Background(), dup)
	if !errors.Is(err, auth.ErrUserExists) {
		t.Fatalf("second CreateUser(carol) = %v, want ErrUserExists", err)
	}
	got, err := s.UserByUsername(context.Background(), "carol")
	if err != nil {
		t.Fatal(err)
	}
	equalUser(t, "original after duplicate", got, first)
}

func testDuplicateID(t *testing.T, s auth.UserStore) {
	a := newUser("dave")
	a.ID = "7"
	mustCreate(t, s, a)
	b := newUser("erin")
	b.ID = "7"
	if err := s.CreateUser(context.Background(), b); !errors.Is(err, auth.ErrUserExists) {
		t.Fatalf("CreateUser with a taken ID = %v, want ErrUserExists", err)
	}
	if _, err := s.UserByUsername(context.Background(), "erin"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Fatalf("rejected user is visible: %v", err)
	}
}

func testNotFound(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	mustCreate(t, s, newUser("frank"))
	if _, err := s.UserByID(ctx, "no-such-id"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("UserByID(missing) = %v, want ErrUserNotFound", err)
	}
	for _, name := range []string{"nobody", "Frank", "frank ", "fran", ""} {
		if _, err := s.UserByUsername(ctx, name); !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("UserByUsername(%q) = %v, want ErrUserNotFound", name, err)
		}
	}
}

// malformedIDs cannot be stored IDs: a NUL byte, invalid UTF-8, or more
// than 255 bytes. They reach a store from URL paths and token claims.
var malformedIDs = []string{
	"\x00",
	"abc\x00def",
	"\xff",
	"caf\xc3",
	"\xc0\xaf",     // an overlong encoding of '/'
	"\xed\xa0\x80", // a UTF-16 surrogate
	strings.Repeat("a", 256),
	strings.Repeat("é", 128), // 256 bytes of valid UTF-8
}

// malformedNames cannot be stored usernames: a NUL byte, invalid UTF-8, or
// more than 1020 bytes.
var malformedNames = []string{
	"\x00",
	"frank\x00",
	"\xff",
	"fr\xc3nk",
	strings.Repeat("a", 1021),
}

func testMalformedIDs(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("frank"))
	for _, id := range malformedIDs {
		if _, err := s.UserByID(ctx, id); !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("UserByID(%q) = %v, want ErrUserNotFound", id, err)
		}
		if err := s.DeleteUser(ctx, id); !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("DeleteUser(%q) = %v, want ErrUserNotFound", id, err)
		}
		next := *u
		next.ID = id
		if err := s.UpdateUser(ctx, &next, u.PasswordHash, u.TokenVersion); !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("UpdateUser(%q) = %v, want ErrUserNotFound", id, err)
		}
		bad := newUser("malformed-id")
		bad.ID = id
		if err := s.CreateUser(ctx, bad); err == nil || errors.Is(err, auth.ErrUserExists) {
			t.Errorf("CreateUser with ID %q = %v, want an error other than ErrUserExists", id, err)
		}
	}
	for _, name := range malformedNames {
		if _, err := s.UserByUsername(ctx, name); !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("UserByUsername(%q) = %v, want ErrUserNotFound", name, err)
		}
		if err := s.CreateUser(ctx, newUser(name)); err == nil || errors.Is(err, auth.ErrUserExists) {
			t.Errorf("CreateUser(%q) = %v, want an error other than ErrUserExists", name, err)
		}
	}
	if _, err := s.UserByUsername(ctx, "malformed-id"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("a user with a malformed ID was stored: %v", err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserByID after malformed calls: %v", err)
	}
	equalUser(t, "user after malformed calls", got, u)
}

func testByteExactUsernames(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	// Accent-, case- and padding-insensitive collations would merge these.
	names := []string{"resume", "résumé", "resumé", "RESUME", "resume\u0301"}
	ids := map[string]string{}
	for _, n := range names {
		ids[n] = mustCreate(t, s, newUser(n)).ID
	}
	for _, n := range names {
		got, err := s.UserByUsername(ctx, n)
		if err != nil {
			t.Fatalf("UserByUsername(%q): %v", n, err)
		}
		if got.ID != ids[n] || got.Username != n {
			t.Errorf("UserByUsername(%q) = %q (id %s), want id %s", n, got.Username, got.ID, ids[n])
		}
	}
}

func testLongUnicodeUsername(t *testing.T, s auth.UserStore) {
	// 255 characters of four bytes each: the longest name the Authenticator accepts.
	name := strings.Repeat("\U0001F511", 255)
	u := mustCreate(t, s, newUser(name))
	got, err := s.UserByUsername(context.Background(), name)
	if err != nil {
		t.Fatalf("UserByUsername(long): %v", err)
	}
	equalUser(t, "long username", got, u)
}

func testTimesRoundTrip(t *testing.T, s auth.UserStore) {
	u := newUser("grace")
	u.UpdatedAt = when.Add(time.Hour + 123*time.Microsecond)
	mustCreate(t, s, u)
	got, err := s.UserByID(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(u.CreatedAt) || !got.UpdatedAt.Equal(u.UpdatedAt) {
		t.Errorf("times: got %v / %v, want %v / %v", got.CreatedAt, got.UpdatedAt, u.CreatedAt, u.UpdatedAt)
	}
	if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
		t.Errorf("times are not in UTC: %v / %v", got.CreatedAt.Location(), got.UpdatedAt.Location())
	}
}

func testReturnsCopies(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("heidi"))
	want := *u
	u.PasswordHash = "mutated after create"
	got, err := s.UserByID(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.PasswordHash = "mutated after read"
	got.Disabled = true
	again, err := s.UserByUsername(ctx, "heidi")
	if err != nil {
		t.Fatal(err)
	}
	equalUser(t, "after mutating copies", again, &want)
}

func testUpdateWritesAllFields(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("ivan"))
	next := *u
	next.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdG5ld3NhbHQ$bmV3aGFzaA"
	next.TokenVersion = u.TokenVersion + 1
	next.Disabled = true
	next.UpdatedAt = when.Add(48*time.Hour + 7*time.Microsecond)
	// Fields UpdateUser must leave alone.
	next.Username = "mallory"
	next.CreatedAt = when.Add(-time.Hour)
	if err := s.UpdateUser(ctx, &next, u.PasswordHash, u.TokenVersion); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *u
	want.PasswordHash, want.TokenVersion, want.Disabled, want.UpdatedAt = next.PasswordHash, next.TokenVersion, next.Disabled, next.UpdatedAt
	equalUser(t, "after update", got, &want)
	if _, err := s.UserByUsername(ctx, "mallory"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("UpdateUser renamed the user: %v", err)
	}
}

func testUpdateConflict(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("judy"))
	next := *u
	next.PasswordHash = "new"
	next.TokenVersion = 2
	for _, c := range []struct {
		hash    string
		version int64
	}{
		{"stale", u.TokenVersion},
		{u.PasswordHash, u.TokenVersion + 5},
		{"", 0},
	} {
		err := s.UpdateUser(ctx, &next, c.hash, c.version)
		if !errors.Is(err, auth.ErrConflict) {
			t.Errorf("UpdateUser(prev %q, %d) = %v, want ErrConflict", c.hash, c.version, err)
		}
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	equalUser(t, "after conflicting updates", got, u)
}

func testUpdateNotFound(t *testing.T, s auth.UserStore) {
	u := newUser("ghost")
	u.ID = "does-not-exist"
	if err := s.UpdateUser(context.Background(), u, u.PasswordHash, u.TokenVersion); !errors.Is(err, auth.ErrUserNotFound) {
		t.Fatalf("UpdateUser(missing) = %v, want ErrUserNotFound", err)
	}
}

func testDelete(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("ken"))
	keep := mustCreate(t, s, newUser("leo"))
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, err := s.UserByID(ctx, u.ID); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("UserByID after delete = %v", err)
	}
	if _, err := s.UserByUsername(ctx, "ken"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("UserByUsername after delete = %v", err)
	}
	if err := s.DeleteUser(ctx, u.ID); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("second DeleteUser = %v, want ErrUserNotFound", err)
	}
	if _, err := s.UserByID(ctx, keep.ID); err != nil {
		t.Errorf("other user lost: %v", err)
	}
	// The name is free again.
	mustCreate(t, s, newUser("ken"))
}

func testConcurrentCreate(t *testing.T, s auth.UserStore) {
	const n = 50
	var ok, exists atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := newUser("zoe")
			u.PasswordHash = fmt.Sprintf("hash-%d", i)
			switch err := s.CreateUser(context.Background(), u); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, auth.ErrUserExists):
				exists.Add(1)
			default:
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	if ok.Load() != 1 || exists.Load() != n-1 {
		t.Fatalf("%d concurrent creates: %d succeeded, %d ErrUserExists; want 1 and %d", n, ok.Load(), exists.Load(), n-1)
	}
}

func testConcurrentUpdate(t *testing.T, s auth.UserStore) {
	const n = 20
	u := mustCreate(t, s, newUser("mia"))
	var ok, conflict atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := *u
			next.PasswordHash = fmt.Sprintf("hash-%d", i)
			next.TokenVersion = u.TokenVersion + 1
			switch err := s.UpdateUser(context.Background(), &next, u.PasswordHash, u.TokenVersion); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, auth.ErrConflict):
				conflict.Add(1)
			default:
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	if ok.Load() != 1 {
		t.Fatalf("%d concurrent updates with one condition: %d succeeded, want exactly 1", n, ok.Load())
	}
	got, err := s.UserByID(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TokenVersion != u.TokenVersion+1 || !strings.HasPrefix(got.PasswordHash, "hash-") {
		t.Fatalf("after concurrent updates: %+v", *got)
	}
}

// testCanceledContext: every method fails under a context canceled before
// the call, and the writes leave nothing behind.
func testCanceledContext(t *testing.T, s auth.UserStore) {
	bg := context.Background()
	u := mustCreate(t, s, newUser("nina"))
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := s.CreateUser(ctx, newUser("oscar")); err == nil {
		t.Error("CreateUser with a canceled context succeeded")
	}
	if _, err := s.UserByID(ctx, u.ID); err == nil {
		t.Error("UserByID with a canceled context succeeded")
	}
	if _, err := s.UserByUsername(ctx, u.Username); err == nil {
		t.Error("UserByUsername with a canceled context succeeded")
	}
	next := *u
	next.PasswordHash, next.TokenVersion, next.Disabled = "changed", u.TokenVersion+1, true
	if err := s.UpdateUser(ctx, &next, u.PasswordHash, u.TokenVersion); err == nil {
		t.Error("UpdateUser with a canceled context succeeded")
	}
	if err := s.DeleteUser(ctx, u.ID); err == nil {
		t.Error("DeleteUser with a canceled context succeeded")
	}
	if _, err := s.UserByUsername(bg, "oscar"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("user created under a canceled context: %v", err)
	}
	got, err := s.UserByID(bg, u.ID)
	if err != nil {
		t.Fatalf("user after canceled calls: %v", err)
	}
	equalUser(t, "user after canceled calls", got, u)
}
