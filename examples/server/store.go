package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/sqlstore"
)

// openStore opens the user store named by the -db flag and migrates its
// schema. The returned func closes the database.
//
//	memory                                  users in memory, lost on exit
//	sqlite:PATH                             SQLite file (modernc.org/sqlite)
//	postgres://user:pass@host:5432/db?...   PostgreSQL (pgx); postgresql:// too
//	mysql://user:pass@tcp(host:3306)/db?... MySQL or MariaDB (go-sql-driver)
func openStore(ctx context.Context, spec string) (auth.UserStore, func() error, error) {
	var (
		db       *sql.DB
		err      error
		maxConns int
	)
	switch {
	case spec == "memory":
		return memstore.New(), func() error { return nil }, nil
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			return nil, nil, errors.New("-db sqlite:PATH needs a file path")
		}
		// The file holds password hashes: create it readable by its owner
		// only. SQLite gives its -wal and -shm files the same mode.
		if f, cerr := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); cerr == nil {
			f.Close()
		}
		db, err = sql.Open("sqlite", sqlstore.SQLiteDSN(path))
		// A few connections: WAL lets them read in parallel, and SQLite
		// serializes writers anyway.
		maxConns = 4
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		db, err = sql.Open("pgx", spec)
	case strings.HasPrefix(spec, "mysql://"):
		var cfg *mysql.Config
		cfg, err = mysql.ParseDSN(strings.TrimPrefix(spec, "mysql://"))
		if err != nil {
			return nil, nil, fmt.Errorf("-db mysql://: %w", err)
		}
		cfg.ParseTime = true // DATETIME as time.Time; loc stays UTC, the default
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		if _, ok := cfg.Params["innodb_lock_wait_timeout"]; !ok {
			cfg.Params["innodb_lock_wait_timeout"] = "5" // seconds, not 50
		}
		db, err = sql.Open("mysql", cfg.FormatDSN())
	default:
		return nil, nil, fmt.Errorf("unknown -db %q: want memory, sqlite:PATH, or a postgres://, postgresql:// or mysql:// DSN", spec)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open -db store: %w", err)
	}
	db.SetMaxOpenConns(maxConns) // 0: no limit
	store, err := sqlstore.New(db)
	if err == nil {
		err = store.Migrate(ctx)
	}
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("open -db store: %w", err)
	}
	return store, db.Close, nil
}
