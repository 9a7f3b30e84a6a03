package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

// checkAll calls every store method and wants each error to match target.
func checkAll(t *testing.T, s auth.UserStore, ctx context.Context, target error) {
	t.Helper()
	for op, err := range callAll(s, ctx) {
		if !errors.Is(err, target) {
			t.Errorf("%s = %v, want %v", op, err, target)
		}
	}
}

// callAll calls every store method, and Migrate if s has it, and returns
// their errors by method name.
func callAll(s auth.UserStore, ctx context.Context) map[string]error {
	u := testUser("unreachable")
	u.ID = "x1"
	results := map[string]error{}
	results["CreateUser"] = s.CreateUser(ctx, u)
	_, results["UserByID"] = s.UserByID(ctx, "x1")
	_, results["UserByUsername"] = s.UserByUsername(ctx, "unreachable")
	results["UpdateUser"] = s.UpdateUser(ctx, u, u.PasswordHash, u.TokenVersion)
	results["DeleteUser"] = s.DeleteUser(ctx, "x1")
	if m, ok := s.(*sqlstore.Store); ok {
		results["Migrate"] = m.Migrate(ctx)
	}
	if ss, ok := s.(auth.SessionStore); ok {
		sess := testSession("x1")
		results["CreateSession"] = ss.CreateSession(ctx, sess)
		_, results["Session"] = ss.Session(ctx, sess.ID)
		results["RotateSession"] = ss.RotateSession(ctx, sess.ID, sess.CurrentJTI, "next", when, "ua", "ip")
		results["UseGrace"] = ss.UseGrace(ctx, sess.ID, "previous", 5)
		results["RevokeSession"] = ss.RevokeSession(ctx, sess.ID, when)
		results["RevokeUserSessions"] = ss.RevokeUserSessions(ctx, "x1", when)
		_, results["UserSessions"] = ss.UserSessions(ctx, "x1", when)
		_, results["DeleteSessions"] = ss.DeleteSessions(ctx, when)
	}
	return results
}

func TestClosedDBIsUnavailable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		db := tdb.open(t)
		s := newStore(t, db)
		db.Close()
		checkAll(t, s, context.Background(), auth.ErrUnavailable)
	})
}

func TestUnreachableIsUnavailable(t *testing.T) {
	cases := []struct {
		dialect     sqlstore.Dialect
		driver, dsn string
	}{
		// Nothing listens on port 1.
		{sqlstore.Postgres, "pgx", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5"},
		{sqlstore.MySQL, "mysql", "root@tcp(127.0.0.1:1)/test?timeout=5s"},
	}
	for _, c := range cases {
		t.Run(c.dialect.String(), func(t *testing.T) {
			db := openDB(t, c.driver, c.dsn)
			s, err := sqlstore.New(db)
			if err != nil {
				t.Fatal(err)
			}
			checkAll(t, s, context.Background(), auth.ErrUnavailable)
		})
	}
}

func TestCanceledContextIsNotUnavailable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		s := newStore(t, tdb.db)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		checkAll(t, s, ctx, context.Canceled)
		u := testUser("x")
		if err := s.CreateUser(ctx, u); errors.Is(err, auth.ErrUnavailable) {
			t.Errorf("canceled CreateUser = %v, want no ErrUnavailable", err)
		}
	})
}

// lockUsers holds a write lock on the users table from another connection
// until the returned func is called.
func lockUsers(t *testing.T, tdb *testDB, table string) func() {
	t.Helper()
	ctx := context.Background()
	other := tdb.open(t)
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	switch tdb.dialect {
	case sqlstore.SQLite:
		stmts = []string{"BEGIN IMMEDIATE", "UPDATE " + table + " SET token_version = token_version"}
	case sqlstore.Postgres:
		stmts = []string{"BEGIN", "LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE"}
	case sqlstore.MySQL:
		stmts = []string{"BEGIN", "SELECT COUNT(*) FROM " + table + " FOR UPDATE"}
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return func() {
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Error(err)
		}
		conn.Close()
	}
}

