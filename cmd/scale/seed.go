package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/sqlstore"
)

// password is every seeded user's password.
const password = "scale-Quartz-Harbour-42"

// usernamePrefix starts every seeded username, and only those: seeding
// counts them to resume.
const usernamePrefix = "scale-"

// seedUsername is the username of seeded user i: deterministic, so that the
// workload can pick a random user by number, and in no particular order in
// the index, like real names.
func seedUsername(i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "gatehouse-scale-%d", i))
	return usernamePrefix + hex.EncodeToString(h[:8])
}

// seedUA is the user agent of every seeded session, and of no other:
// seeding counts them to resume.
const seedUA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 (gatehouse-scale)"

// seedEnv is what the seeders of one store and size share.
type seedEnv struct {
	o     *options
	st    *store
	users int
	hash  string
	now   time.Time
	ids   []string // user IDs by number, once the users are in
	// conn, when not nil, is the one connection seeding writes through.
	conn *sql.Conn
}

// seedCacheKiB is SQLite's page cache for seeding's connection: the
// indexes of random keys that seeding fills are far larger than the 2 MiB
// default, and with it each insert reads pages back from the file. The
// measured connections keep sqlstore's settings.
const seedCacheKiB = 1 << 20

// seeder writes one table: total rows, row k being made by make from the
// run's settings, and written with the columns, in order, and the values
// that the store's own create method writes (rows), or through that
// method on the memory store (create). Seeding resumes from the count of
// rows the count query finds. A table added by a feature (one-time
// tokens, API keys, audit events) is one more entry, after the tables it
// refers to.
type seeder struct {
	name    string
	table   string // sqlstore's default name
	columns string
	count   string // counts the rows seeded before
	total   func(e *seedEnv) int
	rows    func(e *seedEnv, from, to int) [][]any
	create  func(ctx context.Context, m *memstore.Store, e *seedEnv, k int) error
}

var seeders = []seeder{
	{
		name:    "users",
		table:   "gatehouse_users",
		columns: userColumns,
		count:   "SELECT COUNT(*) FROM gatehouse_users WHERE username LIKE '" + usernamePrefix + "%'",
		total:   func(e *seedEnv) int { return e.users },
		rows:    rowsOf((*seedEnv).user, userRow),
		create: func(ctx context.Context, m *memstore.Store, e *seedEnv, i int) error {
			u := e.user(i)
			if err := m.CreateUser(ctx, u); err != nil {
				return err
			}
			e.ids = append(e.ids, u.ID)
			return nil
		},
	},
	{
		name:    "sessions",
		table:   "gatehouse_sessions",
		columns: sessionColumns,
		count:   "SELECT COUNT(*) FROM gatehouse_sessions WHERE user_agent = '" + seedUA + "'",
		total:   func(e *seedEnv) int { return e.users * e.o.sessions },
		rows:    rowsOf((*seedEnv).session, sessionRow),
		create: func(ctx context.Context, m *memstore.Store, e *seedEnv, k int) error {
			return m.CreateSession(ctx, e.session(k))
		},
	},
	{
		name:    "API keys",
		table:   "gatehouse_users_api_keys",
		columns: apiKeyColumns,
		count:   "SELECT COUNT(*) FROM gatehouse_users_api_keys WHERE name = '" + seedKeyName + "'",
		total:   func(e *seedEnv) int { return e.users / keyEvery },
		rows:    rowsOf((*seedEnv).apiKey, apiKeyRow),
		create: func(ctx context.Context, m *memstore.Store, e *seedEnv, k int) error {
			return m.CreateAPIKey(ctx, e.apiKey(k))
		},
	},
	{
		name:    "audit entries",
		table:   "gatehouse_users_audit",
		columns: auditColumns,
		count:   "SELECT COUNT(*) FROM gatehouse_users_audit WHERE ip = '" + seedIP + "'",
		total:   func(e *seedEnv) int { return e.users },
		rows:    rowsOf((*seedEnv).audit, auditRow),
		create: func(ctx context.Context, m *memstore.Store, e *seedEnv, k int) error {
			return m.AppendAudit(ctx, e.audit(k))
		},
	},
	{
		name:    "one-time tokens",
		table:   "gatehouse_users_one_time_tokens",
		columns: oneTimeColumns,
		count:   "SELECT COUNT(*) FROM gatehouse_users_one_time_tokens WHERE email LIKE '" + usernamePrefix + "%'",
		total:   func(e *seedEnv) int { return e.users / tokenEvery },
		rows:    rowsOf((*seedEnv).oneTime, oneTimeRow),
		create: func(ctx context.Context, m *memstore.Store, e *seedEnv, k int) error {
			return m.SaveOneTimeToken(ctx, e.oneTime(k))
		},
	},
}

