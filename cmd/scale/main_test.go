package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/gatehouse/auth/sqlstore"
)

// TestSmoke seeds the memory store and SQLite to two small sizes, runs a
// short workload on each and draws the chart: every endpoint answers as it
// should at every size, and the files are written. It takes seconds; CI
// runs it.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	jsonPath, svgPath := filepath.Join(dir, "scale.json"), filepath.Join(dir, "scale.svg")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-stores", "mem,sqlite", "-sizes", "300,2000", "-d", "600ms", "-rounds", "2",
		"-c", "4", "-tokens", "16", "-dir", dir, "-json", jsonPath, "-svg", svgPath, "-q"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	res, err := readResults(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) > 0 {
		t.Errorf("unexpected answers: %v\n%s", res.Failures, stderr.String())
	}
	seen := map[string]int{}
	for _, f := range res.Figures {
		if f.Kind == "endpoint" && f.Count > 0 && f.P50 > 0 && f.P99 >= f.P50 && f.P999 >= f.P99 {
			seen[f.Store+" "+f.Name]++
		}
	}
	for _, st := range []string{"mem", "sqlite"} {
		for _, op := range operations {
			if seen[st+" "+op.name] != 2 {
				t.Errorf("%s %s: figures at %d sizes, want 2", st, op.name, seen[st+" "+op.name])
			}
		}
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("sqlite")) {
		t.Errorf("the chart is not an SVG with a panel per store: %.200s", svg)
	}
	for _, want := range []string{"endpoint", "in-store", "UserByUsername", "p99.9"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// The chart is drawn again from the JSON alone.
	again := filepath.Join(dir, "again.svg")
	if code := run(context.Background(), []string{"-plot", jsonPath, "-svg", again}, &stdout, &stderr); code != 0 {
		t.Fatalf("-plot: exit %d\n%s", code, stderr.String())
	}
}

// TestSeedResumes: seeding a store that holds some of the users adds only
// the missing ones.
func TestSeedResumes(t *testing.T) {
	ctx := context.Background()
	o := testOptions(t)
	o.dir = t.TempDir()
	hash, err := precomputedHash(ctx, hashParams("owasp"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, o, "sqlite", 2500)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	st.users = 1200 // as if an earlier run had stopped there
	var log bytes.Buffer
	if err := seed(ctx, o, st, hash, &log); err != nil {
		t.Fatal(err)
	}
	st.users = 2500
	log.Reset()
	if err := seed(ctx, o, st, hash, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "seeded 1300 users and 13000 sessions") {
		t.Errorf("second seeding: %s", log.String())
	}
	if n, err := seededUsers(ctx, st); err != nil || n != 2500 {
		t.Errorf("%d seeded users, %v; want 2500", n, err)
	}
	var sessions int
	if err := st.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM gatehouse_sessions").Scan(&sessions); err != nil || sessions != 25000 {
		t.Errorf("%d sessions, %v; want 25000", sessions, err)
	}
	log.Reset()
	if err := seed(ctx, o, st, hash, &log); err != nil || !strings.Contains(log.String(), "seeded already") {
		t.Errorf("third seeding: %v %s", err, log.String())
	}
}

func testOptions(t *testing.T) *options {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &options{sessions: 10, expired: 0.5, workers: 2, hash: "owasp", quiet: true,
		namePrefix: "gh_scale_" + hex.EncodeToString(b) + "_",
		pgDSN:      os.Getenv("GATEHOUSE_TEST_POSTGRES_DSN"), myDSN: os.Getenv("GATEHOUSE_TEST_MYSQL_DSN")}
}

