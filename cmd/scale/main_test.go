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

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

// TestSmoke seeds the memory store and SQLite to two small sizes, runs a
// short workload on each, prunes the larger while the workload runs and
// draws the chart: every endpoint answers as it should at every size, the
// prune removes the expired sessions, and the files are written. It takes seconds; CI
// runs it.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	jsonPath, svgPath := filepath.Join(dir, "scale.json"), filepath.Join(dir, "scale.svg")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-stores", "mem,sqlite", "-sizes", "300,2000", "-d", "600ms", "-rounds", "2",
		"-c", "4", "-tokens", "16", "-prune", "-dir", dir, "-json", jsonPath, "-svg", svgPath, "-q"}, &stdout, &stderr)
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
	if len(res.Prunes) != 2 {
		t.Errorf("%d prunes, want one per store", len(res.Prunes))
	}
	for _, p := range res.Prunes {
		// 2000 users' 5 expired sessions each, and those logged out.
		if p.Error != "" || p.Users != 2000 || p.Removed < 10000 {
			t.Errorf("prune %+v: want 10000 sessions or more removed at 2000 users, without an error", p)
		}
		// Each seeded user's five live sessions, on SQLite.
		if want := map[string]int{"mem": 0, "sqlite": 10000}[p.Store]; p.LiveBefore != want || p.LiveAfter != want {
			t.Errorf("prune on %s: %d live seeded sessions before, %d after, want %d", p.Store, p.LiveBefore, p.LiveAfter, want)
		}
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

// TestSeedResumes: seeding a store that an interrupted run left with some
// of the users, or some of the sessions, adds only the missing rows.
func TestSeedResumes(t *testing.T) {
	ctx := context.Background()
	o := testOptions(t)
	o.dir = t.TempDir()
	st, err := openStore(ctx, o, "sqlite", 2500)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	const hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	e := &seedEnv{o: o, st: st, users: st.users, hash: hash, now: time.Now()}
	if err := writeChunk(ctx, st, e, seeders[0], 0, 1200); err != nil { // stopped after 1200 users
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := seed(ctx, o, st, hash, &log); err != nil {
		t.Fatal(err)
	}
	// 1300 users, 25000 sessions, 250 API keys, 2500 audit entries and 125
	// one-time tokens.
	if !strings.Contains(log.String(), "seeded 29175 rows") {
		t.Errorf("seeding after 1200 users: %s", log.String())
	}
	count := func(q string) int {
		var n int
		if err := st.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Each user has its sessions, half of them expired.
	if n := count("SELECT COUNT(DISTINCT user_id) FROM gatehouse_sessions"); n != 2500 {
		t.Errorf("sessions of %d users, want 2500", n)
	}
	if n := count("SELECT COUNT(*) FROM gatehouse_sessions WHERE expires_at <= '" + time.Now().UTC().Format(sqliteTimeLayout) + "'"); n != 12500 {
		t.Errorf("%d expired sessions, want 12500", n)
	}
	// Stopped within the sessions: 7000 of them gone.
	if _, err := st.db.ExecContext(ctx, "DELETE FROM gatehouse_sessions WHERE rowid > 18000"); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if err := seed(ctx, o, st, hash, &log); err != nil || !strings.Contains(log.String(), "seeded 7000 rows") {
		t.Errorf("seeding after 18000 sessions: %v %s", err, log.String())
	}
	log.Reset()
	if err := seed(ctx, o, st, hash, &log); err != nil || !strings.Contains(log.String(), "seeded already") {
		t.Errorf("seeding a seeded store: %v %s", err, log.String())
	}
	// Pruned: the expired sessions are gone, and seeding must not add
	// live ones in their place.
	if _, err := st.db.ExecContext(ctx, "DELETE FROM gatehouse_sessions WHERE expires_at <= '"+time.Now().UTC().Format(sqliteTimeLayout)+"'"); err != nil {
		t.Fatal(err)
	}
	if err := seed(ctx, o, st, hash, &log); err == nil || !strings.Contains(err.Error(), "were pruned") {
		t.Errorf("seeding a pruned store: %v, want an error that says it was pruned", err)
	}
	for q, want := range map[string]int{
		"SELECT COUNT(*) FROM gatehouse_sessions":              12500,
		"SELECT COUNT(*) FROM gatehouse_users_api_keys":        2500 / keyEvery,
		"SELECT COUNT(*) FROM gatehouse_users_audit":           2500,
		"SELECT COUNT(*) FROM gatehouse_users_one_time_tokens": 2500 / tokenEvery,
	} {
		if n := count(q); n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
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
			st, err := openStore(ctx, o, kind, tokenEvery) // a user with a row in every table
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { dropStore(t, o, st) })
			const hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
			var log bytes.Buffer
			if err := seed(ctx, o, st, hash, &log); err != nil {
				t.Fatal(err)
			}
			seeded, err := st.backend.UserByUsername(ctx, seedUsername(0))
			if err != nil {
				t.Fatal(err)
			}
			// The same user and sessions again, through the store, under
			// another name, made by the same code at the same instant.
			e := &seedEnv{o: o, st: st, users: 1, hash: hash, now: seeded.CreatedAt.Add(90 * 24 * time.Hour), ids: []string{""}}
			seededAt := e.now
			u := e.user(0)
			u.Username = "copy"
			if err := st.backend.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			e.ids[0] = u.ID
			for k := range o.sessions {
				if err := st.backend.CreateSession(ctx, e.session(k)); err != nil {
					t.Fatal(err)
				}
			}
			cols := "password_hash, disabled, token_version, created_at, updated_at"
			a, b := rawRows(t, st, "gatehouse_users", cols, "id", seeded.ID), rawRows(t, st, "gatehouse_users", cols, "id", u.ID)
			sameRows(t, "gatehouse_users", cols, a, b)
			cols = "token_version, previous_jti, created_at, expires_at, rotated_at, last_used_at," +
				" revoked_at, user_agent, ip, rotated_user_agent, rotated_ip, grace_uses"
			a, b = rawRows(t, st, "gatehouse_sessions", cols, "user_id", seeded.ID), rawRows(t, st, "gatehouse_sessions", cols, "user_id", u.ID)
			if len(a) != o.sessions || len(b) != o.sessions {
				t.Fatalf("%d seeded sessions and %d made by the store, want %d each", len(a), len(b), o.sessions)
			}
			sameRows(t, "gatehouse_sessions", cols, a, b)
			// The newer tables: user 0 has a row in each, made with the
			// seeding's time, which is a few days from created_at.
			e.now = seededAt
			if err := st.backend.CreateAPIKey(ctx, e.apiKey(0)); err != nil {
				t.Fatal(err)
			}
			if err := st.backend.AppendAudit(ctx, e.audit(0)); err != nil {
				t.Fatal(err)
			}
			if err := st.backend.(auth.OneTimeTokenStore).SaveOneTimeToken(ctx, e.oneTime(0)); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ table, cols, key string }{
				{"gatehouse_users_api_keys", "name, scopes, token_version, created_at, expires_at, last_used_at, revoked_at", "user_id"},
				{"gatehouse_users_audit", "occurred_at, action, actor_id, ip, detail", "target_id"},
				{"gatehouse_users_one_time_tokens", "purpose, email, created_at, expires_at", "user_id"},
			} {
				a, b := rawRows(t, st, c.table, c.cols, c.key, seeded.ID), rawRows(t, st, c.table, c.cols, c.key, u.ID)
				if len(a) != 1 || len(b) != 1 {
					t.Fatalf("%s: %d seeded rows and %d made by the store, want 1 each", c.table, len(a), len(b))
				}
				if c.table == "gatehouse_users_audit" {
					a[0][2] = strings.ReplaceAll(a[0][2], seeded.ID, u.ID) // the actor
				}
				sameRows(t, c.table, c.cols, a, b)
			}
		})
	}
}

