package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
	"github.com/google/uuid"
)

func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func tableExists(db *sql.DB, table string) bool {
	_, err := db.Exec("SELECT 1 FROM " + table + " WHERE 1 = 0")
	return err == nil
}

func TestMigrateTwice(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		s := newStore(t, tdb.db, sqlstore.WithTablePrefix("twice_"))
		u := testUser("alice")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if n, want := countRows(t, tdb.db, "twice_schema_migrations"), len(upFiles(t, tdb.dialect)); n != want {
			t.Errorf("%d migration rows, want %d", n, want)
		}
		if _, err := s.UserByID(ctx, u.ID); err != nil {
			t.Errorf("user lost by the second Migrate: %v", err)
		}
	})
}

// TestMigrateConcurrently runs Migrate from several Stores at once, each
// on its own *sql.DB as separate instances would be.
func TestMigrateConcurrently(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		const n = 6
		ctx := context.Background()
		stores := make([]*sqlstore.Store, n)
		for i := range stores {
			db := tdb.db
			if i%2 == 1 {
				db = tdb.open(t)
			}
			s, err := sqlstore.New(db, sqlstore.WithTablePrefix("conc_"))
			if err != nil {
				t.Fatal(err)
			}
			stores[i] = s
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Migrate(ctx)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Migrate #%d: %v", i, err)
			}
		}
		if n, want := countRows(t, tdb.db, "conc_schema_migrations"), len(upFiles(t, tdb.dialect)); n != want {
			t.Errorf("%d migration rows, want %d", n, want)
		}
		for i, s := range stores {
			if err := s.CreateUser(ctx, testUser(fmt.Sprintf("user%d", i))); err != nil {
				t.Errorf("CreateUser via store %d: %v", i, err)
			}
		}
	})
}

// TestMigrateFailure: a step that fails halfway is not recorded, earlier
// steps and data stay, and on the transactional dialects the step leaves
// nothing behind.
func TestMigrateFailure(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		s := newStore(t, tdb.db, sqlstore.WithTablePrefix("fail_"))
		u := testUser("alice")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		bad := []string{"CREATE TABLE fail_extra (id INTEGER)", "THIS IS NOT SQL"}
		err := s.MigrateWithExtra(ctx, bad)
		if err == nil {
			t.Fatal("Migrate with a broken step succeeded")
		}
		if errors.Is(err, auth.ErrUnavailable) {
			t.Errorf("a broken step is reported as unavailable: %v", err)
		}
		if n, want := countRows(t, tdb.db, "fail_schema_migrations"), len(upFiles(t, tdb.dialect)); n != want {
			t.Errorf("%d migration rows after a failed step, want %d", n, want)
		}
		if tdb.dialect != sqlstore.MySQL && tableExists(tdb.db, "fail_extra") {
			t.Error("the failed step's first statement was not rolled back")
		}
		if _, err := s.UserByID(ctx, u.ID); err != nil {
			t.Errorf("user lost by a failed migration: %v", err)
		}
	})
}

func TestSplitStatements(t *testing.T) {
	got := sqlstore.SplitStatements("-- head\nCREATE TABLE a (x INT);\n\n-- only a comment\nDROP TABLE b;\n-- tail\n")
	want := []string{"-- head\nCREATE TABLE a (x INT)", "-- only a comment\nDROP TABLE b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("SplitStatements = %q, want %q", got, want)
	}
}

// upFiles lists the dialect's golang-migrate up files in version order.
func upFiles(t *testing.T, d sqlstore.Dialect) []string {
	t.Helper()
	names, err := fs.Glob(sqlstore.Migrations(), d.String()+"/*.up.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no up files for %s: %v", d, err)
	}
	sort.Strings(names)
	return names
}

