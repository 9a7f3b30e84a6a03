package sqlstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

// TestOpenSQLiteCannotOpen: a file that cannot be opened or created is a
// configuration error that names the path and the reason, never an outage.
func TestOpenSQLiteCannotOpen(t *testing.T) {
	dir := t.TempDir()
	notADir := filepath.Join(dir, "plain-file")
	garbage := filepath.Join(dir, "garbage.db")
	for _, f := range []string{notADir, garbage} {
		if err := os.WriteFile(f, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	readOnly := filepath.Join(dir, "read-only")
	if err := os.Mkdir(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no", "such", "dir", "auth.db")
	cases := []struct {
		name, path, want string
		skip             bool
	}{
		{"MissingDirectory", missing,
			`sqlstore: cannot open SQLite database "` + missing + `": directory does not exist (check the path)`, false},
		{"ParentIsAFile", filepath.Join(notADir, "auth.db"), "is not a directory (check the path)", false},
		{"PathIsADirectory", dir, "it is a directory (check the path)", false},
		{"NotADatabase", garbage, "the file is not a SQLite database (check the path)", false},
		// root writes anywhere.
		{"ReadOnlyDirectory", filepath.Join(readOnly, "auth.db"),
			"cannot create the file (check that its directory is writable)", os.Geteuid() == 0},
		{"EmptyPath", "", "empty path", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skip {
				t.Skip("running as root, which may write to any directory")
			}
			db, err := sqlstore.OpenSQLite(context.Background(), c.path)
			if err == nil {
				db.Close()
				t.Fatalf("OpenSQLite(%q) succeeded", c.path)
			}
			if !errors.Is(err, sqlstore.ErrCannotOpen) || errors.Is(err, auth.ErrUnavailable) {
				t.Errorf("OpenSQLite(%q) = %v, want ErrCannotOpen and not ErrUnavailable", c.path, err)
			}
			if !strings.Contains(err.Error(), c.want) || (c.path != "" && !strings.Contains(err.Error(), `"`+c.path+`"`)) {
				t.Errorf("OpenSQLite(%q) = %q, want the path and %q", c.path, err, c.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenSQLite created directories: %v", err)
	}
}

// TestOpenSQLite: the file is created with SQLiteDSN's settings and a small
// pool, and a Store on it works.
func TestOpenSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.db")
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("no database file at %q: %v", path, err)
	}
	if n := db.Stats().MaxOpenConnections; n != 4 {
		t.Errorf("MaxOpenConnections = %d, want 4", n)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	s := newStore(t, db)
	if err := s.CreateUser(ctx, testUser("alice")); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if db, err := sqlstore.OpenSQLite(canceled, filepath.Join(t.TempDir(), "other.db")); err == nil {
		db.Close()
		t.Error("OpenSQLite with a canceled context succeeded")
	} else if !errors.Is(err, context.Canceled) || errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("OpenSQLite with a canceled context = %v, want context.Canceled", err)
	}
}

// TestSQLiteCannotOpenIsNotUnavailable: a Store on a *sql.DB the
// application opened on a path SQLite cannot open fails every call with
// ErrCannotOpen, not ErrUnavailable: waiting will not fix the path.
func TestSQLiteCannotOpenIsNotUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "auth.db")
	db := openDB(t, "sqlite", sqlstore.SQLiteDSN(path))
	s, err := sqlstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	for op, err := range callAll(s, context.Background()) {
		if !errors.Is(err, sqlstore.ErrCannotOpen) || errors.Is(err, auth.ErrUnavailable) {
			t.Errorf("%s = %v, want ErrCannotOpen and not ErrUnavailable", op, err)
		}
	}
}