// sameRows compares rows column by column, the seeded ones (a) with the
// store's (b). The seeded user was made with a time a few microseconds
// away from the copy's, so times compare to the second.
func sameRows(t *testing.T, table, cols string, a, b [][]string) {
	t.Helper()
	for r := range a {
		for c := range a[r] {
			x, y := a[r][c], b[r][c]
			if len(x) == len(y) && len(x) > 19 && x[:19] == y[:19] && strings.Count(x, ":") >= 2 {
				continue // a time: same layout and second
			}
			if x != y {
				t.Errorf("%s row %d column %d of %q: seeded %q, store %q", table, r, c, cols, x, y)
			}
		}
	}
}

// rawRows reads columns of the rows whose keyCol is key, as the database's
// text, in the order of the columns' values.
func rawRows(t *testing.T, st *store, table, cols, keyCol, key string) [][]string {
	t.Helper()
	q := "SELECT " + cols + " FROM " + table + " WHERE " + keyCol + " = ? ORDER BY " + cols
	if st.dialect == sqlstore.Postgres {
		q = strings.Replace(q, "?", "$1", 1)
	}
	rows, err := st.db.QueryContext(context.Background(), q, key)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	n := len(strings.Split(cols, ","))
	var out [][]string
	for rows.Next() {
		raw := make([]sql.NullString, n)
		dest := make([]any, n)
		for i := range raw {
			dest[i] = &raw[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, n)
		for i, r := range raw {
			row[i] = r.String
			if !r.Valid {
				row[i] = "NULL"
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
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

// TestFlagsRefuse: flags that cannot work together, or out of range, are
// refused with a message that names them.
func TestFlagsRefuse(t *testing.T) {
	for _, args := range [][]string{
		{"-prune-for", "1m"},
		{"-prune", "-prune-for", "-1s"},
		{"-sizes", "1000,100"},
		{"-stores", "sqlite,sqlite"},
		{"-hash", "md5"},
	} {
		var stderr bytes.Buffer
		if _, err := parseFlags(args, &stderr); err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(args[len(args)-2], "-")) {
			t.Errorf("%v: %v, want an error that names %s", args, err, args[len(args)-2])
		}
	}
}
