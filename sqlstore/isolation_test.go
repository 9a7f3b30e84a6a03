package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// TestPostgresSerializable: on a server whose default_transaction_isolation
// is SERIALIZABLE, the losers of a race get serialization failures instead
// of re-checked conditions. The contract holds all the same: of 50
// concurrent conditional writes exactly one wins and the others get
// ErrConflict, not ErrUnavailable.
func TestPostgresSerializable(t *testing.T) {
	tdb := openPostgres(t)
	u, err := url.Parse(tdb.dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("default_transaction_isolation", "serializable")
	u.RawQuery = q.Encode()
	const n = 50
	db := openDB(t, "pgx", u.String())
	warmPool(t, db, n)
	var level string
	if err := db.QueryRow("SHOW transaction_isolation").Scan(&level); err != nil || level != "serializable" {
		t.Fatalf("transaction_isolation = %q, %v", level, err)
	}
	s := newStore(t, db)
	ctx := context.Background()
	user := testUser("sera")
	if err := s.CreateUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	sess := testSession(user.ID)
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}

	race := func(name string, write func(i int) error) {
		t.Helper()
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := write(i)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, auth.ErrConflict):
					t.Errorf("%s: %v, want success or ErrConflict", name, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins != 1 {
			t.Errorf("%s: %d of %d concurrent writes won, want exactly 1", name, wins, n)
		}
	}
	race("RotateSession", func(i int) error {
		return s.RotateSession(ctx, sess.ID, sess.CurrentJTI, fmt.Sprintf("child-%d", i), when.Add(time.Second), "ua", "ip")
	})
	race("UpdateUser", func(i int) error {
		next := *user
		next.PasswordHash = fmt.Sprintf("hash-%d", i)
		next.TokenVersion++
		return s.UpdateUser(ctx, &next, user.PasswordHash, user.TokenVersion)
	})
}
