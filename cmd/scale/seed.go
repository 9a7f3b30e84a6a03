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

// entity is what the seeders write for one user.
type entity struct {
	user     *auth.User
	sessions []*auth.Session
}

// seeder writes one table. Each writes the columns, in order, and the
// values that the store's own create method writes; rows converts an
// entity into them. A table added by a feature (one-time tokens, API keys,
// audit events) is one more entry in seeders, and its rows one more field
// of entity, filled in newEntity.
type seeder struct {
	table   string // sqlstore's default name
	columns string
	rows    func(d sqlstore.Dialect, e *entity) [][]any
	create  func(ctx context.Context, s *memstore.Store, e *entity) error
}

var seeders = []seeder{
	{
		table:   "gatehouse_users",
		columns: "id, username, password_hash, disabled, token_version, created_at, updated_at",
		rows: func(d sqlstore.Dialect, e *entity) [][]any {
			u := e.user
			return [][]any{{u.ID, u.Username, u.PasswordHash, u.Disabled, u.TokenVersion, timeArg(d, u.CreatedAt), timeArg(d, u.UpdatedAt)}}
		},
		create: func(ctx context.Context, s *memstore.Store, e *entity) error { return s.CreateUser(ctx, e.user) },
	},
	{
		table: "gatehouse_sessions",
		columns: "id, user_id, token_version, current_jti, previous_jti, created_at, expires_at, rotated_at," +
			" last_used_at, revoked_at, user_agent, ip, rotated_user_agent, rotated_ip, grace_uses",
		rows: func(d sqlstore.Dialect, e *entity) [][]any {
			out := make([][]any, 0, len(e.sessions))
			for _, s := range e.sessions {
				var revoked any
				if !s.RevokedAt.IsZero() {
					revoked = timeArg(d, s.RevokedAt)
				}
				out = append(out, []any{s.ID, s.UserID, s.TokenVersion, s.CurrentJTI, s.PreviousJTI,
					timeArg(d, s.CreatedAt), timeArg(d, s.ExpiresAt), timeArg(d, s.RotatedAt), timeArg(d, s.LastUsedAt),
					revoked, s.UserAgent, s.IP, s.RotatedUserAgent, s.RotatedIP, s.GraceUses})
			}
			return out
		},
		create: func(ctx context.Context, s *memstore.Store, e *entity) error {
			for _, sess := range e.sessions {
				if err := s.CreateSession(ctx, sess); err != nil {
					return err
				}
			}
			return nil
		},
	},
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

// newEntity makes seeded user i and its sessions at now. Of its sessions,
// the expired share expired between one and thirty days ago; the others
// were made in the last six days and expire a week after.
func newEntity(o *options, i int, hash string, now time.Time) *entity {
	id, err := uuid.NewV7()
	if err != nil {
		panic(err) // only if the system's random source fails
	}
	created := now.Add(-time.Duration(90+i%300) * 24 * time.Hour)
	e := &entity{user: &auth.User{ID: id.String(), Username: seedUsername(i), PasswordHash: hash,
		TokenVersion: 1, CreatedAt: created, UpdatedAt: created}}
	expired := int(float64(o.sessions)*o.expired + 0.5)
	for j := range o.sessions {
		var start time.Time
		if j < expired {
			start = now.Add(-time.Duration(8+(i+j)%30) * 24 * time.Hour).Add(-time.Duration(j) * time.Minute)
		} else {
			start = now.Add(-time.Duration((i+j)%144) * time.Hour).Add(-time.Duration(j) * time.Minute)
		}
		e.sessions = append(e.sessions, &auth.Session{
			ID: uuid.NewString(), UserID: e.user.ID, TokenVersion: 1, CurrentJTI: uuid.NewString(),
			CreatedAt: start, ExpiresAt: start.Add(7 * 24 * time.Hour), RotatedAt: start, LastUsedAt: start,
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", IP: "203.0.113.9",
		})
	}
	return e
}

// seededUsers counts the seeded users already in the store.
func seededUsers(ctx context.Context, s *store) (int, error) {
	if s.db == nil {
		return 0, nil // a new memory store
	}
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM gatehouse_users WHERE username LIKE '"+usernamePrefix+"%'").Scan(&n)
	return n, err
}

// seedChunk is how many users, with their sessions, one transaction writes.
const seedChunk = 1000

// maxArgs bounds the placeholders of one INSERT (SQLite allows 32766).
const maxArgs = 30000

// seed brings s to o's size: it adds the users (and their rows) from the
// first one missing, in transactions of seedChunk users, showing progress
// on w.
func seed(ctx context.Context, o *options, s *store, hash string, w io.Writer) error {
	have, err := seededUsers(ctx, s)
	if err != nil {
		return fmt.Errorf("%s: count seeded users: %w", s.kind, err)
	}
	if have >= s.users {
		fmt.Fprintf(w, "%s at %d users: seeded already\n", s.kind, s.users)
		return nil
	}
	var bar *progressbar.ProgressBar
	if !o.quiet {
		bar = progressbar.NewOptions(s.users,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(fmt.Sprintf("seeding %s to %d users", s.kind, s.users)),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("users"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
		_ = bar.Set(have)
	}
	start := time.Now()
	now := time.Now()
	for next := have; next < s.users; next += seedChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(next+seedChunk, s.users)
		es := make([]*entity, 0, end-next)
		for i := next; i < end; i++ {
			es = append(es, newEntity(o, i, hash, now))
		}
		if err := writeChunk(ctx, s, es); err != nil {
			return fmt.Errorf("%s: seed users %d to %d: %w", s.kind, next, end-1, err)
		}
		if bar != nil {
			_ = bar.Set(end)
		}
	}
	el := time.Since(start)
	added := s.users - have
	rows := added * (1 + o.sessions)
	fmt.Fprintf(w, "%s: seeded %d users and %d sessions in %s: %.0f rows/s\n",
		s.kind, added, added*o.sessions, el.Round(time.Millisecond), float64(rows)/el.Seconds())
	return nil
}

// writeChunk writes the entities: through the store's methods for the
// memory store, with multi-row INSERTs in one transaction for SQL.
func writeChunk(ctx context.Context, s *store, es []*entity) error {
	if m, ok := s.backend.(*memstore.Store); ok {
		for _, e := range es {
			for _, sd := range seeders {
				if err := sd.create(ctx, m, e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, sd := range seeders {
		var rows [][]any
		for _, e := range es {
			rows = append(rows, sd.rows(s.dialect, e)...)
		}
		if err := insertRows(ctx, tx, s.dialect, sd, rows); err != nil {
			return err
		}
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
