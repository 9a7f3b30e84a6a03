package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

// seedRows is how many sessions TestPruneWhileRefreshing seeds, half of
// them dead: 25 to 50 batches of the default sizes, seconds on each
// database.
const seedRows = 50_000

// refreshEvery paces each refreshing worker: four workers refresh up to
// 2000 times a second, far more than an auth server's share of refreshes,
// without keeping SQLite's lock from the prune all the time.
const refreshEvery = 10 * time.Millisecond

// maxLockWait is the longest a refresh may wait while a prune runs.
const maxLockWait = 100 * time.Millisecond

// seedSessions writes n sessions of the users, one in two of them dead at
// now: of the dead, four in five expired a day before and one in five was
// revoked a minute before (and is live until next week). The live ones
// expire next week. It writes them with multi-row INSERTs in one
// transaction, with the columns and values CreateSession writes.
func seedSessions(t *testing.T, db *sql.DB, d sqlstore.Dialect, table string, userIDs []string, n int, now time.Time) {
	t.Helper()
	const rowsPerInsert = 500
	const cols = "id, user_id, token_version, current_jti, previous_jti, created_at, expires_at, rotated_at," +
		" last_used_at, revoked_at, user_agent, ip, rotated_user_agent, rotated_ip, grace_uses"
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", 15), ", ") + ")"
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for start := 0; start < n; start += rowsPerInsert {
		k := min(rowsPerInsert, n-start)
		args := make([]any, 0, 15*k)
		for i := start; i < start+k; i++ {
			created := now.Add(-8 * 24 * time.Hour).Add(time.Duration(i) * time.Millisecond)
			expires, revoked := created.Add(7*24*time.Hour), any(nil)
			switch {
			case i%2 == 0: // live
				created = now.Add(-time.Hour)
				expires = now.Add(7 * 24 * time.Hour)
			case i%5 == 4:
				expires, revoked = now.Add(7*24*time.Hour), timeArg(d, now.Add(-time.Minute))
			}
			args = append(args, uuid.NewString(), userIDs[i%len(userIDs)], 1, fmt.Sprintf("jti-seeded-%08d", i), "",
				timeArg(d, created), timeArg(d, expires), timeArg(d, created), timeArg(d, created), revoked,
				"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0", "203.0.113.7", "", "", 0)
		}
		q := "INSERT INTO " + table + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", k), ", ")
		if d == sqlstore.Postgres {
			q = sqlstore.Rebind(q)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("seed sessions: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// lockBoundedStore opens the store's tables again on a *sql.DB of its own
// whose writes give up after waiting maxLockWait for a lock, so that a
// write that fails waited that long: SQLite's busy_timeout and
// PostgreSQL's lock_timeout count only the wait for a lock, not the time
// the machine takes to run the statement. MySQL's innodb_lock_wait_timeout
// counts whole seconds; MariaDB's 0 means not waiting at all, which is
// what a refresh of a live row should do there, as the prune locks only
// the rows it deletes and their neighbours in its index.
func lockBoundedStore(t *testing.T, tdb *testDB, prefix string, wait time.Duration) *sqlstore.Store {
	t.Helper()
	db := lockTimeoutDB(t, tdb, int(wait/time.Millisecond), 0)
	if tdb.dialect == sqlstore.SQLite {
		// One connection: the refreshes queue in Go, and only the
		// prune's lock, not one another's, can keep them waiting.
		db.SetMaxOpenConns(1)
	}
	s, err := sqlstore.New(db, sqlstore.WithTablePrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// repeat calls op every refreshEvery until done is closed, passing each
// call's time to record; a failed call fails the test and ends it.
func repeat(t *testing.T, done <-chan struct{}, what string, wait time.Duration, record func(time.Duration), op func(i int) error) {
	tick := time.NewTicker(refreshEvery)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		start := time.Now()
		err := op(i)
		d := time.Since(start)
		if err != nil {
			t.Errorf("a %s during the prune failed after %v (more than %v waiting for a lock?): %v", what, d, wait, err)
			return
		}
		record(d)
	}
}

// TestPruneWhileRefreshing prunes many dead sessions while refreshes of
// live sessions (a rotation: the write every refresh makes) and logins (a
// new session) run, and checks that none waited more than maxLockWait for
// a lock. One DELETE for the lot held SQLite's write lock, or MySQL's row
// locks on every row it scanned, for seconds; batches hold them for
// milliseconds. It also checks the count and that every live session
// survives.
func TestPruneWhileRefreshing(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 50k sessions and prunes half of them")
	}
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s := newStore(t, tdb.db, sqlstore.WithTablePrefix(prefix))
		const workers = 4
		wait := maxLockWait
		if raceEnabled && tdb.dialect == sqlstore.SQLite {
			// The bound itself is checked without -race (CI's first
			// step runs the SQLite tests so).
			wait *= 10
			t.Logf("SQLite under -race: allowing %v for a lock", wait)
		}
		refresher := lockBoundedStore(t, tdb, prefix, wait)
		var userIDs []string
		var live []*auth.Session
		for i := range 20 {
			u := testUser(fmt.Sprintf("pruner-%d", i))
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			userIDs = append(userIDs, u.ID)
			sess := testSession(u.ID)
			sess.ID = uuid.NewString() // spread over the key, as Login's are
			sess.ExpiresAt = time.Now().Add(24 * time.Hour)
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
			live = append(live, sess)
		}
		now := time.Now()
		start := time.Now()
		seedSessions(t, tdb.db, tdb.dialect, prefix+"sessions", userIDs, seedRows, now)
		t.Logf("seeded %d sessions in %v", seedRows, time.Since(start).Round(time.Millisecond))

		done := make(chan struct{})
		var pruned int
		var pruneErr error
		var pruneTime time.Duration
		go func() {
			defer close(done)
			start := time.Now()
			pruned, pruneErr = s.DeleteSessions(ctx, now)
			pruneTime = time.Since(start)
		}()
		var mu sync.Mutex
		var waits []time.Duration
		record := func(d time.Duration) {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
		}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				sess := live[w]
				jti := sess.CurrentJTI
				repeat(t, done, "refresh", wait, record, func(i int) error {
					next := fmt.Sprintf("%s-%d", sess.ID, i)
					if err := refresher.RotateSession(ctx, sess.ID, jti, next, time.Now(), "curl/8.5.0", "192.0.2.1"); err != nil {
						return err
					}
					jti = next
					return nil
				})
			})
		}
		// A login's write: a new session, next to the rows being pruned.
		created := 0
		wg.Go(func() {
			repeat(t, done, "login", wait, record, func(i int) error {
				sess := testSession(userIDs[i%len(userIDs)])
				sess.ID = uuid.NewString()
				sess.ExpiresAt = time.Now().Add(24 * time.Hour)
				if err := refresher.CreateSession(ctx, sess); err != nil {
					return err
				}
				created++
				return nil
			})
		})
		wg.Wait()
		<-done
		if pruneErr != nil {
			t.Fatalf("DeleteSessions: %v", pruneErr)
		}
		if pruned != seedRows/2 {
			t.Errorf("DeleteSessions removed %d, want %d", pruned, seedRows/2)
		}
		var left int
		if err := tdb.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+prefix+"sessions").Scan(&left); err != nil {
			t.Fatal(err)
		}
		if want := seedRows/2 + len(live) + created; left != want {
			t.Errorf("%d sessions left after the prune, want the %d live ones", left, want)
		}
		for _, sess := range live {
			if _, err := s.Session(ctx, sess.ID); err != nil {
				t.Errorf("live session %s: %v", sess.ID, err)
			}
		}
		if len(waits) == 0 {
			t.Fatal("no refresh ran during the prune")
		}
		slices.Sort(waits)
		worst := waits[len(waits)-1]
		t.Logf("prune of %d took %v; %d refreshes and logins meanwhile: p50 %v, p99 %v, max %v", pruned, pruneTime.Round(time.Millisecond),
			len(waits), waits[len(waits)/2], waits[len(waits)*99/100], worst)
	})
}

