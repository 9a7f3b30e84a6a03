package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

// The server tests run when these are set, e.g.
//
//	GATEHOUSE_TEST_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	GATEHOUSE_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test'
//
// The PostgreSQL DSN is a URL (or key=value string) for pgx; each test gets
// its own schema in that database. The MySQL DSN is in go-sql-driver's
// format; each test gets its own database on that server (the user needs
// CREATE and DROP), and parseTime is turned on.
const (
	envPostgres = "GATEHOUSE_TEST_POSTGRES_DSN"
	envMySQL    = "GATEHOUSE_TEST_MYSQL_DSN"
)

// testDB is an empty database (a file, a schema or a database of its own)
// for one test.
type testDB struct {
	dialect sqlstore.Dialect
	db      *sql.DB
	// open returns another *sql.DB on the same database, as a second
	// process would have.
	open func(t *testing.T) *sql.DB
	// dsn reaches the same database.
	dsn string
}

var dialects = []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres, sqlstore.MySQL}

// forEachDialect runs fn in a subtest per dialect, each with a fresh
// database; server dialects skip when their variable is unset.
func forEachDialect(t *testing.T, fn func(t *testing.T, tdb *testDB)) {
	for _, d := range dialects {
		t.Run(d.String(), func(t *testing.T) {
			fn(t, newTestDB(t, d))
		})
	}
}

func newTestDB(t *testing.T, d sqlstore.Dialect) *testDB {
	t.Helper()
	switch d {
	case sqlstore.Postgres:
		return openPostgres(t)
	case sqlstore.MySQL:
		return openMySQL(t)
	}
	return openSQLite(t)
}

func randomName(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "gh_" + hex.EncodeToString(b)
}

func openDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openSQLite(t *testing.T) *testDB {
	dsn := sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "auth.db"))
	open := func(t *testing.T) *sql.DB {
		db := openDB(t, "sqlite", dsn)
		db.SetMaxOpenConns(4)
		return db
	}
	return &testDB{dialect: sqlstore.SQLite, db: open(t), open: open, dsn: dsn}
}

func openPostgres(t *testing.T) *testDB {
	base := os.Getenv(envPostgres)
	if base == "" {
		t.Skip(envPostgres + " is not set; skipping the PostgreSQL tests")
	}
	admin := openDB(t, "pgx", base)
	schema := randomName(t)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	dsn := withSearchPath(t, base, schema)
	open := func(t *testing.T) *sql.DB { return openDB(t, "pgx", dsn) }
	return &testDB{dialect: sqlstore.Postgres, db: open(t), open: open, dsn: dsn}
}

// withSearchPath adds search_path to a pgx DSN, a URL or key=value pairs.
func withSearchPath(t *testing.T, dsn, schema string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openMySQL(t *testing.T) *testDB {
	base := os.Getenv(envMySQL)
	if base == "" {
		t.Skip(envMySQL + " is not set; skipping the MySQL/MariaDB tests")
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("%s: %v", envMySQL, err)
	}
	admin := openDB(t, "mysql", cfg.FormatDSN())
	name := randomName(t)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	cfg.DBName = name
	cfg.ParseTime = true
	dsn := cfg.FormatDSN()
	open := func(t *testing.T) *sql.DB { return openDB(t, "mysql", dsn) }
	return &testDB{dialect: sqlstore.MySQL, db: open(t), open: open, dsn: dsn}
}

var prefixes atomic.Int64

// newStore returns a migrated Store on db with tables of its own.
func newStore(t *testing.T, db *sql.DB, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	opts = append([]sqlstore.Option{sqlstore.WithTablePrefix(uniquePrefix())}, opts...)
	s, err := sqlstore.New(db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func uniquePrefix() string { return fmt.Sprintf("t%d_", prefixes.Add(1)) }

var when = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

func testUser(name string) *auth.User {
	return &auth.User{
		Username:     name,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		TokenVersion: 1,
		CreatedAt:    when,
		UpdatedAt:    when,
	}
}

var sessionSeq atomic.Int64

// testSession is a live session of the user, created at when.
func testSession(userID string) *auth.Session {
	n := sessionSeq.Add(1)
	return &auth.Session{
		ID:           fmt.Sprintf("sess-%d", n),
		UserID:       userID,
		TokenVersion: 1,
		CurrentJTI:   fmt.Sprintf("jti-%d", n),
		CreatedAt:    when,
		ExpiresAt:    when.Add(7 * 24 * time.Hour),
		RotatedAt:    when,
		LastUsedAt:   when,
		UserAgent:    "curl/8.5.0",
		IP:           "192.0.2.1",
	}
}

// warmPool opens up to n connections in db's pool (no more than its limit)
// and keeps them idle, so that n concurrent requests start at once instead
// of trickling in as connections come up.
func warmPool(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	if limit := db.Stats().MaxOpenConnections; limit > 0 && limit < n {
		n = limit
	}
	db.SetMaxIdleConns(n)
	conns := make([]*sql.Conn, n)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := db.Conn(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}
