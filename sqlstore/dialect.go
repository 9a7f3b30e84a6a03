package sqlstore

import (
	"database/sql"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Dialect is the SQL dialect a [Store] speaks.
type Dialect int

// The supported dialects.
const (
	// SQLite, tested with modernc.org/sqlite.
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL, tested with github.com/jackc/pgx/v5/stdlib.
	Postgres
	// MySQL is MySQL or MariaDB, tested with github.com/go-sql-driver/mysql
	// against MariaDB.
	MySQL
)

// String returns the dialect's name, which is also its directory in
// [Migrations]: "sqlite", "postgres" or "mysql".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// detectDialect recognizes the tested drivers by the package of their
// driver type, so that no driver has to be imported.
func detectDialect(db *sql.DB) (Dialect, error) {
	drv := db.Driver()
	t := reflect.TypeOf(drv)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	path := ""
	if t != nil {
		path = t.PkgPath()
	}
	switch {
	case path == "modernc.org/sqlite":
		return SQLite, nil
	case strings.HasPrefix(path, "github.com/jackc/pgx/") && strings.HasSuffix(path, "/stdlib"):
		return Postgres, nil
	case path == "github.com/go-sql-driver/mysql":
		return MySQL, nil
	}
	return 0, fmt.Errorf("sqlstore: cannot tell the dialect of driver %T; pass WithDialect", drv)
}

// quote quotes a validated identifier.
func (d Dialect) quote(ident string) string {
	if d == MySQL {
		return "`" + ident + "`"
	}
	return `"` + ident + `"`
}

// rebind turns the ? placeholders of a query written for this package into
// the dialect's form. Our queries contain no other question marks.
func (d Dialect) rebind(q string) string {
	if d != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sqliteTimeLayout is how SQLite stores times: UTC, a fixed six fraction
// digits so that text order is time order. It is also SQLAlchemy's format.
const sqliteTimeLayout = "2006-01-02 15:04:05.000000"

// timeArg converts a time to the value bound for a time column: UTC,
// truncated to the microsecond (MySQL would otherwise round).
func (d Dialect) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if d == SQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t
}

// nullTimeArg is timeArg for a nullable column: the zero time is NULL.
func (d Dialect) nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.timeArg(t)
}

// timeDest scans a time column into a UTC time.Time, whatever the driver
// hands over: a time.Time (pgx; MySQL with parseTime=true) or text (SQLite;
// MySQL without parseTime; rows imported by hand). Text without a zone is
// UTC. NULL, which only a nullable column such as revoked_at holds, is the
// zero time.
type timeDest struct{ t *time.Time }

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07",
}

func (s timeDest) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case nil:
		*s.t = time.Time{}
		return nil
	case time.Time:
		*s.t = v.UTC()
		return nil
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, text); err == nil {
			*s.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("sqlstore: cannot parse time %q", text)
}
