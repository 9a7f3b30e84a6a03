package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

func TestClassifyErrors(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("driver said: %w", err) }
	pg := func(code string) error { return wrap(&pgconn.PgError{Severity: "ERROR", Code: code}) }
	my := func(n uint16) error { return wrap(&mysql.MySQLError{Number: n}) }
	cases := []struct {
		d                   sqlstore.Dialect
		err                 error
		unique, unavailable bool
	}{
		{sqlstore.Postgres, pg("23505"), true, false},
		{sqlstore.Postgres, pg("23503"), false, false}, // foreign key
		{sqlstore.Postgres, pg("42P01"), false, false}, // no such table
		{sqlstore.Postgres, pg("08006"), false, true},
		{sqlstore.Postgres, pg("53300"), false, true}, // too many connections
		{sqlstore.Postgres, pg("57P01"), false, true}, // admin shutdown
		{sqlstore.Postgres, pg("57014"), false, true}, // statement timeout
		{sqlstore.Postgres, pg("40001"), false, true},
		{sqlstore.Postgres, pg("40P01"), false, true},
		{sqlstore.Postgres, pg("55P03"), false, true},
		{sqlstore.Postgres, pg("25006"), false, true},
		{sqlstore.MySQL, my(1062), true, false},
		{sqlstore.MySQL, my(1586), true, false},
		{sqlstore.MySQL, my(1146), false, false}, // no such table
		{sqlstore.MySQL, my(1213), false, true},
		{sqlstore.MySQL, my(1205), false, true},
		{sqlstore.MySQL, my(1040), false, true},
		{sqlstore.MySQL, my(1969), false, true},
		// A MySQL error number means nothing to another dialect.
		{sqlstore.Postgres, my(1062), false, false},
		{sqlstore.SQLite, pg("23505"), false, false},
		{sqlstore.MySQL, wrap(driver.ErrBadConn), false, true},
		{sqlstore.MySQL, wrap(io.ErrUnexpectedEOF), false, true},
		{sqlstore.Postgres, wrap(syscall.ECONNREFUSED), false, true},
		{sqlstore.Postgres, wrap(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.EHOSTDOWN}), false, true},
		{sqlstore.MySQL, wrap(&net.DNSError{Err: "no such host", Name: "db"}), false, true},
		{sqlstore.SQLite, wrap(syscall.ENOENT), false, false},
		{sqlstore.SQLite, wrap(context.DeadlineExceeded), false, true},
		{sqlstore.SQLite, errors.Join(errors.New("x"), &pgconn.PgError{Code: "23505"}), false, false},
		{sqlstore.Postgres, errors.Join(errors.New("x"), &pgconn.PgError{Code: "23505"}), true, false},
	}
	for _, c := range cases {
		if got := c.d.IsUnique(c.err); got != c.unique {
			t.Errorf("%v IsUnique(%v) = %v, want %v", c.d, c.err, got, c.unique)
		}
		if got := c.d.IsUnavailable(c.err); got != c.unavailable {
			t.Errorf("%v IsUnavailable(%v) = %v, want %v", c.d, c.err, got, c.unavailable)
		}
	}
	for _, c := range []struct {
		d    sqlstore.Dialect
		err  error
		want bool
	}{
		{sqlstore.Postgres, pg("23503"), true},
		{sqlstore.Postgres, pg("23505"), false},
		{sqlstore.MySQL, my(1452), true},
		{sqlstore.MySQL, my(1216), true},
		{sqlstore.MySQL, my(1451), false}, // deleting a parent that has children
		{sqlstore.MySQL, my(1062), false},
		{sqlstore.Postgres, my(1452), false},
	} {
		if got := c.d.IsForeignKey(c.err); got != c.want {
			t.Errorf("%v IsForeignKey(%v) = %v, want %v", c.d, c.err, got, c.want)
		}
	}
}

// TestNotMigrated: a Store used before Migrate, or after an upgrade of
// this package without Migrate, fails every call with ErrNotMigrated, whose
// text says what to do, and not with ErrUnavailable: the database answered.
func TestNotMigrated(t *testing.T) {
	// Migrate itself would create the tables; hide it.
	type noMigrate struct {
		auth.UserStore
		auth.SessionStore
	}
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		t.Run("NoTables", func(t *testing.T) {
			s, err := sqlstore.New(tdb.db, sqlstore.WithTablePrefix(uniquePrefix()))
			if err != nil {
				t.Fatal(err)
			}
			for op, err := range callAll(noMigrate{s, s}, context.Background()) {
				if !errors.Is(err, sqlstore.ErrNotMigrated) || errors.Is(err, auth.ErrUnavailable) {
					t.Errorf("%s without tables = %v, want ErrNotMigrated and not ErrUnavailable", op, err)
				} else if !strings.Contains(err.Error(), "call (*sqlstore.Store).Migrate") {
					t.Errorf("%s = %q, want it to say to call Migrate", op, err)
				}
			}
		})
		t.Run("Version2", func(t *testing.T) {
			prefix := uniquePrefix()
			s, err := sqlstore.New(tdb.db, sqlstore.WithTablePrefix(prefix))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.MigrateTo(context.Background(), 2); err != nil {
				t.Fatal(err)
			}
			// The session calls that read or write the new columns.
			u := testUser("v2")
			if err := createOldUser(t, tdb.db, tdb.dialect, prefix+"users", u); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			sess := testSession(u.ID)
			for op, err := range map[string]error{
				"CreateSession": s.CreateSession(ctx, sess),
				"RotateSession": s.RotateSession(ctx, sess.ID, sess.CurrentJTI, "next", when, "ua", "ip"),
				"UseGrace":      s.UseGrace(ctx, sess.ID, "previous", 5),
			} {
				if !errors.Is(err, sqlstore.ErrNotMigrated) || errors.Is(err, auth.ErrUnavailable) {
					t.Errorf("%s on a version 2 schema = %v, want ErrNotMigrated", op, err)
				}
			}
			_, err = s.Session(ctx, sess.ID)
			if !errors.Is(err, sqlstore.ErrNotMigrated) {
				t.Errorf("Session on a version 2 schema = %v, want ErrNotMigrated", err)
			}
		})
	})
}

// TestNotMigratedIsLogged: an application that forgot Migrate gets a 500
// whose log line says to call it, not a bare 500 with nothing logged.
func TestNotMigratedIsLogged(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		s, err := sqlstore.New(tdb.db, sqlstore.WithTablePrefix(uniquePrefix()))
		if err != nil {
			t.Fatal(err)
		}
		var logged bytes.Buffer
		a, err := auth.New(s, auth.WithSecret([]byte("a-sqlstore-test-secret-4e9b2c71d05f8a36")), auth.WithInsecureFastHashingForTests(),
			auth.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/auth/register", strings.NewReader(`{"username":"alice","password":"a-long-password-1"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusInternalServerError {
			t.Fatalf("status %d, want 500", rec.Code)
		}
		if got := logged.String(); !strings.Contains(got, "level=ERROR") || !strings.Contains(got, "Migrate") {
			t.Fatalf("log = %q, want an error that says to call Migrate", got)
		}
		if strings.Contains(rec.Body.String(), "Migrate") {
			t.Fatalf("the client was told about the database: %s", rec.Body)
		}
	})
}