// TestMigrationFiles applies the exported files as a migration tool would,
// then checks that a Store with default names works on the result, that
// Migrate accepts it, and that the down files undo it.
func TestMigrationFiles(t *testing.T) {
	fsys := sqlstore.Migrations()
	for _, d := range dialects {
		ups := upFiles(t, d)
		if len(ups) < 2 {
			t.Errorf("%s: %d up files, want the users and sessions steps", d, len(ups))
		}
		for _, name := range ups {
			base := strings.TrimSuffix(path.Base(name), ".up.sql")
			up := readFile(t, fsys, name)
			down := readFile(t, fsys, d.String()+"/"+base+".down.sql")
			goose := readFile(t, fsys, "goose/"+d.String()+"/"+base+".sql")
			if want := "-- +goose Up\n" + up + "\n-- +goose Down\n" + down; goose != want {
				t.Errorf("goose/%s/%s.sql differs from the golang-migrate files", d, base)
			}
		}
	}
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		exec := func(name string) {
			t.Helper()
			for _, stmt := range sqlstore.SplitStatements(readFile(t, fsys, name)) {
				if _, err := tdb.db.ExecContext(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
		}
		ups := upFiles(t, tdb.dialect)
		for _, name := range ups {
			exec(name)
		}
		s, err := sqlstore.New(tdb.db)
		if err != nil {
			t.Fatal(err)
		}
		u := testUser("résumé")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSession(ctx, testSession(u.ID)); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate after the files: %v", err)
		}
		if _, err := s.UserByUsername(ctx, "résumé"); err != nil {
			t.Fatal(err)
		}
		if list, err := s.UserSessions(ctx, u.ID, when); err != nil || len(list) != 1 {
			t.Fatalf("UserSessions = %d, %v; want 1 session", len(list), err)
		}
		for i := len(ups) - 1; i >= 0; i-- {
			exec(strings.TrimSuffix(ups[i], ".up.sql") + ".down.sql")
		}
		for _, table := range []string{"gatehouse_users", "gatehouse_sessions", "gatehouse_users_api_keys", "gatehouse_users_audit"} {
			if tableExists(tdb.db, table) {
				t.Errorf("%s exists after the down migrations", table)
			}
		}
	})
}

// TestMigrateUpgrade: a database that an earlier release migrated to
// version 1 (users only) is brought to the current version by Migrate,
// once, keeping its users; concurrent upgrades from several instances agree.
func TestMigrateUpgrade(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		old, err := sqlstore.New(tdb.db, sqlstore.WithTablePrefix("up_"))
		if err != nil {
			t.Fatal(err)
		}
		if err := old.MigrateTo(ctx, 1); err != nil {
			t.Fatalf("migrate to version 1: %v", err)
		}
		if n := countRows(t, tdb.db, "up_schema_migrations"); n != 1 {
			t.Fatalf("%d migration rows at version 1, want 1", n)
		}
		if tableExists(tdb.db, "up_sessions") {
			t.Fatal("version 1 has a sessions table")
		}
		var users []*auth.User
		for i := range 3 {
			u := testUser(fmt.Sprintf("veteran%d", i))
			insertOldUser(t, tdb, "up_", u)
			users = append(users, u)
		}

		const n = 4
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			db := tdb.db
			if i%2 == 1 {
				db = tdb.open(t)
			}
			s, err := sqlstore.New(db, sqlstore.WithTablePrefix("up_"))
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Migrate(ctx)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Migrate #%d: %v", i, err)
			}
		}
		s := old // the same Store, now on the new schema
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
		if n, want := countRows(t, tdb.db, "up_schema_migrations"), len(upFiles(t, tdb.dialect)); n != want {
			t.Errorf("%d migration rows, want %d", n, want)
		}
		if versions, want := appliedVersions(t, tdb.db, "up_schema_migrations"), fileVersions(t, tdb.dialect); versions != want {
			t.Errorf("applied versions %v, want %v", versions, want)
		}
		for _, u := range users {
			got, err := s.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatalf("user %s lost by the upgrade: %v", u.Username, err)
			}
			if got.Username != u.Username || got.PasswordHash != u.PasswordHash || !got.CreatedAt.Equal(u.CreatedAt) {
				t.Errorf("user changed by the upgrade: %+v", *got)
			}
		}
		sess := testSession(users[0].ID)
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession after the upgrade: %v", err)
		}
		if err := s.DeleteUser(ctx, users[0].ID); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, tdb.db, "up_sessions"); n != 0 {
			t.Errorf("%d sessions left after DeleteUser, want 0", n)
		}
	})
}