// The newer tables, in proportion to the users: an API key for one user in
// keyEvery, a pending password reset for one in tokenEvery (half of them
// expired, as most mailed links are never used), and one audit entry per
// user (a password change).
const (
	keyEvery   = 10
	tokenEvery = 20
	// seedKeyName names every seeded API key, and seedIP is the address of
	// every seeded session and audit entry: seeding counts them to resume.
	seedKeyName = "scale-seed"
	seedIP      = "203.0.113.9"
)

const (
	userColumns    = "id, username, password_hash, disabled, token_version, created_at, updated_at"
	sessionColumns = "id, user_id, token_version, current_jti, previous_jti, created_at, expires_at, rotated_at," +
		" last_used_at, revoked_at, user_agent, ip, rotated_user_agent, rotated_ip, grace_uses"
	apiKeyColumns  = "id, user_id, name, hash, scopes, token_version, created_at, expires_at, last_used_at, revoked_at"
	auditColumns   = "id, occurred_at, action, actor_id, target_id, ip, detail"
	oneTimeColumns = "hash, user_id, purpose, email, binding, created_at, expires_at"
)

// apiKeyRow is the row sqlstore's CreateAPIKey writes for k (which has
// no scopes, expiry, use or revocation).
func apiKeyRow(d sqlstore.Dialect, k *auth.APIKey) []any {
	return []any{k.ID, k.UserID, k.Name, k.Hash, "", k.TokenVersion, timeArg(d, k.CreatedAt), nil, nil, nil}
}

// auditRow is the row sqlstore's AppendAudit writes for a.
func auditRow(d sqlstore.Dialect, a *auth.AuditEntry) []any {
	return []any{a.ID, timeArg(d, a.Time), a.Action, a.ActorID, a.TargetID, a.IP, a.Detail}
}

// oneTimeRow is the row sqlstore's SaveOneTimeToken writes for t.
func oneTimeRow(d sqlstore.Dialect, t *auth.OneTimeToken) []any {
	return []any{t.Hash, t.UserID, t.Purpose, t.Email, t.Binding, timeArg(d, t.CreatedAt), timeArg(d, t.ExpiresAt)}
}

// rowsOf returns a seeder's rows function: rows [from, to) made by gen
// and written as row writes them.
func rowsOf[T any](gen func(*seedEnv, int) T, row func(sqlstore.Dialect, T) []any) func(e *seedEnv, from, to int) [][]any {
	return func(e *seedEnv, from, to int) [][]any {
		out := make([][]any, 0, to-from)
		for k := from; k < to; k++ {
			out = append(out, row(e.st.dialect, gen(e, k)))
		}
		return out
	}
}

// userRow is the row sqlstore's CreateUser writes for u.
func userRow(d sqlstore.Dialect, u *auth.User) []any {
	return []any{u.ID, u.Username, u.PasswordHash, u.Disabled, u.TokenVersion, timeArg(d, u.CreatedAt), timeArg(d, u.UpdatedAt)}
}

