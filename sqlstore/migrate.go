package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/auth"
)

//go:embed migrations
var migrationFiles embed.FS

// schemaName matches a name in the migration files: a table under its
// default name, or a name derived from one (an index, a constraint) with a
// suffix. Migrate replaces them with the configured names.
var schemaName = regexp.MustCompile(`\bgatehouse_(users|sessions)(\w*)`)

// rename puts the configured table names into a statement from the
// migration files, quoted.
func (s *Store) rename(stmt string) string {
	return schemaName.ReplaceAllStringFunc(stmt, func(m string) string {
		sub := schemaName.FindStringSubmatch(m)
		table := s.names.Users
		if sub[1] == sessionsBase {
			table = s.names.Sessions
		}
		return s.dialect.quote(derivedName(table, sub[2]))
	})
}

// derivedName names an index or constraint of table by its suffix, as the
// migration files do for the default names. PostgreSQL and SQLite keep
// index names per schema, and MySQL constraint names per database, so the
// name carries the table's. A name that would be too long is cut and made
// unique again by a hash of the table name.
func derivedName(table, suffix string) string {
	if len(table)+len(suffix) <= maxIdentLen {
		return table + suffix
	}
	h := fnv.New32a()
	h.Write([]byte(table))
	tag := fmt.Sprintf("_%08x", h.Sum32())
	return table[:maxIdentLen-len(suffix)-len(tag)] + tag + suffix
}

// Migrations returns the schema as SQL files, for teams that manage their
// schema with a migration tool instead of [Store.Migrate]:
//
//	sqlite/0001_create_users.up.sql         golang-migrate layout, one
//	sqlite/0001_create_users.down.sql       directory per dialect ("sqlite",
//	sqlite/0002_create_sessions.up.sql      "postgres", "mysql", as
//	sqlite/0002_create_sessions.down.sql    Dialect.String)
//	sqlite/0003_add_session_grace.up.sql
//	sqlite/0003_add_session_grace.down.sql
//	sqlite/0004_add_session_dpop.up.sql
//	sqlite/0004_add_session_dpop.down.sql
//	sqlite/0010_add_session_user_live_index.up.sql
//	sqlite/0010_add_session_user_live_index.down.sql
//	postgres/...
//	mysql/...
//	goose/sqlite/0001_create_users.sql      goose layout, the same statements
//	goose/sqlite/0002_create_sessions.sql   with goose's annotations
//	goose/sqlite/0003_add_session_grace.sql
//	goose/sqlite/0004_add_session_dpop.sql
//	goose/sqlite/0010_add_session_user_live_index.sql
//	goose/postgres/...
//	goose/mysql/...
//
// For example, with golang-migrate's iofs source:
//
//	src, err := iofs.New(sqlstore.Migrations(), "postgres")
//	m, err := migrate.NewWithSourceInstance("iofs", src, databaseURL)
//
// and with goose:
//
//	goose.SetBaseFS(sqlstore.Migrations())
//	err := goose.Up(db, "goose/postgres")
//
// The files create the default table names, gatehouse_users and
// gatehouse_sessions, and name indexes and constraints after them; a table
// prefix or names set with [WithTablePrefix] or [WithTableNames] apply only
// to [Store.Migrate], so edit copies of the files to match (replace every
// "gatehouse_users" and "gatehouse_sessions", including the index and
// constraint names that start with them). The tools keep
// their own version tables; gatehouse_schema_migrations is Migrate's only.
// Migrate accepts a database that a tool set up: the CREATE statements say
// IF NOT EXISTS, and Migrate skips a column that a step would add when the
// table has it already (SQLite and MySQL have no ADD COLUMN IF NOT EXISTS).
// The other way round, a tool starting from scratch on a database Migrate
// set up runs the ADD COLUMN steps again, which fails on SQLite and MySQL;
// mark those versions as applied in the tool instead.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

type migration struct {
	version int64
	stmts   []string
}

// loadMigrations reads the dialect's up files in version order.
func loadMigrations(d Dialect) ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := migrationFiles.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations for %s: %w", d, err)
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".up.sql") {
			continue
		}
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: migration file %s: no version number", name)
		}
		body, err := migrationFiles.ReadFile(path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, stmts: splitStatements(string(body))})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// splitStatements splits a migration file into statements at lines ending
