package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path"
	"testing"

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