// lockTimeoutDB opens the test database with a server-side lock wait of
// ms milliseconds on SQLite and PostgreSQL, and of mysqlSeconds on MySQL,
// whose lock wait timeout counts whole seconds (MariaDB's 0: no wait).
func lockTimeoutDB(t *testing.T, tdb *testDB, ms, mysqlSeconds int) *sql.DB {
	t.Helper()
	switch tdb.dialect {
	case sqlstore.SQLite:
		dsn := strings.Replace(tdb.dsn, "busy_timeout(5000)", fmt.Sprintf("busy_timeout(%d)", ms), 1)
		if dsn == tdb.dsn {
			t.Fatalf("no busy_timeout(5000) in %s", tdb.dsn)
		}
		return openDB(t, "sqlite", dsn)
	case sqlstore.Postgres:
		u, err := url.Parse(tdb.dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("lock_timeout", strconv.Itoa(ms))
		u.RawQuery = q.Encode()
		return openDB(t, "pgx", u.String())
	}
	cfg, err := mysql.ParseDSN(tdb.dsn)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["innodb_lock_wait_timeout"] = strconv.Itoa(mysqlSeconds)
	return openDB(t, "mysql", cfg.FormatDSN())
}

// TestLockedIsUnavailable: a write that cannot get its lock fails as
// unavailable, whether the database or the caller's deadline gives up, and
// it is all or nothing.
func TestLockedIsUnavailable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		const prefix = "locked_"
		s := newStore(t, tdb.db, sqlstore.WithTablePrefix(prefix))
		ctx := context.Background()
		u := testUser("alice")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		next := *u
		next.PasswordHash = "new"
		next.TokenVersion = 2
		next.Disabled = true

		t.Run("LockTimeout", func(t *testing.T) {
			impatient, err := sqlstore.New(lockTimeoutDB(t, tdb, 300, 1), sqlstore.WithTablePrefix(prefix))
			if err != nil {
				t.Fatal(err)
			}
			unlock := lockUsers(t, tdb, prefix+"users")
			err = impatient.UpdateUser(ctx, &next, u.PasswordHash, u.TokenVersion)
			unlock()
			if !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("UpdateUser on a locked table = %v, want ErrUnavailable from the database", err)
			}
			// The database gave up on the statement: nothing was written.
			got, err := s.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.PasswordHash != u.PasswordHash || got.TokenVersion != u.TokenVersion || got.Disabled {
				t.Errorf("after a failed update: %+v, want the old state", *got)
			}
		})

		t.Run("Deadline", func(t *testing.T) {
			unlock := lockUsers(t, tdb, prefix+"users")
			tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			err := s.UpdateUser(tctx, &next, u.PasswordHash, u.TokenVersion)
			unlock()
			if !errors.Is(err, auth.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("UpdateUser past its deadline = %v, want ErrUnavailable and DeadlineExceeded", err)
			}
			// The outcome of a write that timed out is unknown (on MySQL the
			// server goes on with a statement whose client gave up), but it
			// is never partial.
			got, err := s.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			old := got.PasswordHash == u.PasswordHash && got.TokenVersion == u.TokenVersion && !got.Disabled
			updated := got.PasswordHash == next.PasswordHash && got.TokenVersion == next.TokenVersion && got.Disabled
			if !old && !updated {
				t.Errorf("after a timed-out update: %+v, neither the old nor the new state", *got)
			}
		})
	})
}

// freezeProxy forwards TCP connections from a loopback port to a database
// until it is frozen; from then on it forwards no byte either way, but
// keeps every connection open (and accepts new ones), as a database host
// that hangs does.
type freezeProxy struct {
	ln     net.Listener
	target string
	closed chan struct{}
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newFreezeProxy(t *testing.T, target string) *freezeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{ln: ln, target: target, closed: make(chan struct{})}
	p.wg.Add(1)
	go p.serve()
	return p
}