// in a semicolon, so that no driver needs multi-statement support. Parts
// that hold only comments are dropped.
func splitStatements(text string) []string {
	var stmts []string
	var cur strings.Builder
	flush := func() {
		stmt := strings.TrimSpace(cur.String())
		cur.Reset()
		for _, line := range strings.Split(stmt, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
				stmts = append(stmts, strings.TrimSuffix(stmt, ";"))
				return
			}
		}
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		cur.WriteString(line)
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			flush()
		}
	}
	flush()
	return stmts
}

// Migrate creates or upgrades the schema to the version this package needs.
// It is idempotent, and safe to run from several processes at once: the
// first takes a lock and migrates, the others wait for it and then find
// nothing to do.
//
//   - SQLite: all pending steps run in one BEGIN IMMEDIATE transaction; the
//     others wait for the busy timeout (see [SQLiteDSN]).
//   - PostgreSQL: all pending steps run in one transaction holding a
//     transaction-level advisory lock keyed by the users table's name. A
//     failure leaves the schema as it was.
//   - MySQL/MariaDB: GET_LOCK serializes runners. DDL commits implicitly
//     there, so a failure can leave a step half done; every step is
//     idempotent, so running Migrate again completes it.
//
// Applied versions are recorded in the migrations table (by default
// gatehouse_schema_migrations). A database already at a newer version than
// this package knows is left alone, so older and newer instances can run
// side by side during a rolling deploy.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.dialect)
	if err != nil {
		return err
	}
	return s.migrate(ctx, ms)
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) migrate(ctx context.Context, ms []migration) error {
	var err error
	switch s.dialect {
	case SQLite:
		err = s.migrateSQLite(ctx, ms)
	case Postgres:
		err = s.migratePostgres(ctx, ms)
	case MySQL:
		err = s.migrateMySQL(ctx, ms)
	}
	if err != nil {
		return s.classify(ctx, "migrate", err, false)
	}
	return nil
}

func (s *Store) migrateSQLite(ctx context.Context, ms []migration) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// database/sql's BeginTx would start a DEFERRED transaction unless the
	// DSN says otherwise; IMMEDIATE takes the write lock up front.
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		end := "COMMIT"
		if err != nil {
			end = "ROLLBACK"
		}
		if _, e := conn.ExecContext(context.WithoutCancel(ctx), end); e != nil {
			discard(conn)
			if err == nil {
				err = e
			}
		}
	}()
	return s.apply(ctx, conn, ms)
}

func (s *Store) migratePostgres(ctx context.Context, ms []migration) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockKey()); err != nil {
		return err
	}
	if err := s.apply(ctx, tx, ms); err != nil {
		return err
	}
	return tx.Commit()
}

// mysqlLockWait bounds the wait for another instance's migration, unless
// the context's deadline is sooner.
const mysqlLockWait = 60 * time.Second

func (s *Store) migrateMySQL(ctx context.Context, ms []migration) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var dbName string
	if err := conn.QueryRowContext(ctx, "SELECT COALESCE(DATABASE(), '')").Scan(&dbName); err != nil {
		return err
	}
	// Lock names are server-wide, at most 64 characters.
	name := fmt.Sprintf("gatehouse_migrate_%016x", uint64(lockHash(dbName+"."+s.names.Users)))
	wait := mysqlLockWait
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = max(time.Until(dl), 0) // a negative timeout would wait forever
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, math.Ceil(wait.Seconds())).Scan(&got); err != nil {
		return err
	}
	if !got.Valid || got.Int64 != 1 {
		return fmt.Errorf("%w: another instance holds the migration lock %s", auth.ErrUnavailable, name)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "DO RELEASE_LOCK(?)", name); err != nil {
			discard(conn) // closing the session releases the lock
		}
	}()
	return s.apply(ctx, conn, ms)
}

// discard makes database/sql close conn instead of returning it to the
// pool, for a connection left in an unknown state.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
}

func lockHash(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte("gatehouse/sqlstore:" + s))
	return int64(h.Sum64())
}

func (s *Store) lockKey() int64 { return lockHash(s.names.Users) }

