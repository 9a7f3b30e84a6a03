package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/internal/storeid"
	"github.com/google/uuid"
)

// Store is an [auth.UserStore] and an [auth.SessionStore] on a *sql.DB. It
// is safe for concurrent use and holds no state besides its configuration:
// several Stores, in one process or many, may share one database. Create it
// with [New] and create its tables with [Store.Migrate].
type Store struct {
	db         *sql.DB
	dialect    Dialect
	names      TableNames // unquoted, for the migration files and lock names
	users      string     // quoted
	sessions   string     // quoted
	migrations string     // quoted

	qInsert, qByID, qByName, qUpdate, qState, qDelete, qExists string
	sq                                                         sessionQueries
	cq                                                         credentialQueries // second factors: credentials.go
	aq                                                         adminQueries      // admin.go
	eq                                                         emailQueries      // issue 13: email.go
	prunePause                                                 time.Duration
	pruneBatch                                                 int
}

var (
	_ auth.UserStore    = (*Store)(nil)
	_ auth.SessionStore = (*Store)(nil)
)

// userDests are the scan destinations of userColumns, in order.
func userDests(u *auth.User) []any {
	return append([]any{&u.ID, &u.Username, &u.PasswordHash, &u.Disabled,
		&u.TokenVersion, timeDest{&u.CreatedAt}, timeDest{&u.UpdatedAt}, namesDest{&u.Roles}}, emailDests(u)...)
}

const userColumns = "id, username, password_hash, disabled, token_version, created_at, updated_at, roles," +
	" email, email_canonical, email_verified, email_verified_at" // the email columns: email.go

// New returns a Store that keeps users in db. It does not touch the
// database; call [Store.Migrate] before first use. It fails for a nil db,
// a driver whose dialect cannot be detected (pass [WithDialect]), or an
// invalid table name.
func New(db *sql.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	if c.err != nil {
		return nil, c.err
	}
	if c.dialect == 0 {
		d, err := detectDialect(db)
		if err != nil {
			return nil, err
		}
		c.dialect = d
	}
	d := c.dialect
	if c.pruneBatch == 0 {
		c.pruneBatch, c.prunePause = DefaultPruneBatch, DefaultPrunePause
		if d == SQLite {
			c.pruneBatch, c.prunePause = DefaultSQLitePruneBatch, DefaultSQLitePrunePause
		}
	}
	s := &Store{
		db:         db,
		dialect:    d,
		names:      c.names,
		users:      d.quote(c.names.Users),
		sessions:   d.quote(c.names.Sessions),
		migrations: d.quote(c.names.Migrations),
	}
	t := s.users
	s.qInsert = d.rebind("INSERT INTO " + t + " (" + userColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	s.qByID = d.rebind("SELECT " + userColumns + " FROM " + t + " WHERE id = ?")
	s.qByName = d.rebind("SELECT " + userColumns + " FROM " + t + " WHERE username = ?")
	s.qUpdate = d.rebind("UPDATE " + t + " SET password_hash = ?, token_version = ?, disabled = ?, updated_at = ?, roles = ?" +
		" WHERE id = ? AND password_hash = ? AND token_version = ?")
	s.qState = d.rebind("SELECT password_hash, token_version, disabled, updated_at, roles FROM " + t + " WHERE id = ?")
	s.qDelete = d.rebind("DELETE FROM " + t + " WHERE id = ?")
	s.qExists = d.rebind("SELECT 1 FROM " + t + " WHERE id = ?")
	s.sq = newSessionQueries(d, s.sessions, c.pruneBatch)
	s.pruneBatch, s.prunePause = c.pruneBatch, c.prunePause
	s.cq = newCredentialQueries(d, c.names.Users, c.pruneBatch)
	s.aq = newAdminQueries(d, s.users, d.quote(derivedName(c.names.Users, "_api_keys")), d.quote(derivedName(c.names.Users, "_audit")), c.pruneBatch)
	s.eq = newEmailQueries(d, t, d.quote(derivedName(c.names.Users, oneTimeSuffix)), c.pruneBatch)
	return s, nil
}

// Dialect returns the dialect the Store speaks, given or detected.
func (s *Store) Dialect() Dialect { return s.dialect }

// CreateUser implements [auth.UserStore]. An empty u.ID gets a UUIDv7 (time
// ordered, so inserts stay at the end of the primary key index). The UNIQUE
// constraints on username and id decide duplicates: there is no read before
// the insert.
func (s *Store) CreateUser(ctx context.Context, u *auth.User) error {
	if !storeid.WellFormed(u.ID, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: create user: %w", storeid.ErrMalformedID)
	}
	if !storeid.WellFormed(u.Username, storeid.MaxNameLen) {
		return fmt.Errorf("sqlstore: create user: %w", storeid.ErrMalformedName)
	}
	id := u.ID
	if id == "" {
		v7, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("sqlstore: generate id: %w", err)
		}
		id = v7.String()
	}
	email, err := emailArgs(s.dialect, u)
	if err != nil {
		return fmt.Errorf("sqlstore: create user: %w", err)
	}
	d := s.dialect
	_, err = s.db.ExecContext(ctx, s.qInsert, append([]any{id, u.Username, u.PasswordHash, u.Disabled, u.TokenVersion,
		d.timeArg(u.CreatedAt), d.timeArg(u.UpdatedAt), joinNames(u.Roles)}, email...)...)
	if err != nil {
		if d.isUnique(err) {
			return fmt.Errorf("sqlstore: create user: %w", uniqueErr(err))
		}
		return s.fail(ctx, "create user", err)
	}
	u.ID = id
	return nil
}

