package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

// createOldUser inserts u as a schema before version 5 (no email columns)
// stores it, for the tests of older schemas and of upgrades.
func createOldUser(t *testing.T, db *sql.DB, d sqlstore.Dialect, table string, u *auth.User) error {
	t.Helper()
	if u.ID == "" {
		u.ID = "old-" + u.Username
	}
	q := "INSERT INTO " + table + " (id, username, password_hash, disabled, token_version, created_at, updated_at)" +
		" VALUES (?, ?, ?, ?, ?, ?, ?)"
	if d == sqlstore.Postgres {
		q = sqlstore.Rebind(q)
	}
	_, err := db.ExecContext(context.Background(), q, u.ID, u.Username, u.PasswordHash, u.Disabled, u.TokenVersion,
		timeArg(d, u.CreatedAt), timeArg(d, u.UpdatedAt))
	return err
}

// appliedVersions lists the versions in a migrations table, in order.
func appliedVersions(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT version FROM "+table+" ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var versions []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	return fmt.Sprint(versions)
}

// fileVersions lists the versions of the dialect's up files, in order.
func fileVersions(t *testing.T, d sqlstore.Dialect) string {
	t.Helper()
	var versions []int64
	for _, name := range upFiles(t, d) {
		var v int64
		if _, err := fmt.Sscanf(path.Base(name), "%d_", &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		versions = append(versions, v)
	}
	return fmt.Sprint(versions)
}

// TestMigrateKeepsUsersWithoutEmail: a database at version 3 (no email
// columns) is brought to the current version by Migrate; its users stay,
// with no address, and take one afterwards, and the one-time token table
// works. One of the new columns is already there, as a MySQL step that
// failed halfway leaves it; Migrate completes the step.
func TestMigrateKeepsUsersWithoutEmail(t *testing.T) {
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
		var users []*auth.User
		for i := range 3 {
			u := testUser(fmt.Sprintf("veteran%d", i))
			if err := createOldUser(t, tdb.db, tdb.dialect, prefix+"users", u); err != nil {
				t.Fatal(err)
			}
			users = append(users, u)
		}
		halfDone := map[sqlstore.Dialect]string{
			sqlstore.SQLite:   "ALTER TABLE v3_users ADD COLUMN email TEXT",
			sqlstore.Postgres: "ALTER TABLE v3_users ADD COLUMN email TEXT",
			sqlstore.MySQL:    "ALTER TABLE v3_users ADD COLUMN email VARBINARY(1020) NULL DEFAULT NULL",
		}
		if _, err := tdb.db.ExecContext(ctx, halfDone[tdb.dialect]); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate from version 3: %v", err)
		}
		if versions, want := appliedVersions(t, tdb.db, prefix+"schema_migrations"), fileVersions(t, tdb.dialect); versions != want {
			t.Errorf("applied versions %v, want %v", versions, want)
		}
		for _, want := range users {
			got, err := s.UserByID(ctx, want.ID)
			if err != nil {
				t.Fatalf("user %s lost by the upgrade: %v", want.Username, err)
			}
			if got.Username != want.Username || got.PasswordHash != want.PasswordHash || got.Email != "" ||
				got.EmailVerified || !got.EmailVerifiedAt.IsZero() || !got.CreatedAt.Equal(want.CreatedAt) {
				t.Errorf("user changed by the upgrade: %+v", *got)
			}
		}
		next := *users[0]
		next.Email = "Veteran@Example.com"
		if err := s.SetUserEmail(ctx, &next, ""); err != nil {
			t.Fatalf("SetUserEmail on an old user: %v", err)
		}
		second := *users[1]
		second.Email = "veteran@example.com"
		if err := s.SetUserEmail(ctx, &second, ""); !errors.Is(err, auth.ErrEmailTaken) {
			t.Errorf("a second user with the address = %v, want ErrEmailTaken", err)
		}
		if got, err := s.UserByEmail(ctx, "veteran@example.com"); err != nil || got.ID != users[0].ID {
			t.Fatalf("UserByEmail after the upgrade: %+v, %v", got, err)
		}
		tok := &auth.OneTimeToken{Hash: fmt.Sprintf("%064d", 7), UserID: users[0].ID, Purpose: "reset_password",
			Email: next.Email, Binding: "b", CreatedAt: when, ExpiresAt: when.Add(time.Hour)}
		if err := s.SaveOneTimeToken(ctx, tok); err != nil {
			t.Fatalf("SaveOneTimeToken after the upgrade: %v", err)
		}
		if _, err := s.ConsumeOneTimeToken(ctx, tok.Hash); err != nil {
			t.Fatalf("ConsumeOneTimeToken after the upgrade: %v", err)
		}
	})
}