// apply creates the migrations table and runs the steps not recorded there.
func (s *Store) apply(ctx context.Context, q querier, ms []migration) error {
	if _, err := q.ExecContext(ctx, s.versionsDDL()); err != nil {
		return err
	}
	applied, err := s.appliedVersions(ctx, q)
	if err != nil {
		return err
	}
	insert := s.dialect.rebind("INSERT INTO " + s.migrations + " (version) VALUES (?)")
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		for _, stmt := range m.stmts {
			done, err := s.stepDone(ctx, q, stmt)
			if err != nil {
				return fmt.Errorf("version %d: %w", m.version, err)
			}
			if done {
				continue
			}
			if _, err := q.ExecContext(ctx, s.rename(stmt)); err != nil {
				return fmt.Errorf("version %d: %w", m.version, err)
			}
		}
		if _, err := q.ExecContext(ctx, insert, m.version); err != nil {
			return fmt.Errorf("version %d: %w", m.version, err)
		}
	}
	return nil
}

// addColumn matches a migration statement that adds one column to one of
// the tables, once its comment lines are gone.
var addColumn = regexp.MustCompile(`(?i)^ALTER\s+TABLE\s+gatehouse_(users|sessions)\s+ADD\s+COLUMN\s+(\w+)\s`)

// stepDone reports whether a migration statement has nothing left to do:
// it adds a column that the table has (SQLite and MySQL have no ADD
// COLUMN IF NOT EXISTS), or, on MySQL, which has no CREATE INDEX IF NOT
// EXISTS, it creates an index that is there or drops one that is gone.
// This keeps such steps idempotent: it completes a MySQL step that DDL's
// implicit commits left half done, and accepts a database that a
// migration tool brought to the version already. PostgreSQL's files, and
// SQLite's index statements, say IF [NOT] EXISTS.
func (s *Store) stepDone(ctx context.Context, q querier, stmt string) (bool, error) {
	if s.dialect == Postgres {
		return false, nil
	}
	var code []string
	for _, line := range strings.Split(stmt, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
			code = append(code, l)
		}
	}
	text := strings.Join(code, " ") + " "
	if m := addColumn.FindStringSubmatch(text); m != nil {
		query := "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?"
		if s.dialect == MySQL {
			query = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?"
		}
		n, err := count(ctx, q, query, s.tableName(m[1]), m[2])
		return n > 0, err
	}
	if s.dialect != MySQL {
		return false, nil
	}
	create, drop := createIndex.FindStringSubmatch(text), dropIndex.FindStringSubmatch(text)
	m := create
	if m == nil {
		m = drop
	}
	if m == nil {
		return false, nil
	}
	n, err := count(ctx, q, "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?",
		s.tableName(m[3]), derivedName(s.tableName(m[1]), m[2]))
	if create != nil {
		return n > 0, err
	}
	return n == 0, err
}

// createIndex and dropIndex match a MySQL migration statement that
// creates or drops one index, once its comment lines are gone.
var (
	createIndex = regexp.MustCompile(`(?i)^CREATE\s+INDEX\s+gatehouse_(users|sessions)(\w*)\s+ON\s+gatehouse_(users|sessions)\s`)
	dropIndex   = regexp.MustCompile(`(?i)^DROP\s+INDEX\s+gatehouse_(users|sessions)(\w*)\s+ON\s+gatehouse_(users|sessions)\s`)
)

// tableName is the configured name of the table a migration file calls
// gatehouse_<base>.
func (s *Store) tableName(base string) string {
	if base == sessionsBase {
		return s.names.Sessions
	}
	return s.names.Users
}

// count runs a COUNT query.
func count(ctx context.Context, q querier, query string, args ...any) (int, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

func (s *Store) appliedVersions(ctx context.Context, q querier) (map[int64]bool, error) {
	rows, err := q.QueryContext(ctx, "SELECT version FROM "+s.migrations)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

func (s *Store) versionsDDL() string {
	t := s.migrations
	switch s.dialect {
	case Postgres:
		return "CREATE TABLE IF NOT EXISTS " + t + " (version BIGINT NOT NULL PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
	case MySQL:
		return "CREATE TABLE IF NOT EXISTS " + t + " (version BIGINT NOT NULL PRIMARY KEY, applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB"
	}
	return "CREATE TABLE IF NOT EXISTS " + t + " (version INTEGER NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
}
