package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

// TestMigrateKeepsRowsForCredentials: a database at version 3 (users and
// sessions, before second factors) is brought to the current version by
// Migrate; its users and sessions stay as they were, and the credential
// tables work, named after the users table.
func TestMigrateKeepsRowsForCredentials(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		const prefix = "v3_"
		s, err := sqlstore.New(tdb.db, sqlstore.WithTablePrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.MigrateTo(ctx, 3); err != nil {
			t.Fatalf("migrate to version 3: %v", err)
		}
		if tableExists(tdb.db, prefix+"users_totp") {
			t.Fatal("version 3 has a TOTP table")
		}
		u := testUser("veteran")
		insertOldUser(t, tdb, prefix, u)
		sess := testSession(u.ID)
		insertOldSession(t, tdb, prefix, sess)
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate from version 3: %v", err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
		got, err := s.UserByID(ctx, u.ID)
		if err != nil || got.Username != u.Username || got.PasswordHash != u.PasswordHash || !got.CreatedAt.Equal(u.CreatedAt) {
			t.Fatalf("user after the upgrade: %+v, %v", got, err)
		}
		if gs, err := s.Session(ctx, sess.ID); err != nil || gs.CurrentJTI != sess.CurrentJTI {
			t.Fatalf("session after the upgrade: %+v, %v", gs, err)
		}
		for _, table := range []string{"users_totp", "users_recovery_codes", "users_passkeys", "users_nonces"} {
			if !tableExists(tdb.db, prefix+table) {
				t.Errorf("no table %s%s", prefix, table)
			}
		}
		if err := s.SetTOTP(ctx, u.ID, &auth.TOTP{Secret: []byte{1, 2}, CreatedAt: when}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRecoveryCodes(ctx, u.ID, []string{"h"}); err != nil {
			t.Fatal(err)
		}
		pk := &auth.Passkey{ID: "pk", UserID: u.ID, CredentialID: []byte{9}, UserHandle: []byte{1}, PublicKey: []byte{2},
			CreatedAt: when, LastUsedAt: when}
		if err := s.CreatePasskey(ctx, pk); err != nil {
			t.Fatal(err)
		}
		if countRows(t, tdb.db, prefix+"users_totp") != 1 || countRows(t, tdb.db, prefix+"users_passkeys") != 1 {
			t.Error("credentials not in the prefixed tables")
		}
		if err := s.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"users_totp", "users_recovery_codes", "users_passkeys"} {
			if n := countRows(t, tdb.db, prefix+table); n != 0 {
				t.Errorf("%d rows left in %s after DeleteUser", n, table)
			}
		}
	})
}

// TestCredentialsUnknownUser: the stores refuse credentials of a user that
// does not exist, with or without SQLite's foreign keys.
func TestCredentialsUnknownUser(t *testing.T) {
	check := func(t *testing.T, tdb *testDB) {
		s := newStore(t, tdb.db)
		ctx := context.Background()
		if err := s.SetTOTP(ctx, "nobody", &auth.TOTP{Secret: []byte{1}, CreatedAt: when}); !errors.Is(err, auth.ErrUserNotFound) && tdb.dialect != sqlstore.SQLite {
			t.Errorf("SetTOTP: %v", err)
		}
		if err := s.SetRecoveryCodes(ctx, "nobody", []string{"h"}); !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("SetRecoveryCodes: %v", err)
		}
		pk := &auth.Passkey{ID: "pk", UserID: "nobody", CredentialID: []byte{9}, CreatedAt: when, LastUsedAt: when.Add(time.Second)}
		if err := s.CreatePasskey(ctx, pk); !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("CreatePasskey: %v", err)
		}
	}
	forEachDialect(t, check)
	t.Run("sqlite without foreign keys", func(t *testing.T) { check(t, sqliteNoForeignKeys(t)) })
}
