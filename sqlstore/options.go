package sqlstore

import (
	"fmt"
	"regexp"
)

// Option configures a [Store]. Options are applied in order by [New]; a
// later option overrides an earlier one.
type Option func(*config)

type config struct {
	dialect    Dialect
	users      string
	migrations string
	err        error
}

// Default table names. The prefix keeps Gatehouse's tables apart from an
// application's own "users" table in a shared database.
const (
	defaultPrefix = "gatehouse_"
	usersBase     = "users"
	versionsBase  = "schema_migrations"
)

// maxIdentLen is the shortest identifier limit of the three dialects
// (PostgreSQL truncates names at 63 bytes; MySQL allows 64).
const maxIdentLen = 63

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func defaultConfig() config {
	return config{users: defaultPrefix + usersBase, migrations: defaultPrefix + versionsBase}
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

// WithTablePrefix names the tables prefix+"users" and
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
		c.setNames(prefix+usersBase, prefix+versionsBase)
	}
}

// WithTableNames sets the names of the users table and of the table that
// records applied migrations. Defaults to "gatehouse_users" and
// "gatehouse_schema_migrations". Each must be an SQL identifier of at most 63
// ASCII letters, digits and underscores, not starting with a digit, and the
// two must differ.
func WithTableNames(users, migrations string) Option {
	return func(c *config) { c.setNames(users, migrations) }
}

func (c *config) setNames(users, migrations string) {
	for _, n := range []string{users, migrations} {
		if !identRE.MatchString(n) || len(n) > maxIdentLen {
			c.err = fmt.Errorf("sqlstore: table name %q: want at most %d ASCII letters, digits and underscores, not starting with a digit", n, maxIdentLen)
			return
		}
	}
	if users == migrations {
		c.err = fmt.Errorf("sqlstore: the users and migrations tables are both named %q", users)
		return
	}
	c.users, c.migrations = users, migrations
}