// sessionRow is the row sqlstore's CreateSession writes for s.
func sessionRow(d sqlstore.Dialect, s *auth.Session) []any {
	var revoked any
	if !s.RevokedAt.IsZero() {
		revoked = timeArg(d, s.RevokedAt)
	}
	return []any{s.ID, s.UserID, s.TokenVersion, s.CurrentJTI, s.PreviousJTI,
		timeArg(d, s.CreatedAt), timeArg(d, s.ExpiresAt), timeArg(d, s.RotatedAt), timeArg(d, s.LastUsedAt),
		revoked, s.UserAgent, s.IP, s.RotatedUserAgent, s.RotatedIP, s.GraceUses}
}

// sqliteTimeLayout is how sqlstore writes a time on SQLite.
const sqliteTimeLayout = "2006-01-02 15:04:05.000000"

// timeArg binds a time as sqlstore does: UTC, to the microsecond, as text
// on SQLite.
func timeArg(d sqlstore.Dialect, t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if d == sqlstore.SQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t
}

// user makes seeded user i, with a new UUIDv7 as CreateUser would give it.
func (e *seedEnv) user(i int) *auth.User {
	id, err := uuid.NewV7()
	if err != nil {
		panic(err) // only if the system's random source fails
	}
	created := e.now.Add(-time.Duration(90+i%300) * 24 * time.Hour)
	return &auth.User{ID: id.String(), Username: seedUsername(i), PasswordHash: e.hash,
		TokenVersion: 1, CreatedAt: created, UpdatedAt: created}
}

// session makes seeded session k: the (k / users)th session of user
// k % users. Sessions are written in k order, so each user's sessions lie
// far apart in the table, as sessions made over weeks do, and the older
// ones first. Of each user's sessions, the expired share were made 8 to 37
// days ago and have expired; the others in the last six days.
func (e *seedEnv) session(k int) *auth.Session {
	i, j := k%e.users, k/e.users
	n := e.o.sessions
	expired := int(float64(n)*e.o.expired + 0.5)
	jitter := time.Duration(i%3600) * time.Second
	var created time.Time
	if j < expired {
		created = e.now.Add(-8*24*time.Hour - time.Duration(expired-j)*30*24*time.Hour/time.Duration(expired)).Add(jitter)
	} else {
		created = e.now.Add(-6*24*time.Hour + time.Duration(j-expired)*6*24*time.Hour/time.Duration(n-expired+1)).Add(jitter)
	}
	return &auth.Session{
		ID: uuid.Must(uuid.NewV7()).String(), UserID: e.ids[i], TokenVersion: 1, CurrentJTI: uuid.NewString(),
		CreatedAt: created, ExpiresAt: created.Add(7 * 24 * time.Hour), RotatedAt: created, LastUsedAt: created,
		UserAgent: seedUA, IP: seedIP,
	}
}

// apiKey makes seeded API key k, of user k * keyEvery. Its hash is of no
// key anyone holds: the workload makes its own keys to send.
func (e *seedEnv) apiKey(k int) *auth.APIKey {
	i := k * keyEvery
	created := e.now.Add(-time.Duration(1+i%60) * 24 * time.Hour)
	return &auth.APIKey{ID: uuid.NewString(), UserID: e.ids[i], Name: seedKeyName, Hash: randomHex(32),
		TokenVersion: 1, CreatedAt: created}
}

// audit makes seeded audit entry k: user k changed their password.
func (e *seedEnv) audit(k int) *auth.AuditEntry {
	id, err := uuid.NewV7()
	if err != nil {
		panic(err) // only if the system's random source fails
	}
	return &auth.AuditEntry{ID: id.String(), Time: e.now.Add(-time.Duration(1+k%90) * 24 * time.Hour),
		Action: "password_changed", ActorID: e.ids[k], TargetID: e.ids[k], IP: seedIP, Detail: "{}"}
}

