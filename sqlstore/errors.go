package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/auth"
)

// Errors of this package. Neither wraps [auth.ErrUnavailable]: both are
// configuration problems that waiting will not fix, so the handlers answer
// 500 and log them.
var (
	// ErrNotMigrated is wrapped by the error of a Store call that found its
	// tables missing or older than this package: the schema was not
	// created or not upgraded. Call [Store.Migrate] at start-up (or apply
	// the files from [Migrations] with your migration tool).
	ErrNotMigrated = errors.New("sqlstore: the tables are missing or out of date: call (*sqlstore.Store).Migrate before using the Store (or apply sqlstore.Migrations with your migration tool)")

	// ErrCannotOpen is wrapped by the error of [OpenSQLite], and of a Store
	// call on SQLite, when the database file cannot be opened or created:
	// its directory does not exist or is not writable, or the path names a
	// directory.
	ErrCannotOpen = errors.New("sqlstore: cannot open SQLite database")
)

// Errors are classified by type, code and identity, never by message text,
// and without importing a driver: each driver's error type is reached
// through a method or field it is known to have.

// sqlStateError is implemented by pgx's *pgconn.PgError (and lib/pq's *Error).
type sqlStateError interface{ SQLState() string }

// sqliteCodeError is implemented by modernc.org/sqlite's *Error. Code is an
// extended result code; its low byte is the primary code.
type sqliteCodeError interface{ Code() int }

type timeoutError interface{ Timeout() bool }

// errDBClosed is database/sql's unexported "database is closed" error,
// taken once from a closed *sql.DB so that it is matched by identity.
var errDBClosed = func() error {
	db := sql.OpenDB(nopConnector{})
	db.Close()
	return db.PingContext(context.Background())
}()

type nopConnector struct{}

func (nopConnector) Connect(context.Context) (driver.Conn, error) { return nil, driver.ErrBadConn }
func (nopConnector) Driver() driver.Driver                        { return nopDriver{} }

type nopDriver struct{}

func (nopDriver) Open(string) (driver.Conn, error) { return nil, driver.ErrBadConn }

// SQLite primary result codes that mean the database cannot serve now.
const (
	sqliteBusy       = 5
	sqliteLocked     = 6
	sqliteIOErr      = 10
	sqliteError      = 1 // the generic SQLITE_ERROR, which "no such table" is
	sqliteFull       = 13
	sqliteCantOpen   = 14
	sqliteProtocol   = 15
	sqliteNotADB     = 26
	sqliteUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE
	sqlitePrimary    = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteForeignKey = 787  // SQLITE_CONSTRAINT_FOREIGNKEY
	mysqlDupEntry    = 1062
	mysqlDupKeyName  = 1586
	mysqlNoParent    = 1452 // ER_NO_REFERENCED_ROW_2
	mysqlNoParentOld = 1216 // ER_NO_REFERENCED_ROW
	mysqlNoTable     = 1146 // ER_NO_SUCH_TABLE
	mysqlNoColumn    = 1054 // ER_BAD_FIELD_ERROR
	pgNoTable        = "42P01"
	pgNoColumn       = "42703"
)

// mysqlUnavailable lists MySQL/MariaDB error numbers that mean "try again
// later": too many connections, shutdown, lock wait timeout, deadlock,
// interrupted or killed queries, statement timeouts, read-only server.
var mysqlUnavailable = map[uint16]bool{
	1040: true, 1053: true, 1205: true, 1213: true, 1290: true, 1317: true,
	1836: true, 1927: true, 1969: true, 3024: true,
}

// pgUnavailable reports whether a PostgreSQL SQLSTATE means "try again
// later": connection exceptions (08), insufficient resources (53),
// operator intervention (57: shutdown, statement timeout, cannot connect
// now), serialization failures and deadlocks (40001, 40P01), lock timeouts
// (55P03), system errors (58) and writes sent to a read-only standby (25006).
func pgUnavailable(state string) bool {
	switch {
	case strings.HasPrefix(state, "08"), strings.HasPrefix(state, "53"),
		strings.HasPrefix(state, "57"), strings.HasPrefix(state, "58"):
		return true
	}
	switch state {
	case "40001", "40P01", "55P03", "25006":
		return true
	}
	return false
}

