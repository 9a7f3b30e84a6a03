// Package sqlstore is an [auth.UserStore] and [auth.SessionStore] on
// database/sql, for SQLite, PostgreSQL and MySQL/MariaDB. One implementation
// serves all three; the dialects differ only in placeholders, column types,
// error codes and the lock Migrate takes.
//
//	db, err := sqlstore.OpenSQLite(ctx, "auth.db") // with _ "modernc.org/sqlite" imported
//	...
//	store, err := sqlstore.New(db)
//	...
//	if err := store.Migrate(ctx); err != nil { ... }
//	a, err := auth.New(store, auth.WithSecret(secret))
//
// # Drivers
//
// You bring the driver; this package imports none. It is tested with
//
//   - modernc.org/sqlite (pure Go, no cgo), driver name "sqlite". Recommended
//     for a single machine, and what the example server uses.
//   - github.com/jackc/pgx/v5/stdlib, driver name "pgx".
//   - github.com/go-sql-driver/mysql against MariaDB, driver name "mysql".
//
// [New] recognizes these from db.Driver(). Another driver needs
// [WithDialect], and the Store can then classify its errors only if they look
// like the tested drivers' errors: a SQLState() string method for
// PostgreSQL (lib/pq has one), a Code() int method with SQLite's extended
// result codes, or go-sql-driver's *MySQLError.
//
// # Data source names
//
// SQLite: use [OpenSQLite], or [SQLiteDSN] with sql.Open; the DSN turns on WAL, a 5 s busy timeout,
// synchronous=FULL, foreign keys and immediate transactions; its
// documentation says why. Limit the pool with db.SetMaxOpenConns(4) or so:
// SQLite lets one connection write at a time, and a small pool makes
// requests queue in Go instead of polling the file lock, while WAL still
// lets the connections read in parallel. Avoid a single connection if your
// application holds transactions on the same *sql.DB while it calls the
// Authenticator: the store would wait for the connection the transaction
// holds. With synchronous=FULL a commit survives a killed process and a
// power loss; this is tested by killing a process with SIGKILL while it
// registers users.
//
// PostgreSQL: a pgx URL, such as
// postgres://gatehouse:secret@db:5432/app?sslmode=verify-full. Parameters
// that pgx does not know are sent as run-time settings: add
// search_path=myschema to keep the tables in a schema, and lock_timeout=5000
// (milliseconds) so that a write stuck behind a lock fails as unavailable
// instead of waiting for the request's deadline.
//
// MySQL and MariaDB: go-sql-driver's format,
// user:secret@tcp(db:3306)/app?parseTime=true&innodb_lock_wait_timeout=5.
// Leave loc at its default, UTC. Without parseTime the Store still reads
// DATETIME text as UTC. innodb_lock_wait_timeout (seconds; the server's
// default is 50) bounds how long a write waits for a lock. The server must
// run in strict mode (the default since MySQL 5.7 and MariaDB 10.2), so that
// an over-long value is an error rather than silently cut. MySQL 5.7 or
// MariaDB 10.3 or later is needed.
//
// # Schema
//
// [Store.Migrate] creates three tables: gatehouse_users,
// gatehouse_sessions and gatehouse_schema_migrations. The users table has
//
//	column         SQLite   PostgreSQL        MySQL/MariaDB
//	id             TEXT     TEXT COLLATE "C"  VARBINARY(255)   primary key
//	username       TEXT     TEXT COLLATE "C"  VARBINARY(1020)  unique
//	password_hash  TEXT     TEXT              VARBINARY(1024)
//	disabled       INTEGER  BOOLEAN           BOOLEAN
//	token_version  INTEGER  BIGINT            BIGINT
//	created_at     TEXT     TIMESTAMPTZ       DATETIME(6)
//	updated_at     TEXT     TIMESTAMPTZ       DATETIME(6)
//
// IDs are UUIDv7 strings unless the caller gives one (an import keeps its
// IDs, such as "42"). An ID is at most 255 bytes and a username at most
// 1020, of UTF-8 without NUL, on every dialect; a lookup of anything else
// (it reaches the Store from URL paths and token claims) is not found,
// without a query, and CreateUser refuses it. Every string column compares byte for byte, so that
// "resume" and "résumé" are two users: MySQL's default collations ignore
// accents, case and trailing spaces, hence VARBINARY, which behaves the same
// on MySQL and MariaDB. 1020 bytes hold the 255 characters the
// Authenticator allows at four bytes each.
//
// The sessions table has one row per login (a family of refresh tokens; see
// [auth.Session]). It holds token identifiers, never a token:
//
//	column         SQLite   PostgreSQL        MySQL/MariaDB
//	id             TEXT     TEXT COLLATE "C"  VARBINARY(255)   primary key
//	user_id        TEXT     TEXT COLLATE "C"  VARBINARY(255)   references users (id)
//	token_version  INTEGER  BIGINT            BIGINT
//	current_jti    TEXT     TEXT COLLATE "C"  VARBINARY(255)
//	previous_jti   TEXT     TEXT COLLATE "C"  VARBINARY(255)   '' before the first rotation
//	created_at     TEXT     TIMESTAMPTZ       DATETIME(6)
//	expires_at     TEXT     TIMESTAMPTZ       DATETIME(6)
//	rotated_at     TEXT     TIMESTAMPTZ       DATETIME(6)
//	last_used_at   TEXT     TIMESTAMPTZ       DATETIME(6)
//	revoked_at     TEXT     TIMESTAMPTZ       DATETIME(6)      NULL while live
//	user_agent     TEXT     TEXT              VARBINARY(1024)
//	ip             TEXT     TEXT              VARBINARY(255)
//	rotated_user_agent TEXT TEXT              VARBINARY(1024)  '' before the first rotation
//	rotated_ip     TEXT     TEXT              VARBINARY(255)   '' before the first rotation
//	grace_uses     INTEGER  INTEGER           INT              0 after each rotation
//
// with indexes on (user_id, revoked_at, expires_at) (the session list,
// which reads only the user's live sessions through it; logout-all and
// DeleteUser use its first column), expires_at and revoked_at (pruning,
// which deletes in batches found through them: see [WithPruneBatch]). The foreign key on user_id cascades deletes; on SQLite it is
// enforced only on connections with foreign keys turned on, so DeleteUser
// also deletes the user's sessions itself, in the transaction that deletes
// the user. The Authenticator clips the user agent to 256 bytes and the IP
// to 64, well inside the MySQL column sizes. UseGrace is one conditional
// UPDATE too (grace_uses = grace_uses + 1 WHERE previous_jti matches,
// grace_uses < max and the session is live), so of concurrent uses at most
// max succeed.
//
// Times are stored in UTC with microsecond precision and read back in UTC.
// SQLite has no time type; it gets text in the fixed form
// "2006-01-02 15:04:05.000000", which sorts in time order, works with
// SQLite's date functions and is what SQLAlchemy writes.
//
// The UNIQUE constraint on username is the only arbiter of duplicates:
// CreateUser inserts and maps a unique violation (PostgreSQL 23505, MySQL
// 1062, SQLite SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY) to
// [auth.ErrUserExists]; CreateSession does the same for a taken session ID,
// and maps a foreign-key violation (a user that does not exist) to
// [auth.ErrUserNotFound]. UpdateUser is one conditional UPDATE, so a
// password change with its token-version bump, or a rehash conditional on
// the old hash, is all or nothing.
//
// RotateSession is one conditional UPDATE as well, WHERE id, current_jti
// and revoked_at IS NULL still match. Concurrent rotations of one session
// queue on its row lock (SQLite: the database's write lock) and each
// re-checks the condition against what the one before it wrote, so exactly
// one of them wins on every dialect, across any number of instances; the
// others get [auth.ErrConflict]. On PostgreSQL at REPEATABLE READ or
// SERIALIZABLE (a default_transaction_isolation set on the server) the
// losers get a serialization failure instead, which RotateSession and
// UpdateUser report as ErrConflict all the same.
//
// # Table names
//
// [WithTablePrefix] replaces the "gatehouse_" prefix of all three tables,
// and [WithTableNames] sets each name outright; it wants all of them, so
// that no table silently keeps a default name that another Store in the
// same database uses. Indexes and constraints are named after their table
// (gatehouse_sessions_user_id_idx, gatehouse_sessions_user_id_fk, cut and
// made unique with a hash when the table name is long), so Stores with
// different names never share one. Names are quoted in every statement, so
// a reserved word works, and on PostgreSQL case is kept. Several Stores with
// different names can share one database.
//
// # Migrations
//
// Migrate is idempotent and safe to run from every instance at start-up: on
// PostgreSQL it holds an advisory lock in one transaction, on MySQL a named
// GET_LOCK, and on SQLite a BEGIN IMMEDIATE transaction. Version 1 creates
// the users table, version 2 the sessions table, and version 3 adds
// rotated_user_agent, rotated_ip and grace_uses to it (” and 0 in existing
// rows), and version 4 dpop_jkt, the DPoP key a session is bound to (” in
// existing rows); a database an earlier release migrated is brought to the current
// version by the next Migrate, its users and sessions untouched. Until
// then, every call fails with an error wrapping [ErrNotMigrated]. Teams that manage their schema with goose
// or golang-migrate can take the same statements from [Migrations] instead.
// Those files use the default table names, since names set in Go cannot
// reach them.
//
// # Several instances on one PostgreSQL
//
// Instances of an application can share one database: point them at the
// same DSN and table names and let each run Migrate at start-up. All
// coordination is in the database (the UNIQUE constraint, conditional
// updates, the migration lock); the Store keeps no state of its own, so
// refresh-token rotation and reuse detection hold across instances too. Size
// each instance's pool (db.SetMaxOpenConns) so that all instances together
// stay below the server's max_connections. To keep several applications or
// tenants apart, give each a schema (search_path in the DSN) or a table
// prefix.
//
// # Errors
//
// Outcomes are the sentinels of package auth: [auth.ErrUserExists],
// [auth.ErrUserNotFound], [auth.ErrConflict], [auth.ErrSessionNotFound].
// A database that is down,
// unreachable, closed, overloaded, locked past its timeout (SQLITE_BUSY,
// lock wait timeouts, deadlocks) or past the caller's deadline gives an
// error wrapping [auth.ErrUnavailable] (which the handlers answer with 503)
// and, for logs, the driver's error. Errors are classified by type and code,
// never by message text; an error of no known kind is followed by a ping,
// and is unavailable when the ping fails too. A context canceled by the
// caller yields an error wrapping [context.Canceled], not ErrUnavailable:
// the caller gave up, and nothing is wrong with the database.
//
// Two configuration problems have errors of their own, which do not wrap
// ErrUnavailable, since waiting will not fix them: [ErrNotMigrated] when
// the tables are missing or older than this package (PostgreSQL 42P01 or
// 42703, MySQL 1146 or 1054; SQLite reports these as a generic error, so
// the Store then probes its tables), and [ErrCannotOpen] when SQLite cannot
// open or create the database file ([OpenSQLite] also names the path and
// the reason).
//
// A write that fails as unavailable may still have happened: the database
// can commit it after the client stopped waiting (MySQL goes on with a
// statement whose client went away). It is never half done.
//
// # Importing users from a FastAPI app
//
// A FastAPI app built on the common tutorial design keeps users in a table "user" (id,
// username, hashed_password, disabled, created_at, updated_at) with
// argon2-cffi hashes. Its hashes use Gatehouse's default parameters
// (m=65536, t=3, p=4), so they verify as they are and are not rewritten.
// Copy the rows with [auth.UserStore.CreateUser], keeping each ID as a
// decimal string and storing the canonical form of each name:
//
//	rows, err := old.QueryContext(ctx,
//		`SELECT id, username, hashed_password, disabled, created_at, updated_at FROM "user" ORDER BY id`)
//	...
//	for rows.Next() {
//		var id int64
//		var name, hash string
//		var disabled bool
//		var created, updated time.Time
//		if err := rows.Scan(&id, &name, &hash, &disabled, &created, &updated); err != nil { ... }
//		canonical, err := auth.CanonicalUsername(name)
//		if err != nil { ... } // a name Gatehouse does not accept: rename it by hand
//		err = store.CreateUser(ctx, &auth.User{
//			ID:           strconv.FormatInt(id, 10),
//			Username:     canonical,
//			PasswordHash: hash,
//			Disabled:     disabled,
//			TokenVersion: 1,
//			CreatedAt:    created.UTC().Truncate(time.Microsecond),
//			UpdatedAt:    updated.UTC().Truncate(time.Microsecond),
//		})
//		if errors.Is(err, auth.ErrUserExists) { ... } // "Bob" and "bob": resolve by hand
//	}
//
// The FastAPI app compared names exactly, Gatehouse compares them case- and
// width-insensitively, so two old accounts can map to one name; the second
// gets ErrUserExists and needs a person to decide. On MySQL open the old
// database with parseTime=true. A FastAPI app's SQLite file keeps times as text:
// open it with modernc.org/sqlite and _texttotime=1 in the DSN, or scan the
// times into strings. Tokens issued by the FastAPI app do not carry a token
// version and are refused.
package sqlstore
