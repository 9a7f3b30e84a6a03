package sqlstore_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
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

// TestMissingTableIsNotUnavailable: a Store used before Migrate fails with
// an ordinary error, not ErrUnavailable: the database answered.
func TestMissingTableIsNotUnavailable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		s, err := sqlstore.New(tdb.db)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.UserByID(context.Background(), "1")
		if err == nil || errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("UserByID without tables = %v, want a plain error", err)
		}
	})
}