// oneTime makes seeded one-time token k: a password reset mailed to user
// k * tokenEvery, expired for every other one.
func (e *seedEnv) oneTime(k int) *auth.OneTimeToken {
	i := k * tokenEvery
	created := e.now.Add(-10 * time.Minute)
	if k%2 == 1 {
		created = e.now.Add(-time.Duration(1+k%30) * 24 * time.Hour)
	}
	return &auth.OneTimeToken{Hash: randomHex(32), UserID: e.ids[i], Purpose: "reset_password",
		Email: seedUsername(i) + "@example.com", Binding: randomHex(16), CreatedAt: created, ExpiresAt: created.Add(30 * time.Minute)}
}

// seedChunk is how many rows one transaction writes.
const seedChunk = 10_000

// maxArgs bounds the placeholders of one INSERT (SQLite allows 32766).
const maxArgs = 30000

// seed brings s to o's size, table by table: it adds each seeder's rows
// from the first one missing, in transactions of seedChunk rows, showing
// progress on w.
func seed(ctx context.Context, o *options, s *store, hash string, w io.Writer) error {
	e := &seedEnv{o: o, st: s, users: s.users, hash: hash, now: time.Now()}
	if s.dialect == sqlstore.SQLite {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", seedCacheKiB)); err != nil {
			return err
		}
		// The connection goes back to the pool after seeding: with the
		// default cache again.
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = -2000")
		e.conn = conn
	}
	start := time.Now()
	added := 0
	for _, sd := range seeders {
		have := 0
		if s.db != nil {
			if err := s.db.QueryRowContext(ctx, sd.count).Scan(&have); err != nil {
				return fmt.Errorf("%s: count seeded %s: %w", s.kind, sd.name, err)
			}
		}
		if sd.name != "users" && e.ids == nil && s.db != nil {
			if err := e.loadUserIDs(ctx); err != nil {
				return err
			}
		}
		total := sd.total(e)
		if have >= total {
			continue
		}
		if sd.name == "sessions" && have > 0 && s.db != nil {
			if err := e.checkNotPruned(ctx, have); err != nil {
				return err
			}
		}
		var bar *progressbar.ProgressBar
		if !o.quiet {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription(fmt.Sprintf("seeding %s at %d users: %s", s.kind, s.users, sd.name)),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("rows"),
				progressbar.OptionThrottle(500*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
			)
			_ = bar.Set(have)
		}
		for next := have; next < total; next += seedChunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			end := min(next+seedChunk, total)
			if err := writeChunk(ctx, s, e, sd, next, end); err != nil {
				return fmt.Errorf("%s: seed %s %d to %d: %w", s.kind, sd.name, next, end-1, err)
			}
			if bar != nil {
				_ = bar.Set(end)
			}
		}
		added += total - have
	}
	if added == 0 {
		fmt.Fprintf(w, "%s at %d users: seeded already\n", s.kind, s.users)
		return nil
	}
	// Fresh statistics, as autovacuum (PostgreSQL) or InnoDB's automatic
	// recalculation (MySQL) would have them before long: planning on the
	// statistics of a table that was empty is not what a running system
	// does. SQLite keeps none unless ANALYZE is run, so it is left without.
	analyze := map[sqlstore.Dialect]string{
		sqlstore.Postgres: "ANALYZE gatehouse_users, gatehouse_sessions, gatehouse_users_api_keys, gatehouse_users_audit, gatehouse_users_one_time_tokens",
		sqlstore.MySQL:    "ANALYZE TABLE gatehouse_users, gatehouse_sessions, gatehouse_users_api_keys, gatehouse_users_audit, gatehouse_users_one_time_tokens",
	}[s.dialect]
	if analyze != "" {
		rows, err := s.db.QueryContext(ctx, analyze)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", s.kind, analyze, err)
		}
		rows.Close()
	}
	el := time.Since(start)
	fmt.Fprintf(w, "%s at %d users: seeded %d rows in %s: %.0f rows/s\n",
		s.kind, s.users, added, el.Round(time.Millisecond), float64(added)/el.Seconds())
	return nil
}

