package sqlstore

import (
	"fmt"
	"regexp"
	"time"
)

// Option configures a [Store]. Options are applied in order by [New]; a
// later option overrides an earlier one.
type Option func(*config)

type config struct {
	dialect Dialect
	names   TableNames
	err     error

	pruneBatch int
	prunePause time.Duration
}

// TableNames names the tables of a [Store]; see [WithTableNames].
type TableNames struct {
	// Users holds the users. Defaults to "gatehouse_users".
	Users string
	// Sessions holds the sessions (refresh-token families) of
	// [auth.SessionStore]. Defaults to "gatehouse_sessions".
	Sessions string
	// Migrations records the schema versions [Store.Migrate] applied.
	// Defaults to "gatehouse_schema_migrations".
	Migrations string
}

// Default table names. The prefix keeps Gatehouse's tables apart from an
// application's own "users" table in a shared database.
const (
	defaultPrefix = "gatehouse_"
	usersBase     = "users"
	sessionsBase  = "sessions"
	versionsBase  = "schema_migrations"
)

// maxIdentLen is the shortest identifier limit of the three dialects
// (PostgreSQL truncates names at 63 bytes; MySQL allows 64).
const maxIdentLen = 63

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func prefixed(prefix string) TableNames {
	return TableNames{Users: prefix + usersBase, Sessions: prefix + sessionsBase, Migrations: prefix + versionsBase}
}

func defaultConfig() config {
	return config{names: prefixed(defaultPrefix)}
}

// WithDialect sets the SQL dialect. Defaults to the dialect detected from the
// driver of the *sql.DB: modernc.org/sqlite, github.com/jackc/pgx (stdlib)
// and github.com/go-sql-driver/mysql are recognized. Other drivers need this
// option, and must report errors the way the tested drivers do (see the
// package documentation).
func WithDialect(d Dialect) Option {
	return func(c *config) {
		if d != SQLite && d != Postgres && d != MySQL {
			c.err = fmt.Errorf("sqlstore: unknown dialect %d", int(d))
			return
		}
		c.dialect = d
	}
}

// WithTablePrefix names the tables prefix+"users", prefix+"sessions" and
// prefix+"schema_migrations". Defaults to "gatehouse_". The prefix may be
// empty; otherwise it must be an SQL identifier of ASCII letters, digits and
// underscores, not starting with a digit. The SQL files from [Migrations]
// always use the default names.
func WithTablePrefix(prefix string) Option {
	return func(c *config) {
		if prefix != "" && !identRE.MatchString(prefix) {
			c.err = fmt.Errorf("sqlstore: table prefix %q: want ASCII letters, digits and underscores, not starting with a digit", prefix)
			return
		}
		c.setNames(prefixed(prefix))
	}
}

// WithTableNames names every table outright. Defaults to "gatehouse_users",
// "gatehouse_sessions" and "gatehouse_schema_migrations". Each name must be
// an SQL identifier of at most 63 ASCII letters, digits and underscores, not
// starting with a digit, and the names must differ.
//
// Every field is required, so that a Store never falls back to a default
// name that another Store in the same database may be using.
func WithTableNames(names TableNames) Option {
	return func(c *config) { c.setNames(names) }
}

func (c *config) setNames(n TableNames) {
	for _, name := range []string{n.Users, n.Sessions, n.Migrations} {
		if !identRE.MatchString(name) || len(name) > maxIdentLen {
			c.err = fmt.Errorf("sqlstore: table name %q: want at most %d ASCII letters, digits and underscores, not starting with a digit", name, maxIdentLen)
			return
		}
	}
	if n.Users == n.Sessions || n.Users == n.Migrations || n.Sessions == n.Migrations {
		c.err = fmt.Errorf("sqlstore: table names %q, %q and %q: want three different names", n.Users, n.Sessions, n.Migrations)
		return
	}
	c.names = n
}

// Defaults of [WithPruneBatch]. SQLite's are smaller: a writer waiting for
// SQLite's lock polls for it, at most 25 ms apart for its first 100 ms, so
// a short batch and a pause longer than that let every waiting write in
// between two batches. PostgreSQL and MySQL queue lock waiters, and a
// prune's batch locks only the rows it deletes there.
const (
	// DefaultPruneBatch is how many sessions one DELETE of
	// [Store.DeleteSessions] removes at most, on PostgreSQL and MySQL.
	DefaultPruneBatch = 1000
	// DefaultPrunePause is the pause between two such DELETEs.
	DefaultPrunePause = 20 * time.Millisecond
	// DefaultSQLitePruneBatch is DefaultPruneBatch on SQLite.
	DefaultSQLitePruneBatch = 500
	// DefaultSQLitePrunePause is DefaultPrunePause on SQLite.
	DefaultSQLitePrunePause = 50 * time.Millisecond
)

// Bounds of [WithPruneBatch].
const (
	maxPruneBatch = 100_000
	maxPrunePause = time.Minute
)

// WithPruneBatch sets how [Store.DeleteSessions] prunes, and its siblings
// [Store.DeleteExpiredOneTimeTokens], [Store.DeleteAudit] and
// [Store.DeleteNonces]: each deletes at most
// size rows per statement, each its own short transaction, and waits
// pause between statements, so that logins and refreshes that need the
// table's write lock (SQLite) or locks next to the deleted rows (MySQL's
// gap locks) get them between batches instead of waiting for the whole
// prune. Defaults to 500 rows and 50 ms on SQLite
// ([DefaultSQLitePruneBatch], [DefaultSQLitePrunePause]) and 1000 rows
// and 20 ms on PostgreSQL and MySQL ([DefaultPruneBatch],
// [DefaultPrunePause]); with them no concurrent refresh waited 100 ms for
// a lock in our tests. Among 10 million sessions, with the workload of
// BENCHMARKS.md running, they removed about 18 600 expired sessions a
// second on PostgreSQL, 5 000 on SQLite and 2 100 on MariaDB with a 128
// MiB buffer pool: 5 million take 4.5, 17 and 40 minutes. size must be
// between 1 and 100000, and pause between 0 and one minute.
func WithPruneBatch(size int, pause time.Duration) Option {
	return func(c *config) {
		if size < 1 || size > maxPruneBatch {
			c.err = fmt.Errorf("sqlstore: prune batch size %d: want 1 to %d", size, maxPruneBatch)
			return
		}
		if pause < 0 || pause > maxPrunePause {
			c.err = fmt.Errorf("sqlstore: prune pause %v: want 0 to %v", pause, maxPrunePause)
			return
		}
		c.pruneBatch, c.prunePause = size, pause
	}
}