// mysqlNumber returns the Number of a go-sql-driver *MySQLError in err's
// chain. That type has no method for it, so the field is read by reflection.
func mysqlNumber(err error) (uint16, bool) {
	var n uint16
	found := walk(err, func(e error) bool {
		v := reflect.ValueOf(e)
		if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return false
		}
		if v.Elem().Type().Name() != "MySQLError" {
			return false
		}
		f := v.Elem().FieldByName("Number")
		if !f.IsValid() || f.Kind() != reflect.Uint16 {
			return false
		}
		n = uint16(f.Uint())
		return true
	})
	return n, found
}

// walk calls fn on err and everything it wraps until fn returns true.
func walk(err error, fn func(error) bool) bool {
	for err != nil {
		if fn(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if walk(e, fn) {
					return true
				}
			}
			return false
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		default:
			return false
		}
	}
	return false
}

// isUnique reports whether err is a violation of the username's UNIQUE
// constraint or of the primary key.
func (d Dialect) isUnique(err error) bool {
	switch d {
	case Postgres:
		var e sqlStateError
		return errors.As(err, &e) && e.SQLState() == "23505"
	case SQLite:
		var e sqliteCodeError
		return errors.As(err, &e) && (e.Code() == sqliteUnique || e.Code() == sqlitePrimary)
	case MySQL:
		n, ok := mysqlNumber(err)
		return ok && (n == mysqlDupEntry || n == mysqlDupKeyName)
	}
	return false
}

// isForeignKey reports whether err is a violation of a foreign key: a
// session inserted for a user that does not exist.
func (d Dialect) isForeignKey(err error) bool {
	switch d {
	case Postgres:
		var e sqlStateError
		return errors.As(err, &e) && e.SQLState() == "23503"
	case SQLite:
		var e sqliteCodeError
		return errors.As(err, &e) && e.Code() == sqliteForeignKey
	case MySQL:
		n, ok := mysqlNumber(err)
		return ok && (n == mysqlNoParent || n == mysqlNoParentOld)
	}
	return false
}

// isSerializationFailure reports whether err is PostgreSQL's "could not
// serialize access", which a statement gets at REPEATABLE READ or
// SERIALIZABLE when a concurrent transaction changed its row.
func (d Dialect) isSerializationFailure(err error) bool {
	var e sqlStateError
	return d == Postgres && errors.As(err, &e) && e.SQLState() == "40001"
}

// isUnavailable reports whether err means that the database cannot serve
// now: it is down, unreachable, closed, overloaded, locked or timed out.
func (d Dialect) isUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, errDBClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	// Any failure to dial, resolve, read or write; not net.Error, which
	// every syscall.Errno satisfies.
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) {
		return true
	}
	for _, errno := range connErrnos {
		if errors.Is(err, errno) {
			return true
		}
	}
	var te timeoutError
	if errors.As(err, &te) && te.Timeout() {
		return true
	}
	switch d {
	case Postgres:
		var e sqlStateError
		return errors.As(err, &e) && pgUnavailable(e.SQLState())
	case SQLite:
		var e sqliteCodeError
		if errors.As(err, &e) {
			switch e.Code() & 0xff {
			case sqliteBusy, sqliteLocked, sqliteIOErr, sqliteFull, sqliteProtocol:
				return true
			}
		}
	case MySQL:
		n, ok := mysqlNumber(err)
		return ok && mysqlUnavailable[n]
	}
	return false
}

// sqliteCode returns the primary result code of a SQLite error in err's
// chain, or 0.
func sqliteCode(err error) int {
	var e sqliteCodeError
	if !errors.As(err, &e) {
		return 0
	}
	return e.Code() & 0xff
}