// TestPruneSiblingsInBatches: the one-time tokens, audit entries and
// nonces are pruned in batches of WithPruneBatch's size too: every dead row
// goes, however many batches it takes, and every live one stays.
func TestPruneSiblingsInBatches(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		s := newStore(t, tdb.db, sqlstore.WithPruneBatch(2, 0))
		const dead, live = 7, 3
		for i := range dead + live {
			u := testUser(fmt.Sprintf("sibling-%d", i))
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			at := when.Add(time.Hour) // live
			if i < dead {
				at = when.Add(-time.Duration(i+1) * time.Minute)
			}
			if err := s.SaveOneTimeToken(ctx, &auth.OneTimeToken{Hash: fmt.Sprintf("%064x", i), UserID: u.ID,
				Purpose: "reset_password", Email: "a@example.com", Binding: "b", CreatedAt: at.Add(-time.Minute), ExpiresAt: at}); err != nil {
				t.Fatal(err)
			}
			if err := s.AppendAudit(ctx, &auth.AuditEntry{ID: uuid.NewString(), Time: at, Action: "password_changed", TargetID: u.ID}); err != nil {
				t.Fatal(err)
			}
			if err := s.UseNonce(ctx, uuid.NewString(), at); err != nil {
				t.Fatal(err)
			}
		}
		for name, prune := range map[string]func(context.Context, time.Time) (int, error){
			"one-time tokens": s.DeleteExpiredOneTimeTokens,
			"audit entries":   s.DeleteAudit,
			"nonces":          s.DeleteNonces,
		} {
			if n, err := prune(ctx, when); err != nil || n != dead {
				t.Errorf("%s: pruned %d (%v), want %d in batches of 2", name, n, err, dead)
			}
			if n, err := prune(ctx, when); err != nil || n != 0 {
				t.Errorf("%s: pruned %d (%v) again, want 0", name, n, err)
			}
		}
		entries, err := s.AuditEntries(ctx, auth.AuditQuery{Limit: 100})
		if err != nil || len(entries) != live {
			t.Errorf("%d audit entries left (%v), want %d", len(entries), err, live)
		}
		for i := dead; i < dead+live; i++ {
			if _, err := s.OneTimeToken(ctx, fmt.Sprintf("%064x", i)); err != nil {
				t.Errorf("live one-time token %d: %v", i, err)
			}
		}
	})
}
