package sqlstore_test

// End-to-end tests through the Authenticator and its HTTP handler.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

func testSecret(t *testing.T) []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return []byte(fmt.Sprintf("%x", b))
}

func newAuth(t *testing.T, store auth.UserStore, opts ...auth.Option) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(store, append([]auth.Option{auth.WithSecret(testSecret(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func postJSON(t *testing.T, client *http.Client, u string, body any) (*http.Response, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Post(u, "application/json", strings.NewReader(string(b)))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

// TestHTTPConcurrentRegister: 50 concurrent registrations of one name give
// one 201 and 49 409s on every dialect, never a 5xx.
func TestHTTPConcurrentRegister(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		// All 50 come from one loopback address, so the per-address
		// registration budget is off here: this test is about the race.
		a := newAuth(t, newStore(t, tdb.db), auth.WithInsecureFastHashingForTests(), auth.WithRegisterLimit(auth.RateLimit{}))
		srv := httptest.NewServer(a.Handler())
		defer srv.Close()
		const n = 50
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Case and width variants of one name: one account.
				name := []string{"Zoe_Smith", "zoe_smith", "ＺＯＥ_ＳＭＩＴＨ"}[i%3]
				resp, body, err := postJSON(t, srv.Client(), srv.URL+"/auth/register",
					map[string]string{"username": name, "password": "correct horse battery"})
				if err != nil {
					t.Error(err)
					return
				}
				codes[i] = resp.StatusCode
				if resp.StatusCode >= 500 {
					t.Errorf("register: %d %s", resp.StatusCode, body)
				}
			}()
		}
		wg.Wait()
		count := map[int]int{}
		for _, c := range codes {
			count[c]++
		}
		if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
			t.Errorf("status codes %v, want one 201 and %d 409", count, n-1)
		}
	})
}

// TestHTTPUnavailable: with the database gone, the endpoints and the
// middleware answer 503 with Retry-After and a generic body.
func TestHTTPUnavailable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		db := tdb.open(t)
		a := newAuth(t, newStore(t, db), auth.WithInsecureFastHashingForTests())
		ctx := context.Background()
		if _, err := a.Register(ctx, "alice", "correct horse battery"); err != nil {
			t.Fatal(err)
		}
		pair, err := a.Login(ctx, "alice", "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/auth/", a.Handler())
		mux.Handle("/hello", a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello")
		})))
		srv := httptest.NewServer(mux)
		defer srv.Close()
		db.Close()

		check := func(what string, resp *http.Response, body []byte, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Errorf("%s: %d (Retry-After %q) %s, want 503 with Retry-After", what, resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			for _, leak := range []string{"sql", "SQL", "database", "sqlite", "dial", "closed"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("%s: body %s mentions %q", what, body, leak)
				}
			}
		}
		resp, body, err := postJSON(t, srv.Client(), srv.URL+"/auth/register",
			map[string]string{"username": "bob", "password": "correct horse battery"})
		check("register", resp, body, err)
		form := url.Values{"username": {"alice"}, "password": {"correct horse battery"}}
		resp, err = srv.Client().PostForm(srv.URL+"/auth/login", form)
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		check("login", resp, body, err)
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/hello", nil)
		req.Header.Set("Authorization", "Bearer "+pair.AccessToken)
		resp, err = srv.Client().Do(req)
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		check("middleware", resp, body, err)
	})
}

// argon2Vector is an entry of testdata/argon2_vectors.json, made with
// argon2-cffi as the FastAPI app did.
type argon2Vector struct {
	Name     string `json:"name"`
	Password string `json:"password_b64"`
	Hash     string `json:"hash"`
}