// UserByID implements [auth.UserStore].
func (s *Store) UserByID(ctx context.Context, id string) (*auth.User, error) {
	return s.get(ctx, "user by id", s.qByID, id, storeid.MaxIDLen)
}

// UserByUsername implements [auth.UserStore]. The comparison is byte for
// byte on every dialect.
func (s *Store) UserByUsername(ctx context.Context, username string) (*auth.User, error) {
	return s.get(ctx, "user by username", s.qByName, username, storeid.MaxNameLen)
}

func (s *Store) get(ctx context.Context, op, query, arg string, maxLen int) (*auth.User, error) {
	if !storeid.WellFormed(arg, maxLen) {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	var u auth.User
	err := s.db.QueryRowContext(ctx, query, arg).Scan(userDests(&u)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return &u, nil
}

// UpdateUser implements [auth.UserStore] with one conditional UPDATE, so a
// failure at any point leaves the stored user as it was. When no row
// matched, or PostgreSQL at a strict isolation level failed the update as
// a serialization failure, a second read tells ErrUserNotFound from
// ErrConflict.
func (s *Store) UpdateUser(ctx context.Context, u *auth.User, prevHash string, prevVersion int64) error {
	const op = "update user"
	if !storeid.WellFormed(u.ID, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	d := s.dialect
	changed, err := s.execConditional(ctx, op, s.qUpdate, u.PasswordHash, u.TokenVersion, u.Disabled,
		d.timeArg(u.UpdatedAt), joinNames(u.Roles), u.ID, prevHash, prevVersion)
	if err != nil || changed {
		return err
	}
	var cur auth.User
	err = s.db.QueryRowContext(ctx, s.qState, u.ID).Scan(&cur.PasswordHash, &cur.TokenVersion, &cur.Disabled,
		timeDest{&cur.UpdatedAt}, namesDest{&cur.Roles})
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	if err != nil {
		return s.fail(ctx, op, err)
	}
	// MySQL counts changed rows, not matched ones: an update that writes the
	// values already stored reports 0. If the condition holds and the row
	// already holds the new values, the update is done.
	if cur.PasswordHash == prevHash && cur.TokenVersion == prevVersion &&
		cur.PasswordHash == u.PasswordHash && cur.TokenVersion == u.TokenVersion &&
		cur.Disabled == u.Disabled && cur.UpdatedAt.Equal(u.UpdatedAt.Truncate(time.Microsecond)) &&
		joinNames(cur.Roles) == joinNames(u.Roles) {
		return nil
	}
	return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrConflict)
}

// DeleteUser implements [auth.UserStore]. It deletes the user and the
// user's sessions in one transaction. The foreign key's ON DELETE CASCADE
// would do the second part, but SQLite enforces foreign keys only on
// connections that turned them on, so the sessions are deleted explicitly.
// The user row goes first: it is the lock a concurrent CreateSession takes
// too, so the two queue instead of deadlocking.
func (s *Store) DeleteUser(ctx context.Context, id string) (err error) {
	const op = "delete user"
	if !storeid.WellFormed(id, storeid.MaxIDLen) {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx, s.qDelete, id)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: %s: %w", op, auth.ErrUserNotFound)
	}
	if _, err := tx.ExecContext(ctx, s.sq.deleteUser, id); err != nil {
		return s.fail(ctx, op, err)
	}
	if err := s.deleteCredentials(ctx, tx, id); err != nil {
		return s.fail(ctx, op, err)
	}
	if _, err := tx.ExecContext(ctx, s.aq.deleteUserKeys, id); err != nil {
		return s.fail(ctx, op, err)
	}
	if _, err := tx.ExecContext(ctx, s.eq.deleteUser, id); err != nil {
		return s.fail(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.fail(ctx, op, err)
	}
	return nil
}

// execConditional runs a conditional UPDATE and reports whether it changed a
// row. A serialization failure (PostgreSQL at REPEATABLE READ or above)
// means a concurrent update won: nothing was written, so it reports no
// change and the caller's follow-up read decides, as it would have.
func (s *Store) execConditional(ctx context.Context, op, query string, args ...any) (changed bool, err error) {
	res, err := s.db.ExecContext(ctx, query, args...)
	n := int64(0)
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil && !s.dialect.isSerializationFailure(err) {
		return false, s.fail(ctx, op, err)
	}
	return n > 0, nil
}
