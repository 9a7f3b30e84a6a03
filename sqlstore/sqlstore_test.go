package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/gatehouse/auth"
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
		{"empty table name", sqliteDB, []sqlstore.Option{sqlstore.WithTableNames(sqlstore.TableNames{Users: "", Sessions: "s", Migrations: "v"})}},
		{"no sessions table name", sqliteDB, []sqlstore.Option{sqlstore.WithTableNames(sqlstore.TableNames{Users: "u", Migrations: "v"})}},
		{"dotted table name", sqliteDB, []sqlstore.Option{sqlstore.WithTableNames(sqlstore.TableNames{Users: "auth.users", Sessions: "s", Migrations: "v"})}},
		{"table name too long", sqliteDB, []sqlstore.Option{sqlstore.WithTableNames(sqlstore.TableNames{Users: strings.Repeat("u", 64), Sessions: "s", Migrations: "v"})}},
		{"same users and migrations", sqliteDB, []sqlstore.Option{sqlstore.WithTableNames(sqlstore.TableNames{Users: "users", Sessions: "s", Migrations: "users"})}},
		{"same users and sessions", sqliteDB, []sqlstore.Option{sqlstore.WithTableNames(sqlstore.TableNames{Users: "users", Sessions: "users", Migrations: "v"})}},
		{"same sessions and migrations", sqliteDB, []sqlstore.Option{sqlstore.WithTableNames(sqlstore.TableNames{Users: "u", Sessions: "s", Migrations: "s"})}},
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

// TestTableNames: every naming option works on every dialect, including
// reserved words and names of the maximum length, whose index and
// constraint names must be cut and still not collide.
func TestTableNames(t *testing.T) {
	long := func(tag string) string { return tag + strings.Repeat("x", 63-len(tag)) }
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		for _, c := range []struct {
			opts  []sqlstore.Option
			users string // as an SQL literal
		}{
			{nil, "gatehouse_users"},
			{[]sqlstore.Option{sqlstore.WithTablePrefix("")}, "users"},
			{[]sqlstore.Option{sqlstore.WithTableNames(sqlstore.TableNames{ // quoted, case kept
				Users: "Accounts", Sessions: "Accounts_sessions", Migrations: "Accounts_versions"})}, "Accounts"},
			{[]sqlstore.Option{sqlstore.WithTableNames(sqlstore.TableNames{ // reserved words
				Users: "user", Sessions: "session", Migrations: "order"})}, "user"},
			// Two sets of 63-byte names that differ only at the start: the
			// cut index names must differ too.
			{[]sqlstore.Option{sqlstore.WithTableNames(sqlstore.TableNames{
				Users: long("a_u"), Sessions: long("a_s"), Migrations: long("a_m")})}, long("a_u")},
			{[]sqlstore.Option{sqlstore.WithTableNames(sqlstore.TableNames{
				Users: long("b_u"), Sessions: long("b_s"), Migrations: long("b_m")})}, long("b_u")},
			// A later option wins.
			{[]sqlstore.Option{sqlstore.WithTableNames(sqlstore.TableNames{Users: "x", Sessions: "y", Migrations: "z"}),
				sqlstore.WithTablePrefix("late_")}, "late_users"},
		} {
			s, err := sqlstore.New(tdb.db, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate (%s): %v", c.users, err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("second Migrate (%s): %v", c.users, err)
			}
			u := testUser("alice")
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatalf("CreateUser (%s): %v", c.users, err)
			}
			sess := testSession(u.ID)
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatalf("CreateSession (%s): %v", c.users, err)
			}
			if list, err := s.UserSessions(ctx, u.ID, when); err != nil || len(list) != 1 {
				t.Fatalf("UserSessions (%s) = %d sessions, %v; want 1", c.users, len(list), err)
			}
			if err := s.DeleteUser(ctx, u.ID); err != nil {
				t.Fatalf("DeleteUser (%s): %v", c.users, err)
			}
			if _, err := s.Session(ctx, sess.ID); !errors.Is(err, auth.ErrSessionNotFound) {
				t.Errorf("session after DeleteUser (%s): %v", c.users, err)
			}
			if err := s.CreateUser(ctx, testUser("alice")); err != nil {
				t.Fatalf("CreateUser (%s): %v", c.users, err)
			}
			if n := countRows(t, tdb.db, quoteIdent(tdb.dialect, c.users)); n != 1 {
				t.Errorf("%s has %d rows, want 1", c.users, n)
			}
		}
	})
}

func quoteIdent(d sqlstore.Dialect, name string) string {
	if d == sqlstore.MySQL {
		return "`" + name + "`"
	}
	return `"` + name + `"`
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
