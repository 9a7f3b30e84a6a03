package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatehouse/auth"
)

// SQLiteDSN returns a modernc.org/sqlite data source name for the database
// file at path, with the settings Gatehouse recommends:
//
//   - busy_timeout(5000): wait up to 5 s for a lock instead of failing at
//     once. It comes first so that the settings below wait too.
//   - journal_mode(WAL): readers and the one writer do not block each other.
//   - synchronous(FULL): every commit is synced to disk. NORMAL would be
//     enough to survive a killed process, but in WAL mode it can lose the
//     last commits on power loss or an OS crash, and losing a password
//     change or a disabled flag reopens the account to the old password or
//     the old tokens. Auth writes are few and argon2 costs far more than a
//     sync, so FULL is cheap here.
//   - foreign_keys(1): enforce references, for application tables that
//     point at users.
//   - _txlock=immediate: transactions begun through database/sql take the
//     write lock at BEGIN. A deferred transaction that reads and then
//     writes can fail with SQLITE_BUSY at once, without waiting, when
//     another connection wrote in between.
//
// The path is a file name, relative or absolute; characters that are
// special in a URI are escaped. Open it with
//
//	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN("auth.db"))
//
// See the package documentation for connection pool settings.
func SQLiteDSN(path string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + esc +
		"?_pragma=busy_timeout(5000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(1)" +
		"&_txlock=immediate"
}

// sqliteMaxOpenConns is the pool limit [OpenSQLite] sets; see the package
// documentation.
const sqliteMaxOpenConns = 4

// OpenSQLite opens the SQLite database file at path with [SQLiteDSN]'s
// settings, creating the file if it does not exist, limits the pool to 4
// connections as the package documentation recommends (change it with
// db.SetMaxOpenConns), and checks that the file can be opened. It needs the
// modernc.org/sqlite driver registered: import it for its side effect,
//
//	import _ "modernc.org/sqlite"
//
// A file that cannot be opened or created is a configuration problem, not
// an outage: the error wraps [ErrCannotOpen], not [auth.ErrUnavailable],
// and names the path and the reason, such as
//
//	sqlstore: cannot open SQLite database "/no/such/dir/auth.db": directory does not exist (check the path)
func OpenSQLite(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: empty path (check the configuration)", ErrCannotOpen)
	}
	cannot := func(why string, err error) error {
		if err == nil {
			return fmt.Errorf("%w %q: %s", ErrCannotOpen, path, why)
		}
		return fmt.Errorf("%w %q: %s: %w", ErrCannotOpen, path, why, err)
	}
	dir := filepath.Dir(path)
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		return nil, cannot("directory does not exist (check the path)", nil)
	case err != nil:
		return nil, cannot("directory cannot be read (check its permissions)", err)
	case !fi.IsDir():
		return nil, cannot(fmt.Sprintf("%q is not a directory (check the path)", dir), nil)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, cannot("it is a directory (check the path)", nil)
	}
	db, err := sql.Open("sqlite", SQLiteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open SQLite database %q (is modernc.org/sqlite imported?): %w", path, err)
	}
	db.SetMaxOpenConns(sqliteMaxOpenConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		switch {
		case SQLite.isCannotOpen(err):
			why := "cannot create the file (check that its directory is writable)"
			if _, serr := os.Stat(path); serr == nil {
				why = "cannot open the file (check its permissions and its directory's)"
			}
			return nil, cannot(why, err)
		case sqliteCode(err) == sqliteNotADB:
			return nil, cannot("the file is not a SQLite database (check the path)", err)
		case errors.Is(ctx.Err(), context.Canceled):
			return nil, fmt.Errorf("sqlstore: open SQLite database %q: %w: %w", path, context.Canceled, err)
		case ctx.Err() != nil || SQLite.isUnavailable(err):
			return nil, fmt.Errorf("sqlstore: open SQLite database %q: %w: %w", path, auth.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("sqlstore: open SQLite database %q: %w", path, err)
	}
	return db, nil
}
