package sqlstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
	"github.com/gatehouse/auth/storetest"
)

// conformanceBatch is the prune batch of the conformance runs: small, so
// that storetest's PruneMany spans many batches (TestPruneWhileRefreshing
// runs the default size).
var conformanceBatch = sqlstore.WithPruneBatch(16, 0)

func TestConformance(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		storetest.Run(t, func(t *testing.T) auth.UserStore {
			return newStore(t, tdb.db, conformanceBatch)
		})
	})
}

// sqliteNoForeignKeys opens a SQLite file without SQLiteDSN's foreign_keys
// pragma, as an application with its own DSN might.
func sqliteNoForeignKeys(t *testing.T) *testDB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "auth.db") + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	db := openDB(t, "sqlite", dsn)
	db.SetMaxOpenConns(4)
	var on int
	if err := db.QueryRow("PRAGMA foreign_keys").Scan(&on); err != nil || on != 0 {
		t.Fatalf("PRAGMA foreign_keys = %d, %v; want 0", on, err)
	}
	return &testDB{dialect: sqlstore.SQLite, db: db, dsn: dsn}
}

// TestConformanceSQLiteWithoutForeignKeys: the contract, DeleteUser removing
// the user's sessions included, holds when SQLite does not enforce the
// foreign key.
func TestConformanceSQLiteWithoutForeignKeys(t *testing.T) {
	tdb := sqliteNoForeignKeys(t)
	storetest.Run(t, func(t *testing.T) auth.UserStore {
		return newStore(t, tdb.db, conformanceBatch)
	})
}

// TestCreateSessionUnknownUser: the foreign key refuses a session of a user
// that does not exist, as ErrUserNotFound.
func TestCreateSessionUnknownUser(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		s := newStore(t, tdb.db)
		err := s.CreateSession(context.Background(), testSession("no-such-user"))
		if !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("CreateSession for an unknown user = %v, want ErrUserNotFound", err)
		}
	})
}
