package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/sqlstore"
)

// store is the store of one kind, at one size, ready to seed and measure.
type store struct {
	kind  string
	users int
	// backend is what the Authenticator uses: a *sqlstore.Store or a
	// *memstore.Store.
	backend backend
	db      *sql.DB // nil for mem
	dialect sqlstore.Dialect
	close   func()
}

// backend is the abilities of a store that the workload uses: users and
// sessions, the user list of the admin API, API keys and the audit trail.
type backend interface {
	auth.UserStore
	auth.SessionStore
	auth.UserLister
	auth.APIKeyStore
	auth.AuditStore
}

// liveSeeded counts the seeded sessions live at t; 0 for the memory
// store.
func (s *store) liveSeeded(ctx context.Context, t time.Time) (int, error) {
	if s.db == nil {
		return 0, nil
	}
	q := "SELECT COUNT(*) FROM gatehouse_sessions WHERE expires_at > ? AND revoked_at IS NULL AND user_agent = ?"
	if s.dialect == sqlstore.Postgres {
		q = "SELECT COUNT(*) FROM gatehouse_sessions WHERE expires_at > $1 AND revoked_at IS NULL AND user_agent = $2"
	}
	var n int
	if err := s.db.QueryRowContext(ctx, q, timeArg(s.dialect, t), seedUA).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s at %d users: count live sessions: %w", s.kind, s.users, err)
	}
	return n, nil
}

// dbName names the database (a schema on PostgreSQL) of one size.
func (o *options) dbName(users int) string { return fmt.Sprintf("%s%d", o.namePrefix, users) }

// openStore opens (creating if needed) and migrates the store of kind at
// size users.
func openStore(ctx context.Context, o *options, kind string, users int) (*store, error) {
	s := &store{kind: kind, users: users, close: func() {}}
	if kind == "mem" {
		s.backend = memstore.New()
		return s, nil
	}
	db, err := openDB(ctx, o, kind, users)
	if err != nil {
		return nil, err
	}
	ss, err := sqlstore.New(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := ss.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s at %d users: migrate: %w", kind, users, err)
	}
	s.backend, s.db, s.dialect, s.close = ss, db, ss.Dialect(), func() { db.Close() }
	return s, nil
}

func openDB(ctx context.Context, o *options, kind string, users int) (*sql.DB, error) {
	name := o.dbName(users)
	var db *sql.DB
	switch kind {
	case "sqlite":
		if err := os.MkdirAll(o.dir, 0o755); err != nil {
			return nil, err
		}
		return sqlstore.OpenSQLite(ctx, filepath.Join(o.dir, name+".db"))
	case "postgres":
		admin, err := sql.Open("pgx", o.pgDSN)
		if err != nil {
			return nil, err
		}
		_, err = admin.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+name)
		admin.Close()
		if err != nil {
			return nil, fmt.Errorf("postgres: create schema %s: %w", name, err)
		}
		u, err := url.Parse(o.pgDSN)
		if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
			return nil, fmt.Errorf("-postgres: want a postgres:// URL")
		}
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		if db, err = sql.Open("pgx", u.String()); err != nil {
			return nil, err
		}
	case "mysql":
		cfg, err := mysql.ParseDSN(o.myDSN)
		if err != nil {
			return nil, fmt.Errorf("-mysql: %w", err)
		}
		cfg.DBName = ""
		admin, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return nil, err
		}
		_, err = admin.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+name)
		admin.Close()
		if err != nil {
			return nil, fmt.Errorf("mysql: create database %s: %w", name, err)
		}
		cfg.DBName, cfg.ParseTime = name, true
		if db, err = sql.Open("mysql", cfg.FormatDSN()); err != nil {
			return nil, err
		}
	}
	db.SetMaxOpenConns(o.workers + 4)
	db.SetMaxIdleConns(o.workers + 4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	return db, nil
}