// checkNotPruned returns an error when fewer of the have seeded sessions
// expired than seeding made expired: a prune removed them. Seeding resumes
// by adding the sessions after the last one written, so it would add live
// sessions in their place, and the data would no longer have the share of
// expired sessions it claims.
func (e *seedEnv) checkNotPruned(ctx context.Context, have int) error {
	expired := int(float64(e.o.sessions)*e.o.expired + 0.5)
	want := min(have, expired*e.users) // sessions are written expired ones first, user by user
	q := "SELECT COUNT(*) FROM gatehouse_sessions WHERE user_agent = ? AND expires_at <= ?"
	if e.st.dialect == sqlstore.Postgres {
		q = "SELECT COUNT(*) FROM gatehouse_sessions WHERE user_agent = $1 AND expires_at <= $2"
	}
	var n int
	if err := e.st.db.QueryRowContext(ctx, q, seedUA, timeArg(e.st.dialect, e.now)).Scan(&n); err != nil {
		return fmt.Errorf("%s: count expired seeded sessions: %w", e.st.kind, err)
	}
	if n < want {
		return fmt.Errorf("%s at %d users: %d of the seeded sessions expired, want %d: they were pruned, and seeding would put live sessions in their place; drop the database (%s) and seed it again",
			e.st.kind, e.users, n, want, e.o.dbName(e.users))
	}
	return nil
}

// loadUserIDs reads the seeded users' IDs, by number.
func (e *seedEnv) loadUserIDs(ctx context.Context) error {
	rows, err := e.st.db.QueryContext(ctx, "SELECT id, username FROM gatehouse_users WHERE username LIKE '"+usernamePrefix+"%'")
	if err != nil {
		return err
	}
	defer rows.Close()
	byName := make(map[string]string, e.users)
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		byName[name] = id
	}
	if err := rows.Err(); err != nil {
		return err
	}
	e.ids = make([]string, e.users)
	for i := range e.ids {
		if e.ids[i] = byName[seedUsername(i)]; e.ids[i] == "" {
			return fmt.Errorf("%s: seeded user %d is missing", e.st.kind, i)
		}
	}
	return nil
}

// writeChunk writes rows [from, to) of a seeder: through the store's
// method for the memory store, with multi-row INSERTs in one transaction
// for SQL.
func writeChunk(ctx context.Context, s *store, e *seedEnv, sd seeder, from, to int) error {
	if m, ok := s.backend.(*memstore.Store); ok {
		for k := from; k < to; k++ {
			if err := sd.create(ctx, m, e, k); err != nil {
				return err
			}
		}
		return nil
	}
	var tx *sql.Tx
	var err error
	if e.conn != nil {
		tx, err = e.conn.BeginTx(ctx, nil)
	} else {
		tx, err = s.db.BeginTx(ctx, nil)
	}
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := insertRows(ctx, tx, s.dialect, sd, sd.rows(e, from, to)); err != nil {
		return err
	}
	return tx.Commit()
}

// insertRows writes rows into the seeder's table with as few INSERTs as
// the placeholder limit allows.
func insertRows(ctx context.Context, tx *sql.Tx, d sqlstore.Dialect, sd seeder, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	per := max(1, maxArgs/width)
	for len(rows) > 0 {
		k := min(per, len(rows))
		var b strings.Builder
		b.WriteString("INSERT INTO " + sd.table + " (" + sd.columns + ") VALUES ")
		args := make([]any, 0, k*width)
		n := 0
		for r := range k {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for c := range width {
				if c > 0 {
					b.WriteString(", ")
				}
				n++
				if d == sqlstore.Postgres {
					fmt.Fprintf(&b, "$%d", n)
				} else {
					b.WriteByte('?')
				}
			}
			b.WriteByte(')')
			args = append(args, rows[r]...)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", sd.table, err)
		}
		rows = rows[k:]
	}
	return nil
}