func loadVectors(t *testing.T) map[string]argon2Vector {
	t.Helper()
	data, err := os.ReadFile("../testdata/argon2_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var list []argon2Vector
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	m := map[string]argon2Vector{}
	for _, v := range list {
		pw, err := base64.StdEncoding.DecodeString(v.Password)
		if err != nil {
			t.Fatal(err)
		}
		v.Password = string(pw)
		m[v.Name] = v
	}
	return m
}

// originDDL is a FastAPI app's table as SQLModel creates it.
func originDDL(d sqlstore.Dialect) []string {
	switch d {
	case sqlstore.Postgres:
		return []string{`CREATE TABLE "user" (username VARCHAR(255) NOT NULL, disabled BOOLEAN NOT NULL,
			id SERIAL NOT NULL, hashed_password VARCHAR(255) NOT NULL,
			created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
			PRIMARY KEY (id))`,
			`CREATE UNIQUE INDEX ix_user_username ON "user" (username)`}
	case sqlstore.MySQL:
		return []string{"CREATE TABLE `user` (username VARCHAR(255) NOT NULL, disabled BOOL NOT NULL," +
			" id INTEGER NOT NULL AUTO_INCREMENT, hashed_password VARCHAR(255) NOT NULL," +
			" created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, PRIMARY KEY (id))",
			"CREATE UNIQUE INDEX ix_user_username ON `user` (username)"}
	}
	return []string{`CREATE TABLE "user" (username VARCHAR(255) NOT NULL, disabled BOOLEAN NOT NULL,
		id INTEGER NOT NULL, hashed_password VARCHAR(255) NOT NULL,
		created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, PRIMARY KEY (id))`,
		`CREATE UNIQUE INDEX ix_user_username ON "user" (username)`}
}

// importOrigin copies a FastAPI app's users into store. It is the code
// shown in the package documentation. Names that become equal once
// canonicalized ("Bob" and "bob") cannot both be imported: they are
// returned for a person to resolve.
func importOrigin(ctx context.Context, old *sql.DB, table string, store auth.UserStore) (skipped []string, err error) {
	rows, err := old.QueryContext(ctx,
		"SELECT id, username, hashed_password, disabled, created_at, updated_at FROM "+table+" ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id               int64
			name, hash       string
			disabled         bool
			created, updated time.Time
		)
		if err := rows.Scan(&id, &name, &hash, &disabled, &created, &updated); err != nil {
			return nil, err
		}
		canonical, err := auth.CanonicalUsername(name)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%d %q: %v", id, name, err))
			continue
		}
		u := &auth.User{
			ID:           strconv.FormatInt(id, 10),
			Username:     canonical,
			PasswordHash: hash, // argon2-cffi's PHC string, used as is
			Disabled:     disabled,
			TokenVersion: 1,
			CreatedAt:    created.UTC().Truncate(time.Microsecond),
			UpdatedAt:    updated.UTC().Truncate(time.Microsecond),
		}
		switch err := store.CreateUser(ctx, u); {
		case errors.Is(err, auth.ErrUserExists):
			skipped = append(skipped, fmt.Sprintf("%d %q: %q is taken", id, name, canonical))
		case err != nil:
			return skipped, err
		}
	}
	return skipped, rows.Err()
}

// TestImportFromOrigin brings users over from a FastAPI app's table; they
// log in with their old passwords and keep their hashes, whose parameters
// are the default ones.
func TestImportFromOrigin(t *testing.T) {
	vectors := loadVectors(t)
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		d := tdb.dialect
		for _, q := range originDDL(d) {
			if _, err := tdb.db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		table := `"user"`
		if d == sqlstore.MySQL {
			table = "`user`"
		}
		created, updated := "2024-05-01 10:00:00.123456", "2024-06-02 11:30:00.654321"
		rows := []struct {
			id       int
			name     string
			vector   string
			disabled bool
		}{
			{1, "Alice", "rfc9106_ascii", false},
			{2, "Émile", "rfc9106_non_ascii", false},
			{3, "carol", "cheap_ascii", true},
			{4, "Ａｌｉｃｅ", "cheap_nul_bytes", false}, // fullwidth: the same account as Alice once canonicalized
		}
		insert := "INSERT INTO " + table + " (id, username, hashed_password, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
		if d == sqlstore.Postgres {
			insert = `INSERT INTO "user" (id, username, hashed_password, disabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`
		}
		for _, r := range rows {
			if _, err := tdb.db.ExecContext(ctx, insert, r.id, r.name, vectors[r.vector].Hash, r.disabled, created, updated); err != nil {
				t.Fatal(err)
			}
		}

		// The origin SQLite file keeps times as text; modernc.org/sqlite
		// parses them when the DSN has _texttotime=1.
		old := tdb.db
		if d == sqlstore.SQLite {
			old = openDB(t, "sqlite", tdb.dsn+"&_texttotime=1")
		}
		store := newStore(t, tdb.db)
		skipped, err := importOrigin(ctx, old, table, store)
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		if len(skipped) != 1 || !strings.HasPrefix(skipped[0], "4 ") {
			t.Errorf("skipped %q, want only row 4", skipped)
		}

		a := newAuth(t, store) // production password parameters, as the FastAPI app used
		for _, c := range []struct {
			id, typed, vector string
		}{
			{"1", "alice", "rfc9106_ascii"},
			{"2", "ÉMILE", "rfc9106_non_ascii"},
		} {
			if _, err := a.Login(ctx, c.typed, vectors[c.vector].Password); err != nil {
				t.Errorf("Login(%q) with the old password: %v", c.typed, err)
				continue
			}
			u, err := store.UserByID(ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if u.PasswordHash != vectors[c.vector].Hash {
				t.Errorf("user %s: hash rewritten to %s, want it kept", c.id, u.PasswordHash)
			}
			wantCreated, _ := time.Parse("2006-01-02 15:04:05.999999", created)
			if d == sqlstore.MySQL { // the FastAPI app's DATETIME kept whole seconds
				wantCreated = wantCreated.Truncate(time.Second)
			}
			if !u.CreatedAt.Equal(wantCreated) {
				t.Errorf("user %s: created_at %v, want %v", c.id, u.CreatedAt, wantCreated)
			}
		}
		if _, err := a.Login(ctx, "carol", vectors["cheap_ascii"].Password); !errors.Is(err, auth.ErrUserDisabled) {
			t.Errorf("disabled imported user: %v, want ErrUserDisabled", err)
		}
		if _, err := a.Login(ctx, "alice", vectors["cheap_nul_bytes"].Password); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("skipped duplicate's password: %v, want ErrInvalidCredentials", err)
		}
	})
}
