package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func tableExists(db *sql.DB, table string) bool {
	_, err := db.Exec("SELECT 1 FROM " + table + " WHERE 1 = 0")
	return err == nil
}

func TestMigrateTwice(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		s := newStore(t, tdb.db, sqlstore.WithTablePrefix("twice_"))
		u := testUser("alice")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if n := countRows(t, tdb.db, "twice_schema_migrations"); n != 1 {
			t.Errorf("%d migration rows, want 1", n)
		}
		if _, err := s.UserByID(ctx, u.ID); err != nil {
			t.Errorf("user lost by the second Migrate: %v", err)
		}
	})
}

// TestMigrateConcurrently runs Migrate from several Stores at once, each
// on its own *sql.DB as separate instances would be.
func TestMigrateConcurrently(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		const n = 6
		ctx := context.Background()
		stores := make([]*sqlstore.Store, n)
		for i := range stores {
			db := tdb.db
			if i%2 == 1 {
				db = tdb.open(t)
			}
			s, err := sqlstore.New(db, sqlstore.WithTablePrefix("conc_"))
			if err != nil {
				t.Fatal(err)
			}
			stores[i] = s
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Migrate(ctx)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Migrate #%d: %v", i, err)
			}
		}
		if n := countRows(t, tdb.db, "conc_schema_migrations"); n != 1 {
			t.Errorf("%d migration rows, want 1", n)
		}
		for i, s := range stores {
			if err := s.CreateUser(ctx, testUser(fmt.Sprintf("user%d", i))); err != nil {
				t.Errorf("CreateUser via store %d: %v", i, err)
			}
		}
	})
}

// TestMigrateFailure: a step that fails halfway is not recorded, earlier
// steps and data stay, and on the transactional dialects the step leaves
// nothing behind.
func TestMigrateFailure(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		s := newStore(t, tdb.db, sqlstore.WithTablePrefix("fail_"))
		u := testUser("alice")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		bad := []string{"CREATE TABLE fail_extra (id INTEGER)", "THIS IS NOT SQL"}
		err := s.MigrateWithExtra(ctx, bad)
		if err == nil {
			t.Fatal("Migrate with a broken step succeeded")
		}
		if errors.Is(err, auth.ErrUnavailable) {
			t.Errorf("a broken step is reported as unavailable: %v", err)
		}
		if n := countRows(t, tdb.db, "fail_schema_migrations"); n != 1 {
			t.Errorf("%d migration rows after a failed step, want 1", n)
		}
		if tdb.dialect != sqlstore.MySQL && tableExists(tdb.db, "fail_extra") {
			t.Error("the failed step's first statement was not rolled back")
		}
		if _, err := s.UserByID(ctx, u.ID); err != nil {
			t.Errorf("user lost by a failed migration: %v", err)
		}
	})
}

func TestSplitStatements(t *testing.T) {
	got := sqlstore.SplitStatements("-- head\nCREATE TABLE a (x INT);\n\n-- only a comment\nDROP TABLE b;\n-- tail\n")
	want := []string{"-- head\nCREATE TABLE a (x INT)", "-- only a comment\nDROP TABLE b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("SplitStatements = %q, want %q", got, want)
	}
}

// TestMigrationFiles applies the exported files as a migration tool would,
// then checks that a Store with default names works on the result and that
// Migrate accepts it.
func TestMigrationFiles(t *testing.T) {
	fsys := sqlstore.Migrations()
	for _, d := range dialects {
		up := readFile(t, fsys, d.String()+"/0001_create_users.up.sql")
		down := readFile(t, fsys, d.String()+"/0001_create_users.down.sql")
		goose := readFile(t, fsys, "goose/"+d.String()+"/0001_create_users.sql")
		if want := "-- +goose Up\n" + up + "\n-- +goose Down\n" + down; goose != want {
			t.Errorf("goose/%s differs from the golang-migrate files", d)
		}
	}
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		for _, stmt := range sqlstore.SplitStatements(readFile(t, fsys, tdb.dialect.String()+"/0001_create_users.up.sql")) {
			if _, err := tdb.db.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("up: %v", err)
			}
		}
		s, err := sqlstore.New(tdb.db)
		if err != nil {
			t.Fatal(err)
		}
		u := testUser("résumé")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate after the files: %v", err)
		}
		if _, err := s.UserByUsername(ctx, "résumé"); err != nil {
			t.Fatal(err)
		}
		for _, stmt := range sqlstore.SplitStatements(readFile(t, fsys, tdb.dialect.String()+"/0001_create_users.down.sql")) {
			if _, err := tdb.db.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("down: %v", err)
			}
		}
		if tableExists(tdb.db, "gatehouse_users") {
			t.Error("gatehouse_users exists after the down migration")
		}
	})
}

func readFile(t *testing.T, fsys fs.FS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