// TestMigrateKeepsSessions: a database at version 2 (sessions without the
// grace bookkeeping) is brought to version 3 by Migrate; its sessions stay,
// with ” and 0 in the new columns, and work with the new methods. One of
// the new columns is already there, as a MySQL step that failed halfway
// (DDL commits implicitly) leaves it; Migrate completes the step.
func TestMigrateKeepsSessions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		const prefix = "v2_"
		s, err := sqlstore.New(tdb.db, sqlstore.WithTablePrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.MigrateTo(ctx, 2); err != nil {
			t.Fatalf("migrate to version 2: %v", err)
		}
		u := testUser("veteran")
		insertOldUser(t, tdb, prefix, u)
		// Sessions as version 2 stored them: a fresh one and a rotated one.
		fresh, rotated := testSession(u.ID), testSession(u.ID)
		rotated.PreviousJTI, rotated.RotatedAt, rotated.LastUsedAt = "jti-parent", when.Add(time.Minute), when.Add(time.Minute)
		rotated.RevokedAt = when.Add(time.Hour)
		insert := "INSERT INTO " + prefix + "sessions (id, user_id, token_version, current_jti, previous_jti," +
			" created_at, expires_at, rotated_at, last_used_at, revoked_at, user_agent, ip)" +
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		if tdb.dialect == sqlstore.Postgres {
			insert = sqlstore.Rebind(insert)
		}
		for _, sess := range []*auth.Session{fresh, rotated} {
			var revoked any
			if !sess.RevokedAt.IsZero() {
				revoked = timeArg(tdb.dialect, sess.RevokedAt)
			}
			if _, err := tdb.db.ExecContext(ctx, insert, sess.ID, sess.UserID, sess.TokenVersion, sess.CurrentJTI,
				sess.PreviousJTI, timeArg(tdb.dialect, sess.CreatedAt), timeArg(tdb.dialect, sess.ExpiresAt),
				timeArg(tdb.dialect, sess.RotatedAt), timeArg(tdb.dialect, sess.LastUsedAt), revoked,
				sess.UserAgent, sess.IP); err != nil {
				t.Fatalf("insert a version 2 session: %v", err)
			}
		}
		halfDone := map[sqlstore.Dialect]string{
			sqlstore.SQLite:   "ALTER TABLE v2_sessions ADD COLUMN rotated_user_agent TEXT NOT NULL DEFAULT ''",
			sqlstore.Postgres: "ALTER TABLE v2_sessions ADD COLUMN rotated_user_agent TEXT NOT NULL DEFAULT ''",
			sqlstore.MySQL:    "ALTER TABLE v2_sessions ADD COLUMN rotated_user_agent VARBINARY(1024) NOT NULL DEFAULT ''",
		}
		if _, err := tdb.db.ExecContext(ctx, halfDone[tdb.dialect]); err != nil {
			t.Fatal(err)
		}

		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate from version 2: %v", err)
		}
		if n, want := countRows(t, tdb.db, prefix+"schema_migrations"), len(upFiles(t, tdb.dialect)); n != want {
			t.Errorf("%d migration rows, want %d", n, want)
		}
		for _, want := range []*auth.Session{fresh, rotated} {
			got, err := s.Session(ctx, want.ID)
			if err != nil {
				t.Fatalf("session %s lost by the upgrade: %v", want.ID, err)
			}
			if got.RotatedUserAgent != "" || got.RotatedIP != "" || got.GraceUses != 0 {
				t.Errorf("new columns of an old session: %q %q %d, want '' '' 0", got.RotatedUserAgent, got.RotatedIP, got.GraceUses)
			}
			if got.CurrentJTI != want.CurrentJTI || got.PreviousJTI != want.PreviousJTI || got.UserID != want.UserID ||
				!got.RotatedAt.Equal(want.RotatedAt) || !got.RevokedAt.Equal(want.RevokedAt) ||
				got.UserAgent != want.UserAgent || got.IP != want.IP {
				t.Errorf("session changed by the upgrade:\n got %+v\nwant %+v", *got, *want)
			}
		}
		if err := s.UseGrace(ctx, rotated.ID, rotated.PreviousJTI, 3); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("UseGrace on the revoked old session = %v, want ErrConflict", err)
		}
		if err := s.RotateSession(ctx, fresh.ID, fresh.CurrentJTI, "child", when.Add(time.Minute), "ua", "192.0.2.9"); err != nil {
			t.Fatalf("RotateSession on an old session: %v", err)
		}
		if err := s.UseGrace(ctx, fresh.ID, fresh.CurrentJTI, 3); err != nil {
			t.Fatalf("UseGrace on an old session: %v", err)
		}
		got, err := s.Session(ctx, fresh.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.RotatedUserAgent != "ua" || got.RotatedIP != "192.0.2.9" || got.GraceUses != 1 {
			t.Errorf("after rotation and a grace use: %q %q %d, want ua 192.0.2.9 1", got.RotatedUserAgent, got.RotatedIP, got.GraceUses)
		}
	})
}