// TestSeedMirrorsStore: the rows seeding writes with its INSERTs are the
// rows sqlstore's CreateUser and CreateSession write for the same user and
// sessions, column by column, on every dialect (PostgreSQL and MySQL when
// their variables are set).
func TestSeedMirrorsStore(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			o := testOptions(t)
			o.dir = t.TempDir()
			switch {
			case kind == "postgres" && o.pgDSN == "":
				t.Skip("GATEHOUSE_TEST_POSTGRES_DSN is not set")
			case kind == "mysql" && o.myDSN == "":
				t.Skip("GATEHOUSE_TEST_MYSQL_DSN is not set")
			}
			st, err := openStore(ctx, o, kind, 1)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { dropStore(t, o, st) })
			now := time.Now()
			seeded := newEntity(o, 0, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", now)
			if err := writeChunk(ctx, st, []*entity{seeded}); err != nil {
				t.Fatal(err)
			}
			// The same user and sessions again, through the store, under
			// other keys.
			viaStore := newEntity(o, 1, seeded.user.PasswordHash, now)
			u := *seeded.user
			u.ID, u.Username = viaStore.user.ID, viaStore.user.Username
			if err := st.backend.CreateUser(ctx, &u); err != nil {
				t.Fatal(err)
			}
			for k, s := range seeded.sessions {
				c := *s
				c.ID, c.UserID, c.CurrentJTI = viaStore.sessions[k].ID, u.ID, viaStore.sessions[k].CurrentJTI
				if err := st.backend.CreateSession(ctx, &c); err != nil {
					t.Fatal(err)
				}
			}
			same := func(table, cols, keyCol, a, b string) {
				t.Helper()
				ra, rb := rawRow(t, st, table, cols, keyCol, a), rawRow(t, st, table, cols, keyCol, b)
				for i := range ra {
					if ra[i] != rb[i] {
						t.Errorf("%s column %d of %q: seeded %q, store %q", table, i, cols, ra[i], rb[i])
					}
				}
			}
			same("gatehouse_users", "password_hash, disabled, token_version, created_at, updated_at", "id", seeded.user.ID, u.ID)
			for k, s := range seeded.sessions {
				same("gatehouse_sessions", "token_version, previous_jti, created_at, expires_at, rotated_at, last_used_at,"+
					" revoked_at, user_agent, ip, rotated_user_agent, rotated_ip, grace_uses", "id", s.ID, viaStore.sessions[k].ID)
			}
			// And the store reads the seeded user back as it was made.
			got, err := st.backend.UserByUsername(ctx, seeded.user.Username)
			if err != nil || got.ID != seeded.user.ID || !got.CreatedAt.Equal(seeded.user.CreatedAt.Truncate(time.Microsecond)) {
				t.Errorf("UserByUsername(seeded) = %+v, %v", got, err)
			}
		})
	}
}

// rawRow reads columns of one row as the database's text.
func rawRow(t *testing.T, st *store, table, cols, keyCol, key string) []string {
	t.Helper()
	q := "SELECT " + cols + " FROM " + table + " WHERE " + keyCol + " = ?"
	if st.dialect == sqlstore.Postgres {
		q = strings.Replace(q, "?", "$1", 1)
	}
	n := len(strings.Split(cols, ","))
	raw := make([]sql.NullString, n)
	dest := make([]any, n)
	for i := range raw {
		dest[i] = &raw[i]
	}
	if err := st.db.QueryRowContext(context.Background(), q, key).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := make([]string, n)
	for i, r := range raw {
		out[i] = r.String
		if !r.Valid {
			out[i] = "NULL"
		}
	}
	return out
}

// dropStore removes a test's schema or database.
func dropStore(t *testing.T, o *options, st *store) {
	st.close()
	name := o.dbName(st.users)
	var driver, dsn, stmt string
	switch st.kind {
	case "postgres":
		driver, dsn, stmt = "pgx", o.pgDSN, "DROP SCHEMA "+name+" CASCADE"
	case "mysql":
		cfg, err := mysql.ParseDSN(o.myDSN)
		if err != nil {
			t.Error(err)
			return
		}
		cfg.DBName = ""
		driver, dsn, stmt = "mysql", cfg.FormatDSN(), "DROP DATABASE "+name
	default:
		return
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Error(err)
		return
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Error(err)
	}
}
