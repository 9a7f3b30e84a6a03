package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

// insertV1User writes u as version 1 of the schema stored users, with
// its columns only, as an earlier release would have: the Store's own
// CreateUser writes the columns of later versions too. It assigns an ID.
func insertV1User(t *testing.T, db *sql.DB, d sqlstore.Dialect, table string, u *auth.User) {
	t.Helper()
	if u.ID == "" {
		u.ID = "v1-" + u.Username
	}
	q := "INSERT INTO " + table + " (id, username, password_hash, disabled, token_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
	if d == sqlstore.Postgres {
		q = sqlstore.Rebind(q)
	}
	if _, err := db.ExecContext(context.Background(), q, u.ID, u.Username, u.PasswordHash, u.Disabled, u.TokenVersion,
		timeArg(d, u.CreatedAt), timeArg(d, u.UpdatedAt)); err != nil {
		t.Fatalf("insert a version 1 user: %v", err)
	}
}