// isCannotOpen reports whether err is SQLite's SQLITE_CANTOPEN: the file or
// its directory is missing or not writable.
func (d Dialect) isCannotOpen(err error) bool {
	return d == SQLite && sqliteCode(err) == sqliteCantOpen
}

// isUndefined reports whether err says that a table or a column does not
// exist: PostgreSQL 42P01 or 42703, MySQL 1146 or 1054. SQLite reports
// both as the generic SQLITE_ERROR; see [Store.schemaMissing].
func (d Dialect) isUndefined(err error) bool {
	switch d {
	case Postgres:
		var e sqlStateError
		return errors.As(err, &e) && (e.SQLState() == pgNoTable || e.SQLState() == pgNoColumn)
	case MySQL:
		n, ok := mysqlNumber(err)
		return ok && (n == mysqlNoTable || n == mysqlNoColumn)
	}
	return false
}

var connErrnos = []error{
	syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
	syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH,
}

// probeTimeout bounds the ping that classifies an otherwise unknown error.
const probeTimeout = 2 * time.Second

// fail wraps a failed operation's error for the caller:
//   - a context canceled by the caller stays context.Canceled;
//   - an error meaning the database cannot serve now wraps
//     [auth.ErrUnavailable], as does a caller's deadline that ran out;
//   - a missing table or column wraps [ErrNotMigrated], and a SQLite file
//     that cannot be opened [ErrCannotOpen];
//   - anything else is returned as is, wrapped.
//
// The driver's error is always kept in the chain for the application's logs.
// An error of no known kind is followed by a ping: when the database cannot
// be reached either, it is unavailable (a connection that broke mid-query
// surfaces as a driver-specific error of no particular type).
func (s *Store) fail(ctx context.Context, op string, err error) error {
	return s.classify(ctx, op, err, true)
}

// classify is fail; schema says whether a missing table or column means
// that Migrate has not run (not so for Migrate's own errors).
func (s *Store) classify(ctx context.Context, op string, err error, schema bool) error {
	switch cerr := ctx.Err(); {
	case errors.Is(cerr, context.Canceled):
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("sqlstore: %s: %w", op, err)
		}
		return fmt.Errorf("sqlstore: %s: %w: %w", op, context.Canceled, err)
	case cerr != nil:
		if errors.Is(err, cerr) {
			return fmt.Errorf("sqlstore: %s: %w: %w", op, auth.ErrUnavailable, err)
		}
		return fmt.Errorf("sqlstore: %s: %w: %w: %w", op, auth.ErrUnavailable, cerr, err)
	}
	if errors.Is(err, auth.ErrUnavailable) {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	if s.dialect.isCannotOpen(err) {
		return fmt.Errorf("sqlstore: %s: %w: check the file's path and its directory's permissions: %w", op, ErrCannotOpen, err)
	}
	if schema && (s.dialect.isUndefined(err) || s.schemaMissing(ctx, err)) {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, ErrNotMigrated, err)
	}
	if s.dialect.isUnavailable(err) || s.unreachable(ctx) {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, auth.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// schemaMissing reports, for SQLite's generic SQLITE_ERROR, whether the
// Store's tables lack a table or a column it uses. SQLite tells "no such
// table" only in its message text, so the tables are probed instead.
func (s *Store) schemaMissing(ctx context.Context, err error) bool {
	var e sqliteCodeError
	if s.dialect != SQLite || !errors.As(err, &e) || e.Code() != sqliteError {
		return false
	}
	for _, probe := range []string{
		"SELECT " + userColumns + " FROM " + s.users + " WHERE 1 = 0",
		"SELECT " + sessionColumns + " FROM " + s.sessions + " WHERE 1 = 0",
	} {
		_, perr := s.db.ExecContext(ctx, probe)
		if errors.As(perr, &e) && e.Code() == sqliteError {
			return true
		}
	}
	return false
}

// unreachable pings the database and reports whether that fails as
// unavailable.
func (s *Store) unreachable(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	err := s.db.PingContext(ctx)
	return err != nil && (s.dialect.isUnavailable(err) || ctx.Err() != nil)
}
