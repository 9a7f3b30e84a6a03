package sqlstore

import "context"

// MigrateWithExtra runs the embedded migrations followed by extra steps,
// numbered from 1000, each a list of statements. It lets tests make a
// migration fail halfway.
func (s *Store) MigrateWithExtra(ctx context.Context, extra ...[]string) error {
	ms, err := loadMigrations(s.dialect)
	if err != nil {
		return err
	}
	for i, stmts := range extra {
		ms = append(ms, migration{version: int64(1000 + i), stmts: stmts})
	}
	return s.migrate(ctx, ms)
}

// MigrateTo applies the embedded migrations up to and including version,
// as an older release of this package would have.
func (s *Store) MigrateTo(ctx context.Context, version int64) error {
	ms, err := loadMigrations(s.dialect)
	if err != nil {
		return err
	}
	var upTo []migration
	for _, m := range ms {
		if m.version <= version {
			upTo = append(upTo, m)
		}
	}
	return s.migrate(ctx, upTo)
}

// SplitStatements exposes splitStatements.
var SplitStatements = splitStatements

// IsUnavailable and IsUnique expose the error classification.
func (d Dialect) IsUnavailable(err error) bool { return d.isUnavailable(err) }
func (d Dialect) IsUnique(err error) bool      { return d.isUnique(err) }
func (d Dialect) IsForeignKey(err error) bool  { return d.isForeignKey(err) }

// DerivedName exposes derivedName.
var DerivedName = derivedName

// Rebind exposes PostgreSQL's placeholder rewriting.
func Rebind(q string) string { return Postgres.rebind(q) }