// timeArg is how the tests write a time column by hand.
func timeArg(d sqlstore.Dialect, t time.Time) any {
	if d == sqlstore.SQLite {
		return t.UTC().Format("2006-01-02 15:04:05.000000")
	}
	return t.UTC()
}

func TestDerivedName(t *testing.T) {
	if got := sqlstore.DerivedName("gatehouse_sessions", "_user_id_idx"); got != "gatehouse_sessions_user_id_idx" {
		t.Errorf("short name = %q, want it as in the files", got)
	}
	a := sqlstore.DerivedName(strings.Repeat("a", 60)+"_s1", "_expires_at_idx")
	b := sqlstore.DerivedName(strings.Repeat("a", 60)+"_s2", "_expires_at_idx")
	if len(a) != 63 || len(b) != 63 || a == b || !strings.HasSuffix(a, "_expires_at_idx") {
		t.Errorf("long names %q and %q: want 63 bytes, distinct, keeping the suffix", a, b)
	}
}

func readFile(t *testing.T, fsys fs.FS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// insertOldUser writes u with the columns of schema version 1, as an older
// Gatehouse did, so that a test of a later migration can start from rows
// the current code did not write (it may write columns the old schema
// lacks).
func insertOldUser(t *testing.T, tdb *testDB, prefix string, u *auth.User) {
	t.Helper()
	if u.ID == "" {
		u.ID = uuid.NewString() // as CreateUser would
	}
	q := "INSERT INTO " + prefix + "users (id, username, password_hash, disabled, token_version, created_at, updated_at)" +
		" VALUES (?, ?, ?, ?, ?, ?, ?)"
	if tdb.dialect == sqlstore.Postgres {
		q = sqlstore.Rebind(q)
	}
	if _, err := tdb.db.ExecContext(context.Background(), q, u.ID, u.Username, u.PasswordHash, u.Disabled, u.TokenVersion,
		timeArg(tdb.dialect, u.CreatedAt), timeArg(tdb.dialect, u.UpdatedAt)); err != nil {
		t.Fatalf("insert an old user: %v", err)
	}
}

// insertOldSession writes s with the columns of schema version 3.
func insertOldSession(t *testing.T, tdb *testDB, prefix string, s *auth.Session) {
	t.Helper()
	q := "INSERT INTO " + prefix + "sessions (id, user_id, token_version, current_jti, previous_jti," +
		" created_at, expires_at, rotated_at, last_used_at, revoked_at, user_agent, ip," +
		" rotated_user_agent, rotated_ip, grace_uses)" +
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	if tdb.dialect == sqlstore.Postgres {
		q = sqlstore.Rebind(q)
	}
	var revoked any // NULL while live
	if !s.RevokedAt.IsZero() {
		revoked = timeArg(tdb.dialect, s.RevokedAt)
	}
	if _, err := tdb.db.ExecContext(context.Background(), q, s.ID, s.UserID, s.TokenVersion, s.CurrentJTI,
		s.PreviousJTI, timeArg(tdb.dialect, s.CreatedAt), timeArg(tdb.dialect, s.ExpiresAt),
		timeArg(tdb.dialect, s.RotatedAt), timeArg(tdb.dialect, s.LastUsedAt), revoked,
		s.UserAgent, s.IP, s.RotatedUserAgent, s.RotatedIP, s.GraceUses); err != nil {
		t.Fatalf("insert an old session: %v", err)
	}
}

// indexExists reports whether the database has an index of that name
// (SQLite and PostgreSQL: in the schema in use; MySQL: on the table).
func indexExists(t *testing.T, tdb *testDB, table, index string) bool {
	t.Helper()
	query := map[sqlstore.Dialect]string{
		sqlstore.SQLite:   "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ?",
		sqlstore.Postgres: "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 AND indexname = $2",
		sqlstore.MySQL:    "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?",
	}[tdb.dialect]
	var n int
	if err := tdb.db.QueryRow(query, table, index).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestMigrateUserLiveIndex: a database at version 3 is brought to version
// 10, which lists a user's live sessions through one index on (user_id,
// revoked_at, expires_at) in place of the index on user_id; its sessions
// stay and list as before. On MySQL the new index is already there, as a
// step that failed halfway (DDL commits implicitly) leaves it; Migrate
// completes the step.
func TestMigrateUserLiveIndex(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		const prefix = "v3_"
		s, err := sqlstore.New(tdb.db, sqlstore.WithTablePrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.MigrateTo(ctx, 3); err != nil {
			t.Fatalf("migrate to version 3: %v", err)
		}
		if !indexExists(t, tdb, prefix+"sessions", prefix+"sessions_user_id_idx") {
			t.Fatal("version 3 has no index on user_id")
		}
		u := testUser("lister")
		insertOldUser(t, tdb, prefix, u)
		live, expired, revoked := testSession(u.ID), testSession(u.ID), testSession(u.ID)
		expired.ExpiresAt = when.Add(-time.Hour)
		revoked.RevokedAt = when.Add(-time.Minute)
		for _, sess := range []*auth.Session{live, expired, revoked} {
			insertOldSession(t, tdb, prefix, sess)
		}
		if tdb.dialect == sqlstore.MySQL {
			if _, err := tdb.db.ExecContext(ctx, "CREATE INDEX v3_sessions_user_live_idx ON v3_sessions (user_id, revoked_at, expires_at)"); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate from version 3: %v", err)
		}
		if !indexExists(t, tdb, prefix+"sessions", prefix+"sessions_user_live_idx") || indexExists(t, tdb, prefix+"sessions", prefix+"sessions_user_id_idx") {
			t.Error("after Migrate: want the index on (user_id, revoked_at, expires_at) in place of the one on user_id")
		}
		list, err := s.UserSessions(ctx, u.ID, when)
		if err != nil || len(list) != 1 || list[0].ID != live.ID {
			t.Fatalf("UserSessions after the upgrade = %v, %v; want the live session", list, err)
		}
		if err := s.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, tdb.db, prefix+"sessions"); n != 0 {
			t.Errorf("%d sessions left after DeleteUser", n)
		}
	})
}
