package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/sqlstore"
)

// Limits for a server database (PostgreSQL, MySQL). A parameter the -db DSN
// sets itself is kept.
const (
	// dialTimeout bounds connecting: pgx's connect_timeout (whole seconds),
	// go-sql-driver's timeout.
	dialTimeout = 5 * time.Second
	// ioTimeout bounds each read and write on a MySQL connection
	// (readTimeout, writeTimeout). pgx has no such setting; there the
	// request's deadline (requestTimeout) cancels a query that hangs.
	ioTimeout = 10 * time.Second
	// The pool: enough connections for the Argon2 hashing that bounds
	// throughput anyway, few enough to stay well under a database's
	// max_connections (100 by default on both) with a few instances.
	maxOpenConns    = 20
	maxIdleConns    = 10
	connMaxLifetime = 30 * time.Minute // lets the pool follow a failover or DNS change
	connMaxIdleTime = 5 * time.Minute  // before a firewall or proxy drops it silently
)

// postgresDSN adds connect_timeout to a postgres:// DSN that does not set it.
func postgresDSN(spec string) (string, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return "", errors.New("-db postgres://: not a valid URL") // url's error repeats the password
	}
	q := u.Query()
	if q.Has("connect_timeout") {
		return spec, nil
	}
	q.Set("connect_timeout", strconv.Itoa(int(dialTimeout/time.Second)))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// mysqlConfig parses a go-sql-driver DSN (without mysql://) and sets what
// the store needs and the timeouts the DSN does not set.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("-db mysql://: %w", err)
	}
	// ParseDSN leaves 0 both for an absent timeout and for timeout=0, which
	// asks for none: look at the DSN's own parameters, found as the driver
	// finds them, after the last slash.
	var set url.Values
	if _, query, ok := strings.Cut(dsn[strings.LastIndexByte(dsn, '/')+1:], "?"); ok {
		set, _ = url.ParseQuery(query)
	}
	cfg.ParseTime = true // DATETIME as time.Time; loc stays UTC, the default
	if !set.Has("timeout") {
		cfg.Timeout = dialTimeout
	}
	if !set.Has("readTimeout") {
		cfg.ReadTimeout = ioTimeout
	}
	if !set.Has("writeTimeout") {
		cfg.WriteTimeout = ioTimeout
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	if _, ok := cfg.Params["innodb_lock_wait_timeout"]; !ok {
		cfg.Params["innodb_lock_wait_timeout"] = "5" // seconds, not 50
	}
	return cfg, nil
}

// openStore opens the user store named by the -db flag and migrates its
// schema. The returned func closes the database.
//
//	memory                                  users in memory, lost on exit
//	sqlite:PATH                             SQLite file (modernc.org/sqlite)
//	postgres://user:pass@host:5432/db?...   PostgreSQL (pgx); postgresql:// too
//	mysql://user:pass@tcp(host:3306)/db?... MySQL or MariaDB (go-sql-driver)
func openStore(ctx context.Context, spec string) (auth.UserStore, func() error, error) {
	if spec == "memory" {
		return memstore.New(), func() error { return nil }, nil
	}
	db, err := openDB(spec)
	if err != nil {
		return nil, nil, err
	}
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

// openDB opens the SQL database of a -db spec other than memory, with its
// timeouts and pool limits.
func openDB(spec string) (*sql.DB, error) {
	switch {
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			return nil, errors.New("-db sqlite:PATH needs a file path")
		}
		// The file holds password hashes: create it readable by its owner
		// only. SQLite gives its -wal and -shm files the same mode.
		if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			f.Close()
		}
		// OpenSQLite names the path and the reason when the file cannot be
		// opened or created: a configuration problem, not an outage.
		db, err := sqlstore.OpenSQLite(context.Background(), path)
		if err != nil {
			return nil, err
		}
		db.SetMaxIdleConns(4)
		return db, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		dsn, err := postgresDSN(spec)
		if err != nil {
			return nil, err
		}
		return boundedPool(sql.Open("pgx", dsn))
	case strings.HasPrefix(spec, "mysql://"):
		cfg, err := mysqlConfig(strings.TrimPrefix(spec, "mysql://"))
		if err != nil {
			return nil, err
		}
		return boundedPool(sql.Open("mysql", cfg.FormatDSN()))
	default:
		// Not the spec itself: a mistyped DSN may hold a password.
		return nil, errors.New("unknown -db: want memory, sqlite:PATH, or a postgres://, postgresql:// or mysql:// DSN")
	}
}

// boundedPool applies the pool limits of a server database to what sql.Open
// returned.
func boundedPool(db *sql.DB, err error) (*sql.DB, error) {
	if err != nil {
		return nil, fmt.Errorf("open -db store: %w", err)
	}
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxLifetime(connMaxLifetime)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	return db, nil
}
