package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/gatehouse/auth/sqlstore"
)

func TestDetectDialect(t *testing.T) {
	for _, c := range []struct {
		driver, dsn string
		want        sqlstore.Dialect
	}{
		{"sqlite", "unused.db", sqlstore.SQLite},
		{"pgx", "postgres://127.0.0.1:1/x", sqlstore.Postgres},
		{"mysql", "root@tcp(127.0.0.1:1)/x", sqlstore.MySQL},
	} {
		db := openDB(t, c.driver, c.dsn) // sql.Open does not connect
		s, err := sqlstore.New(db)
		if err != nil {
			t.Errorf("New(%s): %v", c.driver, err)
			continue
		}
		if s.Dialect() != c.want {
			t.Errorf("New(%s) detected %v, want %v", c.driver, s.Dialect(), c.want)
		}
	}
}

type fakeConnector struct{}

func (fakeConnector) Connect(context.Context) (driver.Conn, error) { return nil, errors.New("fake") }
func (fakeConnector) Driver() driver.Driver                        { return fakeDriver{} }

type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return nil, errors.New("fake") }

func TestNewErrors(t *testing.T) {
	sqliteDB := openDB(t, "sqlite", "unused")
	unknown := sql.OpenDB(fakeConnector{})
	t.Cleanup(func() { unknown.Close() })
	for _, c := range []struct {
		name string
		db   *sql.DB
		opts []sqlstore.Option
	}{
		{"nil db", nil, nil},
		{"unknown driver", unknown, nil},
		{"bad dialect", sqliteDB, []sqlstore.Option{sqlstore.WithDialect(sqlstore.Dialect(42))}},
		{"prefix with a space", sqliteDB, []sqlstore.Option{sqlstore.WithTablePrefix("my app_")}},
		{"prefix with a quote", sqliteDB, []sqlstore.Option{sqlstore.WithTablePrefix(`x"; DROP TABLE y; --`)}},
		{"prefix with a digit first", sqliteDB, []sqlstore.Option{sqlstore.WithTablePrefix("1_")}},
		{"prefix too long", sqliteDB, []sqlstore.Option{sqlstore.WithTablePrefix("p23456789012345678901234567890123456789012345678901_")}},
		{"empty table name", sqliteDB, []sqlstore.Option{sqlstore.WithTableNames("", "versions")}},
		{"dotted table name", sqliteDB, []sqlstore.Option{sqlstore.WithTableNames("auth.users", "versions")}},
		{"same table names", sqliteDB, []sqlstore.Option{sqlstore.WithTableNames("users", "users")}},
	} {
		if _, err := sqlstore.New(c.db, c.opts...); err == nil {
			t.Errorf("New with %s succeeded", c.name)
		}
	}
	// A driver that cannot be detected works with WithDialect.
	if _, err := sqlstore.New(unknown, sqlstore.WithDialect(sqlstore.Postgres)); err != nil {
		t.Errorf("New with WithDialect: %v", err)
	}
}

func TestTableNames(t *testing.T) {
	tdb := openSQLite(t)
	ctx := context.Background()
	for _, opts := range [][]sqlstore.Option{
		nil,                            // gatehouse_users
		{sqlstore.WithTablePrefix("")}, // users
		{sqlstore.WithTableNames("Accounts", "Accounts_versions")}, // quoted, case kept
		{sqlstore.WithTableNames("user", "order")},                 // reserved words
	} {
		s, err := sqlstore.New(tdb.db, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if err := s.CreateUser(ctx, testUser("alice")); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}
	for _, table := range []string{"gatehouse_users", "users", `"Accounts"`, `"user"`} {
		if n := countRows(t, tdb.db, table); n != 1 {
			t.Errorf("%s has %d rows, want 1", table, n)
		}
	}
}

func TestSQLiteDSN(t *testing.T) {
	// Characters that mean something in a URI stay part of the file name.
	path := filepath.Join(t.TempDir(), "odd ?#%name.db")
	db := openDB(t, "sqlite", sqlstore.SQLiteDSN(path))
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"busy_timeout": "5000",
		"foreign_keys": "1",
	} {
		var got string
		if err := db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not at %q: %v", path, err)
	}
}

// TestMySQLWithoutParseTime: times round-trip even when the DSN lacks
// parseTime, because the Store parses DATETIME text itself.
func TestMySQLWithoutParseTime(t *testing.T) {
	tdb := openMySQL(t)
	cfg, err := mysql.ParseDSN(tdb.dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ParseTime = false
	s := newStore(t, openDB(t, "mysql", cfg.FormatDSN()))
	ctx := context.Background()
	u := testUser("alice")
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(when) || got.CreatedAt.Location() != when.Location() {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, when)
	}
}

// TestUpdateSameValues: an update that writes what is already stored
// succeeds on every dialect (MySQL reports 0 changed rows for it).
func TestUpdateSameValues(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		s := newStore(t, tdb.db)
		ctx := context.Background()
		u := testUser("alice")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		same := *u
		if err := s.UpdateUser(ctx, &same, u.PasswordHash, u.TokenVersion); err != nil {
			t.Errorf("UpdateUser with the stored values: %v", err)
		}
	})
}