func (p *freezeProxy) addr() string { return p.ln.Addr().String() }

func (p *freezeProxy) freeze() { p.frozen.Store(true) }

// track records c so that close can end it; it reports false when the
// proxy is closed already.
func (p *freezeProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.closed:
		c.Close()
		return false
	default:
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *freezeProxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(client) || p.frozen.Load() {
			continue // held open, never answered
		}
		server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(server) {
			continue
		}
		p.wg.Add(2)
		go p.pipe(server, client)
		go p.pipe(client, server)
	}
}

// pipe copies src to dst until either fails. Bytes read after the freeze
// are held, and src is no longer read.
func (p *freezeProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if p.frozen.Load() {
				<-p.closed
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// close ends the listener and every connection, and waits for the pipes.
func (p *freezeProxy) close() {
	p.mu.Lock()
	close(p.closed)
	conns := p.conns
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}

// TestFrozenDatabaseIsUnavailable: when the database stops answering
// mid-connection (no error, no close, just silence), a call under a short
// deadline returns soon after the deadline, as unavailable. The driver
// alone would wait for TCP to give up, which takes minutes.
func TestFrozenDatabaseIsUnavailable(t *testing.T) {
	const deadline = 300 * time.Millisecond
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.MySQL} {
		t.Run(d.String(), func(t *testing.T) {
			tdb := newTestDB(t, d)
			prefix := uniquePrefix()
			newStore(t, tdb.db, sqlstore.WithTablePrefix(prefix)) // migrate directly

			var driverName, target, dsn string
			var p *freezeProxy
			switch d {
			case sqlstore.Postgres:
				u, err := url.Parse(tdb.dsn)
				if err != nil {
					t.Fatal(err)
				}
				driverName, target = "pgx", u.Host
				p = newFreezeProxy(t, target)
				u.Host = p.addr()
				dsn = u.String()
			case sqlstore.MySQL:
				cfg, err := mysql.ParseDSN(tdb.dsn)
				if err != nil {
					t.Fatal(err)
				}
				driverName, target = "mysql", cfg.Addr
				p = newFreezeProxy(t, target)
				cfg.Addr = p.addr()
				dsn = cfg.FormatDSN()
			}
			defer p.close() // before the cleanups close the *sql.DB

			db := openDB(t, driverName, dsn) // a pool of its own, every connection through p
			s, err := sqlstore.New(db, sqlstore.WithTablePrefix(prefix))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			u := testUser("frozen")
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatalf("CreateUser through the proxy: %v", err)
			}
			sess := testSession(u.ID)
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatalf("CreateSession through the proxy: %v", err)
			}

			p.freeze()
			calls := map[string]func(ctx context.Context) error{
				"UserByID": func(ctx context.Context) error { _, err := s.UserByID(ctx, u.ID); return err },
				"RotateSession": func(ctx context.Context) error {
					return s.RotateSession(ctx, sess.ID, sess.CurrentJTI, "child", when, "ua", "ip")
				},
			}
			for name, call := range calls {
				cctx, cancel := context.WithTimeout(ctx, deadline)
				start := time.Now()
				done := make(chan error, 1)
				go func() { done <- call(cctx) }()
				select {
				case err := <-done:
					elapsed := time.Since(start)
					t.Logf("%s on a frozen database: %v after %v", name, err, elapsed.Round(time.Millisecond))
					if !errors.Is(err, auth.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("%s on a frozen database = %v, want ErrUnavailable and DeadlineExceeded", name, err)
					}
					if elapsed > 6*deadline {
						t.Errorf("%s returned after %v, want within %v of a %v deadline", name, elapsed, 6*deadline, deadline)
					}
				case <-time.After(20 * deadline):
					t.Errorf("%s did not return within %v of a %v deadline", name, 20*deadline, deadline)
				}
				cancel()
			}
		})
	}
}
