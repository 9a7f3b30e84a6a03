package sqlstore_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth/sqlstore"
)

const envDurabilityChild = "GATEHOUSE_SQLSTORE_DURABILITY_DB"

// TestDurabilityChild is the process that TestKill9Durability kills: it
// creates users from a few goroutines and prints "ack NAME" for each
// CreateUser that returned nil. It does nothing in a normal run.
func TestDurabilityChild(t *testing.T) {
	path := os.Getenv(envDurabilityChild)
	if path == "" {
		t.Skip("runs only as the child of TestKill9Durability")
	}
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(4)
	s, err := sqlstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second) // bounded, should the parent not kill us
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				name := fmt.Sprintf("user-%d-%d", g, i)
				if err := s.CreateUser(ctx, testUser(name)); err != nil {
					fmt.Fprintf(os.Stdout, "error %v\n", err)
					continue
				}
				fmt.Fprintf(os.Stdout, "ack %s\n", name)
			}
		}()
	}
	wg.Wait()
}

// TestKill9Durability kills a process that is creating users with SIGKILL,
// then checks that the file is intact and holds every user whose creation
// the process saw acknowledged.
func TestKill9Durability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "auth.db")
	db := openDB(t, "sqlite", sqlstore.SQLiteDSN(path))
	s, err := sqlstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestDurabilityChild$", "-test.v")
	cmd.Env = append(os.Environ(), envDurabilityChild+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var acked []string
	var errs []string
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	killed := false
	for !killed {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("child exited before it was killed: %v", cmd.Wait())
			}
			if name, ok := strings.CutPrefix(line, "ack "); ok {
				acked = append(acked, name)
			} else if e, ok := strings.CutPrefix(line, "error "); ok {
				errs = append(errs, e)
			}
		case <-timer.C:
			if len(acked) == 0 {
				timer.Reset(200 * time.Millisecond)
				continue
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
	// Acknowledgements already written to the pipe count too.
	for line := range lines {
		if name, ok := strings.CutPrefix(line, "ack "); ok {
			acked = append(acked, name)
		}
	}
	_ = cmd.Wait()
	if len(errs) > 0 {
		t.Errorf("child saw %d errors, first: %s", len(errs), errs[0])
	}

	db = openDB(t, "sqlite", sqlstore.SQLiteDSN(path))
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil {
		t.Fatal(err)
	}
	if check != "ok" {
		t.Fatalf("integrity_check: %s", check)
	}
	s, err = sqlstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, name := range acked {
		if _, err := s.UserByUsername(context.Background(), name); err != nil {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged user %s: %v", name, err)
			}
		}
	}
	total := countRows(t, db, "gatehouse_users")
	t.Logf("%d acknowledged, %d in the database, %d missing", len(acked), total, missing)
	if total < len(acked) {
		t.Errorf("%d rows, fewer than the %d acknowledged", total, len(acked))
	}
}
